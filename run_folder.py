"""
A run's folder (out_dir): what a run keeps on disk, who may write it, and whether it may be resumed.

out_dir holds settings.json (the run's resolved settings), log.jsonl (one line per evaluation), ckpt.pt
(the latest evaluated state), best.pt (the weights of the lowest validation loss, when it is a prefix),
summary.json once the run is finished (or diverged.json if its loss became NaN), and a lock while a
process trains it. Every file is written atomically (atomic.py). Checkpoints hold whole tensors keyed by
parameter name whether the model was plain or under DDP, so either resumes under the other, and sample.py
reads them in one process. A sharded run (FSDP) saves its checkpoints as folders instead, ckpt/ and best/,
each process writing its own shards at once (torch.distributed.checkpoint): no process gathers the whole
state, and a folder resumes under any number of processes; at the end of the run best/ becomes a whole
best.pt for sample.py.
"""

import atexit
import json
import math
import os
import shutil
import socket
from contextlib import contextmanager

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint.state_dict import (StateDictOptions, get_model_state_dict,
                                                     get_optimizer_state_dict, get_state_dict,
                                                     set_model_state_dict, set_optimizer_state_dict, set_state_dict)

from atomic import WriteError, append_line, atomic_open, atomic_save
from cli import UserError
from settings import run_identity


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
    if optimizer is None or not optimizer.state:
        return model_state, None
    return model_state, get_optimizer_state_dict(model, optimizer, options=options)


def load_full_state(model, model_state, optimizer=None, optimizer_state=None):
    """The inverse of full_state (the optimiser's too if given and it had stepped); under FSDP each
    process keeps its own shard."""
    options = StateDictOptions(full_state_dict=True)
    set_model_state_dict(model, model_state, options=options)
    if optimizer is not None and optimizer_state is not None:
        set_optimizer_state_dict(model, optimizer, optimizer_state, options=options)


def save_shards(model, optimizer, folder):
    """The model's sharded state (and the optimiser's, once it has stepped: see full_state) into `folder`, each
    process writing its own shards. Collective. Returns whether the optimiser's state is in it."""
    if optimizer is not None and optimizer.state:
        model_state, optimizer_state = get_state_dict(model, optimizer)
        dcp.save({"model": model_state, "optimizer": optimizer_state}, checkpoint_id=folder)
        return True
    dcp.save({"model": get_model_state_dict(model)}, checkpoint_id=folder)
    return False


def load_shards(model, folder, optimizer=None):
    """The inverse of save_shards (the optimiser's state too, if given), under any number of processes: each
    reads its own part of the saved shards, whatever split wrote them. Collective."""
    if optimizer is not None:
        model_state, optimizer_state = get_state_dict(model, optimizer)
        state = {"model": model_state, "optimizer": optimizer_state}
        dcp.load(state, checkpoint_id=folder)
        set_state_dict(model, optimizer, model_state_dict=state["model"], optim_state_dict=state["optimizer"])
    else:
        state = {"model": get_model_state_dict(model)}
        dcp.load(state, checkpoint_id=folder)
        set_model_state_dict(model, state["model"])


def replace_folder(new, folder):
    """Put the folder `new` in the place of `folder`: the old one is moved aside first and removed last, so a
    kill between leaves one of them whole (sharded_checkpoint finds it)."""
    if os.path.exists(folder):
        os.replace(folder, folder + ".old")
    os.replace(new, folder)
    shutil.rmtree(folder + ".old", ignore_errors=True)


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


NOT_SET = object()  # the value of a key a folder's settings lack: written before that setting existed


def differences(stored, asked):
    """The keys, beyond where and how a run goes, in which a run folder's settings differ from the ones
    asked for: [(key, stored value, asked value)]. A key the folder's settings lack differs (the run's
    value for it is unknown); max_iters is compared by the caller (a run may be continued)."""
    stored = run_identity({k: stored.get(k, NOT_SET) for k in asked})
    return [(k, stored[k], v) for k, v in run_identity(asked).items() if k != "max_iters" and stored[k] != v]


def say_differences(diffs):
    """'norm (dyt there, layernorm asked), n_embd (32 there, 48 asked)'."""
    return ", ".join(f"{k} ({'not set' if there is NOT_SET else repr(there)} there, {asked!r} asked)"
                     for k, there, asked in diffs)


class RunFolder:
    """A run's folder as one process of the run uses it: the first process (master) writes it; every
    process reads the checkpoint it resumes from. Keeps the lowest validation loss logged so far and the
    step of the last checkpoint written."""

    def __init__(self, out_dir, master):
        self.out_dir, self.master = out_dir, master
        self.ckpt_path, self.best_path = self.path("ckpt.pt"), self.path("best.pt")
        self.log_path = self.path("log.jsonl")
        self.best_val_loss, self.ckpt_iter = math.inf, None

    def path(self, name):
        return os.path.join(self.out_dir, name)

    def check(self, settings, init_from, overwrite):
        """Before anything is built: refuse a folder that is a file or that another process trains, a
        finished run where a new one would start, and a resume whose settings differ from the run's in a
        key that changes it (or that would shorten it). Returns the checkpoint to resume from, or None."""
        if os.path.exists(self.out_dir) and not os.path.isdir(self.out_dir):
            raise RunError(f"out_dir {self.out_dir} is a file, not a folder: choose another out_dir")
        holder = lock_holder(self.out_dir) if self.master else None
        if holder:  # before anything else: what is in the folder is that process's business
            raise held(self.out_dir, holder)
        if init_from == "scratch":
            for name, what in (("summary.json", "a finished run"),
                               ("ckpt.pt", "an unfinished run (resume it with --init_from=resume)")):
                if self.master and os.path.exists(self.path(name)) and not overwrite:
                    raise RunError(f"{self.out_dir} already holds {what}: choose another out_dir, "
                                   f"or pass --overwrite=True to start again from scratch")
            return None
        ckpt = self.sharded_checkpoint("ckpt") or load_checkpoint(self.ckpt_path, hint="start with init_from=scratch")
        stored = read_settings_file(self.out_dir)
        if stored is None:
            raise RunError(f"cannot resume {self.out_dir}: it holds a checkpoint but no settings.json, so the settings "
                           f"its run was trained with are unknown; start over with --init_from=scratch --overwrite=True")
        diffs = differences(stored, settings)
        if diffs:
            raise RunError(f"cannot resume {self.out_dir}: its run was trained with other settings: "
                           f"{say_differences(diffs)}; choose another out_dir, or start over with --init_from=scratch "
                           f"--overwrite=True")
        if settings["max_iters"] < ckpt["iter"]:
            raise RunError(f"cannot resume {self.out_dir} to max_iters={settings['max_iters']}: its checkpoint is at "
                           f"step {ckpt['iter']}, and a run is continued, not shortened")
        return ckpt

    def open(self, ckpt, settings, changes):
        """Take the folder (its lock) and leave it as of the run's start: from scratch, or as of the
        checkpoint it resumes from (check's): the settings asked for, the log cut back to the checkpoint,
        no stale summary or divergence mark."""
        if ckpt is not None:
            self.ckpt_iter = ckpt["iter"]
        if not self.master:
            return
        log_rows = read_log(self.log_path, ckpt["iter"]) if ckpt is not None else []
        self.best_val_loss = min((r["val_loss"] for r in log_rows), default=math.inf)
        # one writer per folder; released however this process ends but by a kill, whose lock the next run sees is stale
        atexit.register(release_lock, take_lock(self.out_dir))
        for name in ("summary.json", "diverged.json") + (() if ckpt is not None else ("ckpt.pt", "best.pt")):
            if os.path.exists(self.path(name)):
                os.remove(self.path(name))
        if ckpt is None:  # a sharded run's checkpoints of an earlier start
            for name in ("ckpt", "best"):
                for folder in (name, f"{name}.tmp", f"{name}.old"):
                    shutil.rmtree(self.path(folder), ignore_errors=True)
        atomic_save({"settings": settings, "changes": changes}, self.path("settings.json"), text=True)
        with atomic_open(self.log_path) as f:  # the log as of the checkpoint
            f.writelines(json.dumps(r) + "\n" for r in log_rows)

    def save(self, row, ckpt, keep_best):
        """An evaluation (the first process writes): its line of the log, best.pt when keep_best and its
        validation loss is the lowest so far (strictly: the first of equal losses stays), then ckpt.pt."""
        if not self.master:
            return
        with self.saving():
            append_line(self.log_path, row)
            if keep_best and row["val_loss"] < self.best_val_loss:
                self.best_val_loss = row["val_loss"]
                atomic_save({k: ckpt[k] for k in ("model", "model_args", "meta", "iter")}, self.best_path)
                shutil.rmtree(self.path("best"), ignore_errors=True)  # a sharded start's, which a resume would take
            atomic_save(ckpt, self.ckpt_path)
            shutil.rmtree(self.path("ckpt"), ignore_errors=True)
        self.ckpt_iter = ckpt["iter"]

    def sharded_checkpoint(self, name):
        """What a sharded run saved as `name` (ckpt or best) beside its shards, with "sharded": the folder of the
        shards; None where it saved none. A folder a kill left moved aside (replace_folder) counts."""
        for folder in (self.path(name), self.path(f"{name}.old")):
            extra = os.path.join(folder, "extra.pt")
            if os.path.exists(extra):
                try:
                    return {**torch.load(extra, map_location="cpu", weights_only=True), "sharded": folder}
                except Exception as e:
                    raise RunError(f"checkpoint {folder} is corrupt or truncated ({type(e).__name__}): restore a good "
                                   f"copy, or start over with init_from=scratch --overwrite=True") from None
        return None

    def save_sharded(self, row, model, optimizer, extra, is_best):
        """A sharded run's evaluation, every process writing its own shards (collective): the log's line (the
        first process), best/ when is_best (decided by the first process, told to all), then ckpt/. Each is
        written beside its place and put there whole (replace_folder); the whole file of the other kind, which
        a resume would otherwise take, goes."""
        if self.master:
            with self.saving():
                append_line(self.log_path, row)
        for name, wanted, state in (("best", is_best, None), ("ckpt", True, optimizer)):
            if not wanted:
                continue
            tmp = self.path(f"{name}.tmp")
            if self.master:
                shutil.rmtree(tmp, ignore_errors=True)
            dist.barrier()
            with self.saving():
                has_optimizer = save_shards(model, state, tmp)
                dist.barrier()  # every shard written
                if self.master:
                    kept = extra if name == "ckpt" else {k: extra[k] for k in ("model_args", "meta", "iter")}
                    atomic_save({**kept, "has_optimizer": has_optimizer}, os.path.join(tmp, "extra.pt"))
                    replace_folder(tmp, self.path(name))
                    if os.path.exists(self.path(f"{name}.pt")):
                        os.remove(self.path(f"{name}.pt"))
            dist.barrier()
        if is_best:
            self.best_val_loss = row["val_loss"]
        self.ckpt_iter = extra["iter"]

    def consolidate_best(self, model):
        """At the end of a run whose best evaluation was saved sharded: best/ as one whole best.pt (sample.py
        reads it in one process), the model left holding the best weights. Collective."""
        best = self.sharded_checkpoint("best")
        if best is None:
            return
        load_shards(model, best["sharded"])
        model_state, _ = full_state(model, None)
        if self.master:
            with self.saving():
                atomic_save({"model": model_state, **{k: best[k] for k in ("model_args", "meta", "iter")}}, self.best_path)
            shutil.rmtree(best["sharded"])
        if dist.is_initialized():
            dist.barrier()

    def best_checkpoint(self, step):
        """best.pt (or a sharded run's best/), checked to hold the step the log says is the best."""
        best = self.sharded_checkpoint("best") or \
            load_checkpoint(self.best_path, hint="train the run again with init_from=scratch --overwrite=True")
        if best["iter"] != step:
            raise RunError(f"{self.best_path} holds step {best['iter']}, but the log's best validation loss is at step "
                           f"{step}: it is not this run's; train the run again with init_from=scratch --overwrite=True")
        return best

    def finish(self, summary):
        with self.saving():
            atomic_save(summary, self.path("summary.json"), text=True)

    def diverged(self, what):
        """Mark the run as diverged (report.py lists it apart) and say so; the last checkpoint stays good."""
        if self.master:
            atomic_save({"reason": what}, self.path("diverged.json"), text=True)
        return RunError(f"{what}: the run diverged. The last good checkpoint is {self.ckpt_path}; "
                        f"lower learning_rate or raise warmup_iters")

    @contextmanager
    def saving(self):
        """A run's writes: one that fails says where the run's last checkpoint is, which a resume starts from."""
        try:
            yield
        except WriteError as e:
            if self.ckpt_iter is None:
                raise WriteError(e.path, e.why, "the run has no checkpoint yet: make room and start it again") from None
            raise WriteError(e.path, e.why, f"the run's last checkpoint, {self.ckpt_path}, holds step {self.ckpt_iter}: "
                                            f"make room and resume it with --init_from=resume") from None
