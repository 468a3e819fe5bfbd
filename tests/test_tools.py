"""memory.py's estimate adds up as documented, and bench.py's cheap sections run and report their ratios."""

import glob
import os
import re

import pytest

import train
from conftest import REPO, TINY, run
from configurator import configure
from memory import estimate, model_size


def test_memory_estimate_adds_up_and_fsdp_shards_the_states():
    cfg = configure(train.DEFAULTS, [os.path.join(REPO, "config", "dyt_3.78b_118m.py")])
    n = model_size(cfg)[0]
    one = estimate(cfg)
    assert (one["params"], one["grads"], one["optimizer"]) == (4 * n, 4 * n, 8 * n)
    ddp, fsdp = estimate(cfg, world=8), estimate(cfg, world=8, fsdp=True)
    assert ddp["grads"] == 8 * n  # DDP's buckets beside the gradients
    assert fsdp["params"] == 4 * n / 8 and fsdp["optimizer"] == 8 * n / 8
    # why the 3.78B configs shard: replicated, an 80 GB GPU would keep under 5 GB for context and slack
    assert ddp["total"] > 75e9 and fsdp["total"] < 20e9
    assert cfg["fsdp"] is True


def test_memory_prints_a_line_for_every_config(data_dir):
    configs = sorted(glob.glob(os.path.join(REPO, "config", "*.py")) + glob.glob(os.path.join(REPO, "config", "micro", "*.py")))
    p = run("memory.py", *configs, "--data_dir", data_dir)
    lines = p.stdout.strip().splitlines()
    assert len(lines) == len(configs) + 2  # header and legend
    assert re.search(r"^dyt_micro_8k +0\.8M", p.stdout, re.M)


@pytest.mark.parametrize("section", ["probes", "loop"])
def test_bench_sections_report_their_ratios(data_dir, section):
    p = run("bench.py", f"--data_dir={data_dir}", *TINY, "--steps=5", "--eval_interval=10", f"--sections={section}")
    pattern = {"probes": r"probes: \d+ ms per evaluation .*: (\d+\.\d+)% of the run's time",
               "loop": r"train.py runs at (\d+\.\d+)% of the bare loop"}[section]
    share = float(re.search(pattern, p.stdout).group(1))
    assert 0 < share < 1000
