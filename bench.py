"""
Speed, measured as ratios within one run on the current device.

    python bench.py config/micro/dyt_micro_8k.py              # CPU: the micro model
    python bench.py config/dyt_64m_1m.py --sections=step,norms  # on a GPU

Sections (--sections=step,norms,eval,loop; all by default):
- step:   tokens/s of a full training step (forward, backward, AdamW) on random tokens, eager and
          compiled; MFU against the GPU's bf16 peak when the GPU is in memory.py's table; peak memory.
- norms:  forward + backward time of each norm at (8192, 512) and (8192, 2048), eager and compiled,
          as ratios to LayerNorm; DyT also with alpha, then gamma frozen, to show where its time goes.
- eval:   train.py's evaluation part by part (the losses on the validation prefix and the training
          sample, the probes and the checkpoint at every evaluation; the whole validation split at the
          end, and at the best checkpoint if earlier), as shares of a whole run (needs the dataset prepared).
- jobs:   the config's grid of 4 seeds, short, through sweep.py with --jobs 1 and --jobs 2: how many
          more runs per hour running two at once gives (not in the default sections: it takes minutes).
- loop:   train.py's own tokens/s against the bare step loop on the same model and batch (needs the
          config's dataset prepared): what the data, logging and bookkeeping around the step cost.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from dataclasses import dataclass, replace

import torch

import machine
import train
from atomic import atomic_save
from cli import ConfigError, run_cli
from configurator import configure, read_settings
from memory import gpu_peak, vocab_size
from model import ModelConfig, Transformer, build_norm, model_config, setting, site_norms
from probes import learned_scalars, probe_attention, probe_norms_and_rank
from settings import Config

@dataclass(frozen=True)
class Bench:
    sections: str = setting("step,norms,eval,loop", "the sections to run, comma-separated (jobs too, on request)")
    steps: int = setting(20, "timed steps per measurement (after 3 untimed ones)", least=1)


def sync(device):
    """Wait for the device the work runs on (not only the current one: cuda:1 while cuda:0 is current)."""
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def timed(fn, device, reps, warmup=3):
    """Seconds per call of fn, after warmup calls (which also trigger compilation)."""
    for _ in range(warmup):
        fn()
    sync(device)
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    sync(device)
    return (time.perf_counter() - t) / reps


# Linux resets a process's resident high-water mark (VmHWM) on request; elsewhere a CPU's peak is the process's so far
RESETTABLE_PEAK = os.path.exists("/proc/self/clear_refs")


def reset_peak(device):
    """Count a variant's peak memory from its start: on a GPU the allocator's peak starts afresh; on Linux the
    process's resident high-water mark, through /proc/self/clear_refs."""
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats(device)
    elif RESETTABLE_PEAK:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")


def resident(field):
    """A field of Linux's /proc/self/status in bytes: VmRSS (resident now) or VmHWM (the peak since reset_peak).
    This process's own, where ru_maxrss starts from the parent's peak at the fork."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(field + ":"))


def peak_memory(device):
    if device.startswith("cuda"):
        return f"{torch.cuda.max_memory_allocated(device) / 1e9:.2f} GB allocated"
    if RESETTABLE_PEAK:
        return f"{resident('VmHWM') / 1e9:.2f} GB process RSS"
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: kilobytes on Linux, bytes on macOS
    return f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e9:.2f} GB process RSS so far"


def device_peak(device):
    return gpu_peak(torch.cuda.get_device_name()) if device.startswith("cuda") else None


def setup(cfg):
    """Model, optimiser, a fixed random batch and the autocast context for the config."""
    vocab = vocab_size(vars(cfg))
    torch.manual_seed(0)
    model = Transformer(model_config(cfg, vocab_size=vocab)).to(cfg.device)
    optimizer = train.make_optimizer(model, cfg, fused=cfg.device.startswith("cuda"))
    x, y = torch.randint(0, vocab, (2, cfg.batch_size, cfg.block_size), device=cfg.device)
    autocast = torch.autocast("cuda" if cfg.device.startswith("cuda") else "cpu", dtype=torch.bfloat16) \
        if cfg.dtype == "bfloat16" else nullcontext()
    return model, optimizer, x, y, autocast


def step_time(cfg, bench, compiled):
    """Seconds per bare training step (forward, backward, clip, AdamW), and the model, batch and autocast it used."""
    reset_peak(cfg.device)
    model, optimizer, x, y, autocast = setup(cfg)
    forward = torch.compile(model) if compiled else model

    def step():
        with autocast:
            _, loss = forward(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return timed(step, cfg.device, bench.steps), model, x, autocast


def section_step(cfg, bench):
    tokens = cfg.batch_size * cfg.block_size
    print(f"## step: {cfg.arch} {cfg.norm}, batch {cfg.batch_size} x {cfg.block_size}, {cfg.dtype} on {cfg.device}")
    base = None
    for compiled in (False, True):
        t, model, _, _ = step_time(cfg, bench, compiled)
        base = base or t
        flops = (6 * model.num_params() + 12 * cfg.n_layer * cfg.n_embd * cfg.block_size) * tokens
        peak = device_peak(cfg.device) if cfg.dtype == "bfloat16" else None
        mfu = f"MFU {flops / t / peak:.1%}" if peak else "MFU n/a (no bf16 peak known for this device)"
        print(f"  {'compiled' if compiled else 'eager':8s} {t * 1000:8.1f} ms/step  {tokens / t:10,.0f} tokens/s  "
              f"x{base / t:.2f} vs eager  {mfu}  peak {peak_memory(cfg.device)}")


def section_norms(cfg, bench):
    print(f"## norms: forward + backward, ms, ratio to LayerNorm in the same mode ({cfg.device}, float32)")
    variants = [("layernorm", {}), ("rmsnorm", {}), ("hardtanh", {}), ("dyt", {}),
                ("dyt", {"frozen": "alpha"}), ("dyt", {"frozen": "weight"})]
    for width in (512, 2048):
        x = torch.randn(8192, width, device=cfg.device, requires_grad=True)
        grad = torch.randn_like(x)
        for compiled in (False, True):
            times = []
            for kind, opts in variants:
                norm = build_norm("attn", site_norms(ModelConfig(norm=kind)), width).to(cfg.device)  # its own alpha_0, eps
                if "frozen" in opts:
                    getattr(norm, opts["frozen"]).requires_grad_(False)
                if compiled:  # each variant compiled afresh: past Dynamo's recompile limit (8 per forward) a
                    torch._dynamo.reset()  # ninth would run eager without a word
                f = torch.compile(norm) if compiled else norm
                times.append(timed(lambda: f(x).backward(grad), cfg.device, reps=20))
            cells = [f"{kind}{' -' + o['frozen'] + ' grad' if o else ''} {t * 1000:.2f} (x{t / times[0]:.2f})"
                     for (kind, o), t in zip(variants, times)]
            print(f"  (8192, {width}) {'compiled' if compiled else 'eager':8s} " + " | ".join(cells))


def section_eval(cfg, bench):
    """train.py's evaluations, part by part, as shares of a run of the config's max_iters steps: every
    evaluation computes the prefix and training-sample losses, the probes and a checkpoint; the whole
    split is computed at the last step, and once more (on best.pt) when the best checkpoint is earlier."""
    t_step, *_ = step_time(cfg, bench, compiled=cfg.compile)
    run, _ = train.prepare(cfg, check_folder=False)  # train.py's own evaluation sets and model
    model, ev, autocast = run.model, run.data, run.machine.autocast()

    def probes():
        probe_norms_and_rank(model, ev.probe_x, autocast, cfg.batch_size)
        learned_scalars(model)
        probe_attention(model, ev.attn_x, autocast)

    def checkpoint():
        with tempfile.TemporaryDirectory() as folder:
            atomic_save({"model": model.state_dict(), "optimizer": run.optimizer.state_dict()}, os.path.join(folder, "c"))

    parts = {"validation prefix": lambda: train.loss_and_accuracy(run, model, ev.val),
             "training sample": lambda: train.loss_and_accuracy(run, model, ev.train),
             "probes": probes, "checkpoint": checkpoint}
    if ev.val_full is not None:
        parts["whole validation split"] = lambda: train.loss_and_accuracy(run, model, ev.val_full)
    times = {name: timed(f, cfg.device, reps=3, warmup=1) for name, f in parts.items()}
    n_evals = cfg.max_iters // cfg.eval_interval + 1 + (cfg.max_iters % cfg.eval_interval > 0)
    # the whole split is scored once at the last step, and once more on best.pt when the best is earlier
    per_run = {name: t * (1 if name == "whole validation split" else n_evals) for name, t in times.items()}
    whole = cfg.max_iters * t_step + sum(per_run.values())
    again = times.get("whole validation split", 0.0)
    print(f"## eval: {n_evals} evaluations in a run of {cfg.max_iters} steps of {t_step * 1000:.0f} ms, "
          f"as shares of the run")
    for name, t in times.items():
        print(f"  {name:24s} {t * 1000:8.0f} ms each, x{per_run[name] / t:.0f}  {per_run[name] / whole:6.2%}")
    print(f"  evaluation: {(whole - cfg.max_iters * t_step) / whole:.2%} of the run's time "
          f"({(whole + again - cfg.max_iters * t_step) / (whole + again):.2%} when the best checkpoint is not the last "
          f"step), the probes {per_run['probes'] / whole:.2%}")


def section_loop(cfg, bench):
    t_bare, *_ = step_time(cfg, bench, compiled=cfg.compile)
    bare = cfg.batch_size * cfg.block_size / t_bare
    with tempfile.TemporaryDirectory() as out:
        train.train(replace(cfg, out_dir=out, max_iters=bench.steps, eval_interval=bench.steps, init_from="scratch",
                            overwrite=True))
        with open(os.path.join(out, "summary.json")) as f:
            tps = json.load(f)["tokens_per_sec"]
    print(f"## loop: train.py {tps:,.0f} tokens/s, bare step loop {bare:,.0f} tokens/s: "
          f"train.py runs at {tps / bare:.1%} of the bare loop (target >= 90%)")


def section_jobs(cfg, bench, files):
    """The config's grid of 4 seeds, shortened to 5 x steps, through sweep.py with --jobs 1 and --jobs 2."""
    seconds = {}
    with tempfile.TemporaryDirectory() as out:
        for jobs in (1, 2):
            t = time.perf_counter()
            subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "sweep.py"),
                            *files, "--seeds", "1", "2", "3", "4", "--jobs", str(jobs), "--out",
                            os.path.join(out, str(jobs)), f"--max_iters={5 * bench.steps}", f"--data_dir={cfg.data_dir}"],
                           check=True, capture_output=True)
            seconds[jobs] = time.perf_counter() - t
    print(f"## jobs: {4 * len(files)} runs of {5 * bench.steps} steps: --jobs 1 {seconds[1]:.0f} s, --jobs 2 "
          f"{seconds[2]:.0f} s: x{seconds[1] / seconds[2]:.2f} runs per hour (target >= 1.2 on 2 cores)")


def main(argv):
    own = [a for a in argv if a.partition("=")[0][2:] in Bench.__dataclass_fields__]
    bench = Bench(**configure(Bench, own))
    cfg = read_settings([a for a in argv if a not in own])[0]
    cfg = replace(cfg, **machine.system_settings(cfg))
    files = [a for a in argv if a.endswith(".py")]  # the jobs section sweeps them
    if cfg.gradient_accumulation_steps != 1:
        print("(the step section times one micro-batch; train.py accumulates "
              f"{cfg.gradient_accumulation_steps} of them per step)")
    sections = {"step": section_step, "norms": section_norms, "eval": section_eval, "loop": section_loop,
                "jobs": lambda cfg, bench: section_jobs(cfg, bench, files)}
    for name in bench.sections.split(","):
        if name not in sections:
            raise ConfigError(f"unknown section {name!r}: choose from {', '.join(sections)}")
        sections[name](cfg, bench)


if __name__ == "__main__":
    run_cli(main, sys.argv[1:], doc=__doc__, settings=(Bench, Config))
