"""memory.py's estimate adds up as documented, and bench.py's cheap sections run and report their ratios."""

import glob
import json
import os
import re
import subprocess
import sys

import pytest

from bench import RESETTABLE_PEAK
from conftest import REPO, TINY, run
from configurator import read_settings
from memory import estimate, model_size


def test_memory_estimate_shards_under_fsdp_and_says_why_3_78b_shards():
    cfg = vars(read_settings([os.path.join(REPO, "config", "dyt_3.78b_118m.py")])[0])
    one, ddp, fsdp = estimate(cfg), estimate(cfg, world=8), estimate(cfg, world=8, fsdp=True)
    for part in ("weights", "gradients", "optimizer"):  # FSDP keeps an eighth of every state on each of 8 GPUs
        assert fsdp[part] == pytest.approx(one[part] / 8)
    assert ddp["weights"] == one["weights"] and ddp["gradients"] == 2 * one["gradients"]  # DDP's buckets beside them
    assert one["total"] == sum(v for k, v in one.items() if k != "total")
    assert one["bf16 weights"] == pytest.approx(16 * fsdp["bf16 weights"])  # a copy of all 32 blocks; FSDP gathers 2
    # 8 sequences a GPU are one micro-step: no step without a sync, so no whole gradients under FSDP; 1 x 64 would
    # hold them (15 GB in fp32)
    assert "unsharded gradients" not in fsdp
    resplit = estimate({**cfg, "batch_size": 1, "gradient_accumulation_steps": 64}, world=8, fsdp=True)
    assert resplit["unsharded gradients"] == 4 * model_size(cfg)[0]
    # why the 3.78B configs shard: replicated on 80 GB GPUs they do not fit, sharded they leave most of it free
    assert ddp["total"] > 80e9 and fsdp["total"] < 30e9
    assert cfg["fsdp"] is True
    assert 3.7e9 < model_size(cfg)[0] < 3.8e9


@pytest.mark.skipif(not RESETTABLE_PEAK, reason="reads Linux's /proc/self figures")
def test_the_memory_estimate_is_within_its_error_of_a_measured_peak(tmp_path):
    """GPT-2 124M on the CPU in fp32, one sequence of 512 tokens: the growth of the process's resident memory to
    its peak over two training steps, against memory.estimate for that run on a CPU. Linux's /proc figures."""
    from memory import ERROR
    config = os.path.join(REPO, "config", "vanilla_124m_1m.py")
    script = tmp_path / "peak.py"
    script.write_text(f"""
import json, sys, torch
sys.path.insert(0, {REPO!r})
import train
from configurator import read_settings
from model import Transformer, model_config
cfg = read_settings([{config!r}, "--batch_size=1"])[0]
x, y = torch.randint(0, cfg.vocab_size, (2, 1, cfg.block_size))
from bench import reset_peak, resident  # this process's own figures: ru_maxrss starts from pytest's peak
reset_peak("cpu")
before = resident("VmRSS")
model = Transformer(model_config(cfg))
optimizer = train.make_optimizer(model, cfg, fused=False)
for _ in range(2):
    model(x, y)[1].backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
print(json.dumps(resident("VmHWM") - before))
""")
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True,
                       env={**os.environ, "OMP_NUM_THREADS": "1"})
    measured = json.loads(p.stdout)
    cfg = vars(read_settings([config, "--batch_size=1"])[0])
    estimated = estimate(cfg, dtype="float32", device="cpu")["total"]
    assert abs(estimated / measured - 1) < ERROR, (estimated / 1e9, measured / 1e9)


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


# What a run needs, and the study built on it: the core imports nothing of the study, so a reader of
# train.py meets no report machinery and a fork of the core runs without the study's files
CORE = ("train", "model", "dyt", "settings", "configurator", "cli", "naming", "data", "images", "machine",
        "run_folder", "atomic", "probes", "sample", "prepare_data", "convert")
STUDY = ("sweep", "runs", "report", "claims", "studies", "tables", "figures", "stats", "paper", "docs", "plateau", "bench",
         "memory", "make_configs", "gpu_check", "config.grid")


def test_the_core_imports_nothing_of_the_study():
    """Every core module imported in a fresh interpreter, top-level and function-level imports run (the config
    view, --help): the project modules loaded are core ones, and every project module is one or the other."""
    files = {f[:-3] for f in os.listdir(REPO) if f.endswith(".py")}
    code = (f"import sys\nimport {', '.join(CORE)}\nimport configurator, train\n"
            "configurator.show(['config/micro/dyt_micro_8k.py'])\nprint(sorted(sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    loaded = {m for m in eval(out.stdout.strip().splitlines()[-1]) if m.split(".")[0] in files | {"config"}}
    assert loaded - {"config", "config.common", "config.common.micro"} == set(CORE), loaded ^ set(CORE)
    assert files == set(CORE) | {m for m in STUDY if "." not in m}, files ^ (set(CORE) | set(STUDY))


def test_bench_waits_for_the_device_it_times(monkeypatch):
    import torch

    import bench
    waited = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: waited.append(device))
    bench.sync("cuda:1")
    bench.sync("cpu")
    assert waited == ["cuda:1"]  # cuda:1's work, not the current device's


def test_bench_measures_each_variants_peak_from_its_start(monkeypatch, capsys):
    """On a GPU, "compiled" reports its own peak memory, not eager's before it: the peak restarts per variant."""
    import torch

    import bench
    from model import ModelConfig, Transformer
    from settings import Config
    calls = []
    monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", lambda device=None: calls.append(("reset", device)))
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda device=None: calls.append(("peak", device)) or 2e9)
    tiny = Transformer(ModelConfig(n_layer=1, n_head=1, n_embd=8, vocab_size=16, block_size=4))
    monkeypatch.setattr(bench, "setup", lambda cfg: (tiny, None, None, None, None))
    monkeypatch.setattr(bench, "timed", lambda f, device, reps, warmup=3: 1.0)
    bench.section_step(Config(device="cuda:1", dtype="float32"), bench.Bench())
    assert calls == [("reset", "cuda:1"), ("peak", "cuda:1")] * 2  # eager, then compiled
    assert capsys.readouterr().out.count("peak 2.00 GB allocated") == 2


def test_bench_compiles_each_norm_afresh(monkeypatch):
    """Dynamo recompiles one forward at most 8 times (its recompile limit), then runs it eager without a word:
    the norm section's 12 compiled variants (6 norms at 2 widths) each start from a reset Dynamo."""
    import torch

    import bench
    from settings import Config
    calls = []
    monkeypatch.setattr(torch._dynamo, "reset", lambda: calls.append("reset"))
    monkeypatch.setattr(torch, "compile", lambda f: calls.append("compile") or f)
    monkeypatch.setattr(bench, "timed", lambda f, device, reps, warmup=3: 1.0)
    bench.section_norms(Config(device="cpu"), bench.Bench())
    assert calls == ["reset", "compile"] * 12
