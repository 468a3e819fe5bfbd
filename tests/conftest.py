"""Shared test helpers: where the repo and ../shared are, prepared tiny datasets, and a train.py runner.

Tests that need tiny Shakespeare or the UCI digits read a local copy (data/, where prepare_data.py
downloads them, or ../shared), or download one into data/ once, as prepare_data.py does, so the tests
can run before the main command; the GPT-2 BPE ranks come through tiktoken's cache. Without a copy or
network they skip with a reason, and fail instead when CI=true, where nothing may be skipped.
"""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import pytest

from forkrun import run_script

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(REPO), "shared")
TIKTOKEN_CACHE = os.path.join(SHARED, "tiktoken_cache")

sys.path.insert(0, REPO)
if "TIKTOKEN_CACHE_DIR" not in os.environ and os.path.isdir(TIKTOKEN_CACHE):
    os.environ["TIKTOKEN_CACHE_DIR"] = TIKTOKEN_CACHE


def need(path, what):
    """Skip (fail in CI) when a file is not there."""
    if not os.path.exists(path):
        message = f"{what} not found at {path}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI must not skip)")
        pytest.skip(message)
    return path


def local_or_fetched(what, name, url):
    """A data file: data/<name> (where prepare_data.py downloads it) or ../shared/data/<name>, or else
    downloaded to data/<name> once; skipped (failed in CI) where neither a copy nor the network is there."""
    copies = [os.path.join(REPO, "data", name), os.path.join(SHARED, "data", name)]
    found = next((p for p in copies if os.path.exists(p)), None)
    if found is None:
        from data import DataError
        from prepare_data import download
        os.makedirs(os.path.join(REPO, "data"), exist_ok=True)
        try:
            download(url, copies[0])
            found = copies[0]
        except DataError:
            found = copies[-1]
    return need(found, what)


def shakespeare():
    from prepare_data import SHAKESPEARE_URL
    return local_or_fetched("tiny Shakespeare", "tinyshakespeare.txt", SHAKESPEARE_URL)


def digits():
    """The UCI digits: the copy scikit-learn ships, or the UCI file itself."""
    from prepare_data import DIGITS_URL
    local = [p for p in (os.path.join(REPO, "data", "digits.csv.gz"), os.path.join(SHARED, "data", "digits.csv.gz"))
             if os.path.exists(p)]
    return local[0] if local else local_or_fetched("the UCI digits", "optdigits.tes", DIGITS_URL)


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
    prepare_text(shakespeare(), "shakespeare_byte", "byte", str(root))
    return str(root)


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory):
    """A data_dir holding the UCI digits, prepared as prepare_data.py prepares them."""
    from prepare_data import main as prepare
    root = tmp_path_factory.mktemp("images")
    prepare(["digits", "--input", digits(), "--data_dir", str(root)])
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


def kill_at_a_random_moment(args, out_dir, window=1.0):
    """Start `python train.py *args` writing into out_dir and SIGKILL it at a random moment of the `window`
    seconds after its first checkpoint appears: in training, in an evaluation or in a checkpoint write. On a
    machine so fast that the run finishes first, the folder is cleared and the run killed again within a
    quarter of the window. KILL_SEED=N replays a failure's moments."""
    out_dir = str(out_dir)
    seed = int(os.environ.get("KILL_SEED", random.randrange(10**6)))
    print(f"KILL_SEED={seed}")
    moments = random.Random(seed)
    for _ in range(4):
        proc = subprocess.Popen([sys.executable, "train.py", *map(str, args), f"--out_dir={out_dir}"], cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while not os.path.exists(os.path.join(out_dir, "ckpt.pt")) and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(moments.uniform(0.0, window))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if not os.path.exists(os.path.join(out_dir, "summary.json")):
            return
        shutil.rmtree(out_dir)
        window /= 4
    raise AssertionError(f"the run finished each time before it was killed, last within {4 * window:.3f} s")


def read_log(out_dir):
    with open(os.path.join(out_dir, "log.jsonl")) as f:
        return [json.loads(line) for line in f]
