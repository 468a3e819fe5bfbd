"""
The regime paper's claims, one row each, against this project's micro runs: the ledger of docs/claims.md.

    python claims.py out/claims out/slopes     # writes out/claims/claims.md and its figure, alpha_std.png

Each claim is tested in the main grid's protocol (config/common/micro.py: three seeds, the embedding scale),
on the runs of the main grid's folder: the main grid, HardTanh, DyT's alpha_0 and LayerNorm's dropout
(config/micro*/), and the entropy study's leaky-ReLU runs. Every comparison is at the final step, as the
paper's, paired by seed (a t-test); a verdict is as strong as its p: "holds" only where every part of the
claim is met at p < 0.05, "mixed" where some part is, "does not hold" where none is and one goes the other way
at p < 0.05, "not shown" where the runs cannot tell (verdict). Every cell says how
many of its runs learned (their final training loss at least LEARNED_MARGIN below the budget's unigram
loss); a run that did not learn stays in the numbers and is counted there.
"""

import math
import os
import sys

import numpy as np

import paper
from cli import ConfigError, run_cli
from runs import load_runs
from stats import mean_std, paired_t_test, t_two_sided_p
from tables import delta, fmt, learned_count

SIGNIFICANT = 0.05
ALPHA_ARMS = {"dyt_alpha0.5": 0.5, "dyt_alpha1": 1.0, "dyt": 2.0, "dyt_alpha4": 4.0}


def arm(runs, label, budget):
    """The micro runs of one label at one budget, by seed."""
    return sorted((r for r in runs if r["label"] == label and r["budget"] == budget), key=lambda r: r["seed"])


def learned(runs):
    """'3/3': learned_count of the runs, out of them."""
    return f"{learned_count(runs)}/{len(runs)}"


def correlation(x, y):
    """(Pearson r, two-sided p) of two sequences; (nan, nan) with fewer than 3 points or no spread."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3 or x.std() == 0 or y.std() == 0:
        return math.nan, math.nan
    r = float(np.corrcoef(x, y)[0, 1])
    if abs(r) >= 1:
        return r, 0.0
    return r, t_two_sided_p(r * math.sqrt((len(x) - 2) / (1 - r * r)), len(x) - 2)


def ranks(values):
    """Ranks from 1, ties sharing their mean rank."""
    values = np.asarray(values, float)
    order = values.argsort(kind="stable")
    out = np.empty(len(values))
    out[order] = np.arange(1, len(values) + 1)
    for v in np.unique(values):
        out[values == v] = out[values == v].mean()
    return out


MET, UNRESOLVED, CONTRADICTED = "met", "unresolved", "contradicted"


def part(direction_right, p):
    """A part of a claim: met (the claimed direction at p < 0.05), contradicted (the other direction at p < 0.05)
    or unresolved (p >= 0.05, or no p)."""
    if p is None or not p < SIGNIFICANT:
        return UNRESOLVED
    return MET if direction_right else CONTRADICTED


def verdict(parts):
    """From the parts of a claim: holds (every part met), does not hold (none met, one contradicted), not shown
    (none met, none contradicted: the runs cannot tell), mixed (some met, some not)."""
    if all(p == MET for p in parts):
        return "holds"
    if MET in parts:
        return "mixed"
    return "does not hold" if CONTRADICTED in parts else "not shown"


def delta_cell(base, other):
    """'Δ% (p)' of other against base at the final step, Δ% and p."""
    d, p = delta(base, other, "final_val_loss")
    return f"{d:+.1f}% (p {fmt(p, '#.2g')})", d, p


def budgets(runs):
    """The micro budgets present, smallest first."""
    found = {r["budget"]: r["train_tokens"] for r in runs if r["budget"]}
    return sorted(found, key=found.get)


def saturation_claim(runs, small, large, ref):
    dyt_small, dyt_large = arm(runs, "dyt", small), arm(runs, "dyt", large)
    if not (dyt_small and dyt_large):
        return None
    a = [r["final_saturation"] for r in dyt_small]
    b = [r["final_saturation"] for r in dyt_large]
    test = paired_t_test(b, a) if len(a) == len(b) else None
    met = part(np.mean(a) > np.mean(b), test and test[1])
    cells = {c["tokens"]: c["saturation"] for c in ref["cells"] if c["scale"] == "64m"}
    return (CLAIMS["saturation"], f"{cells['1m']:.0%} at 1M tokens, {cells['118m']:.0%} at 118M (64M)",
            f"{mean_std(a)} at {small}, {mean_std(b)} at {large} (p {fmt(test and test[1], '#.2g')})",
            verdict([met]), learned(dyt_small + dyt_large))


def hardtanh_claim(runs, small, large, ref):
    parts, text, seen = [], [], []
    for budget, sign in ((small, -1), (large, +1)):
        van, ht = arm(runs, "vanilla", budget), arm(runs, "hardtanh", budget)
        if not (van and ht):
            return None
        cell, d, p = delta_cell(van, ht)
        parts.append(part(math.copysign(1, d) == sign, p))
        text.append(f"{cell} at {budget}")
        seen += van + ht
    h = ref["interventions"]["hardtanh_64m"]
    van = {c["tokens"]: c["vanilla"] for c in ref["cells"] if c["scale"] == "64m"}
    paper_text = ", ".join(f"{100 * (h[b] - van[b]) / van[b]:+.1f}% at {b.upper()}" for b in ("1m", "118m"))
    return (CLAIMS["hardtanh"], paper_text,
            "; ".join(text), verdict(parts), learned(seen))


def alpha_sweep(runs, budget):
    """DyT's alpha_0 arms at one budget against LayerNorm: ([(alpha_0, runs)], their Δ%, whether each step up in
    alpha_0 lowered the loss, Spearman rho(alpha_0, final loss) and its p, every run read); None with fewer than
    three arms or no LayerNorm."""
    van = arm(runs, "vanilla", budget)
    arms = [(a, arm(runs, label, budget)) for label, a in sorted(ALPHA_ARMS.items(), key=lambda kv: kv[1])]
    arms = [(a, rs) for a, rs in arms if rs]
    if not van or len(arms) < 3:
        return None
    deltas = [delta(van, rs, "final_val_loss")[0] for _, rs in arms]
    each_step = all(later < earlier for earlier, later in zip(deltas, deltas[1:]))
    rho, p = correlation(ranks([a for a, rs in arms for _ in rs]), ranks([r["final_val_loss"] for _, rs in arms for r in rs]))
    text = (", ".join(f"{a:g}: {d:+.1f}%" for (a, _), d in zip(arms, deltas)) + f"; each step lower: "
            f"{'yes' if each_step else 'no'}; Spearman rho(alpha_0, loss) {fmt(rho, '+.2f')} (p {fmt(p, '#.2g')})")
    return text, each_step, rho, p, van + [r for _, rs in arms for r in rs]


def alpha_claim(runs, small, large, ref):
    """The verdict at the largest budget, the claim's; the smallest budget's sweep beside it, where the paper's
    own 1M sweep (2 seeds) ran the other way (the lowest alpha_0 best)."""
    sweep = alpha_sweep(runs, large)
    if sweep is None:
        return None
    text, each_step, rho, p, seen = sweep
    s, low = ref["interventions"]["dyt_alpha_sweep_64m_118m"], ref["interventions"]["dyt_alpha_sweep_64m_1m_2seeds"]
    paper_text = (", ".join(f"{k}: {v:.3f}" for k, v in s.items()) + " (final loss, 118M); at 1M (2 seeds) against "
                  "LayerNorm " + ", ".join(f"{k}: {100 * (v - low['vanilla']) / low['vanilla']:+.1f}%"
                                           for k, v in low.items() if k != "vanilla"))
    ours = f"Δ% against LayerNorm at {large}: {text}"
    beside = alpha_sweep(runs, small) if small != large else None
    if beside:
        beside_text, *_, beside_runs = beside
        ours += f"; at {small} (not part of the verdict): {beside_text}"
        seen += beside_runs
    return (CLAIMS["alpha"], paper_text, ours, verdict([MET if each_step else UNRESOLVED, part(rho < 0, p)]),
            learned(seen))


DROPOUTS = ("vanilla_dropout0.1", "vanilla_dropout0.3", "vanilla_dropout0.5")


def dropout_claim(runs, small, large, ref):
    """The verdict: LayerNorm with dropout 0.5 against DyT at the largest budget; beside it each dropout against
    LayerNorm without, at the largest budget and the smallest."""
    dyt, drop = arm(runs, "dyt", large), arm(runs, "vanilla_dropout0.5", large)
    if not (dyt and drop):
        return None
    cell, d, p = delta_cell(dyt, drop)
    significant = p is not None and p < SIGNIFICANT
    met = MET if not significant and abs(d) < 1.0 else CONTRADICTED if significant else UNRESOLVED
    paper_drop = ref["interventions"]["vanilla_dropout_64m_118m"]
    paper_dyt = next(c["dyt"] for c in ref["cells"] if c["scale"] == "64m" and c["tokens"] == "118m")
    seen, against = dyt + drop, []
    for budget in dict.fromkeys((large, small)):
        van = arm(runs, "vanilla", budget)
        cells = [(label, arm(runs, label, budget)) for label in DROPOUTS]
        cells = [(label, rs) for label, rs in cells if rs]
        if van and cells:
            against.append(f"at {budget} " + ", ".join(f"{label[len('vanilla_dropout'):]}: {delta_cell(van, rs)[0]}"
                                                      for label, rs in cells))
            seen += [r for r in van + [r for _, rs in cells for r in rs] if r not in seen]
    return (CLAIMS["dropout"],
            f"{paper_drop['0.5']:.3f} against DyT's {paper_dyt:.3f} (118M; dropout 0.5 at step 4000); dropout "
            + ", ".join(f"{k}: {v:.3f}" for k, v in paper_drop.items()),
            f"LayerNorm + dropout 0.5 against DyT at {large}: {cell}; 'matches' = within 1% and p >= {SIGNIFICANT}"
            + (f"; LayerNorm + dropout against LayerNorm {'; '.join(against)}" if against else ""),
            verdict([met]), learned(seen))


def site_points(runs):
    """(alpha, 1/std of the site's input) at the final evaluation, for every DyT site of every run."""
    points = []
    for r in runs:
        row = r["log"][-1]
        points += [(a, 1 / row["norm_std"][site]) for site, a in row.get("alpha", {}).items() if site in row["norm_std"]]
    return points


def alpha_std_claim(runs):
    dyt = [r for r in runs if r["label"] == "dyt"]
    points = site_points(dyt)
    if len(points) < 3:
        return None
    alphas, inverse = [a for a, _ in points], [s for _, s in points]
    r, p = correlation(np.log(alphas), np.log(inverse))
    return (CLAIMS["alpha_std"], "a figure, no number",
            f"r(log alpha, log 1/std) {fmt(r, '+.2f')} (p {fmt(p, '#.2g')}) over {len(points)} sites x runs, final "
            f"step, every budget; alpha {min(alphas):.2f} to {max(alphas):.2f} (from 2), 1/std {min(inverse):.2f} to "
            f"{max(inverse):.2f}", verdict([part(r > 0, p)]), learned(dyt))


def slopes_claim(entropy_runs):
    leaky = [r for r in entropy_runs if r["config"].get("activation") in ("leaky_relu", "leaky_relu_global")]
    slopes = [s for r in leaky for s in r["log"][-1].get("leaky_slope", {}).values()]
    if not slopes:
        return None
    near = all(abs(s) < 0.1 for s in slopes)
    return (CLAIMS["slopes"],
            "near zero, toward ReLU (no number)",
            f"{len(slopes)} slopes of {len(leaky)} runs: mean {np.mean(slopes):+.3f}, from {min(slopes):+.3f} to "
            f"{max(slopes):+.3f} (start 0.01; 'near zero' = every one within 0.1)", "holds" if near else "does not hold",
            learned(leaky))


CLAIMS = {"saturation": "DyT saturates more with little data",
          "hardtanh": "HardTanh shows the regime pattern: it helps with the least data and hurts with the most",
          "alpha": "Raising alpha_0 at the largest budget lowers DyT's penalty monotonically",
          "dropout": "LayerNorm with dropout 0.5 matches DyT at the largest budget",
          "alpha_std": "DyT's alpha tracks 1/std of its input (the DyT paper's figure)",
          "slopes": "In LayerNorm-free models learnable leaky-ReLU slopes end near zero (entropic overload)"}
def per_seed_delta(runs, scale, budget):
    """{seed: Δ% of DyT against LayerNorm at one micro scale and budget}."""
    van = {r["seed"]: r["final_val_loss"] for r in runs if r["label"] == "vanilla" and r["config"]["scale"] == scale
           and r["budget"] == budget}
    return {r["seed"]: 100 * (r["final_val_loss"] - van[r["seed"]]) / van[r["seed"]] for r in runs
            if r["label"] == "dyt" and r["config"]["scale"] == scale and r["budget"] == budget and r["seed"] in van}


def capacity_claim(runs, small, large):
    """Every micro width, DyT against LayerNorm at the smallest and the largest budget (Δ% and how many runs
    learned); the verdict from the narrowest width whose runs all learned against the widest: does DyT's
    low-data benefit shrink and its high-data penalty grow with width? Each a paired test over seeds of the
    per-seed Δ%."""
    def size(scale):
        return min(r["n_params"] for r in runs if r["config"]["scale"] == scale)

    widths = sorted({r["config"]["scale"] for r in runs}, key=size)
    if len(widths) < 3:
        return None

    def pair(scale, budget):
        return [r for r in runs if r["config"]["scale"] == scale and r["budget"] == budget and r["label"] in ("vanilla", "dyt")]

    every = [(w, b) for w in widths for b in (small, large)]
    if not all(per_seed_delta(runs, w, b) for w, b in every):
        return None
    whole = [w for w in widths if all(learned_count(pair(w, b)) == len(pair(w, b)) for b in (small, large))]
    narrow, wide = (whole[0] if whole else widths[0]), widths[-1]
    tokens = next(r["train_tokens"] for r in runs if r["budget"] == large)
    text = []
    for w in widths:
        cells = [f"{np.mean(list(per_seed_delta(runs, w, b).values())):+.1f}% at {b} ({learned(pair(w, b))} learned)"
                 for b in (small, large)]
        text.append(f"{w} ({size(w) / 1e6:.2g}M parameters, {large} tokens = {tokens / size(w):.0f} per "
                    f"parameter): {', '.join(cells)}")
    parts, tests = [], []
    for budget in (small, large):
        a, b = per_seed_delta(runs, narrow, budget), per_seed_delta(runs, wide, budget)
        seeds = sorted(set(a) & set(b))
        test = paired_t_test([a[s] for s in seeds], [b[s] for s in seeds])
        parts.append(part(np.mean([b[s] for s in seeds]) > np.mean([a[s] for s in seeds]), test and test[1]))
        tests.append(f"p {fmt(test and test[1], '#.2g')} at {budget}")
    return (NOT_HERE["capacity"][0], NOT_HERE["capacity"][1],
            "DyT against LayerNorm: " + "; ".join(text) + f"; {narrow} (the narrowest whose runs all learned) against "
            f"{wide}: {', '.join(tests)}", verdict(parts), learned([r for w, b in every for r in pair(w, b)]))


def llama_claim(runs):
    """The micro Llama: at each budget, how many DyT runs collapsed and DyT's Δ% against RMSNorm; at the budget of
    the ablations where DyT collapses most (else the largest), which of them collapsed and r(saturation, final loss) over DyT and its ablations. Localised
    (the first part) is met where DyT, no-RoPE and plain multi-head attention collapse and GELU does not; it
    is contradicted where GELU collapses too, and unresolved where DyT itself never collapses. The second part
    is r > 0 at p < 0.05."""
    llama = [r for r in runs if r["config"].get("arch") == "llama"]
    ablation_budgets = {r["budget"] for r in llama if r["label"] in paper.LLAMA_ABLATIONS}
    if not ablation_budgets:
        return None
    # the budget where Llama-DyT collapses most (the claim is about its collapse), else the largest
    budget = max(ablation_budgets, key=lambda b: (sum(bool(r["collapsed"]) for r in arm(llama, "dyt", b)),
                                                  next(r["train_tokens"] for r in llama if r["budget"] == b)))
    ablation = [r for r in llama if r["budget"] == budget and r["label"] in ("dyt", *paper.LLAMA_ABLATIONS)]
    if len(ablation) < 3:
        return None
    text = []
    for b in budgets(llama):
        base, dyt = arm(llama, "vanilla", b), arm(llama, "dyt", b)
        if base and dyt:
            text.append(f"at {b} DyT against RMSNorm {delta_cell(base, dyt)[0]}, collapsed "
                        f"{sum(bool(r['collapsed']) for r in dyt)}/{len(dyt)}")
    r, p = correlation([x["final_saturation"] for x in ablation], [x["final_val_loss"] for x in ablation])
    fell = {lab: sum(bool(x["collapsed"]) for x in ablation if x["label"] == lab) for lab in ("dyt", *paper.LLAMA_ABLATIONS)}
    counts = ", ".join(f"{lab} {n}/{sum(x['label'] == lab for x in ablation)}" for lab, n in fell.items())
    if fell["dyt_gelu"] > 0:
        localised = CONTRADICTED
    elif fell["dyt"] > 0 and fell["dyt_norope"] > 0 and fell["dyt_mha"] > 0:
        localised = MET
    else:
        localised = UNRESOLVED
    return (NOT_HERE["llama"][0], NOT_HERE["llama"][1],
            "; ".join(text) + f"; the ablations at {budget}, collapsed: {counts}; r(saturation, final loss) "
            f"{fmt(r, '+.2f')} (p {fmt(p, '#.2g')}) over {len(ablation)} runs",
            verdict([localised, part(r > 0, p)]), learned(ablation))


NOT_HERE = {
    "capacity": ("The low-data benefit vanishes and the high-data penalty grows with capacity",
                 "-27.3% and +18.8% at 64M; +1.7% and +27.9% at 3.78B (1M and 118M tokens)",
                 "no runs of it in this folder yet: config/micro_capacity/ trains the micro model at widths 32 and 64",
                 "untested here; on GPUs: config/{vanilla,dyt}_{64m,124m,354m,1.3b,3.78b}_{1m,118m}.py"),
    "llama": ("Llama-DyT's collapse is localised to SwiGLU gating; saturation separates collapse (r = 0.94)",
              "r = 0.939 over 9 runs (its threshold fitted on the same runs)",
              "no runs of it in this folder yet: config/micro_llama/ trains a micro Llama and its three ablations",
              "untested here; on GPUs: config/llama_*_64m_118m*.py"),
}


def ledger(folder, entropy_folder=None):
    """The ledger's rows, as markdown lines: claim, the paper's number, ours, verdict, runs that learned."""
    every = [r for r in load_runs(folder)[0] if r["config"].get("study") == "regime"
             and str(r["config"].get("scale")).startswith("micro") and r["config"].get("embed_scale")]
    runs = [r for r in every if r["config"]["scale"] == "micro" and r["config"].get("arch", "gpt") == "gpt"]
    entropy = load_runs(entropy_folder)[0] if entropy_folder and os.path.isdir(entropy_folder) else []
    ref = paper.PAPER  # reference/paper_cells.json
    b = budgets(runs)
    small, large = (b[0], b[-1]) if b else (None, None)
    gpt = [r for r in every if r["config"].get("arch", "gpt") == "gpt"]
    rows = [("capacity", capacity_claim(gpt, small, large) if b else None), ("saturation", saturation_claim(runs, small, large, ref) if b else None),
            ("hardtanh", hardtanh_claim(runs, small, large, ref) if b else None),
            ("alpha", alpha_claim(runs, small, large, ref) if b else None),
            ("dropout", dropout_claim(runs, small, large, ref) if b else None),
            ("llama", llama_claim(every)), ("alpha_std", alpha_std_claim(runs)), ("slopes", slopes_claim(entropy))]
    lines = ["| # | claim | the paper's | ours (micro, mean ± std over seeds; final step) | verdict | runs that learned |",
             "|---|---|---|---|---|---|"]
    for i, (key, row) in enumerate(rows, 1):
        if row is None:
            claim, theirs, ours, what = NOT_HERE[key] if key in NOT_HERE else (
                CLAIMS[key], "—", "no runs of it in this folder yet: its command on docs/claims.md trains them",
                "untested here")
            row = (claim, theirs, ours, what, "—")
        claim, theirs, ours, what, ok = row
        lines.append(f"| {i} | {claim} | {theirs} | {ours} | {what or 'untested here'} | {ok} |")
    return lines


def alpha_std_figure(folder, path):
    """Every DyT site's final alpha against 1/std of its input, a colour per budget."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from figures import save
    runs = [r for r in load_runs(folder)[0] if r["label"] == "dyt" and r["config"].get("scale") == "micro"]
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for i, budget in enumerate(budgets(runs)):
        points = site_points([r for r in runs if r["budget"] == budget])
        ax.scatter([s for _, s in points], [a for a, _ in points], s=12, color=plt.cm.viridis(i / 3), label=budget)
    ax.set(xscale="log", yscale="log", xlabel="1 / std of the site's input", ylabel="alpha",
           title="DyT micro runs, final step: alpha against 1/std\n(micro model with the embedding scale)")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7, title="budget", title_fontsize=7)
    save(fig, path, dpi=100)


def main(argv):
    if len(argv) not in (1, 2) or argv[0].startswith("-"):
        raise ConfigError("usage: python claims.py OUT_DIR [ENTROPY_OUT_DIR]")
    if not os.path.isdir(argv[0]):
        raise ConfigError(f"{argv[0]} is not a folder: train the runs of docs/claims.md into it first")
    lines = ledger(*argv)
    from atomic import atomic_open
    with atomic_open(os.path.join(argv[0], "claims.md")) as f:
        f.write("# The regime paper's claims at micro scale\n\n" + "\n".join(lines) + "\n")
    alpha_std_figure(argv[0], os.path.join(argv[0], "alpha_std.png"))
    print(f"wrote {os.path.join(argv[0], 'claims.md')} and alpha_std.png")


if __name__ == "__main__":
    run_cli(main, sys.argv[1:], doc=__doc__)
