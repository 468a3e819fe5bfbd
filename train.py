"""
Train a GPT, Llama or ViT with a pluggable norm, on a CPU or on GPUs.

    python train.py config/micro/dyt_micro_8k.py                # one process, CPU or one GPU
    torchrun --standalone --nproc_per_node=8 train.py config/dyt_64m_1m.py
    python train.py config/vit_digits/dyt_all.py                # a ViT on the UCI digits

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
from contextlib import contextmanager, nullcontext
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
from cli import ConfigError, WriteError, run_cli
from configurator import read_settings, setting_lines
from data import TrainWindows, eval_batch, eval_windows, load_meta, load_tokens, padded_vocab, spread, unigram_losses
from dyt import SquashingNorm
from images import TrainImages, fit_model, is_images, load_images
from images import eval_batch as image_batch
from model import build_model
from probes import (PROBE_WINDOWS, SATURATION_STEP, collapsed, learned_scalars, norm_gains, probe_attention,
                    probe_norms_and_rank)
from settings import help_settings, model_config, resolve_system


def get_lr(cfg, it, steps_per_epoch=None):
    """The learning rate at step it: a linear warmup from 0, a cosine (or linear) decay to min_lr at
    lr_decay_iters, then min_lr. With lr_per_epoch the schedule's clock is the epoch (of steps_per_epoch
    steps, not a whole number for CIFAR's 50,000 / 128): every step of epoch e gets the rate of e, the
    decay ending at the epoch lr_decay_iters falls in, as PyTorch's CosineAnnealingLR(T_max=epochs)."""
    warmup, decay = cfg.warmup_iters, cfg.lr_decay_iters
    if cfg.lr_per_epoch:
        it, warmup, decay = (math.floor(it / steps_per_epoch), round(warmup / steps_per_epoch),
                             round(decay / steps_per_epoch))
    if it < warmup:
        return cfg.learning_rate * (it + 1) / (warmup + 1)
    if it > decay:
        return cfg.min_lr
    ratio = (it - warmup) / max(1, decay - warmup)
    if cfg.lr_decay == "linear":
        return cfg.learning_rate - ratio * (cfg.learning_rate - cfg.min_lr)
    return cfg.min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (cfg.learning_rate - cfg.min_lr)


def make_optimizer(model, cfg, fused):
    """AdamW with weight decay on matrices and embeddings only: gains, biases, DyT's alpha, the
    embedding scale and leaky-ReLU slopes (tensors of fewer than 2 dimensions) are not decayed,
    except the slopes when slope_weight_decay is set, and everything when weight_decay_all is."""
    params = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    decayed = {name for name, p in params if cfg.weight_decay_all or p.dim() >= 2
               or (cfg.slope_weight_decay and name.endswith("negative_slope"))}
    groups = [{"params": [p for name, p in params if name in decayed], "weight_decay": cfg.weight_decay},
              {"params": [p for name, p in params if name not in decayed], "weight_decay": 0.0}]
    # pure bf16 (no fp32 master weights) takes AdamW's foreach arithmetic, as the regime paper's ViT code does:
    # every operation rounds to bf16, so an update under half a weight's spacing is lost. The fused kernel
    # computes in fp32 before it rounds, which is another run; on a CPU foreach equals the default loop.
    pure_bf16 = cfg.param_dtype == "bfloat16"
    return torch.optim.AdamW(groups, lr=cfg.learning_rate, betas=(cfg.beta1, cfg.beta2), fused=fused and not pure_bf16,
                             foreach=True if pure_bf16 else None)


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
def evaluate(run, model, evals):
    """Mean loss per target over an evaluation set (text windows or images, evals.items, made into batches
    by evals.make), each process taking every world-th item; and the share of targets the model's top
    guess gets right (a ViT's accuracy)."""
    cfg = run.cfg
    model.eval()
    total, count, right = 0.0, 0, 0
    step = run.world * cfg.batch_size
    for i in range(0, len(evals.items), step):
        # every process runs the same number of forward passes (under FSDP each one is collective);
        # one left without items at the end re-reads one and counts nothing
        mine = evals.items[i: i + step][run.rank::run.world]
        x, y = evals.make(mine or evals.items[i: i + 1])
        x, y = run.to_device(x), y.to(cfg.device)
        with run.autocast:
            logits, _ = model(x)
        if mine:
            logits, y = logits.float().reshape(-1, logits.size(-1)), y.reshape(-1)
            total += F.cross_entropy(logits, y, ignore_index=-1, reduction="sum").item()
            count += int((y != -1).sum())
            right += int((logits.argmax(-1) == y).sum())
    model.train()
    total, count, right = all_sum([total, count, right], cfg.device)
    return total / count, right / count


def summarise(log, model, train_tokens, val_tokens, unigram, best_full):
    """summary.json's numbers, read off the log (and the budget's unigram losses, the whole split's
    loss at the best checkpoint when it is not in the log): final and best losses (and accuracies, for a
    classifier), saturation, collapse."""
    final = log[-1]
    best = min(log, key=lambda r: r["val_loss"])
    n_params = model.num_params()
    criteria = collapsed(log, unigram[0])
    accuracy = {}
    if "val_accuracy" in final:
        accuracy = {"final_accuracy": final["val_accuracy"], "final_train_accuracy": final["train_accuracy"],
                    "best_accuracy": max(r["val_accuracy"] for r in log), "accuracy_at_best": best["val_accuracy"]}
    return {**accuracy, "n_params": n_params, "train_tokens": train_tokens, "val_tokens": val_tokens,
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


def read_text(run):
    """A text dataset: the vocabulary, the budget's tokens, the training windows, and what every evaluation
    reads, fixed for the whole run: the windows of the validation prefix, of the whole validation split
    (the paper's prefix differs per budget; the whole split makes budgets comparable), of a sample of the
    training budget of the same size, and the probes' inputs."""
    cfg, T = run.cfg, run.cfg.block_size
    if cfg.vocab_size is None:
        cfg.vocab_size = padded_vocab(run.meta)
    train = load_tokens(cfg.data_dir, cfg.dataset, "train", cfg.train_tokens, cfg.vocab_size)
    val = load_tokens(cfg.data_dir, cfg.dataset, "val", cfg.val_tokens, cfg.vocab_size)
    run.batches, run.tokens_per_example = TrainWindows(train, T, cfg.seed), T
    run.targets, run.n_targets = (train, val), run.meta["vocab_size"]  # for the unigram losses

    def windows(tokens, items):
        return SimpleNamespace(items=items, make=lambda some: eval_batch(tokens, some, T))

    val_windows, train_windows = eval_windows(val, T), eval_windows(train, T)
    val_full = load_tokens(cfg.data_dir, cfg.dataset, "val", None, cfg.vocab_size) if cfg.val_tokens else None
    run.evals = SimpleNamespace(
        val=windows(val, val_windows), train=windows(train, spread(train_windows, len(val_windows))),
        val_full=windows(val_full, eval_windows(val_full, T)) if val_full is not None else None,
        # the norm probes read PROBE_WINDOWS fixed windows spread over the budget, a micro-batch at a time;
        # attention entropy the first few validation windows (its probabilities are T x T per head)
        probe_x=eval_batch(train, spread(train_windows, PROBE_WINDOWS), T)[0],
        attn_x=run.to_device(eval_batch(val, val_windows[:8], T)[0]))
    return len(train), len(val)


def read_images(run):
    """An image dataset (images.py): the model's image size, channels and classes from it, the budget's
    images, the augmented training batches, and what every evaluation reads: every test image, a sample of
    the training images of the same size (unaugmented), PROBE_WINDOWS training images for the probes."""
    cfg, meta = run.cfg, run.meta
    fit_model(cfg, meta)
    tx, ty = load_images(cfg.data_dir, cfg.dataset, "train", meta, cfg.train_images)
    vx, vy = load_images(cfg.data_dir, cfg.dataset, "val", meta)
    run.batches = TrainImages(tx, ty, cfg.seed, meta, cfg.augment_pad, cfg.augment_flip)
    run.tokens_per_example = (cfg.image_size // cfg.patch_size) ** 2 + 1  # the patches and the class token
    run.targets, run.n_targets = (ty, vy), meta["classes"]

    def pictures(x, y, items):
        return SimpleNamespace(items=items, make=lambda some: image_batch(x, y, some, meta["pixel_max"]))

    val_items, train_items = list(range(len(vx))), list(range(len(tx)))
    run.evals = SimpleNamespace(
        val=pictures(vx, vy, val_items), train=pictures(tx, ty, spread(train_items, len(val_items))), val_full=None,
        probe_x=image_batch(tx, ty, spread(train_items, PROBE_WINDOWS), meta["pixel_max"])[0],
        attn_x=run.to_device(image_batch(vx, vy, val_items[:8], meta["pixel_max"])[0]))
    return len(tx) * run.tokens_per_example, len(vx) * run.tokens_per_example


def evaluate_and_save(run, it, lr, elapsed_s, train_time_s):
    """One evaluation of the uncompiled model (evaluation shapes would recompile the compiled one):
    losses and probes as a line of log.jsonl, then the checkpoint, and best.pt when the validation
    loss is the lowest so far. Every process calls it.

    The whole validation split (when val_tokens makes the validation loss a prefix) costs about seven
    prefixes on the micro grid, so it is evaluated at the last step only, and on best.pt once the run
    is over (whole_split_at_best): the best checkpoint is chosen on the prefix, as the paper does,
    not on the numbers it is reported with."""
    cfg, model, ev = run.cfg, run.raw_model, run.evals
    val_loss, val_accuracy = evaluate(run, model, ev.val)
    train_loss, train_accuracy = evaluate(run, model, ev.train)
    for name, value in (("validation", val_loss), ("training-sample", train_loss)):
        if not math.isfinite(value):
            raise diverged(cfg, run.master, f"the {name} loss became {value} at step {it}")
    row = {"iter": it, "tokens_seen": it * run.global_batch * run.tokens_per_example, "lr": lr,
           "train_loss": train_loss, "val_loss": val_loss}
    if run.classifier:  # a classifier's accuracy; a language model's next-token accuracy is not logged
        row.update(train_accuracy=train_accuracy, val_accuracy=val_accuracy)
    if ev.val_full is None:
        row["val_loss_full"] = val_loss
    elif it == cfg.max_iters:
        row["val_loss_full"] = evaluate(run, model, ev.val_full)[0]
    row.update(probe_norms_and_rank(model, ev.probe_x, run.autocast, cfg.batch_size))
    row.update(learned_scalars(model))
    row["gain"] = norm_gains(model)
    row.update(probe_attention(model, ev.attn_x, run.autocast))
    row["elapsed_s"] = round(elapsed_s(), 3)
    # every process's random state (dropout), so a resumed run draws what this one would have
    rng = [rng_state(run.device_type)] * run.world
    if run.world > 1:
        dist.all_gather_object(rng, rng_state(run.device_type))
    model_state, optimizer_state = full_state(model, run.optimizer)
    if run.master:
        print(f"step {it}: train {train_loss:.4f}, val {val_loss:.4f}"
              + (f", accuracy {train_accuracy:.2%} train, {val_accuracy:.2%} test" if run.classifier else ""))
        with saving(run):
            append_line(run.log_path, row)
            if ev.val_full is not None and val_loss < run.best_val_loss:  # strictly: the first of equal losses stays
                run.best_val_loss = val_loss
                atomic_save({"model": model_state, "model_args": asdict(run.model_cfg), "meta": run.meta, "iter": it},
                            run.best_path)
            atomic_save({"model": model_state, "optimizer": optimizer_state, "model_args": asdict(run.model_cfg),
                         "config": vars(cfg), "meta": run.meta, "iter": it, "elapsed_s": row["elapsed_s"],
                         "train_time_s": train_time_s, "rng": rng}, run.ckpt_path)
        run.ckpt_iter = it
    if run.world > 1:
        dist.barrier()


@contextmanager
def saving(run):
    """A run's writes: one that fails says where the run's last checkpoint is, which a resume starts from."""
    try:
        yield
    except WriteError as e:
        if run.ckpt_iter is None:
            raise WriteError(e.path, e.why, "the run has no checkpoint yet: make room and start it again") from None
        raise WriteError(e.path, e.why, f"the run's last checkpoint, {run.ckpt_path}, holds step {run.ckpt_iter}: "
                                        f"make room and resume it with --init_from=resume") from None


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
    return evaluate(run, run.raw_model, run.evals.val_full)[0]


def optimisation_step(run, model, it, before_update=None):
    """One step over the global batch: this process's micro-batches, gradients averaged across
    processes after the last one, clipping, AdamW. Returns the mean loss, on the device (no sync).
    before_update(loss), if given, sees the model with this step's gradients before they are used
    (plateau.py's diagnostics)."""
    cfg, loss_sum = run.cfg, 0.0
    for micro_step in range(run.n_micro):
        first = it * run.global_batch + run.rank * run.per_rank + micro_step * run.micro
        x, y = (run.to_device(t) for t in run.batches.batch(first, run.micro))
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
    lr = get_lr(run.cfg, it, run.steps_per_epoch)
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
    run.param_dtype = getattr(torch, cfg.param_dtype)

    def to_device(t):
        """A batch on the run's device, images in the weights' dtype; pinned memory lets the copy to a GPU
        overlap with compute."""
        t = t.pin_memory() if run.device_type == "cuda" else t
        return t.to(cfg.device, dtype=run.param_dtype if t.is_floating_point() else None, non_blocking=True)

    run.to_device = to_device

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
    run.classifier = is_images(run.meta)
    if run.classifier != (cfg.arch == "vit"):
        raise ConfigError(f"arch={cfg.arch!r} cannot read {cfg.dataset!r}, a dataset of "
                          f"{'images' if run.classifier else 'text'}: a ViT reads images, a GPT or Llama text")
    run.train_size, run.val_size = (read_images if run.classifier else read_text)(run)  # in tokens
    run.steps_per_epoch = run.train_size / run.tokens_per_example / run.global_batch  # lr_per_epoch's clock
    return run


def build(run):
    """The model and its optimiser: the same initial weights on every process (FSDP broadcasts nothing),
    sharded under FSDP."""
    cfg = run.cfg
    run.model_cfg = model_config(cfg)
    torch.manual_seed(cfg.seed)
    run.raw_model = build_model(run.model_cfg).to(cfg.device, dtype=run.param_dtype)  # bf16: no fp32 master weights
    if cfg.freeze_alpha:  # a control: the squash's scale held where it starts
        for m in run.raw_model.modules():
            if isinstance(m, SquashingNorm) and m.alpha is not None:
                m.alpha.requires_grad_(False)
    torch.manual_seed(cfg.seed + run.rank)  # dropout differs per process; the data does not depend on it
    cfg.fsdp = cfg.fsdp and run.world > 1  # one process has nothing to shard
    if cfg.fsdp:
        for block in run.raw_model.h:  # each block gathers its parameters just before it runs
            fully_shard(block)
        fully_shard(run.raw_model)
    run.optimizer = make_optimizer(run.raw_model, cfg, fused=run.device_type == "cuda")


def train(cfg, changes=(), config_files=()):
    """Train a run to cfg.max_iters in cfg.out_dir, from scratch or resumed; changes are the command
    line's overrides that change the run (configurator.read_settings), kept in settings.json; the config
    files it was read from are kept in its summary (report.py's command for a missing baseline)."""
    run = prepare(cfg)
    ckpt = check_run_folder(cfg, run.master)  # before the model: a resume with other settings stops here
    build(run)
    run.ckpt_path, run.log_path = os.path.join(cfg.out_dir, "ckpt.pt"), os.path.join(cfg.out_dir, "log.jsonl")
    run.best_path = os.path.join(cfg.out_dir, "best.pt")
    start_iter, elapsed_before, train_time = start_or_resume(cfg, ckpt, list(changes), run.raw_model, run.optimizer,
                                                             run.rank, run.device_type, run.master)
    run.ckpt_iter = start_iter if ckpt is not None else None
    run.best_val_loss = min((r["val_loss"] for r in read_log(run.log_path, start_iter)), default=math.inf) \
        if run.master else math.inf
    model = torch.compile(run.raw_model) if cfg.compile else run.raw_model
    if run.world > 1 and not cfg.fsdp:
        model = DDP(model, device_ids=[int(os.environ["LOCAL_RANK"])] if run.device_type == "cuda" else None)
    if run.master:
        print(f"{cfg.arch} {cfg.norm}: {run.raw_model.num_params() / 1e6:.2f}M parameters, {run.train_size:,} "
              f"training tokens, {run.global_batch} x {run.tokens_per_example} tokens per step over {run.world} "
              f"process(es) on {cfg.device}")

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
        unigram = unigram_losses(*run.targets, run.n_targets)  # of tokens, or of a classifier's labels
        summary = summarise(read_log(run.log_path, cfg.max_iters), run.raw_model, run.train_size, run.val_size,
                            unigram, best_full)
        summary["tokens_per_sec"] = cfg.max_iters * run.global_batch * run.tokens_per_example / max(train_time, 1e-9)
        if run.classifier:  # the accuracy of always answering the training budget's most frequent class
            labels = np.asarray(run.targets[1])
            summary["chance_accuracy"] = float(np.mean(labels == np.bincount(run.targets[0]).argmax()))
            summary["train_images"] = len(run.targets[0])
        # what saturation and effective rank were measured on: windows of text, or images of patches
        summary["probe_tokens"] = len(run.evals.probe_x) * run.tokens_per_example
        summary["config"], summary["changes"], summary["config_files"] = vars(cfg), list(changes), list(config_files)
        with saving(run):
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
    train(SimpleNamespace(**cfg), changes, [a for a in argv if not a.startswith("--")])


if __name__ == "__main__":
    # ValueError too: the model's own checks (an unknown norm or activation, a bad dropout) raise it
    run_cli(main, sys.argv[1:], also=(ValueError,), doc=__doc__, settings=help_settings())
