"""
What a run keeps on disk, and how it gets there safely.

out_dir holds log.jsonl (one line per evaluation), ckpt.pt (the latest evaluated state) and, once the
run is finished, summary.json (or diverged.json if its loss became NaN). Every file is written to a
temporary name and renamed, so a kill at any moment leaves the previous version whole. Checkpoints
hold whole tensors keyed by parameter name whether the model was plain, under DDP or sharded by
FSDP, so any of them resumes under any other, and sample.py reads them in one process.
"""

import json
import os
from contextlib import contextmanager

import torch
from configurator import ConfigError, UserError
from torch.distributed.checkpoint.state_dict import (StateDictOptions, get_model_state_dict,
                                                     get_optimizer_state_dict, set_model_state_dict,
                                                     set_optimizer_state_dict)


class RunError(UserError):
    """A problem with the run itself (checkpoint, out_dir, diverged loss), told in one line."""


def rng_state(device_type):
    return {"cpu": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state() if device_type == "cuda" else None}


@contextmanager
def atomic_open(path, mode="w"):
    """open(path, mode) for writing, through path + '.tmp' renamed at the end: a reader sees the old
    file or the new one, never half of one. On an error the temporary file is removed."""
    tmp = path + ".tmp"
    try:
        with open(tmp, mode) as f:
            yield f
        os.replace(tmp, path)
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
            torch.save(obj, f)


def full_state(model, optimizer):
    """Model and optimiser state as whole tensors on the CPU, keyed by parameter name, whether the
    model is plain, under DDP or sharded by FSDP (then a collective: every process calls it)."""
    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    return get_model_state_dict(model, options=options), get_optimizer_state_dict(model, optimizer, options=options)


def load_full_state(model, optimizer, model_state, optimizer_state):
    """The inverse of full_state; under FSDP each process keeps its own shard."""
    options = StateDictOptions(full_state_dict=True)
    set_model_state_dict(model, model_state, options=options)
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
    """Refuse to start from scratch where a finished or resumable run already is, or where out_dir is a file."""
    if os.path.exists(cfg.out_dir) and not os.path.isdir(cfg.out_dir):
        raise RunError(f"out_dir {cfg.out_dir} is a file, not a folder: choose another out_dir")
    for name, what in (("summary.json", "a finished run"), ("ckpt.pt", "an unfinished run (resume it with --init_from=resume)")):
        if os.path.exists(os.path.join(cfg.out_dir, name)) and not cfg.overwrite:
            raise RunError(f"{cfg.out_dir} already holds {what}: choose another out_dir, "
                           f"or pass --overwrite=True to start again from scratch")


def start_or_resume(cfg, model, optimizer, model_args, rank, device_type, master):
    """Start a run in cfg.out_dir from scratch, or resume it from its checkpoint (init_from), and leave
    out_dir as of that point: the log cut back to the checkpoint, no stale summary or divergence mark.
    Returns (first step, elapsed seconds, training seconds) so far."""
    ckpt_path, log_path = os.path.join(cfg.out_dir, "ckpt.pt"), os.path.join(cfg.out_dir, "log.jsonl")
    start_iter, elapsed_s, train_time_s, log_rows = 0, 0.0, 0.0, []
    if cfg.init_from == "resume":
        ckpt = load_checkpoint(ckpt_path, hint="start with init_from=scratch")
        if ckpt["model_args"] != model_args:
            changed = sorted(k for k in ckpt["model_args"] if ckpt["model_args"][k] != model_args.get(k))
            raise RunError(f"cannot resume {ckpt_path}: the model differs from the checkpoint's in {', '.join(changed)}")
        load_full_state(model, optimizer, ckpt["model"], ckpt["optimizer"])
        torch.set_rng_state(ckpt["rng"][rank]["cpu"])
        if device_type == "cuda":
            torch.cuda.set_rng_state(ckpt["rng"][rank]["cuda"])
        start_iter, elapsed_s, train_time_s = ckpt["iter"], ckpt["elapsed_s"], ckpt["train_time_s"]
        log_rows = read_log(log_path, start_iter)
    elif cfg.init_from == "scratch":
        if master:
            check_out_dir(cfg)
    else:
        raise ConfigError(f"init_from={cfg.init_from!r}: use scratch or resume")
    if master:
        os.makedirs(cfg.out_dir, exist_ok=True)
        stale = ("summary.json", "diverged.json") + (() if cfg.init_from == "resume" else ("ckpt.pt",))
        for name in stale:
            if os.path.exists(os.path.join(cfg.out_dir, name)):
                os.remove(os.path.join(cfg.out_dir, name))
        with atomic_open(log_path) as f:  # the log as of the checkpoint
            f.writelines(json.dumps(r) + "\n" for r in log_rows)
    return start_iter, elapsed_s, train_time_s
