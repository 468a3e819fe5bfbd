"""
Train a GPT, Llama or ViT with a pluggable norm, on a CPU or on GPUs.

    python train.py config/micro/dyt_micro_8k.py                # one process, CPU or one GPU
    torchrun --standalone --nproc_per_node=8 train.py config/dyt_64m_1m.py
    python train.py config/vit_digits/dyt_all.py                # a ViT on the UCI digits

Settings and their defaults are declared in settings.py and model.py (`python train.py --help` lists
them), changed by config files and --key=value (configurator.py). A run writes into out_dir
(run_folder.py): settings.json (what the run is), log.jsonl (one line per evaluation), ckpt.pt (the
latest evaluated state, enough to resume exactly), best.pt (the weights with the lowest validation loss
so far, when the validation loss is a prefix: see val_tokens) and, when it finishes, summary.json.
"""

import math
import os
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

import machine
from cli import ConfigError, run_cli
from configurator import read_settings, setting_lines
import convert
from data import Reading, dataset_settings, load_meta, read_text, unigram_losses
from dyt import SquashingNorm
from images import read_images
from model import ModelConfig, Transformer, model_config
from probes import (PROBE_WINDOWS, SATURATION_STEP, collapsed, learned_scalars, norm_gains, probe_attention,
                    probe_norms_and_rank)
from run_folder import RunFolder, full_state, load_full_state, load_shards, read_log, restore_rng, rng_state
from settings import Config


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


def is_alpha(name):
    """Whether a parameter's name is a squashing norm's alpha (h.0.ln_1.alpha, or alpha of a norm alone)."""
    return name.rpartition(".")[2] == "alpha"


def make_optimizer(model, cfg, fused):
    """AdamW with weight decay on matrices and embeddings only: gains, biases, DyT's alpha, the
    embedding scale and leaky-ReLU slopes (tensors of fewer than 2 dimensions) are not decayed,
    except the slopes when slope_weight_decay is set, and everything when weight_decay_all is."""
    params = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    # alphas at their own learning rate (alpha_lr_scale x the lr), and the fp32 alphas of a pure-bf16 model
    # (alpha_fp32), in a group of their own
    own = {name for name, p in params if (cfg.alpha_fp32 or cfg.alpha_lr_scale != 1.0) and is_alpha(name)}
    decayed = {name for name, p in params if cfg.weight_decay_all or p.dim() >= 2
               or (cfg.slope_weight_decay and name.endswith("negative_slope"))}
    groups = [{"params": [p for name, p in params if name in decayed - own], "weight_decay": cfg.weight_decay},
              {"params": [p for name, p in params if name not in decayed | own], "weight_decay": 0.0}]
    if own:
        groups.append({"params": [p for name, p in params if name in own], "lr_scale": cfg.alpha_lr_scale,
                       "weight_decay": cfg.weight_decay if cfg.weight_decay_all else 0.0})
    # pure bf16 (no fp32 master weights) takes AdamW's foreach arithmetic, as the regime paper's ViT code does:
    # every operation rounds to bf16, so an update under half a weight's spacing is lost. The fused kernel
    # computes in fp32 before it rounds, which is another run; on a CPU foreach equals the default loop.
    pure_bf16 = cfg.param_dtype == "bfloat16"
    return torch.optim.AdamW(groups, lr=cfg.learning_rate, betas=(cfg.beta1, cfg.beta2), fused=fused and not pure_bf16,
                             foreach=True if pure_bf16 else None)


@dataclass(frozen=True)
class Run:
    """What one process of a run holds, made once by prepare: the settings as read (cfg, never changed)
    and as this process resolved them (settings: what settings.json records and a resume compares), where
    it runs, what it reads, how a step's global batch splits into its micro-batches, its model (sharded
    under FSDP), optimiser and folder."""
    cfg: Config
    settings: dict
    machine: machine.Machine
    data: Reading
    meta: dict                 # the dataset's meta.json, kept in every checkpoint
    model_cfg: ModelConfig
    global_batch: int          # examples per step, whatever the number of processes
    micro: int                 # examples per micro-batch on this process
    n_micro: int               # micro-batches per step on this process
    steps_per_epoch: float     # lr_per_epoch's clock (not a whole number for CIFAR's 50,000 / 128)
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    folder: RunFolder

    @property
    def classifier(self):
        return self.model_cfg.arch == "vit"


def prepare(cfg, check_folder=True):
    """This process's Run: the machine resolved and the process group joined, the global batch split over
    the processes, the dataset read, the run folder checked (check_folder: a resume with other settings
    stops before the model is built), the model and its optimiser built: the same initial weights on every
    process (FSDP broadcasts nothing). Returns (run, the checkpoint to resume from or None)."""
    m = machine.setup(cfg)
    # the global batch is batch_size * gradient_accumulation_steps examples whatever the number of processes
    global_batch = cfg.batch_size * cfg.gradient_accumulation_steps
    if global_batch % m.world:
        raise ConfigError(f"the global batch of {global_batch} sequences (batch_size x gradient_accumulation_steps) "
                          f"does not split evenly over {m.world} processes")
    micro = machine.micro_batch(cfg.batch_size, global_batch, m.world)
    meta = load_meta(cfg.data_dir, cfg.dataset)
    if (meta.get("kind") == "images") != (cfg.arch == "vit"):
        raise ConfigError(f"arch={cfg.arch!r} cannot read {cfg.dataset!r}, a dataset of "
                          f"{'text' if cfg.arch == 'vit' else 'images'}: a ViT reads images, a GPT or Llama text")
    model_cfg = model_config(cfg, **dataset_settings(cfg, meta))
    data = read_images(cfg, meta, PROBE_WINDOWS, m.device) if cfg.arch == "vit" else \
        read_text(cfg, meta, model_cfg.vocab_size, PROBE_WINDOWS)
    data = replace(data, attn_x=m.to_device(data.attn_x))  # read whole by every evaluation's attention probe
    # a run started from a trained model is also what that model is: its weights' checksum and settings
    source = convert.load(cfg)
    settings = {**asdict(cfg), **m.settings(), **asdict(model_cfg), **(source.settings() if source else {})}
    folder = RunFolder(cfg.out_dir, m.master)
    ckpt = folder.check(settings, cfg.init_from, cfg.overwrite) if check_folder else None

    torch.manual_seed(cfg.seed)
    model = Transformer(model_cfg).to(m.device)
    if source is not None and ckpt is None:  # a resume reads the converted run's own checkpoint instead
        alphas = convert.convert(model, source, cfg.calibrate_alpha, data.probe_x.to(m.device), m.autocast(),
                                 cfg.batch_size)
        if m.master:
            print(f"started from {convert.source_path(cfg)}, its norms converted to {cfg.norm}"
                  + (f"; alpha_0 {min(alphas.values()):.3g} to {max(alphas.values()):.3g}" if alphas else ""))
    # alpha_fp32: alpha alone kept in fp32, at its alpha_0 as drawn (which need not be a bf16 number)
    kept = {name: p.detach().clone() for name, p in model.named_parameters() if cfg.alpha_fp32 and is_alpha(name)}
    model = model.to(dtype=getattr(torch, cfg.param_dtype))  # bf16: no fp32 master weights
    for name, p in model.named_parameters():
        if name in kept:
            p.data = kept[name]
    if cfg.freeze_alpha:  # a control: the squash's scale held where it starts
        for norm in model.modules():
            if isinstance(norm, SquashingNorm) and norm.alpha is not None:
                norm.alpha.requires_grad_(False)
    torch.manual_seed(cfg.seed + m.rank)  # dropout differs per process; the data does not depend on it
    machine.shard(model, m)
    run = Run(cfg=cfg, settings=settings, machine=m, data=data, meta=meta, model_cfg=model_cfg,
              global_batch=global_batch, micro=micro, n_micro=global_batch // m.world // micro,
              steps_per_epoch=data.train_size / data.tokens_per_example / global_batch, model=model,
              optimizer=make_optimizer(model, cfg, fused=m.device_type == "cuda"), folder=folder)
    return run, ckpt


def begin_or_resume(run, ckpt, changes):
    """Start the run in its folder, or resume it from ckpt: the model's and optimiser's state and every
    process's random state. Returns (first step, elapsed seconds, training seconds) so far."""
    if ckpt is not None and "sharded" in ckpt:  # a sharded run's shards, read under any number of processes
        load_shards(run.model, ckpt["sharded"], run.optimizer if ckpt["has_optimizer"] else None)
    elif ckpt is not None:
        load_full_state(run.model, ckpt["model"], run.optimizer, ckpt["optimizer"])
        restore_rng(ckpt["rng"], run.machine.rank, run.machine.device_type, run.cfg.seed, ckpt["iter"])
    run.folder.open(ckpt, run.settings, list(changes))
    return (ckpt["iter"], ckpt["elapsed_s"], ckpt["train_time_s"]) if ckpt is not None else (0, 0.0, 0.0)


@torch.no_grad()
def loss_and_accuracy(run, model, evals):
    """Mean loss per target over an evaluation set (text windows or images), each process taking every
    world-th item; and the share of targets the model's top guess gets right (a ViT's accuracy)."""
    m = run.machine
    model.eval()
    total, count, right = 0.0, 0, 0
    step = m.world * run.cfg.batch_size
    for i in range(0, len(evals.items), step):
        # every process runs the same number of forward passes (under FSDP each one is collective);
        # one left without items at the end re-reads one and counts nothing
        mine = evals.items[i: i + step][m.rank::m.world]
        x, y = evals.make(mine or evals.items[i: i + 1])
        x, y = m.to_device(x), y.to(m.device)
        with m.autocast():
            logits, _ = model(x)
        if mine:
            logits, y = logits.float().reshape(-1, logits.size(-1)), y.reshape(-1)
            total += F.cross_entropy(logits, y, ignore_index=-1, reduction="sum").item()
            count += int((y != -1).sum())
            right += int((logits.argmax(-1) == y).sum())
    model.train()
    total, count, right = machine.all_sum([total, count, right], m.device)
    return total / count, right / count


def evaluation_row(run, it, lr, elapsed_s):
    """One evaluation of the uncompiled model (evaluation shapes would recompile the compiled one): the
    losses and the probes, as a line of log.jsonl. Every process calls it.

    The whole validation split (when val_tokens makes the validation loss a prefix) costs about seven
    prefixes on the micro grid, so it is evaluated at the last step only, and on best.pt once the run
    is over (whole_split_at_best): the best checkpoint is chosen on the prefix, as the paper does,
    not on the numbers it is reported with."""
    model, data, m = run.model, run.data, run.machine
    val_loss, val_accuracy = loss_and_accuracy(run, model, data.val)
    train_loss, train_accuracy = loss_and_accuracy(run, model, data.train)
    for name, value in (("validation", val_loss), ("training-sample", train_loss)):
        if not math.isfinite(value):
            raise run.folder.diverged(f"the {name} loss became {value} at step {it}")
    row = {"iter": it, "tokens_seen": it * run.global_batch * data.tokens_per_example, "lr": lr,
           "train_loss": train_loss, "val_loss": val_loss}
    if run.classifier:  # a classifier's accuracy; a language model's next-token accuracy is not logged
        row.update(train_accuracy=train_accuracy, val_accuracy=val_accuracy)
    if data.val_full is None:
        row["val_loss_full"] = val_loss
    elif it == run.cfg.max_iters:
        row["val_loss_full"] = loss_and_accuracy(run, model, data.val_full)[0]
    row.update(probe_norms_and_rank(model, data.probe_x, m.autocast(), run.cfg.batch_size))
    row.update(learned_scalars(model))
    row["gain"] = norm_gains(model)
    row.update(probe_attention(model, data.attn_x, m.autocast()))
    row["elapsed_s"] = round(elapsed_s, 3)
    if m.master:
        print(f"step {it}: train {train_loss:.4f}, val {val_loss:.4f}"
              + (f", accuracy {train_accuracy:.2%} train, {val_accuracy:.2%} test" if run.classifier else ""))
    return row


def checkpoint(run, row, train_time_s):
    """The evaluation's line of the log, the checkpoint (every process's random state with it, so a resumed
    run draws the dropout this one would have) and best.pt when the loss is the lowest so far. Every process
    calls it: a sharded model's state is written by every process, its shards at once (run_folder.py)."""
    m = run.machine
    rng = [rng_state(m.device_type)] * m.world
    if m.world > 1:
        dist.all_gather_object(rng, rng_state(m.device_type))
    # what a checkpoint holds besides the weights and the optimiser's state, whole or sharded
    extra = {"model_args": asdict(run.model_cfg), "config": run.settings, "meta": run.meta, "iter": row["iter"],
             "elapsed_s": row["elapsed_s"], "train_time_s": train_time_s, "rng": rng}
    keep_best = run.data.val_full is not None
    if m.fsdp:
        is_best = keep_best and m.master and row["val_loss"] < run.folder.best_val_loss
        run.folder.save_sharded(row, run.model, run.optimizer, extra, machine.all_sum([float(is_best)], m.device)[0] > 0)
        return
    model_state, optimizer_state = full_state(run.model, run.optimizer)
    run.folder.save(row, {"model": model_state, "optimizer": optimizer_state, **extra}, keep_best=keep_best)
    if m.world > 1:
        dist.barrier()


def whole_split_at_best(run):
    """The whole validation split's loss at the best checkpoint (the first lowest prefix loss of the
    log), or None when the log has it already (no prefix, or the best is the last step): best.pt's
    weights, evaluated after training. Every process calls it."""
    best_iter, in_log = 0, 0
    if run.machine.master:  # only the first process reads the log
        best = min(read_log(run.folder.log_path, run.cfg.max_iters), key=lambda r: r["val_loss"])
        best_iter, in_log = best["iter"], int("val_loss_full" in best)
    best_iter, in_log = map(int, machine.all_sum([best_iter, in_log], run.machine.device))
    if in_log:
        return None
    best = run.folder.best_checkpoint(best_iter)
    if "sharded" in best:
        load_shards(run.model, best["sharded"])
    else:
        load_full_state(run.model, best["model"])
    return loss_and_accuracy(run, run.model, run.data.val_full)[0]


def optimisation_step(run, model, it, before_update=None):
    """One step over the global batch: this process's micro-batches, gradients averaged across
    processes after the last one, clipping, AdamW. Returns the mean loss, on the device (no sync).
    before_update(loss), if given, sees the model with this step's gradients before they are used
    (plateau.py's diagnostics)."""
    m, loss_sum = run.machine, 0.0
    for micro_step in range(run.n_micro):
        first = it * run.global_batch + m.rank * run.micro * run.n_micro + micro_step * run.micro
        x, y = (m.to_device(t) for t in run.data.batches.batch(first, run.micro))
        sync = micro_step == run.n_micro - 1
        if m.fsdp:
            run.model.set_requires_gradient_sync(sync)
        ddp_no_sync = model.no_sync() if m.world > 1 and not m.fsdp and not sync else nullcontext()
        with ddp_no_sync, m.autocast():
            _, loss = model(x, y)
        (loss / run.n_micro).backward()
        loss_sum += loss.detach() / run.n_micro
    if before_update is not None:
        before_update(loss_sum)
    if run.cfg.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(run.model.parameters(), run.cfg.grad_clip)
    run.optimizer.step()
    run.optimizer.zero_grad(set_to_none=True)
    return loss_sum


def set_lr(run, it):
    """The schedule's learning rate at step it, given to the optimiser; returns it."""
    lr = get_lr(run.cfg, it, run.steps_per_epoch)
    for group in run.optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)
    return lr


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


def train(cfg, changes=(), config_files=()):
    """Train a run to cfg.max_iters in cfg.out_dir, from scratch or resumed; changes are the command
    line's overrides that change the run (configurator.read_settings), kept in settings.json; the config
    files it was read from are kept in its summary (report.py's command for a missing baseline)."""
    run, ckpt = prepare(cfg)
    start_iter, elapsed_before, train_time = begin_or_resume(run, ckpt, changes)
    model, m, data = machine.wrap(run.model, run.machine), run.machine, run.data
    if m.master:
        print(f"{cfg.arch} {cfg.norm}: {run.model.num_params() / 1e6:.2f}M parameters, {data.train_size:,} "
              f"training tokens, {run.global_batch} x {data.tokens_per_example} tokens per step over {m.world} "
              f"process(es) on {m.device}")

    # the loop: evaluate (and checkpoint) every eval_interval steps and at the end, else step
    t_start = t_train = t_log = time.time()
    loss_acc = torch.zeros((), device=m.device)
    it, steady = start_iter, None  # steady: (training seconds, step) once this process's first step is done
    while True:
        lr = set_lr(run, it)
        resumed_here = it == start_iter and ckpt is not None  # evaluated before the run stopped
        if (it % cfg.eval_interval == 0 or it == cfg.max_iters) and not resumed_here:
            train_time += time.time() - t_train
            row = evaluation_row(run, it, lr, elapsed_before + time.time() - t_start)
            checkpoint(run, row, train_time)
            t_train = t_log = time.time()
        if it == cfg.max_iters:
            break
        loss_acc += optimisation_step(run, model, it)
        it += 1
        if steady is None:  # the first step compiles (and warms the allocator): tokens/s counts the steps after it
            if m.device_type == "cuda":
                torch.cuda.synchronize(m.device)
            steady = (train_time + time.time() - t_train, it)
        if it % cfg.log_interval == 0:  # the only host sync of the loop, every log_interval steps
            mean_loss = machine.all_sum([loss_acc.item()], m.device)[0] / m.world / cfg.log_interval
            loss_acc.zero_()
            if not math.isfinite(mean_loss):
                raise run.folder.diverged(f"the training loss became {mean_loss} before step {it}")
            if m.master:
                print(f"iter {it}: loss {mean_loss:.4f}, lr {lr:.2e}, "
                      f"{(time.time() - t_log) * 1000 / cfg.log_interval:.0f} ms/step")
            t_log = time.time()

    best_full = whole_split_at_best(run)
    run.folder.consolidate_best(run.model)  # a sharded best/ as one best.pt
    if m.master:
        unigram = unigram_losses(*data.targets, data.n_targets)  # of tokens, or of a classifier's labels
        summary = summarise(read_log(run.folder.log_path, cfg.max_iters), run.model, data.train_size, data.val_size,
                            unigram, best_full)
        timed_from = steady if steady is not None and steady[1] < cfg.max_iters else (0.0, 0)
        summary["tokens_per_sec"] = ((cfg.max_iters - timed_from[1]) * run.global_batch * data.tokens_per_example
                                     / max(train_time - timed_from[0], 1e-9))
        if run.classifier:  # the accuracy of always answering the training budget's most frequent class
            labels = np.asarray(data.targets[1])
            summary["chance_accuracy"] = float(np.mean(labels == np.bincount(data.targets[0]).argmax()))
            summary["train_images"] = len(data.targets[0])
        # what saturation and effective rank were measured on: windows of text, or images of patches
        summary["probe_tokens"] = len(data.probe_x) * data.tokens_per_example
        summary["config"], summary["changes"], summary["config_files"] = run.settings, list(changes), list(config_files)
        run.folder.finish(summary)
        print(f"done: final val loss {summary['final_val_loss']:.4f}, "
              f"best {summary['best_val_loss']:.4f} at step {summary['best_iter']}")
    del model  # DDP's reducer holds the process group: freed before it (machine.finish)
    machine.finish()


def main(argv):
    cfg, sources, changes = read_settings(argv)
    if os.environ.get("RANK", "0") == "0":  # under torchrun, once
        print("the run's settings ('=' marks a value equal to its default; python train.py --help lists all):\n"
              + "\n".join(setting_lines(cfg, sources)))
    train(cfg, changes, [a for a in argv if not a.startswith("--")])


if __name__ == "__main__":
    run_cli(main, sys.argv[1:], doc=__doc__, settings=(Config,))
