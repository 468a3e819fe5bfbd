"""memory.py's estimate adds up as documented, and bench.py's cheap sections run and report their ratios."""

import glob
import os
import re

import pytest

from conftest import REPO, TINY, run
from configurator import read_settings
from memory import estimate, model_size


def test_memory_estimate_shards_under_fsdp_and_says_why_3_78b_shards():
    cfg = vars(read_settings([os.path.join(REPO, "config", "dyt_3.78b_118m.py")])[0])
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
    configs = sorted(glob.glob(os.path.join(REPO, "config", "*_*.py")) + glob.glob(os.path.join(REPO, "config", "micro", "*.py")))
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
    # 500 times fewer evaluations (2 in place of 1,001): the parts of every evaluation (the probes) all but
    # vanish; the whole validation split, scored at the end and at the best checkpoint, stays. The two
    # runs time their parts separately, so a busy machine moves their shares several-fold: no tighter test
    assert 0 < rarely[0] < often[0] < 100 and rarely[2] < often[2]
    for share, again, probes in (often, rarely):
        assert share < again < 100  # scoring best.pt too costs one more pass over the whole split
        assert 0 < probes < share  # the probes are a part of an evaluation


def test_bench_loop_compares_train_py_with_the_bare_loop(data_dir):
    out = bench(data_dir, "--eval_interval=10", "--sections=loop", "--steps=20")
    share = float(re.search(r"train.py runs at (\d+\.\d+)% of the bare loop", out).group(1))
    # near 100% on an idle machine (the tests run one at a time); a tiny model's milliseconds swing beside
    # other work (785% once, under a sweep), so up to 4x either way passes, while a unit mistake (ms against
    # s: x1000, tokens against steps: x128, the micro-batch's tokens against the step's) lands outside
    assert 25 < share < 400


def test_no_module_imports_one_that_imports_it_back():
    """The project's modules form no import circle, counting the imports inside functions and __main__ blocks."""
    import ast
    modules = {f[:-3] for f in os.listdir(REPO) if f.endswith(".py")}
    graph = {}
    for name in modules:
        tree = ast.parse(open(os.path.join(REPO, f"{name}.py")).read())
        imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        graph[name] = (imported & modules) - {name}

    def reaches(start, target, seen=()):
        return any(m == target or (m not in seen and reaches(m, target, (*seen, m))) for m in graph[start])

    circles = sorted(name for name in graph if reaches(name, name))
    assert circles == [], f"modules in an import circle: {circles}"
    assert not any("train" in graph[m] for m in modules - {"plateau", "bench"}), "only what runs train.py's step imports it"
