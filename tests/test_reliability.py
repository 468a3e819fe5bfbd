"""Runs survive kills, divergence and mistakes without losing or corrupting what they wrote.

Bad input in general (one line, exit 2, nothing written) is tests/test_bad_input.py.
"""

import json
import os
import resource
from contextlib import contextmanager
import subprocess
import sys

import pytest

from conftest import REPO, TINY, kill_at_a_random_moment, read_log, train


def one_clear_line(p, message):
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), p.stderr
    assert message in lines[0], lines[0]


def no_tmp_files(folder):
    return not [f for _, _, files in os.walk(folder) for f in files if f.endswith(".tmp")]


def test_sigkill_at_a_random_moment_then_resume_is_bit_exact(data_dir, tmp_path):
    args = ["--max_iters=120", "--eval_interval=10", "--dropout=0.1"]
    out = tmp_path / "killed"
    kill_at_a_random_moment([f"--data_dir={data_dir}", *TINY, *args], out)
    train(data_dir, out, *args, "--init_from=resume")
    train(data_dir, tmp_path / "straight", *args)
    killed, straight = read_log(out), read_log(tmp_path / "straight")
    assert [r["iter"] for r in killed] == list(range(0, 121, 10))
    assert [(r["val_loss"], r["train_loss"]) for r in killed] == [(r["val_loss"], r["train_loss"]) for r in straight]


def test_resume_may_extend_max_iters_but_not_change_the_run(data_dir, tmp_path):
    out = tmp_path / "run"
    train(data_dir, out, "--max_iters=10", "--eval_interval=5")
    train(data_dir, out, "--max_iters=20", "--eval_interval=5", "--init_from=resume", "--log_interval=1")
    assert [r["iter"] for r in read_log(out)] == [0, 5, 10, 15, 20]
    # any setting that changes the run is refused by name, before anything is built or written
    for change, words in (("--norm=dyt", "norm ('layernorm' there, 'dyt' asked), alpha_init (None there, 2.0 asked), "
                                         "method ('vanilla' there, 'dyt' asked)"),
                          ("--n_embd=48", "n_embd (32 there, 48 asked)"), ("--learning_rate=0.01", "learning_rate"),
                          ("--dropout=0.3", "dropout (0.0 there, 0.3 asked)"), ("--seed=2", "seed (1337 there, 2 asked)")):
        before = (out / "log.jsonl").read_bytes()
        p = train(data_dir, out, "--max_iters=30", "--eval_interval=5", change, "--init_from=resume", expect_ok=False)
        one_clear_line(p, f"cannot resume {out}: its run was trained with other settings: {words}")
        assert (out / "log.jsonl").read_bytes() == before
    stored = json.loads((out / "settings.json").read_text())
    assert stored["settings"]["max_iters"] == 20 and stored["settings"]["norm"] == "layernorm"
    assert stored["settings"]["log_interval"] == 1
    # a folder written before a setting existed: its run's value of it is unknown, so it differs
    del stored["settings"]["embed_scale"]
    (out / "settings.json").write_text(json.dumps(stored))
    p = train(data_dir, out, "--max_iters=30", "--eval_interval=5", "--init_from=resume", expect_ok=False)
    one_clear_line(p, f"cannot resume {out}: its run was trained with other settings: embed_scale (not set there, False asked)")


def test_a_kill_during_a_checkpoint_write_leaves_the_previous_one(data_dir, tmp_path):
    out = tmp_path / "run"
    train(data_dir, out, "--max_iters=10", "--eval_interval=5")
    (out / "summary.json").unlink()  # as if killed after the step-10 checkpoint ...
    (out / "ckpt.pt.tmp").write_bytes(b"half a checkpoint")  # ... while writing the next one
    train(data_dir, out, "--max_iters=15", "--eval_interval=5", "--init_from=resume")
    assert [r["iter"] for r in read_log(out)] == [0, 5, 10, 15]


def test_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(data_dir, tmp_path):
    out = tmp_path / "run"
    # warmup reaches an absurd learning rate after the first evaluation; no clipping to stop it
    p = train(data_dir, out, "--max_iters=200", "--eval_interval=10", "--learning_rate=1e12", "--warmup_iters=100",
              "--grad_clip=0.0", "--log_interval=1", expect_ok=False)
    one_clear_line(p, "the run diverged. The last good checkpoint is")
    assert "loss became nan" in p.stderr or "loss became inf" in p.stderr
    assert (out / "diverged.json").exists() and not (out / "summary.json").exists()
    import torch
    ckpt = torch.load(out / "ckpt.pt", weights_only=True)
    assert all(torch.isfinite(v).all() for v in ckpt["model"].values())
    assert ckpt["iter"] == read_log(out)[-1]["iter"]


def test_a_finished_run_is_not_overwritten_by_accident(data_dir, tmp_path):
    out = tmp_path / "run"
    train(data_dir, out, "--max_iters=5", "--eval_interval=5")
    before = (out / "summary.json").read_bytes()
    p = train(data_dir, out, "--max_iters=5", expect_ok=False)
    one_clear_line(p, "already holds a finished run: choose another out_dir, or pass --overwrite=True")
    assert (out / "summary.json").read_bytes() == before
    train(data_dir, out, "--max_iters=5", "--eval_interval=5", "--overwrite=True", "--seed=2")
    assert (out / "summary.json").read_bytes() != before


def test_an_interrupted_prepare_leaves_no_finished_looking_folder(tmp_path, monkeypatch):
    import prepare_data
    src = tmp_path / "t.txt"
    src.write_text("hello world " * 500)
    args = ["text", "--input", str(src), "--name", "t", "--data_dir", str(tmp_path / "d")]
    prepare_data.main(args)  # a finished folder, then a second preparation killed inside its second file
    real_open, calls = prepare_data.atomic_open, []

    @contextmanager
    def killed_in_second_file(path, mode):
        calls.append(path)
        with real_open(path, mode) as f:
            if len(calls) == 2:
                f.write(b"half a file")
                raise KeyboardInterrupt
            yield f

    monkeypatch.setattr(prepare_data, "atomic_open", killed_in_second_file)
    with pytest.raises(KeyboardInterrupt):
        prepare_data.main(args)
    assert not (tmp_path / "d" / "t" / "meta.json").exists()  # so train.py says: prepare it again
    assert no_tmp_files(tmp_path)


def test_a_full_disk_is_one_line_naming_the_file_and_the_run_resumes_once_there_is_room(data_dir, tmp_path):
    out, args = tmp_path / "run", ["--eval_interval=5", "--dropout=0.1"]
    train(data_dir, out, "--max_iters=10", *args)
    (out / "summary.json").unlink()  # as if stopped after the step-10 checkpoint
    before = (out / "ckpt.pt").read_bytes()
    limit = 2 * (out / "best.pt").stat().st_size  # room for best.pt, not for ckpt.pt (it holds the optimiser too)
    cmd = [sys.executable, "train.py", f"--data_dir={data_dir}", f"--out_dir={out}", *TINY, "--max_iters=20", *args,
           "--init_from=resume"]
    p = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
                       preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 74 and len(lines) == 1 and "Traceback" not in p.stderr, p.stderr
    assert lines[0] == (f"error: could not write {out}/ckpt.pt (File too large): the previous version of it, if any, is "
                        f"intact; the run's last checkpoint, {out}/ckpt.pt, holds step 10: make room and resume it with "
                        f"--init_from=resume")
    assert (out / "ckpt.pt").read_bytes() == before and no_tmp_files(out)
    train(data_dir, out, "--max_iters=20", *args, "--init_from=resume")  # with room again
    train(data_dir, tmp_path / "straight", "--max_iters=20", *args)
    assert [(r["iter"], r["val_loss"]) for r in read_log(out)] == [(r["iter"], r["val_loss"]) for r in read_log(tmp_path / "straight")]
