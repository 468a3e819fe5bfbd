"""
What a run keeps on disk, and how it gets there safely.

out_dir holds settings.json (the run's resolved settings), log.jsonl (one line per evaluation),
ckpt.pt (the latest evaluated state) and, once the run is finished, summary.json (or diverged.json if
its loss became NaN). Every file is written to a temporary name and renamed, so a kill, or a disk that
fills, at any moment leaves the previous version whole; a write that fails is one line naming the file. Checkpoints
hold whole tensors keyed by parameter name whether the model was plain, under DDP or sharded by
FSDP, so any of them resumes under any other, and sample.py reads them in one process.
"""

import atexit
import errno
import json
import os
import socket
from contextlib import contextmanager

import torch
from torch.distributed.checkpoint.state_dict import (StateDictOptions, get_model_state_dict,
                                                     get_optimizer_state_dict, set_model_state_dict,
                                                     set_optimizer_state_dict)

from cli import ConfigError, UserError, WriteError
from settings import differences, say_differences


class RunError(UserError):
    """A problem with the run itself (checkpoint, out_dir, diverged loss), told in one line."""


def rng_state(device_type):
    return {"cpu": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state() if device_type == "cuda" else None}


def restore_rng(states, rank, device_type, seed, step):
    """Each process's random state (dropout) as the checkpoint saved it. A run may resume under more
    processes or on another device: a process the checkpoint holds no state for (rank 1 of a run that
    had one), or no CUDA state (a CPU-trained run on a GPU), seeds it from the seed, its rank and the step
    instead, so the resumed run is still a function of its settings."""
    saved = states[rank] if rank < len(states) else {}
    derived = seed + rank + 1_000_003 * (step + 1)
    if saved.get("cpu") is not None:
        torch.set_rng_state(saved["cpu"])
    else:
        torch.manual_seed(derived)
    if device_type == "cuda":
        if saved.get("cuda") is not None:
            torch.cuda.set_rng_state(saved["cuda"])
        else:
            torch.cuda.manual_seed(derived)


NO_ROOM = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)  # a full disk, a file-size limit, a quota


def cannot_write(path, error):
    """The one line for a file that could not be written (a full disk, a file-size limit, permissions).
    torch's zip writer reports a failed write as its own RuntimeError: the OSError behind it says why."""
    while not isinstance(error, OSError) and error.__context__ is not None:
        error = error.__context__
    return WriteError(path, getattr(error, "strerror", None) or str(error).splitlines()[0])


@contextmanager
def atomic_open(path, mode="w"):
    """open(path, mode) for writing, through path + '.tmp' renamed at the end: a reader sees the old
    file or the new one, never half of one. On an error the temporary file is removed, and an OSError
    (no space, a size limit) becomes a WriteError naming the file."""
    tmp = path + ".tmp"
    try:
        f = open(tmp, mode)
    except OSError as e:  # a missing or read-only folder, no permission
        raise cannot_write(path, e) from None
    try:
        with f:
            yield f
        os.replace(tmp, path)
    except OSError as e:
        if e.errno in NO_ROOM:  # other OSErrors of the body (a download that failed) are the caller's
            raise cannot_write(path, e) from None
        raise
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def atomic_save(obj, path, text=False):
    """obj as JSON (text) or as a torch checkpoint, written atomically."""
    with atomic_open(path, "w" if text else "wb") as f:
        if text:
            json.dump(obj, f, indent=2)
            f.write("\n")
        else:
            try:
                torch.save(obj, f)
            except RuntimeError as e:
                if not isinstance(e.__context__, OSError):
                    raise
                raise cannot_write(path, e) from None


def append_line(path, row):
    """One JSON line at the end of a log; a line cut by a failed write is skipped by read_log."""
    try:
        with open(path, "a") as f:
            f.write(json.dumps(row) + "\n")
    except OSError as e:
        raise cannot_write(path, e) from None


def full_state(model, optimizer):
    """Model and optimiser state as whole tensors on the CPU, keyed by parameter name, whether the
    model is plain, under DDP or sharded by FSDP (then a collective: every process calls it).

    An optimiser that has not stepped yet has no state, and None is saved for it: asked for the state
    of such an optimiser, torch makes one by taking a step at lr 0 with zero gradients, which would
    leave AdamW counting one step too many and its bias correction shrinking the first real updates."""
    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    # the model's first: after an evaluation FSDP2 leaves the root module's parameters unsharded, and
    # only the model's state-dict hook puts back the sharded ones the optimiser's state is keyed by
    model_state = get_model_state_dict(model, options=options)
    return model_state, get_optimizer_state_dict(model, optimizer, options=options) if optimizer.state else None


def load_full_state(model, model_state, optimizer=None, optimizer_state=None):
    """The inverse of full_state (the optimiser's too if given and it had stepped); under FSDP each
    process keeps its own shard."""
    options = StateDictOptions(full_state_dict=True)
    set_model_state_dict(model, model_state, options=options)
    if optimizer is not None and optimizer_state is not None:
        set_optimizer_state_dict(model, optimizer, optimizer_state, options=options)


def load_checkpoint(path, hint="check out_dir"):
    """A checkpoint, memory-mapped on the CPU: processes on one node share the pages."""
    if not os.path.exists(path):
        raise RunError(f"there is no checkpoint at {path}: {hint}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as e:  # a truncated zip, a pickle error, a wrong file: all mean the same to a user
        raise RunError(f"checkpoint {path} is corrupt or truncated ({type(e).__name__}: {str(e).splitlines()[0]}): "
                       f"restore a good copy, or start over with init_from=scratch --overwrite=True")
    missing = [k for k in ("model", "model_args", "iter") if not isinstance(ckpt, dict) or k not in ckpt]
    if missing:
        raise RunError(f"{path} is a torch file but not a checkpoint of this repo's train.py (it has no "
                       f"{', '.join(missing)}): point out_dir at a run folder written by train.py")
    return ckpt


def read_log(path, up_to_iter):
    """The log lines of evaluations at or before up_to_iter (dropping any written after the checkpoint)."""
    if not os.path.exists(path):
        return []
    rows = []
    with open(path) as f:
        for line in f:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a kill
            if row["iter"] <= up_to_iter:
                rows.append(row)
    return rows


def diverged(cfg, master, what):
    """Mark the run as diverged (report.py lists it apart) and say so; the last checkpoint stays good."""
    if master:
        atomic_save({"reason": what}, os.path.join(cfg.out_dir, "diverged.json"), text=True)
    return RunError(f"{what}: the run diverged. The last good checkpoint is {os.path.join(cfg.out_dir, 'ckpt.pt')}; "
                    f"lower learning_rate or raise warmup_iters")


def check_out_dir(cfg):
    """Refuse to start from scratch where a finished or resumable run already is."""
    for name, what in (("summary.json", "a finished run"), ("ckpt.pt", "an unfinished run (resume it with --init_from=resume)")):
        if os.path.exists(os.path.join(cfg.out_dir, name)) and not cfg.overwrite:
            raise RunError(f"{cfg.out_dir} already holds {what}: choose another out_dir, "
                           f"or pass --overwrite=True to start again from scratch")


class RunLocked(RunError):
    """Another live process trains this run folder."""
    exit_code = 75  # EX_TEMPFAIL: not a mistake in the input, the folder is busy; sweep.py skips such a run


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True


def take_lock(out_dir):
    """Make this process the one writer of out_dir: create out_dir/lock holding our pid and host, atomically.
    A lock whose process is gone (killed, crashed) on this host is stale and taken over; a live one, or
    one from another host (a shared file system), is refused. Returns the lock's path."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "lock")
    me = {"pid": os.getpid(), "host": socket.gethostname()}
    for _ in range(2):  # a second try after removing a stale lock
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            holder = lock_holder(out_dir)
            if holder is not None:
                raise held(out_dir, holder) from None
            try:
                os.remove(path)  # stale: its process is gone
            except FileNotFoundError:
                pass
            continue
        with os.fdopen(fd, "w") as f:
            json.dump(me, f)
        return path
    raise RunLocked(f"{out_dir}: another process took its lock at the same moment; try again")


def lock_holder(out_dir):
    """{'pid', 'host'} of the live process that holds out_dir's lock, or None (no lock, or a stale one).
    A lock being written this instant (empty) counts as held."""
    path = os.path.join(out_dir, "lock")
    try:
        with open(path) as f:
            text = f.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        holder = json.loads(text)
    except ValueError:
        return {"pid": "?", "host": "?"}
    if holder["host"] == socket.gethostname() and not _alive(holder["pid"]):
        return None
    return holder


def held(out_dir, holder):
    """The error for a run folder another process holds; a lock from another host cannot be checked for
    staleness here, so its message says how to clear it."""
    elsewhere = holder["host"] != socket.gethostname()
    return RunLocked(f"{out_dir} is being trained by process {holder['pid']} on {holder['host']}: wait for it to "
                     f"finish, or stop it" + (f" (if it is gone, remove {os.path.join(out_dir, 'lock')})" if elsewhere else ""))


def release_lock(path):
    """Remove our lock (if it is still ours)."""
    try:
        with open(path) as f:
            if json.load(f).get("pid") == os.getpid():
                os.remove(path)
    except (FileNotFoundError, ValueError):
        pass


def read_settings_file(out_dir):
    """The settings a run folder holds (settings.json, as train.py wrote it), or None."""
    path = os.path.join(out_dir, "settings.json")
    try:
        with open(path) as f:
            return json.load(f)["settings"]
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        raise RunError(f"{path} is not a settings file train.py wrote: remove the folder, or start over with "
                       f"--overwrite=True") from None


def check_run_folder(cfg, master):
    """Before anything is built: refuse a folder that is a file or that another process trains, a
    finished run where a new one would start, and a resume whose settings differ from the run's in a
    key that changes it (or that would shorten it). Returns the checkpoint to resume from, or None."""
    if os.path.exists(cfg.out_dir) and not os.path.isdir(cfg.out_dir):
        raise RunError(f"out_dir {cfg.out_dir} is a file, not a folder: choose another out_dir")
    holder = lock_holder(cfg.out_dir) if master else None
    if holder:  # before anything else: what is in the folder is that process's business
        raise held(cfg.out_dir, holder)
    if cfg.init_from == "scratch":
        if master:
            check_out_dir(cfg)
        return None
    if cfg.init_from != "resume":
        raise ConfigError(f"init_from={cfg.init_from!r}: use scratch or resume")
    ckpt_path = os.path.join(cfg.out_dir, "ckpt.pt")
    ckpt = load_checkpoint(ckpt_path, hint="start with init_from=scratch")
    stored = read_settings_file(cfg.out_dir)
    if stored is None:
        raise RunError(f"cannot resume {cfg.out_dir}: it holds a checkpoint but no settings.json, so the settings its run "
                       f"was trained with are unknown; start over with --init_from=scratch --overwrite=True")
    diffs = differences(stored, vars(cfg))
    if diffs:
        raise RunError(f"cannot resume {cfg.out_dir}: its run was trained with other settings: {say_differences(diffs)}; "
                       f"choose another out_dir, or start over with --init_from=scratch --overwrite=True")
    if cfg.max_iters < ckpt["iter"]:
        raise RunError(f"cannot resume {cfg.out_dir} to max_iters={cfg.max_iters}: its checkpoint is at step "
                       f"{ckpt['iter']}, and a run is continued, not shortened")
    return ckpt


def start_or_resume(cfg, ckpt, changes, model, optimizer, rank, device_type, master):
    """Start a run in cfg.out_dir from scratch, or resume it from ckpt (check_run_folder's), and leave
    out_dir as of that point: the settings asked for, the log cut back to the checkpoint, no stale
    summary or divergence mark. Returns (first step, elapsed seconds, training seconds) so far."""
    log_path = os.path.join(cfg.out_dir, "log.jsonl")
    start_iter, elapsed_s, train_time_s, log_rows = 0, 0.0, 0.0, []
    if ckpt is not None:
        load_full_state(model, ckpt["model"], optimizer, ckpt["optimizer"])
        restore_rng(ckpt["rng"], rank, device_type, cfg.seed, ckpt["iter"])
        start_iter, elapsed_s, train_time_s = ckpt["iter"], ckpt["elapsed_s"], ckpt["train_time_s"]
        log_rows = read_log(log_path, start_iter)
    if master:
        # one writer per folder; released however this process ends but by a kill, whose lock the next run sees is stale
        atexit.register(release_lock, take_lock(cfg.out_dir))
        stale = ("summary.json", "diverged.json") + (() if ckpt is not None else ("ckpt.pt", "best.pt"))
        for name in stale:
            if os.path.exists(os.path.join(cfg.out_dir, name)):
                os.remove(os.path.join(cfg.out_dir, name))
        atomic_save({"settings": vars(cfg), "changes": changes}, os.path.join(cfg.out_dir, "settings.json"), text=True)
        with atomic_open(log_path) as f:  # the log as of the checkpoint
            f.writelines(json.dumps(r) + "\n" for r in log_rows)
    return start_iter, elapsed_s, train_time_s
