"""
Why a DyT model can sit on the unigram plateau: what each norm sees in the first few hundred steps.

    python plateau.py config/micro_faithful/dyt_micro_faithful_1m.py config/plateau/dyt_embedscale_1m.py \
        config/plateau/vanilla_1m.py --steps=300 --every=25 --out=out/plateau_diagnostics

Trains each config on the CPU, in this process, for --steps steps with train.py's own step (its initial
weights, batches, optimiser, schedule and clipping; no evaluation), and every --every steps, before the
update and on train.py's probe windows, records per norm site: |s(x)|, the input of the norm's squash
(alpha x for DyT; x for a norm without one), as its median and 90th percentile, the fraction past the
flat point (the saturation), and the std of the norm's output, which LayerNorm holds at 1
(probes.probe_norm_sites); per block the gradient norm of its parameters; per layer the mean attention
entropy; every alpha. Prints a table per config and writes diagnostics.json and diagnostics.png into
--out. Other --key=value arguments override every config, as in sweep.py (--data_dir=..., --n_layer=2).
"""

import json
import os
import sys
from dataclasses import dataclass, replace

import figures  # first: it sets matplotlib's file-only backend
import matplotlib.pyplot as plt
import numpy as np
import torch

import train
from atomic import atomic_open
from cli import ConfigError, run_cli
from configurator import configure, read_settings
from data import load_meta
from probes import learned_scalars, probe_attention, probe_norm_sites
from model import setting
from settings import Config

@dataclass(frozen=True)
class Watch:
    steps: int = setting(300, "training steps to watch", least=0)
    every: int = setting(25, "record every this many steps (and at the last)", least=1)
    out: str = setting("out/plateau_diagnostics", "where diagnostics.json and diagnostics.png go")


def block_grad_norms(model):
    """The gradient norm of each block's parameters, and of the rest but the final norm (the embeddings)."""
    groups = {"embedding": [p for n, p in model.named_parameters() if not n.startswith(("h.", "ln_f."))]}
    groups.update({f"h.{i}": list(b.parameters()) for i, b in enumerate(model.h)})
    return {k: torch.sqrt(sum((p.grad.double() ** 2).sum() for p in ps if p.grad is not None)).item()
            for k, ps in groups.items()}


def diagnose(cfg, steps, every):
    """The records of one config's first steps: a list of {step, loss, sites, grad_norm, entropy, alpha}."""
    run, _ = train.prepare(cfg, check_folder=False)
    model, x, records = run.model, run.data.probe_x, []
    autocast = run.machine.autocast()

    def record(it):
        def look(loss):  # this step's gradients, before the update
            entropy = probe_attention(model, x[:8], autocast)["attn_entropy"]
            records.append({"step": it, "loss": loss.item(), "sites": probe_norm_sites(model, x, autocast),
                            "grad_norm": block_grad_norms(model), "entropy": [float(np.mean(e)) for e in entropy],
                            "alpha": learned_scalars(model).get("alpha", {})})
        return look

    for it in range(steps + 1):
        train.set_lr(run, it)
        train.optimisation_step(run, model, it, before_update=record(it) if it % every == 0 or it == steps else None)
    return records


def print_table(name, records):
    print(f"## {name}")
    print("step   loss  | per site (ln_1, ln_2 per block; ln_f): median |s(x)|, saturation, output std "
          "| gradient norm: embeddings, then each block")
    for r in records:
        sites = "  ".join(f"{k}: {v['median']:.3f} {'-' if v['saturation'] is None else format(v['saturation'], '.2f')} "
                          f"{v['out_std']:.2f}" for k, v in r["sites"].items())
        grads = " ".join(f"{g:.1e}" for g in r["grad_norm"].values())
        print(f"{r['step']:4d} {r['loss']:6.3f} | {sites} | {grads}")


def plot(results, path):
    """Per config (a colour), over the first steps: the training loss, the saturation and output std of the
    norms (mean over sites), the block gradient norms (mean), and layer 0's attention entropy."""
    def mean_over_sites(key):
        return lambda r: np.mean([v[key] for v in r["sites"].values()]) if None not in \
            [v[key] for v in r["sites"].values()] else np.nan

    panels = [("training loss", lambda r: r["loss"], "linear"),
              ("saturation (mean over sites)", mean_over_sites("saturation"), "linear"),
              ("norm output std (mean over sites)", mean_over_sites("out_std"), "log"),
              ("gradient norm (mean over blocks)",
               lambda r: np.mean([g for k, g in r["grad_norm"].items() if k != "embedding"]), "log"),
              ("attention entropy, layer 0 (nats)", lambda r: r["entropy"][0], "linear")]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.0))
    for ax, (title, f, yscale) in zip(axes, panels):
        for name, records in results.items():
            ax.plot([r["step"] for r in records], [f(r) for r in records], marker=".", label=name)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.set_yscale(yscale)
    axes[0].legend(fontsize=6)
    figures.save(fig, path, dpi=110)


def main(argv):
    paths = [a for a in argv if not a.startswith("--")]
    own = [a for a in argv if a.partition("=")[0][2:] in Watch.__dataclass_fields__]
    opts = configure(Watch, own)
    if not paths:
        raise ConfigError("usage: python plateau.py CONFIG [CONFIG ...] [--steps=300 --every=25 --out=DIR --key=value]")
    if os.path.exists(opts["out"]) and not os.path.isdir(opts["out"]):
        raise ConfigError(f"--out {opts['out']} is a file, not a folder")
    overrides = [a for a in argv if a.startswith("--") and a not in own]
    # every config read (and its dataset found) before the first one trains, so a typo costs nothing
    configs = {path: replace(read_settings([path, *overrides])[0], device="cpu") for path in paths}
    for cfg in configs.values():
        load_meta(cfg.data_dir, cfg.dataset)
    results = {}
    for path, cfg in configs.items():
        name = os.path.splitext(os.path.relpath(path, "config"))[0]
        results[name] = diagnose(cfg, opts["steps"], opts["every"])
        print_table(name, results[name])
    os.makedirs(opts["out"], exist_ok=True)
    with atomic_open(os.path.join(opts["out"], "diagnostics.json")) as f:
        json.dump(results, f)
    plot(results, os.path.join(opts["out"], "diagnostics.png"))
    print(f"wrote {opts['out']}/diagnostics.json and diagnostics.png")


if __name__ == "__main__":
    run_cli(main, sys.argv[1:], doc=__doc__, settings=(Watch, Config))
