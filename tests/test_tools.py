"""memory.py's estimate adds up as documented, and bench.py's cheap sections run and report their ratios."""

import glob
import os
import re

import pytest

import train
from conftest import REPO, TINY, run
from configurator import configure
from memory import estimate, model_size


def test_memory_estimate_shards_under_fsdp_and_says_why_3_78b_shards():
    cfg = configure(train.DEFAULTS, [os.path.join(REPO, "config", "dyt_3.78b_118m.py")])
    one, ddp, fsdp = estimate(cfg), estimate(cfg, world=8), estimate(cfg, world=8, fsdp=True)
    for part in ("params", "grads", "optimizer"):  # FSDP keeps an eighth of every state on each of 8 GPUs
        assert fsdp[part] == pytest.approx(one[part] / 8)
    assert ddp["params"] == one["params"] and ddp["grads"] == 2 * one["grads"]  # DDP's buckets beside the gradients
    assert one["total"] == sum(v for k, v in one.items() if k != "total")
    # why the 3.78B configs shard: replicated, an 80 GB GPU would keep under 5 GB for context and slack
    assert ddp["total"] > 75e9 and fsdp["total"] < 20e9
    assert cfg["fsdp"] is True
    assert 3.7e9 < model_size(cfg)[0] < 3.8e9


def test_memory_prints_a_line_for_every_config(data_dir):
    configs = sorted(glob.glob(os.path.join(REPO, "config", "*.py")) + glob.glob(os.path.join(REPO, "config", "micro", "*.py")))
    p = run("memory.py", *configs, "--data_dir", data_dir)
    lines = p.stdout.strip().splitlines()
    assert len(lines) == len(configs) + 2  # header and legend
    assert re.search(r"^dyt_micro_8k +0\.8M", p.stdout, re.M)


def bench(data_dir, *args):
    return run("bench.py", f"--data_dir={data_dir}", *TINY, "--steps=5", *args).stdout


def test_bench_evaluation_share_falls_as_evaluations_thin_out(data_dir):
    pattern = r"evaluation: (\d+\.\d+)% of the run's time \((\d+\.\d+)% when the best .*?\), the probes (\d+\.\d+)%"
    often, rarely = (tuple(map(float, re.search(pattern, bench(data_dir, f"--eval_interval={n}", "--sections=eval"))
                               .groups())) for n in (2, 20_000))
    # 10,000 times fewer evaluations: the parts of every evaluation (the probes) all but vanish; the
    # whole validation split, scored at the end and at the best checkpoint, stays
    assert 0 < rarely[0] < often[0] < 100 and rarely[2] < often[2] / 10
    for share, again, probes in (often, rarely):
        assert share < again < 100  # scoring best.pt too costs one more pass over the whole split
        assert 0 < probes < share  # the probes are a part of an evaluation


def test_bench_loop_compares_train_py_with_the_bare_loop(data_dir):
    out = bench(data_dir, "--eval_interval=10", "--sections=loop")
    share = float(re.search(r"train.py runs at (\d+\.\d+)% of the bare loop", out).group(1))
    assert 10 < share < 200  # a unit mistake (ms against s, tokens against steps) lands far outside
