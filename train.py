"""
Train a GPT or Llama with a pluggable norm, on a CPU or on GPUs.

    python train.py config/micro/dyt_micro_8k.py                # one process, CPU or one GPU
    torchrun --standalone --nproc_per_node=8 train.py config/dyt_64m_1m.py

Settings and their defaults are in settings.py (`python train.py --help` lists them), changed by
config files and --key=value (configurator.py). A run writes into out_dir: settings.json (what the run
is), log.jsonl (one line per evaluation), ckpt.pt (the latest evaluated state, enough to resume
exactly), best.pt (the weights with the lowest validation loss so far, when the validation loss is a
prefix: see val_tokens) and, when it finishes, summary.json.
"""

import gc
import math
import os
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict
from types import SimpleNamespace

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.distributed.fsdp import fully_shard
from torch.nn.parallel import DistributedDataParallel as DDP

from checkpoint import (RunError, append_line, atomic_save, check_run_folder, diverged, full_state, load_checkpoint,
                        load_full_state, read_log, rng_state, start_or_resume)
from cli import ConfigError, run_cli
from configurator import read_settings, setting_lines
from data import TrainWindows, eval_batch, eval_windows, load_meta, load_tokens, padded_vocab, unigram_losses
from model import build_model
from probes import PROBE_WINDOWS, SATURATION_STEP, collapsed, learned_scalars, probe_attention, probe_norms_and_rank
from settings import help_settings, model_config, resolve_system

def get_lr(cfg, it):
    if it < cfg.warmup_iters:
        return cfg.learning_rate * (it + 1) / (cfg.warmup_iters + 1)
    if it > cfg.lr_decay_iters:
        return cfg.min_lr
    ratio = (it - cfg.warmup_iters) / max(1, cfg.lr_decay_iters - cfg.warmup_iters)
    if cfg.lr_decay == "linear":
        return cfg.learning_rate - ratio * (cfg.learning_rate - cfg.min_lr)
    return cfg.min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (cfg.learning_rate - cfg.min_lr)


def make_optimizer(model, cfg, fused):
    """AdamW with weight decay on matrices and embeddings only: gains, biases, DyT's alpha, the
    embedding scale and leaky-ReLU slopes (tensors of fewer than 2 dimensions) are not decayed,
    except the slopes when slope_weight_decay is set."""
    params = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    decayed = {name for name, p in params
               if p.dim() >= 2 or (cfg.slope_weight_decay and name.endswith("negative_slope"))}
    groups = [{"params": [p for name, p in params if name in decayed], "weight_decay": cfg.weight_decay},
              {"params": [p for name, p in params if name not in decayed], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.learning_rate, betas=(cfg.beta1, cfg.beta2), fused=fused)


def setup_distributed(cfg):
    """(rank, world_size); under torchrun also joins the process group (NCCL on GPUs, gloo on CPU)."""
    if "RANK" not in os.environ:
        return 0, 1
    if cfg.device.startswith("cuda"):
        if int(os.environ["LOCAL_RANK"]) >= torch.cuda.device_count():
            raise ConfigError(f"torchrun started {os.environ['LOCAL_WORLD_SIZE']} processes on this node but it has "
                              f"{torch.cuda.device_count()} GPUs: lower --nproc_per_node")
        cfg.device = f"cuda:{os.environ['LOCAL_RANK']}"
        torch.cuda.set_device(cfg.device)
    dist.init_process_group(backend="nccl" if cfg.device.startswith("cuda") else "gloo")
    return dist.get_rank(), dist.get_world_size()


def all_sum(values, device):
    """Element-wise sum over processes of a list of floats, in float64."""
    t = torch.tensor(values, dtype=torch.float64, device=device)
    if dist.is_initialized():
        dist.all_reduce(t)
    return t.tolist()


@torch.no_grad()
def evaluate(model, tokens, windows, cfg, autocast, rank, world):
    """Mean loss per target over the windows, each process taking every world-th window."""
    model.eval()
    total, count = 0.0, 0
    step = world * cfg.batch_size
    for i in range(0, len(windows), step):
        # every process runs the same number of forward passes (under FSDP each one is collective);
        # one left without windows at the end re-reads one and counts nothing
        mine = windows[i: i + step][rank::world]
        x, y = eval_batch(tokens, mine or windows[i: i + 1], cfg.block_size)
        x, y = x.to(cfg.device), y.to(cfg.device)
        with autocast:
            logits, _ = model(x)
        if mine:
            total += F.cross_entropy(logits.float().flatten(0, 1), y.flatten(), ignore_index=-1, reduction="sum").item()
            count += int((y != -1).sum())
    model.train()
    total, count = all_sum([total, count], cfg.device)
    return total / count


def spread(windows, k):
    """At most k windows, evenly spaced over the list: a fixed sample of a long stream."""
    if len(windows) <= k:
        return windows
    return [windows[i] for i in np.linspace(0, len(windows) - 1, k).round().astype(int)]


def summarise(log, model, train_tokens, val_tokens, unigram, best_full):
    """summary.json's numbers, read off the log (and the budget's unigram losses, the whole split's
    loss at the best checkpoint when it is not in the log): final and best losses, saturation, collapse."""
    final = log[-1]
    best = min(log, key=lambda r: r["val_loss"])
    n_params = model.num_params()
    criteria = collapsed(log, unigram[0])
    return {"n_params": n_params, "train_tokens": train_tokens, "val_tokens": val_tokens,
            "T_over_P": train_tokens / n_params,
            "iters": final["iter"], "final_val_loss": final["val_loss"], "final_train_loss": final["train_loss"],
            "final_val_loss_full": final["val_loss_full"],
            "best_val_loss": best["val_loss"], "best_iter": best["iter"],
            "best_val_loss_full": best["val_loss_full"] if best_full is None else best_full,
            "saturation_at_500": next((r["saturation"] for r in log if r["iter"] == SATURATION_STEP), None),
            "final_saturation": final["saturation"],
            "final_effective_rank": sum(final["effective_rank"].values()) / len(final["effective_rank"]),
            "unigram_train_loss": unigram[0], "unigram_val_loss": unigram[1],
            "collapsed": bool(criteria), "collapse_criteria": criteria,
            "elapsed_s": final["elapsed_s"]}


def evaluation_data(cfg, train_data, val_data):
    """What every evaluation reads, fixed for the whole run: the windows of the validation prefix,
    of the whole validation split (the paper's prefix differs per budget; the whole split makes budgets
    comparable), and of a sample of the training budget of the same size; the probes' inputs."""
    val_windows = eval_windows(val_data, cfg.block_size)
    val_full = load_tokens(cfg.data_dir, cfg.dataset, "val", None, cfg.vocab_size) if cfg.val_tokens else None
    train_windows = eval_windows(train_data, cfg.block_size)
    return SimpleNamespace(
        val=val_data, val_windows=val_windows,
        val_full=val_full, val_full_windows=eval_windows(val_full, cfg.block_size) if val_full is not None else None,
        train=train_data, train_sample=spread(train_windows, len(val_windows)),
        # the norm probes read PROBE_WINDOWS fixed windows spread over the budget, a micro-batch at a time;
        # attention entropy the first few validation windows (its probabilities are T x T per head)
        probe_x=eval_batch(train_data, spread(train_windows, PROBE_WINDOWS), cfg.block_size)[0],
        attn_x=eval_batch(val_data, val_windows[:8], cfg.block_size)[0].to(cfg.device))


def evaluate_and_save(run, it, lr, elapsed_s, train_time_s):
    """One evaluation of the uncompiled model (evaluation shapes would recompile the compiled one):
    losses and probes as a line of log.jsonl, then the checkpoint, and best.pt when the validation
    loss is the lowest so far. Every process calls it.

    The whole validation split (when val_tokens makes the validation loss a prefix) costs about seven
    prefixes on the micro grid, so it is evaluated at the last step only, and on best.pt once the run
    is over (whole_split_at_best): the best checkpoint is chosen on the prefix, as the paper does,
    not on the numbers it is reported with."""
    cfg, model, ev = run.cfg, run.raw_model, run.evals
    args = (cfg, run.autocast, run.rank, run.world)
    val_loss = evaluate(model, ev.val, ev.val_windows, *args)
    train_loss = evaluate(model, ev.train, ev.train_sample, *args)
    for name, value in (("validation", val_loss), ("training-sample", train_loss)):
        if not math.isfinite(value):
            raise diverged(cfg, run.master, f"the {name} loss became {value} at step {it}")
    row = {"iter": it, "tokens_seen": it * run.global_batch * cfg.block_size, "lr": lr,
           "train_loss": train_loss, "val_loss": val_loss}
    if not cfg.val_tokens:
        row["val_loss_full"] = val_loss
    elif it == cfg.max_iters:
        row["val_loss_full"] = evaluate(model, ev.val_full, ev.val_full_windows, *args)
    row.update(probe_norms_and_rank(model, ev.probe_x, run.autocast, cfg.batch_size))
    row.update(learned_scalars(model))
    row.update(probe_attention(model, ev.attn_x, run.autocast))
    row["elapsed_s"] = round(elapsed_s(), 3)
    # every process's random state (dropout), so a resumed run draws what this one would have
    rng = [rng_state(run.device_type)] * run.world
    if run.world > 1:
        dist.all_gather_object(rng, rng_state(run.device_type))
    model_state, optimizer_state = full_state(model, run.optimizer)
    if run.master:
        print(f"step {it}: train {train_loss:.4f}, val {val_loss:.4f}")
        append_line(run.log_path, row)
        if cfg.val_tokens and val_loss < run.best_val_loss:  # strictly: the first of equal losses stays
            run.best_val_loss = val_loss
            atomic_save({"model": model_state, "model_args": asdict(run.model_cfg), "meta": run.meta, "iter": it},
                        run.best_path)
        atomic_save({"model": model_state, "optimizer": optimizer_state, "model_args": asdict(run.model_cfg),
                     "config": vars(cfg), "meta": run.meta, "iter": it, "elapsed_s": row["elapsed_s"],
                     "train_time_s": train_time_s, "rng": rng}, run.ckpt_path)
    if run.world > 1:
        dist.barrier()


def whole_split_at_best(run):
    """The whole validation split's loss at the best checkpoint (the first lowest prefix loss of the
    log), or None when the log has it already (no prefix, or the best is the last step): best.pt's
    weights, evaluated after training. Every process calls it."""
    cfg = run.cfg
    best_iter, in_log = 0, 0
    if run.master:  # only the first process reads the log
        best = min(read_log(run.log_path, cfg.max_iters), key=lambda r: r["val_loss"])
        best_iter, in_log = best["iter"], int("val_loss_full" in best)
    best_iter, in_log = map(int, all_sum([best_iter, in_log], cfg.device))
    if in_log:
        return None
    best = load_checkpoint(run.best_path, hint="train the run again with init_from=scratch --overwrite=True")
    if best["iter"] != best_iter:
        raise RunError(f"{run.best_path} holds step {best['iter']}, but the log's best validation loss is at step "
                       f"{best_iter}: it is not this run's; train the run again with init_from=scratch --overwrite=True")
    load_full_state(run.raw_model, best["model"])
    return evaluate(run.raw_model, run.evals.val_full, run.evals.val_full_windows, cfg, run.autocast, run.rank, run.world)


def optimisation_step(run, model, it, before_update=None):
    """One step over the global batch: this process's micro-batches, gradients averaged across
    processes after the last one, clipping, AdamW. Returns the mean loss, on the device (no sync).
    before_update(loss), if given, sees the model with this step's gradients before they are used
    (plateau.py's diagnostics)."""
    cfg, loss_sum = run.cfg, 0.0
    for micro_step in range(run.n_micro):
        first = it * run.global_batch + run.rank * run.per_rank + micro_step * run.micro
        x, y = (run.to_device(t) for t in run.windows.batch(first, run.micro))
        sync = micro_step == run.n_micro - 1
        if cfg.fsdp:
            run.raw_model.set_requires_gradient_sync(sync)
        ddp_no_sync = model.no_sync() if run.world > 1 and not cfg.fsdp and not sync else nullcontext()
        with ddp_no_sync, run.autocast:
            _, loss = model(x, y)
        (loss / run.n_micro).backward()
        loss_sum += loss.detach() / run.n_micro
    if before_update is not None:
        before_update(loss_sum)
    if cfg.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(run.raw_model.parameters(), cfg.grad_clip)
    run.optimizer.step()
    run.optimizer.zero_grad(set_to_none=True)
    return loss_sum


def set_lr(run, it):
    """The schedule's learning rate at step it, given to the optimiser; returns it."""
    lr = get_lr(run.cfg, it)
    for group in run.optimizer.param_groups:
        group["lr"] = lr
    return lr


def prepare(cfg):
    """What a run reads, in this process: the system settings resolved, the process group joined, the
    global batch split over processes, the training windows and everything evaluations read. Returns
    the run (a namespace the loop, evaluate_and_save and plateau.py share)."""
    resolve_system(cfg)
    rank, world = setup_distributed(cfg)
    run = SimpleNamespace(cfg=cfg, rank=rank, world=world, master=rank == 0)
    run.device_type = "cuda" if cfg.device.startswith("cuda") else "cpu"
    if run.device_type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    run.autocast = torch.autocast(run.device_type, dtype=torch.bfloat16) if cfg.dtype == "bfloat16" else nullcontext()
    # pinned memory lets the copy to a GPU overlap with compute
    run.to_device = ((lambda t: t.pin_memory().to(cfg.device, non_blocking=True)) if run.device_type == "cuda"
                     else (lambda t: t.to(cfg.device)))

    # the global batch is batch_size * gradient_accumulation_steps sequences whatever the number of
    # processes; each takes an equal share, in micro-batches of at most batch_size
    run.global_batch = cfg.batch_size * cfg.gradient_accumulation_steps
    if run.global_batch % world:
        raise ConfigError(f"the global batch of {run.global_batch} sequences (batch_size x gradient_accumulation_steps) "
                          f"does not split evenly over {world} processes")
    run.per_rank = run.global_batch // world
    run.micro = math.gcd(cfg.batch_size, run.per_rank)
    run.n_micro = run.per_rank // run.micro

    run.meta = load_meta(cfg.data_dir, cfg.dataset)
    if cfg.vocab_size is None:
        cfg.vocab_size = padded_vocab(run.meta)
    run.train_data = load_tokens(cfg.data_dir, cfg.dataset, "train", cfg.train_tokens, cfg.vocab_size)
    run.val_data = load_tokens(cfg.data_dir, cfg.dataset, "val", cfg.val_tokens, cfg.vocab_size)
    run.windows = TrainWindows(run.train_data, cfg.block_size, cfg.seed)
    run.evals = evaluation_data(cfg, run.train_data, run.val_data)
    return run


def build(run):
    """The model and its optimiser: the same initial weights on every process (FSDP broadcasts nothing),
    sharded under FSDP."""
    cfg = run.cfg
    run.model_cfg = model_config(cfg)
    torch.manual_seed(cfg.seed)
    run.raw_model = build_model(run.model_cfg).to(cfg.device)
    torch.manual_seed(cfg.seed + run.rank)  # dropout differs per process; the data does not depend on it
    cfg.fsdp = cfg.fsdp and run.world > 1  # one process has nothing to shard
    if cfg.fsdp:
        for block in run.raw_model.h:  # each block gathers its parameters just before it runs
            fully_shard(block)
        fully_shard(run.raw_model)
    run.optimizer = make_optimizer(run.raw_model, cfg, fused=run.device_type == "cuda")


def train(cfg, changes=()):
    """Train a run to cfg.max_iters in cfg.out_dir, from scratch or resumed; changes are the command
    line's overrides that change the run (configurator.read_settings), kept in settings.json."""
    run = prepare(cfg)
    ckpt = check_run_folder(cfg, run.master)  # before the model: a resume with other settings stops here
    build(run)
    run.ckpt_path, run.log_path = os.path.join(cfg.out_dir, "ckpt.pt"), os.path.join(cfg.out_dir, "log.jsonl")
    run.best_path = os.path.join(cfg.out_dir, "best.pt")
    start_iter, elapsed_before, train_time = start_or_resume(cfg, ckpt, list(changes), run.raw_model, run.optimizer,
                                                             run.rank, run.device_type, run.master)
    run.best_val_loss = min((r["val_loss"] for r in read_log(run.log_path, start_iter)), default=math.inf) \
        if run.master else math.inf
    model = torch.compile(run.raw_model) if cfg.compile else run.raw_model
    if run.world > 1 and not cfg.fsdp:
        model = DDP(model, device_ids=[int(os.environ["LOCAL_RANK"])] if run.device_type == "cuda" else None)
    if run.master:
        print(f"{cfg.arch} {cfg.norm}: {run.raw_model.num_params() / 1e6:.2f}M parameters, {len(run.train_data):,} "
              f"training tokens, {run.global_batch} x {cfg.block_size} tokens per step over {run.world} process(es) "
              f"on {cfg.device}")

    # the loop: evaluate (and checkpoint) every eval_interval steps and at the end, else step
    t_start = t_train = t_log = time.time()
    loss_acc = torch.zeros((), device=cfg.device)
    it = start_iter
    while True:
        lr = set_lr(run, it)
        resumed_here = it == start_iter and cfg.init_from == "resume"  # evaluated before the run stopped
        if (it % cfg.eval_interval == 0 or it == cfg.max_iters) and not resumed_here:
            train_time += time.time() - t_train
            evaluate_and_save(run, it, lr, lambda: elapsed_before + time.time() - t_start, train_time)
            t_train = t_log = time.time()
        if it == cfg.max_iters:
            break
        loss_acc += optimisation_step(run, model, it)
        it += 1
        if it % cfg.log_interval == 0:  # the only host sync of the loop, every log_interval steps
            mean_loss = all_sum([loss_acc.item()], cfg.device)[0] / run.world / cfg.log_interval
            loss_acc.zero_()
            if not math.isfinite(mean_loss):
                raise diverged(cfg, run.master, f"the training loss became {mean_loss} before step {it}")
            if run.master:
                print(f"iter {it}: loss {mean_loss:.4f}, lr {lr:.2e}, "
                      f"{(time.time() - t_log) * 1000 / cfg.log_interval:.0f} ms/step")
            t_log = time.time()

    best_full = whole_split_at_best(run)
    if run.master:
        unigram = unigram_losses(run.train_data, run.val_data, run.meta["vocab_size"])
        summary = summarise(read_log(run.log_path, cfg.max_iters), run.raw_model, len(run.train_data),
                            len(run.val_data), unigram, best_full)
        summary["tokens_per_sec"] = cfg.max_iters * run.global_batch * cfg.block_size / max(train_time, 1e-9)
        summary["probe_tokens"] = run.evals.probe_x.numel()  # what saturation and effective rank were measured on
        summary["config"], summary["changes"] = vars(cfg), list(changes)
        atomic_save(summary, os.path.join(cfg.out_dir, "summary.json"), text=True)
        print(f"done: final val loss {summary['final_val_loss']:.4f}, "
              f"best {summary['best_val_loss']:.4f} at step {summary['best_iter']}")
    if dist.is_initialized():
        # DDP's reducer holds the process group: freed after destroy_process_group, it would destroy
        # the group itself, holding the GIL while gloo's worker threads may still need it to free a
        # finished collective's tensors (a hang seen at exit). Freed first, the group is destroyed by
        # destroy_process_group, which releases the GIL.
        del model
        gc.collect()
        dist.destroy_process_group()


def main(argv):
    cfg, sources, changes = read_settings(argv)
    if os.environ.get("RANK", "0") == "0":  # under torchrun, once
        print("the run's settings ('=' marks a value equal to its default; python train.py --help lists all):\n"
              + "\n".join(setting_lines(cfg, sources)))
    train(SimpleNamespace(**cfg), changes)


if __name__ == "__main__":
    # ValueError too: the model's own checks (an unknown norm or activation, a bad dropout) raise it
    run_cli(main, sys.argv[1:], also=(ValueError,), doc=__doc__, settings=help_settings())
