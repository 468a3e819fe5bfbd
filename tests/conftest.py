"""Shared test helpers: where the repo and ../shared are, a prepared tiny dataset, and a train.py runner.

Tests that need tiny Shakespeare (data/tinyshakespeare.txt, as downloaded by prepare_data.py, or
../shared) or the GPT-2 BPE ranks skip with a reason on a machine without them, and fail instead when
CI=true, where nothing may be skipped.
"""

import json
import os
import subprocess
import sys

import pytest

from forkrun import run_script

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(REPO), "shared")
# where prepare_data.py's download lands, or where this project's CI keeps a copy
SHAKESPEARE = next((p for p in (os.path.join(REPO, "data", "tinyshakespeare.txt"),
                                os.path.join(SHARED, "data", "tinyshakespeare.txt")) if os.path.exists(p)),
                   os.path.join(SHARED, "data", "tinyshakespeare.txt"))
TIKTOKEN_CACHE = os.path.join(SHARED, "tiktoken_cache")

sys.path.insert(0, REPO)
if "TIKTOKEN_CACHE_DIR" not in os.environ and os.path.isdir(TIKTOKEN_CACHE):
    os.environ["TIKTOKEN_CACHE_DIR"] = TIKTOKEN_CACHE


def need(path, what):
    """Skip (fail in CI) when a file from ../shared is not there."""
    if not os.path.exists(path):
        message = f"{what} not found at {path}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI must not skip)")
        pytest.skip(message)
    return path


def need_gpt2_bpe():
    """Skip (fail in CI) when tiktoken cannot load the GPT-2 BPE (no cache and no network)."""
    try:
        import tiktoken
        return tiktoken.get_encoding("r50k_base")
    except Exception as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"GPT-2 BPE unavailable: {e} (CI must not skip)")
        pytest.skip(f"GPT-2 BPE unavailable (set TIKTOKEN_CACHE_DIR or go online): {e}")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """A data_dir holding shakespeare_byte, prepared from ../shared's tiny Shakespeare."""
    from prepare_data import prepare_text
    root = tmp_path_factory.mktemp("data")
    prepare_text(need(SHAKESPEARE, "tiny Shakespeare"), "shakespeare_byte", "byte", str(root))
    return str(root)


# A model small enough that a training step takes milliseconds on a CPU.
TINY = ["--n_layer=2", "--n_head=2", "--n_embd=32", "--block_size=32", "--batch_size=8",
        "--val_tokens=8192", "--log_interval=5", "--warmup_iters=5", "--lr_decay_iters=1000"]


def run(script, *args, expect_ok=True, torchrun=None, timeout=600, cwd=REPO):
    """Run a repo script (as `python script` or under torchrun) in the repo (or cwd, a copy of it);
    returns the CompletedProcess."""
    args = [str(a) for a in args]
    if torchrun:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={torchrun}", script, *args]
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                           env={**os.environ, "OMP_NUM_THREADS": "1"})
    else:
        p = run_script(script, args, str(cwd), timeout)
        cmd = p.args
    if expect_ok and p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p


def train(data_dir, out_dir, *args, **kw):
    """train.py on the TINY model, with a data_dir and an out_dir."""
    return run("train.py", f"--data_dir={data_dir}", f"--out_dir={out_dir}", *TINY, *args, **kw)


def read_log(out_dir):
    with open(os.path.join(out_dir, "log.jsonl")) as f:
        return [json.loads(line) for line in f]
