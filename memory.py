"""
What a config needs before you launch it: GPU memory per process, and compute (sweep.py --dry_run).

    python memory.py config/*.py                 # one line per config, 1 GPU and 8 GPUs, DDP and FSDP
    python memory.py config/dyt_3.78b_118m.py --gpus 8 --gpu_gb 80

Compute: training FLOPs are 6 N per token for the weights (forward and backward) plus
12 n_layer n_embd block_size per token for attention, the estimate of PaLM's appendix and nanoGPT;
GPU hours divide them by an assumed fraction (MFU) of a GPU's dense bf16 peak.

An estimate, not a measurement (bench.py measures), of what one process holds at its peak: fp32
weights and gradients (4 + 4 bytes per parameter), AdamW's two moments (8 bytes), all divided by the
number of processes under FSDP (DDP keeps its gradient buckets beside the gradients); under FSDP with
several micro-steps per step, the whole fp32 gradients the steps without a sync accumulate; in bf16 the
weights' bf16 copies (autocast's, kept for the backward; under FSDP the two blocks gathered at a time);
the activations of one micro-batch kept for the backward pass; on a GPU the CUDA context (ASSUMED_CONTEXT,
not measured here). Per layer and token, a pre-norm block keeps about 17 values of width n_embd, 34 bytes
in bf16 (Korthikanti et al. 2022, with flash attention, so no T x T matrix), twice that in fp32; the
logits add 10 bytes per token and vocabulary entry (bf16 logits, their fp32 copy for the loss, its
gradient), 12 in fp32. Against the peak measured on a CPU (tests/test_tools.py, a 124M GPT) it is within
ERROR; a plan left with less than HEADROOM of a GPU's memory is marked, as allocator slack and
fragmentation take about that.
"""

import argparse
import os
import sys

import torch

import paper
from cli import ConfigError, run_cli
from configurator import read_settings
from data import DataError, load_meta, padded_vocab
from machine import micro_batch
from model import Transformer, model_config
from settings import global_batch


def vocab_size(cfg):
    """The config's vocab_size, or else its prepared dataset's (padded): a byte-level config's model
    is 200x smaller in its head than a GPT-2 BPE one, so no vocabulary is guessed. A ViT has none."""
    if cfg["vocab_size"] or cfg["arch"] == "vit":
        return cfg["vocab_size"]
    try:
        return padded_vocab(load_meta(cfg["data_dir"], cfg["dataset"]))
    except DataError as e:
        raise DataError(f"{e}, or give the vocabulary with --vocab_size=N") from None


def model_size(cfg):
    """Parameters of a config's model, counted once each (tied embedding once), on the meta device."""
    model_cfg = model_config({**cfg, "vocab_size": vocab_size(cfg)})
    with torch.device("meta"):
        return sum(p.numel() for p in Transformer(model_cfg).parameters()), model_cfg


# dense bf16 tensor-core peaks (FLOP/s) from the vendors' data sheets; the first key the device name holds wins
GPU_PEAK_BF16 = [("H100 PCIe", 756e12), ("H100", 989e12), ("H200", 989e12), ("A100", 312e12),
                 ("L40S", 362e12), ("L4", 121e12), ("A10", 125e12)]


def gpu_peak(name):
    """The bf16 peak of a GPU by name (exactly a key, else the first key the name holds), or None."""
    exact = [peak for key, peak in GPU_PEAK_BF16 if key.lower() == name.lower()]
    return (exact or [peak for key, peak in GPU_PEAK_BF16 if key.lower() in name.lower()] or [None])[0]


def sequence(cfg):
    """Tokens a model reads at once: a language model's context, a ViT's patches and class token."""
    return (cfg["image_size"] // cfg["patch_size"]) ** 2 + 1 if cfg["arch"] == "vit" else cfg["block_size"]


def training_flops(cfg, n_params):
    """FLOPs of a whole training run: (6 N + 12 n_layer n_embd T) per token trained, T tokens at once."""
    T = sequence(cfg)
    tokens = cfg["max_iters"] * global_batch(cfg) * T
    return (6 * n_params + 12 * cfg["n_layer"] * cfg["n_embd"] * T) * tokens


# The share of a GPU's dense bf16 peak each way of running is expected to reach: EXPECTED, not measured (no
# GPU has run this code yet; bench.py measures it where one is). A model replicated on each GPU and compiled
# whole (DDP or one GPU), as nanoGPT's GPT-2 124M reaches on an A100; a sharded one (FSDP), whose blocks are
# compiled one by one and gather their bf16 weights every step while embeddings, head and loss run eager; a
# ViT of a few dozen tokens a sequence, whose matmuls are too small to keep the tensor cores busy.
EXPECTED_MFU = {"replicated": 0.40, "sharded": 0.30, "short sequences": 0.15}


def way_of_running(cfg):
    """Which EXPECTED_MFU a run's settings fall under."""
    return "sharded" if cfg["fsdp"] else "short sequences" if sequence(cfg) < 128 else "replicated"


def cost_table(runs, gpu, mfu, nproc):
    """A line per run (name, state, parameters, training PFLOPs, GPU hours on `gpu` at `mfu` of its bf16
    peak, or at the MFU expected of its way of running when mfu is None, hours on nproc of them) and the
    totals, for runs = [(run_dir, state, train.py settings)]."""
    peak = gpu_peak(gpu)
    if peak is None:
        raise ConfigError(f"no bf16 peak known for GPU {gpu!r}: use one of {', '.join(k for k, _ in GPU_PEAK_BF16)}")
    lines = [f"{'state':>6}  {'run':40s} {'params':>8s} {'PFLOP':>10s} {'GPU h':>8s} {f'h on {nproc}':>8s}  MFU"]
    todo = every = 0.0

    def share(cfg):  # of the peak: the one asked for, or the one expected of the run's way of running
        return mfu or EXPECTED_MFU[way_of_running(cfg)]

    for run_dir, state, cfg in runs:
        n = model_size({**cfg, "vocab_size": vocab_size(cfg)})[0]
        flops = training_flops(cfg, n)
        gpu_hours = flops / (share(cfg) * peak) / 3600
        every += gpu_hours
        todo += gpu_hours if state != "done" else 0.0
        lines.append(f"{state:>6}  {os.path.basename(run_dir):40s} {readable(n):>8s} "
                     f"{flops / 1e15:10.1f} {gpu_hours:8.2f} {gpu_hours / nproc:8.2f}  {share(cfg):.0%}"
                     + ("" if mfu else f" ({way_of_running(cfg)}, expected)"))
    done = sum(state == "done" for _, state, _ in runs)
    at = f"at {mfu:.0%} of its" if mfu else "at the MFU expected of each way of running (memory.py) of its"
    lines.append(f"{done} of {len(runs)} runs done. The grid: {every:,.1f} GPU hours on {gpu} {at} "
                 f"{peak / 1e12:.0f} TFLOP/s bf16 peak; {todo:,.1f} for the runs not done.")
    # what the paper itself ran of these configs: its seeds per config, not the sweep's
    configs = {}
    for _, _, cfg in runs:
        key = tuple(sorted((k, v) for k, v in cfg.items() if k not in ("seed", "out_dir")))
        configs.setdefault(key, cfg)
    ran = [(cfg, paper.seeds_run(cfg.get("arch", "gpt"), cfg["method"], cfg.get("scale"), cfg.get("budget")))
           for cfg in configs.values() if cfg.get("study") == "regime"]
    ran = [(cfg, n) for cfg, n in ran if n]
    if ran:
        hours = sum(n * training_flops(cfg, model_size({**cfg, "vocab_size": vocab_size(cfg)})[0])
                    / share(cfg) for cfg, n in ran)
        lines.append(f"What the paper ran of these {len(ran)} configs (3 seeds each, 2 for the 1M alpha sweep and "
                     f"for RMSNorm): {sum(n for _, n in ran)} runs, {hours / peak / 3600:,.1f} GPU hours.")
    return "\n".join(lines)


def readable(n):
    return f"{n / 1e9:.2f}B" if n >= 1e9 else f"{n / 1e6:.1f}M"


ASSUMED_CONTEXT = 1.0e9  # the CUDA context, cuBLAS's workspace and NCCL's buffers: a typical figure, not measured here
ERROR = 0.25               # how far the estimate may be from a measured peak (tests/test_tools.py holds it to that)
HEADROOM = 0.10            # the share of a GPU's memory a plan should leave free


def estimate(cfg, world=1, fsdp=False, dtype="bfloat16", device="cuda"):
    """Bytes one process holds at its peak: {weights, gradients, optimizer, ..., activations, total}."""
    n, model_cfg = model_size(cfg)
    shard = world if fsdp else 1
    per_rank = global_batch(cfg) // world
    micro = micro_batch(cfg["batch_size"], global_batch(cfg), world)  # sequences a forward pass, as train.py's
    tokens = micro * sequence(cfg)
    width = 2 if dtype == "bfloat16" else 4
    logits = micro * model_cfg.num_classes if cfg["arch"] == "vit" else tokens * model_cfg.vocab_size  # a ViT's: one row an image
    out = {"weights": 4 * n / shard, "gradients": 4 * n / shard, "optimizer": 8 * n / shard}
    if world > 1 and not fsdp:
        out["gradients"] *= 2  # DDP keeps its gradient buckets beside the gradients
    if fsdp and per_rank // micro > 1:
        out["unsharded gradients"] = 4 * n  # the micro-steps without a sync accumulate whole fp32 gradients
    if dtype == "bfloat16":
        out["bf16 weights"] = 2 * n * (2 / model_cfg.n_layer if fsdp else 1)
    out["activations"] = tokens * model_cfg.n_layer * 17 * width * model_cfg.n_embd + (10 if width == 2 else 12) * logits
    if device == "cuda":
        out["CUDA context"] = ASSUMED_CONTEXT
    out["total"] = sum(out.values())
    return out


# what a checkpoint costs: fp32 weights and AdamW's two moments (12 bytes a parameter) at every evaluation,
# and the fp32 weights again (best.pt, or a sharded run's best/) when the loss is the lowest so far; written at
# an assumed 1 GB/s a process (a node's local disk or a parallel file system; not measured here): a whole
# checkpoint is written by one process, a sharded one (FSDP: run_folder.py) by every process at once
CHECKPOINT_BYTES, BEST_BYTES, ASSUMED_WRITE = 12, 4, 1e9


def checkpoint_cost(n, world, sharded):
    """(bytes on disk, seconds to write) of one evaluation's checkpoint and best weights, for n parameters."""
    size = (CHECKPOINT_BYTES + BEST_BYTES) * n
    return size, size / ASSUMED_WRITE / (world if sharded else 1)


def positive(kind):
    """An argparse type: a number of this kind above zero."""
    def parse(text):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} is not above zero")
        return value
    return parse


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("configs", nargs="+")
    p.add_argument("--gpus", type=positive(int), default=8, help="GPUs of a node, for the DDP and FSDP columns")
    p.add_argument("--gpu_gb", type=positive(float), default=80.0, help="memory of one GPU, to say what fits")
    p.add_argument("--data_dir", default="data", help="where prepared datasets are, for their vocabulary")
    args = p.parse_args(argv)
    layouts = [("1 GPU", 1, False), (f"{args.gpus} DDP", args.gpus, False), (f"{args.gpus} FSDP", args.gpus, True)]
    configs = [(path, vars(read_settings([path, f"--data_dir={args.data_dir}"])[0])) for path in args.configs]
    print(f"{'config':32s} {'params':>8s} " + " ".join(f"{name:>10s}" for name, _, _ in layouts) + "   (GB per GPU)"
          + f"  checkpoint GB, s to write (whole / {args.gpus} sharded)")
    for path, cfg in configs:
        cols = []
        for _, world, fsdp in layouts:
            gb = estimate(cfg, world, fsdp)["total"] / 1e9
            cols.append(f"{gb:9.1f}{'!' if gb > args.gpu_gb else '~' if gb > (1 - HEADROOM) * args.gpu_gb else ' '}")
        n = model_size(cfg)[0]
        size, whole = checkpoint_cost(n, 1, False)
        print(f"{os.path.basename(path)[:-3]:32s} {readable(n):>8s} " + " ".join(cols)
              + f"  {size / 1e9:8.1f}, {whole:.0f} / {checkpoint_cost(n, args.gpus, True)[1]:.0f}")
    print(f"('!' = more than {args.gpu_gb:g} GB, '~' = less than {HEADROOM:.0%} of it left over, which allocator "
          f"slack takes: use --fsdp=True over more GPUs, or a smaller batch_size with more gradient_accumulation_steps, "
          f"which is the same run; estimates within {ERROR:.0%} of a measured peak; a checkpoint at every evaluation, "
          f"written at an assumed {ASSUMED_WRITE / 1e9:g} GB/s a process: FSDP runs write theirs sharded)")


if __name__ == "__main__":
    run_cli(main, sys.argv[1:])
