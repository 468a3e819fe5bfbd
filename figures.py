"""
The figures of a report (report.py writes them beside report.md): one function per figure, each
drawing from runs as report.py reads them and saving a PNG.
"""

import matplotlib

matplotlib.use("Agg")  # headless: files only
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from atomic import atomic_open  # noqa: E402
from probes import entropy_max  # noqa: E402


def save(fig, path, dpi, **options):
    """The figure as a PNG, written atomically (checkpoint.atomic_open): a full disk leaves the old one."""
    if not options and fig.get_layout_engine() is None:
        fig.tight_layout()
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format="png", dpi=dpi, **options)
    plt.close(fig)


def phase_diagram(grids, scales, budgets, arch, path):
    """A heatmap of each arm's Δ% against vanilla per (scale, budget): a row of panels per arm, one panel
    per measure, every panel on the same colour scale; numbers in white on the darkest cells, and under
    them how many of the cell's runs collapsed (a Δ% of runs that learned nothing is not the norm's)."""
    arms = list(dict.fromkeys(arm for arm, *_ in grids))
    cols = len(grids) // len(arms)
    fig, axes = plt.subplots(len(arms), cols, figsize=(2.5 + 1.2 * len(budgets) * cols, 1.6 + 0.8 * len(scales) * len(arms)),
                             squeeze=False, sharey=True, layout="constrained")
    values = np.concatenate([g[np.isfinite(g)] for _, _, g, _ in grids]) if grids else np.zeros(0)
    lim = max(5.0, float(np.abs(values).max())) if values.size else 5.0
    for k, (ax, (arm, title, grid, flags)) in enumerate(zip(axes.flat, grids)):
        im = ax.imshow(grid, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
        for i in range(len(scales)):
            for j in range(len(budgets)):
                if np.isfinite(grid[i, j]):
                    text = f"{grid[i, j]:+.1f}%" + (f"\n⚠ {flags[i, j]} collapsed" if flags[i, j] else "")
                    ax.text(j, i, text, ha="center", va="center", fontsize=8,
                            color="white" if abs(grid[i, j]) > 0.6 * lim else "black")
        ax.set_xticks(range(len(budgets)), budgets)
        ax.set_yticks(range(len(scales)), scales)
        ax.set_xlabel("training tokens")
        if k % cols == 0:
            ax.set_ylabel("model size")
        ax.set_title(f"{title}\n{arm} vs vanilla, val loss Δ% (blue: {arm} better)", fontsize=9)
    fig.colorbar(im, ax=axes, fraction=0.03, label="Δ% (the same scale in every panel)")
    fig.suptitle(f"{arch}: where removing the norm helps", fontsize=11)
    save(fig, path, dpi=110)


def curves(cells, arch, path):
    """Per cell, every arm's validation (solid) and training (dotted) loss, the unigram losses in gray."""
    pairs = [(k, m) for k, m in cells.items() if k[0] == arch]
    labels = list(dict.fromkeys(label for _, m in pairs for label in m))
    colors = {label: plt.cm.tab10(i % 10) for i, label in enumerate(labels)}
    cols = min(4, len(pairs))
    rows = (len(pairs) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False)
    for ax, ((_, scale, budget), methods) in zip(axes.flat, pairs):
        for method, runs in methods.items():
            for r in runs:
                it = [row["iter"] for row in r["log"]]
                ax.plot(it, [row["val_loss"] for row in r["log"]], color=colors[method], lw=1, alpha=0.8,
                        label=method if r is runs[0] else None)
                ax.plot(it, [row["train_loss"] for row in r["log"]], color=colors[method], lw=0.8, ls=":", alpha=0.6)
                ax.plot(r["best_iter"], r["best_val_loss"], "*", color=colors[method], ms=9)
                ax.plot(it[-1], r["final_val_loss"], "s", color=colors[method], ms=5)
        unigram = next((r for runs in methods.values() for r in runs if "unigram_val_loss" in r), None)
        if unigram:  # the floor a model sits on when it learned only token frequencies
            ax.axhline(unigram["unigram_val_loss"], color="gray", lw=1, label="unigram (val)")
            ax.axhline(unigram["unigram_train_loss"], color="gray", lw=1, ls=":")
        ax.set_title(f"{scale}, {budget}", fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.set_ylabel("loss", fontsize=8)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(pairs):]:
        ax.axis("off")
    fig.suptitle(f"{arch}: val loss (solid), train loss (dotted), gray: the unigram losses; ★ best checkpoint, "
                 f"■ final step", fontsize=10)
    save(fig, path, dpi=100)


def saturation_plot(rows, threshold, path):
    """Each squashing arm's Δ% against its saturation, a cell a point (red: the arm helps), a marker per arm."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    markers = {arm: "osD^v<>p"[i % 8] for i, arm in enumerate(dict.fromkeys(r["arm"] for r in rows))}
    for r in rows:
        color = "tab:red" if r["helps"] else "tab:gray"
        ax.plot(r["sat_final"], r["delta"], markers[r["arm"]], color=color)
        if r["sat_500"] is not None:
            ax.plot(r["sat_500"], r["delta"], markers[r["arm"]], mfc="none", color=color)
        ax.annotate(f"{r['arm']} {r['cell']}" if len(markers) > 1 else r["cell"], (r["sat_final"], r["delta"]),
                    fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.axvline(threshold, color="k", ls="--", lw=1, label=f"paper's threshold {threshold}")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("saturation, fraction past the squash's flat point (filled: final, open: step 500)")
    ax.set_ylabel("arm vs vanilla val loss Δ% (final step)")
    ax.legend(fontsize=8)
    save(fig, path, dpi=110)


def alpha_plot(run, path):
    """alpha of each DyT layer over training, beside 1/std of that layer's input."""
    log = [r for r in run["log"] if "alpha" in r]
    layers = list(log[0]["alpha"])
    colors = plt.cm.viridis(np.linspace(0, 1, len(layers)))
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    it = [r["iter"] for r in log]
    for layer, c in zip(layers, colors):
        alpha = np.array([r["alpha"][layer] for r in log])
        inv_std = 1 / np.array([r["norm_std"][layer] for r in log])
        axes[0].plot(it, alpha, color=c, label=layer)
        axes[1].plot(it, inv_std, color=c)
        axes[2].plot(inv_std, alpha, "o-", color=c, ms=3, lw=0.6)
    axes[0].set(title="α per layer", xlabel="step")
    axes[1].set(title="1 / std of the layer's input", xlabel="step", yscale="log")
    axes[2].set(title="α against 1/std (each point an evaluation)", xlabel="1/std", ylabel="α", xscale="log")
    axes[0].legend(fontsize=6, ncol=2)
    fig.suptitle(f"{run['name']}: does α track 1/std of its input?", fontsize=10)
    save(fig, path, dpi=100)


def rank_plot(pairs, path):
    """The effective rank of each block's output at the final step, every arm of a cell in a panel."""
    fig, axes = plt.subplots(1, len(pairs), figsize=(3.2 * len(pairs), 3), squeeze=False)
    for ax, ((arch, scale, budget), methods) in zip(axes[0], pairs):
        for i, (method, runs) in enumerate(methods.items()):
            for r in runs:
                ranks = r["log"][-1]["effective_rank"]
                ax.plot(range(len(ranks)), list(ranks.values()), "o-", color=plt.cm.tab10(i % 10), ms=3,
                        label=method if r is runs[0] else None)
        ax.set(title=f"{arch} {scale} {budget}", xlabel="block", ylabel="effective rank")
        ax.legend(fontsize=7)
    fig.suptitle("effective rank of each block's output, final step", fontsize=10)
    save(fig, path, dpi=100)


def entropy_heatmap(run, path):
    """Each head's attention entropy as a fraction of ln T, the maximum the paper measures overload against."""
    grid = np.array(run["log"][-1]["attn_entropy"]) / entropy_max(run["config"]["block_size"])  # (layers, heads)
    fig, ax = plt.subplots(figsize=(1.6 + 0.45 * grid.shape[1], 1.4 + 0.35 * grid.shape[0]))
    im = ax.imshow(grid, cmap="magma", vmin=0, vmax=1, aspect="auto")
    for (i, j), v in np.ndenumerate(grid):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if v < 0.6 else "black")
    ax.set(xlabel="head", ylabel="layer", title=f"{run['name']}\nentropy / ln T, step {run['log'][-1]['iter']}")
    ax.title.set_fontsize(9)
    fig.colorbar(im, ax=ax, fraction=0.05)
    save(fig, path, dpi=100)


def slopes_plot(runs, path):
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for r in runs:
        layers = list(r["log"][-1]["leaky_slope"])
        colors = plt.cm.viridis(np.linspace(0, 1, len(layers)))
        for layer, c in zip(layers, colors):
            ax.plot([row["iter"] for row in r["log"]], [row["leaky_slope"][layer] for row in r["log"]], color=c,
                    label=f"{r['name']} {layer}" if len(runs) == 1 else None)
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xlabel="step", ylabel="negative slope", title="learnable leaky-ReLU slopes (0 = ReLU, 1 = linear)")
    if len(runs) == 1:
        ax.legend(fontsize=6)
    save(fig, path, dpi=100)


def plateau_plot(by_budget, drop, path):
    """Validation loss minus the budget's unigram loss over training, a line per setting (mean over
    seeds) and a panel per budget; the dashed line is where a run 'leaves the plateau'."""
    fig, axes = plt.subplots(1, len(by_budget), figsize=(5.2 * len(by_budget), 3.8), squeeze=False)
    for ax, (budget, settings) in zip(axes[0], by_budget.items()):
        for method, runs in settings.items():
            steps = [row["iter"] for row in runs[0]["log"]]
            gap = np.mean([[row["val_loss"] - r["unigram_val_loss"] for row in r["log"]] for r in runs], axis=0)
            ax.plot(steps, gap, lw=1.2, ls="-" if method.startswith("dyt") else "--", label=method)
        ax.axhline(0, color="gray", lw=1)
        ax.axhline(-drop, color="k", lw=0.8, ls=":")
        ax.set_ylim(top=1.0)  # step 0 (about +2.2, uniform predictions) would squeeze the plateau
        ax.set(title=f"budget {budget}", xlabel="step", ylabel="val loss − unigram val loss (nats)")
        ax.legend(fontsize=7)
    fig.suptitle(f"Leaving the unigram plateau: below the dotted line the model is {drop} nats better than token "
                 "frequencies", fontsize=10)
    save(fig, path, dpi=100)


def accuracy_curves(cells, path):
    """Per ViT cell (data, budget), every arm's test (solid) and training-sample (dotted) accuracy over training."""
    fig, axes = plt.subplots(1, len(cells), figsize=(4.2 * len(cells), 3.4), squeeze=False)
    for ax, ((scale, budget), arms) in zip(axes[0], cells.items()):
        for i, (arm, runs) in enumerate(arms.items()):
            for r in runs:
                it = [row["iter"] for row in r["log"]]
                ax.plot(it, [100 * row["val_accuracy"] for row in r["log"]], color=plt.cm.tab10(i % 10), lw=1,
                        label=arm if r is runs[0] else None)
                ax.plot(it, [100 * row["train_accuracy"] for row in r["log"]], color=plt.cm.tab10(i % 10), lw=0.8,
                        ls=":")
        ax.axhline(100 * runs[0]["chance_accuracy"], color="gray", lw=1, label="chance")
        ax.set(title=f"{scale}, {budget} training images", xlabel="step", ylabel="accuracy, %", ylim=(0, 100))
        ax.legend(fontsize=7)
    fig.suptitle("ViT: test accuracy (solid) and training accuracy (dotted), gray: chance", fontsize=10)
    save(fig, path, dpi=100)


def alpha_and_gains(cells, path):
    """Per ViT cell, every arm's alpha and norm gain over training (each the mean over the norm sites, every
    seed a line): in pure bf16 an update under half a weight's spacing is lost, and a flat line shows it."""
    fig, axes = plt.subplots(len(cells), 2, figsize=(9, 3.2 * len(cells)), squeeze=False)
    for (ax_alpha, ax_gain), ((scale, budget), arms) in zip(axes, cells.items()):
        for i, (arm, runs) in enumerate(arms.items()):
            for r in runs:
                it = [row["iter"] for row in r["log"]]
                style = dict(color=plt.cm.tab10(i % 10), lw=1, ls="--" if r["config"]["param_dtype"] == "bfloat16" else "-",
                             label=arm if r is runs[0] else None)
                if "alpha" in r["log"][-1]:
                    ax_alpha.plot(it, [np.mean(list(row["alpha"].values())) for row in r["log"]], **style)
                ax_gain.plot(it, [np.mean(list(row["gain"].values())) for row in r["log"]], **style)
        ax_alpha.set(title=f"{scale}, {budget}: α (mean over sites)", xlabel="step", ylabel="α")
        ax_gain.set(title=f"{scale}, {budget}: norm gain (mean over sites)", xlabel="step", ylabel="gain")
        for ax in (ax_alpha, ax_gain):
            ax.legend(fontsize=6)
    fig.suptitle("alpha and the norm gains over training (dashed: pure bf16 weights)", fontsize=10)
    save(fig, path, dpi=100)


def fine_tuning_curves(cells, path):
    """Per cell of the conversion study, every arm's validation loss over fine-tuning (every seed a line), the
    unigram loss dashed: where each conversion starts and how far fine-tuning brings it back."""
    fig, axes = plt.subplots(1, len(cells), figsize=(5.2 * len(cells), 3.6), squeeze=False)
    for ax, ((scale, budget), arms) in zip(axes[0], cells.items()):
        for i, (arm, runs) in enumerate(arms.items()):
            for r in runs:
                ax.plot([row["iter"] for row in r["log"]], [row["val_loss"] for row in r["log"]],
                        color=plt.cm.tab10(i % 10), lw=1, label=arm if r is runs[0] else None)
        ax.axhline(runs[0]["unigram_val_loss"], color="gray", lw=1, ls="--", label="unigram")
        ax.set(title=f"{scale}, {budget}: converted at step 0", xlabel="fine-tuning step", ylabel="validation loss")
        ax.legend(fontsize=7)
    fig.suptitle("a trained LayerNorm model's norms converted, then fine-tuned", fontsize=10)
    save(fig, path, dpi=100)
