"""sweep.py skips what is done, resumes what was killed, counts what failed, shares a grid, and costs it."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from conftest import REPO, TINY, read_log, run, train


def write_config(path, **values):
    """A config file of the TINY model (conftest) with these values: a sweep of it needs no overrides."""
    tiny = {a[2:].partition("=")[0]: eval(a.partition("=")[2]) for a in TINY}
    path.write_text("".join(f"{k} = {v!r}\n" for k, v in {**tiny, **values}.items()))
    return str(path)


def sweep(*args, **kw):
    return run("sweep.py", *args, **kw)


def test_finished_runs_are_skipped_and_failures_counted(data_dir, tmp_path):
    good = write_config(tmp_path / "good.py", max_iters=10, eval_interval=5)
    bad = write_config(tmp_path / "bad.py", max_iters=10, train_tokens=10**9)  # larger than the data
    out = tmp_path / "out"
    p = sweep(good, bad, "--seeds", "1", "2", "--out", out, f"--data_dir={data_dir}", expect_ok=False)
    assert p.returncode == 2  # the two bad runs
    assert "2 of 4 runs failed: bad_s1, bad_s2" in p.stdout
    assert "FAILED (exit 2): error: train_tokens=1,000,000,000 is larger" in p.stdout
    summary = out / "good_s1" / "summary.json"
    stamp = summary.stat().st_mtime_ns
    p = sweep(good, "--seeds", "1", "2", "--out", out, f"--data_dir={data_dir}")
    assert p.stdout.count("done already") == 2 and summary.stat().st_mtime_ns == stamp
    p = sweep(str(tmp_path / "*.py"), "--seeds", "1", "3", "--out", out, "--dry_run", f"--data_dir={data_dir}")
    states = [line.split()[:2] for line in p.stdout.splitlines()[1:-1]]
    assert states == [["new", "bad_s1"], ["new", "bad_s3"], ["done", "good_s1"], ["new", "good_s3"]]
    assert p.stdout.splitlines()[-1].startswith("1 of 4 runs done. The grid: ")


def processes_naming(text):
    """pids of the processes whose command line holds text (Linux /proc)."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    pids.append(int(pid))
        except OSError:
            pass
    return pids


def test_a_terminated_sweep_stops_its_runs_and_resumes_to_the_same_result(data_dir, tmp_path):
    config = write_config(tmp_path / "long.py", max_iters=150, eval_interval=10, dropout=0.1)
    args = [config, "--seeds", "5", f"--data_dir={data_dir}"]
    cmd = [sys.executable, "sweep.py", *args, "--out", str(tmp_path / "out")]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    run_dir = tmp_path / "out" / "long_s5"
    deadline = time.time() + 600  # generous: a loaded machine trains slowly
    while time.time() < deadline:  # wait until a checkpoint past the start exists, then stop the sweep
        if (run_dir / "log.jsonl").exists() and len(read_log(run_dir)) >= 4:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)  # as a scheduler stops a job: the sweep alone is told
    assert "interrupted: every run was stopped" in proc.communicate(timeout=60)[1]
    assert processes_naming(str(run_dir)) == []  # its train.py went with it
    killed_at = read_log(run_dir)[-1]["iter"]
    assert 30 <= killed_at < 150 and not (run_dir / "summary.json").exists()

    p = sweep(*args, "--out", tmp_path / "out")
    assert "resuming" in p.stdout
    run("train.py", config, "--seed=5", f"--out_dir={tmp_path / 'straight'}", f"--data_dir={data_dir}")
    resumed, straight = read_log(run_dir), read_log(tmp_path / "straight")
    assert [r["iter"] for r in resumed] == list(range(0, 151, 10))
    assert [(r["val_loss"], r["train_loss"]) for r in resumed] == [(r["val_loss"], r["train_loss"]) for r in straight]


def test_the_dry_run_costs_a_grid_on_a_named_gpu(tmp_path):
    p = sweep(os.path.join(REPO, "config", "dyt_3.78b_118m.py"), os.path.join(REPO, "config", "dyt_64m_1m.py"),
              "--seeds", "1", "2", "--out", tmp_path, "--dry_run", "--gpu", "A100", "--mfu", "0.5")
    rows = [line.split() for line in p.stdout.splitlines()[1:] if line.split()[0] in ("new", "done")]
    hours = {row[1]: float(row[4]) for row in rows}
    # 3.78B: (6 N + 12 L d T) FLOPs per token over 5000 steps of 32,768 tokens, at half of 312 TFLOP/s
    n, flops_per_token = 3778.61e6, 6 * 3778.61e6 + 12 * 32 * 3072 * 512
    assert float(rows[0][3]) == pytest.approx(flops_per_token * 5000 * 32768 / 1e15, rel=1e-3)
    assert hours["dyt_3.78b_118m_s1"] == pytest.approx(flops_per_token * 5000 * 32768 / (0.5 * 312e12) / 3600, rel=1e-3)
    assert hours["dyt_3.78b_118m_s1"] > 50 * hours["dyt_64m_1m_s1"]  # 60x the parameters, the same tokens
    assert f"The grid: {sum(hours.values()):,.1f} GPU hours on A100 at 50%" in p.stdout
    assert n / 1e9 == pytest.approx(3.78, abs=0.01)
    # what the paper itself ran: 3 seeds a config, but 2 for RMSNorm and the 1M alpha sweep; not the DyT recipe
    configs = [os.path.join(REPO, "config", f"{name}.py") for name in ("dyt_64m_1m", "rmsnorm_64m_1m", "dyt_64m_1m_alpha1",
                                                                        "dytrecipe_64m_1m")]
    p = sweep(*configs, "--seeds", "1", "--out", tmp_path, "--dry_run")
    one = {row[1]: float(row[4]) for row in (line.split() for line in p.stdout.splitlines()) if row[0] == "new"}
    paper_hours = 3 * one["dyt_64m_1m_s1"] + 2 * one["rmsnorm_64m_1m_s1"] + 2 * one["dyt_64m_1m_alpha1_s1"]
    assert p.stdout.splitlines()[-1].startswith("What the paper ran of these 3 configs (3 seeds each, 2 for the 1M "
                                                "alpha sweep and for RMSNorm): 7 runs, ")
    assert float(p.stdout.split("7 runs, ")[1].split()[0]) == pytest.approx(paper_hours, abs=0.06)  # hours to 0.01


def test_a_held_run_folder_is_refused_and_a_stale_lock_taken_over(data_dir, tmp_path):
    from run_folder import lock_holder, take_lock
    out = tmp_path / "c_s1337"  # the folder the sweep below trains c.py's seed 1337 in
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # a live process of ours
    try:
        out.mkdir()
        (out / "lock").write_text(f'{{"pid": {holder.pid}, "host": "{socket.gethostname()}"}}')
        p = train(data_dir, out, "--max_iters=4", expect_ok=False)
        assert p.returncode == 75 and p.stderr.strip().splitlines() == [
            f"error: {out} is being trained by process {holder.pid} on {socket.gethostname()}: wait for it to finish, "
            f"or stop it"]
        assert os.listdir(out) == ["lock"]
        p = sweep(write_config(tmp_path / "c.py", max_iters=4), "--out", tmp_path, f"--data_dir={data_dir}")
        assert f"c_s1337: skipped, process {holder.pid} is training it" in p.stdout
        assert os.listdir(out) == ["lock"]
    finally:
        holder.kill()
        holder.wait()
    assert lock_holder(str(out)) is None  # its process is gone: the lock is stale
    train(data_dir, out, "--max_iters=4", "--eval_interval=2")  # and is taken over
    assert [r["iter"] for r in read_log(out)] == [0, 2, 4] and not (out / "lock").exists()
    path = take_lock(str(out))
    assert lock_holder(str(out))["pid"] == os.getpid()
    os.remove(path)


def test_two_sweeps_over_one_grid_train_every_run_once(data_dir, tmp_path):
    configs = [write_config(tmp_path / f"c{i}.py", max_iters=30, eval_interval=10) for i in range(2)]
    cmd = [sys.executable, "sweep.py", *configs, "--seeds", "1", "2", "--out", str(tmp_path / "out"),
           f"--data_dir={data_dir}", "--jobs", "1"]
    sweeps = [subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "OMP_NUM_THREADS": "1"}) for _ in range(2)]
    outputs = [p.communicate(timeout=600)[0] for p in sweeps]
    assert all(p.returncode == 0 for p in sweeps), outputs
    for run_dir in sorted((tmp_path / "out").iterdir()):
        assert [r["iter"] for r in read_log(run_dir)] == [0, 10, 20, 30], run_dir  # once each, a clean log
    finished = sum(o.count("finished in") for o in outputs)
    assert finished == 4, outputs  # each run trained by exactly one of the sweeps


def test_jobs_run_at_once_with_the_losses_of_runs_alone(data_dir, tmp_path):
    configs = [write_config(tmp_path / f"c{i}.py", max_iters=10, eval_interval=5, learning_rate=1e-3 * (i + 1))
               for i in range(2)]
    p = sweep(*configs, "--seeds", "1", "2", "--jobs", "2", "--out", tmp_path / "out", f"--data_dir={data_dir}")
    threads = str(max(1, (os.cpu_count() or 1) // 2))
    assert p.stdout.splitlines()[0] == f"4 run(s), 2 at once, {threads} thread(s) each" and "2 going" in p.stdout
    for config in configs:  # alone, with the thread count --jobs 2 gives each run on this machine
        stem = os.path.basename(config)[:-3]
        subprocess.run([sys.executable, "train.py", config, "--seed=1", f"--out_dir={tmp_path / stem}",
                        f"--data_dir={data_dir}"], cwd=REPO, check=True, capture_output=True,
                       env={**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads})
        swept, alone = read_log(tmp_path / "out" / f"{stem}_s1"), read_log(tmp_path / stem)
        assert [r["val_loss"] for r in swept] == [r["val_loss"] for r in alone]


def test_a_run_folder_is_named_by_the_overrides_that_change_the_run_and_holds_that_run_only(data_dir, tmp_path):
    config, out = write_config(tmp_path / "c.py", max_iters=6, eval_interval=3, norm="dyt", alpha_init=2.0), tmp_path / "out"
    p = sweep(config, "--out", out, f"--data_dir={data_dir}")
    assert p.stdout.splitlines()[0] == f"1 run(s), 1 at once, {os.cpu_count()} thread(s) each"  # every core for one run
    # overrides that change the run make another folder and another label; where it runs does not
    p = sweep(config, "--out", out, f"--data_dir={data_dir}", "--norm=derf", "--log_interval=2")
    assert "c_norm=derf_s1337: running" in p.stdout and "done already" not in p.stdout
    p = sweep(config, "--out", out, f"--data_dir={data_dir}", "--alpha_init=1", "--dry_run")
    assert p.stdout.splitlines()[1].split()[:2] == ["new", "c_alpha_init=1.0_s1337"]
    summary = json.loads((out / "c_norm=derf_s1337" / "summary.json").read_text())
    assert summary["config"]["method"] == "derf" and summary["changes"] == [["norm", "derf", "dyt"]]  # the override and the config's value
    # a folder of another run (its config was edited since) is left alone and counted as failed
    write_config(tmp_path / "c.py", max_iters=6, eval_interval=3, norm="dyt", alpha_init=1.5)
    before = (out / "c_s1337" / "log.jsonl").read_bytes()
    p = sweep(config, "--out", out, f"--data_dir={data_dir}", expect_ok=False)
    assert p.returncode == 1 and f"c_s1337: NOT RUN: {out / 'c_s1337'} holds a run of other settings: alpha_init " \
                                  f"(2.0 there, 1.5 asked)" in p.stdout
    assert (out / "c_s1337" / "log.jsonl").read_bytes() == before
    # a finished run asked for more steps is continued, not started again
    write_config(tmp_path / "c.py", max_iters=9, eval_interval=3, norm="dyt", alpha_init=2.0)
    p = sweep(config, "--out", out, f"--data_dir={data_dir}")
    assert "c_s1337: resuming" in p.stdout and [r["iter"] for r in read_log(out / "c_s1337")] == [0, 3, 6, 9]


def test_without_jobs_a_sweep_runs_one_run_per_physical_core(tmp_path, monkeypatch):
    import sweep as sweep_module
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(sweep_module, "physical_cores", lambda: 8)  # a laptop with 8 cores of 2 hyperthreads each
    assert sweep_module.default_jobs(1) == 8 and sweep_module.default_jobs(2) == 4
    assert sweep_module.slots(8, 1) == [{"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}] * 8


def test_each_gpu_slot_gets_its_share_of_the_cores(monkeypatch):
    """A GPU run's data and evaluation work on the CPU: two 2-GPU runs at once each take a quarter of the cores
    per process, as CPU runs do, instead of every process taking every core."""
    import torch

    import sweep
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    envs = sweep.slots(2, 2)
    threads = str(max(1, (os.cpu_count() or 1) // 4))
    assert envs == [{"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "CUDA_VISIBLE_DEVICES": "0,1"},
                    {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "CUDA_VISIBLE_DEVICES": "2,3"}]
    # a job given GPUs 4-7 of the machine (SLURM sets this): its runs take those, not GPUs 0-3
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5,6,7")
    assert [env["CUDA_VISIBLE_DEVICES"] for env in sweep.slots(2, 2)] == ["4,5", "6,7"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-3f2a,GPU-77b1,GPU-90cc,GPU-e4d0")  # UUIDs pass through as named
    assert [env["CUDA_VISIBLE_DEVICES"] for env in sweep.slots(4, 1)] == ["GPU-3f2a", "GPU-77b1", "GPU-90cc", "GPU-e4d0"]
