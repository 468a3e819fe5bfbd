"""sweep.py skips what is done, resumes what was killed, and counts what failed."""

import os
import signal
import subprocess
import sys
import time

from conftest import REPO, TINY, read_log, run


def write_config(path, **values):
    path.write_text("".join(f"{k} = {v!r}\n" for k, v in values.items()))
    return str(path)


def sweep(*args, **kw):
    return run("sweep.py", *args, **kw)


def test_finished_runs_are_skipped_and_failures_counted(data_dir, tmp_path):
    good = write_config(tmp_path / "good.py", max_iters=10, eval_interval=5)
    bad = write_config(tmp_path / "bad.py", max_iters=10, train_tokens=10**9)  # larger than the data
    out = tmp_path / "out"
    p = sweep(good, bad, "--seeds", "1", "2", "--out", out, f"--data_dir={data_dir}", *TINY, expect_ok=False)
    assert p.returncode == 2  # the two bad runs
    assert "2 of 4 runs failed: bad_s1, bad_s2" in p.stdout
    assert "FAILED (exit 2): error: train_tokens=1,000,000,000 is larger" in p.stdout
    summary = out / "good_s1" / "summary.json"
    stamp = summary.stat().st_mtime_ns
    p = sweep(good, "--seeds", "1", "2", "--out", out, f"--data_dir={data_dir}", *TINY)
    assert p.stdout.count("done already") == 2 and summary.stat().st_mtime_ns == stamp
    p = sweep(str(tmp_path / "*.py"), "--seeds", "1", "3", "--out", out, "--dry_run")
    assert p.stdout.splitlines() == [f"   new  {out}/bad_s1", f"   new  {out}/bad_s3", f"  done  {out}/good_s1",
                                     f"   new  {out}/good_s3", "1 of 4 runs done"]


def test_a_killed_sweep_resumes_to_the_same_result(data_dir, tmp_path):
    config = write_config(tmp_path / "long.py", max_iters=150, eval_interval=10, dropout=0.1)
    args = [config, "--seeds", "5", f"--data_dir={data_dir}", *TINY]
    cmd = [sys.executable, "sweep.py", *args, "--out", str(tmp_path / "out")]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    run_dir = tmp_path / "out" / "long_s5"
    deadline = time.time() + 120
    while time.time() < deadline:  # wait until a checkpoint past the start exists, then kill everything
        if (run_dir / "log.jsonl").exists() and len(read_log(run_dir)) >= 4:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = read_log(run_dir)[-1]["iter"]
    assert 30 <= killed_at < 150 and not (run_dir / "summary.json").exists()

    p = sweep(*args, "--out", tmp_path / "out")
    assert "resuming" in p.stdout
    run("train.py", config, "--seed=5", f"--out_dir={tmp_path / 'straight'}", f"--data_dir={data_dir}", *TINY)
    resumed, straight = read_log(run_dir), read_log(tmp_path / "straight")
    assert [r["iter"] for r in resumed] == list(range(0, 151, 10))
    assert [(r["val_loss"], r["train_loss"]) for r in resumed] == [(r["val_loss"], r["train_loss"]) for r in straight]
