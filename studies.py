"""
The report's sections for the studies beside the regime grid, each readable on its own: the plateau
ablation (study "plateau"), entropic overload ("entropy"), the ViT ("vit") and a trained model's norms
converted ("convert"). report.py writes them
into report.md; docs.py into the pages.
"""

import os
from collections import defaultdict

import numpy as np

import figures
import paper
from probes import OVERLOAD_FRACTION, entropy_ceiling, entropy_max
from runs import BASELINE, comparisons, pools
from stats import fisher_exact, mean_std, paired_t_test
from tables import LEARNED_MARGIN, PLATEAU_DROP, collapses, delta, fmt, learned_count, left_plateau_at


def setting_order(method):
    """The plateau table's rows: the paper-faithful baseline, the settings that change it, then LayerNorm."""
    return method != "dyt_faithful", method.startswith("vanilla"), method


def plateau_section(runs, out=None):
    """The plateau-escape ablation (study 'plateau'): per setting and budget, where validation leaves
    the unigram plateau, how far below the unigram loss training ends, and whether it collapsed; its
    figure in out (if given)."""
    study = [r for r in runs if r["config"].get("study") == "plateau" and "unigram_val_loss" in r]
    if not study:
        return []
    by_budget = defaultdict(lambda: defaultdict(list))
    for r in sorted(study, key=lambda r: (r["train_tokens"], setting_order(r["label"]))):
        by_budget[r["budget"]][r["label"]].append(r)
    md = ["## Leaving the unigram plateau: one factor at a time", "",
          "Each setting changes one thing of the paper-faithful micro DyT (alpha_0 = 2, no embedding scale); "
          "LayerNorm with and without the embedding scale for reference. 'Leaves at' is the first evaluation "
          f"whose validation loss is {PLATEAU_DROP} nats below the budget's unigram validation loss, one step "
          f"per seed ('never' if none is); a run learned when its final training loss is {LEARNED_MARGIN} "
          "below the unigram training loss.", "",
          "| budget | setting | leaves at step | unigram − final train | learned | final val | best val "
          "| final α (mean over sites) | collapsed |", "|---|---|---|---|---|---|---|---|---|"]
    for budget, settings in by_budget.items():
        for method, group_runs in settings.items():
            leaves = [left_plateau_at(r) for r in group_runs]
            margins = [r["unigram_train_loss"] - r["final_train_loss"] for r in group_runs]
            alphas = [np.mean(list(r["log"][-1]["alpha"].values())) for r in group_runs if "alpha" in r["log"][-1]]
            md.append(f"| {budget} | {method} | {', '.join('never' if s is None else str(s) for s in leaves)} "
                      f"| {mean_std(margins)} | {sum(m >= LEARNED_MARGIN for m in margins)}/{len(margins)} "
                      f"| {mean_std([r['final_val_loss'] for r in group_runs])} "
                      f"| {mean_std([r['best_val_loss'] for r in group_runs])} "
                      f"| {mean_std(alphas) if alphas else '—'} | {collapses(group_runs)} |")
    if out is None:
        return md + [""]
    figures.plateau_plot(by_budget, PLATEAU_DROP, os.path.join(out, "plateau.png"))
    return md + ["", "![leaving the unigram plateau](plateau.png)", ""]


def entropy_section(runs, out=None):
    """Entropic overload: per config the loss (beside the unigram loss, what a model that learned nothing
    scores) and the overloaded fraction of heads; in out (if given), per
    run a layer x head heatmap of entropy / ln T, and the learnable slopes over training."""
    study = [r for r in runs if r["config"].get("study") == "entropy" and "attn_entropy" in r["log"][-1]]
    if not study:
        return []
    md = ["## Entropic overload (Jha & Reagen, arXiv 2410.09637)", "",
          "Each head's entropy is the Shannon entropy (nats) of its attention rows, averaged over positions "
          f"and the probe windows. A head is overloaded when its entropy is at least {OVERLOAD_FRACTION} of the "
          "maximum: the paper's maximum is ln T, uniform attention over the whole context of T positions; "
          "causal attention cannot reach it (row i spreads over i positions), and its true ceiling, "
          "(1/T) Σ ln i, is given beside it.", "",
          f"| config | final val loss | best val loss | unigram val loss | overloaded heads (≥ {OVERLOAD_FRACTION} ln T, the paper's) "
          f"| overloaded (≥ {OVERLOAD_FRACTION} causal ceiling) | mean entropy, nats | ln T | mean entropy / ln T "
          "| causal ceiling, nats |", "|---|---|---|---|---|---|---|---|---|---|"]

    def label(r):
        return f"{r['label']} ({r['config']['scale']})"

    for stem in sorted({label(r) for r in study}):
        group_runs = [r for r in study if label(r) == stem]
        T = group_runs[0]["config"]["block_size"]
        nats = [float(np.mean(r["log"][-1]["attn_entropy"])) for r in group_runs]
        md.append(f"| {stem} | {mean_std([r['final_val_loss'] for r in group_runs])} "
                  f"| {mean_std([r['best_val_loss'] for r in group_runs])} "
                  f"| {mean_std([r.get('unigram_val_loss') for r in group_runs])} "
                  f"| {mean_std([r['log'][-1]['entropy_overload'] for r in group_runs])} "
                  f"| {mean_std([r['log'][-1].get('entropy_overload_causal') for r in group_runs])} | {mean_std(nats)} "
                  f"| {entropy_max(T):.3f} | {mean_std([n / entropy_max(T) for n in nats])} | {entropy_ceiling(T):.3f} |")
    md.append("")
    if out is None:
        return md
    for r in study:
        figures.entropy_heatmap(r, os.path.join(out, f"entropy_{r['name']}.png"))
        md += [f"![attention entropy](entropy_{r['name']}.png)", ""]
    leaky = [r for r in study if "leaky_slope" in r["log"][-1]]
    if leaky:
        figures.slopes_plot(leaky, os.path.join(out, "leaky_slopes.png"))
        md += ["![learnable leaky-ReLU slopes](leaky_slopes.png)", ""]
    return md


# the epochs after which the paper's alpha-sweep code evaluates (vit_alpha_sweep.py): its table's "best" is the
# best of these, so ours on CIFAR is too
PAPER_BEST_EPOCHS = (1, 25, 50, 75, 100)


def precision(run):
    """What a run's weights and arithmetic were: the paper's ViT trains in pure bf16."""
    c = run["config"]
    if c.get("param_dtype") == "bfloat16":
        return "pure bf16"
    return "fp32 weights, bf16 autocast" if c.get("dtype") == "bfloat16" else "fp32"


def best_accuracy(run, paper_epochs):
    """The best test accuracy over the evaluations: over those nearest the paper's evaluation epochs when it
    has a "best" to compare with, else over all."""
    if not paper_epochs:
        return run["best_accuracy"]
    per_epoch = run["train_images"] / (run["config"]["batch_size"] * run["config"]["gradient_accumulation_steps"])
    rows = {id(row): row for e in paper_epochs for row in [min(run["log"], key=lambda r: abs(r["iter"] - e * per_epoch))]}
    return max(row["val_accuracy"] for row in rows.values())


def mean_of_sites(row, key):
    """The mean over norm sites of a logged per-site value (alpha, gain), or None."""
    values = list(row.get(key, {}).values())
    return float(np.mean(values)) if values else None


def vit_section(runs, out=None):
    """The ViT study: per dataset and budget, each arm's test accuracy at the final step and the best over
    the evaluations, against its baseline (runs.BASELINE_RULE; Δ in points, p a paired t-test over seeds),
    its weights' precision, the chance level (always the most frequent training class), whether every run
    learned, the final saturation, alpha and gain; the paper's CIFAR figures beside them; accuracy curves,
    and alpha and the gains over training, in out (if given)."""
    study = [r for r in runs if r["config"].get("study") == "vit" and "final_accuracy" in r]
    if not study:
        return []
    by_cell = defaultdict(list)
    for r in sorted(study, key=lambda r: (r["scale"], r["train_tokens"], r["label"] != BASELINE, r["label"])):
        by_cell[(r["scale"], r["budget"] or "all")].append(r)
    cells = {key: pools(cell_runs) for key, cell_runs in by_cell.items()}
    baselines = {(key, arm): (van, why) for key, rows in comparisons(cells).items() for arm, _, _, van, why in rows}
    refs = paper.PAPER["vit"]
    md = ["## The ViT: DyT against LayerNorm on images", "",
          "Top-1 test accuracy, %. A run learned when its final test accuracy is at least halfway from chance "
          "to 100%, and collapsed by this project's rule (unigram: its final training loss within 0.1 of the loss "
          "of answering by the class frequencies; stalled: its validation loss stalled while every alpha stayed "
          "at its start). Paper: the final accuracy of its two seeds (results/vit_results.json) and the best over "
          f"evaluations of its one-seed alpha_0 sweep (its table), after epochs {', '.join(map(str, PAPER_BEST_EPOCHS))}: "
          "our best on CIFAR is over the same epochs, elsewhere over every evaluation. The paper trains in pure bf16; "
          "the weights column says what each row did. α and gain: the final means over the norm sites. Training "
          "loss: the final one, beside the loss of answering by the class frequencies (chance's): a degraded run "
          "(far below its baseline's accuracy, its training loss still under chance's, as the paper's DyT runs are) "
          "reads apart from one at chance.", "",
          "| data | budget | arm | weights | final | Δ vs baseline (p) | best | Δ vs baseline (p) | chance | learned "
          "| collapsed | training loss (chance's) | final saturation | final α | final gain | paper: final | paper: best |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]

    def pct(values):
        return mean_std([100 * v for v in values])

    def points(van, runs, key):
        if not van:
            return "—"
        by_seed = {r["seed"]: key(r) for r in van}
        d = np.mean([key(r) for r in runs]) - np.mean(list(by_seed.values()))
        pairs = [(by_seed[r["seed"]], key(r)) for r in runs if r["seed"] in by_seed]
        test = paired_t_test(*zip(*pairs)) if len(pairs) > 1 else None
        return f"{100 * d:+.1f} ({fmt(test and test[1], '.2g')})"

    missing = []
    for (scale, budget), labels in cells.items():
        for arm, group_runs in labels.items():
            van, why = baselines.get(((scale, budget), arm), (None, None))
            if why:
                missing.append(f"§ {arm} at {scale} {budget}: {why}.")
            best_ref = refs["best_accuracy_1seed"].get(scale, {}).get(arm)
            epochs = PAPER_BEST_EPOCHS if scale in refs["best_accuracy_1seed"] else ()

            def best(r):
                return best_accuracy(r, epochs)

            def final(r):
                return r["final_accuracy"]

            chance = np.mean([r["chance_accuracy"] for r in group_runs])
            learned = sum(r["final_accuracy"] >= chance + (1 - chance) / 2 for r in group_runs)
            final_ref = refs["final_accuracy"].get(scale, {}).get(arm)
            alphas = [a for a in (mean_of_sites(r["log"][-1], "alpha") for r in group_runs) if a is not None]
            gains = [g for g in (mean_of_sites(r["log"][-1], "gain") for r in group_runs) if g is not None]
            md.append(f"| {scale} | {budget} | {arm} | {', '.join(sorted({precision(r) for r in group_runs}))} "
                      f"| {pct(map(final, group_runs))} | {points(van, group_runs, final)} | {pct(map(best, group_runs))} "
                      f"| {points(van, group_runs, best)} | {100 * chance:.1f} | {learned}/{len(group_runs)} "
                      f"| {collapses(group_runs)} | {mean_std([r.get('final_train_loss') for r in group_runs])} "
                      f"({fmt(np.mean([r.get('unigram_train_loss', np.nan) for r in group_runs]), '.2f')}) "
                      f"| {mean_std([r['final_saturation'] for r in group_runs])} | {mean_std(alphas) if alphas else '—'} "
                      f"| {mean_std(gains) if gains else '—'} "
                      f"| {fmt(final_ref and np.mean(list(final_ref.values())), '.1f')} | {fmt(best_ref, '.1f')} |")
    md += [""] + missing if missing else []
    if out is None:
        return md + [""]
    figures.accuracy_curves(cells, os.path.join(out, "vit_accuracy.png"))
    md += ["", "![test and training accuracy of every ViT run](vit_accuracy.png)", ""]
    tracked = {key: labels for key, labels in cells.items() if any("gain" in r["log"][-1] for rs in labels.values() for r in rs)}
    if tracked:
        figures.alpha_and_gains(tracked, os.path.join(out, "vit_alpha_gain.png"))
        md += ["![alpha and the norm gains over training](vit_alpha_gain.png)", ""]
    return md


# the precision experiment's 2 x 2 (config/vit_precision): (alpha, the rest of the weights) -> its arm
PRECISION_ARMS = {("frozen", "pure bf16"): "dyt", ("free", "pure bf16"): "dyt_alphafp32_x70",
                  ("frozen", "fp32"): "dyt_fp32_frozen", ("free", "fp32"): "dyt_fp32_alphax70"}
# a run is degraded when it lost at least this fraction of what its seed's LayerNorm gained over chance (the
# paper's DyT ViT runs lost 56% and 67% of it), without collapsing to chance
DEGRADED_LOSS = 0.25


def precision_section(runs):
    """The 2 x 2 precision experiment: DyT at alpha_0 = 2 with alpha frozen or free, the rest of the weights pure
    bf16 or fp32, each against LayerNorm in the same precision, seed by seed: the accuracy gap (paired t-test),
    how many runs degraded and collapsed, Fisher's exact test of the counts between the rows and the columns, and
    the paired accuracy difference each factor makes."""
    study = [r for r in runs if r["config"].get("study") == "vit" and r["scale"] == "digits17" and "final_accuracy" in r]
    by_arm = defaultdict(dict)
    for r in study:
        by_arm[r["label"]][r["seed"]] = r
    if not all(arm in by_arm for arm in PRECISION_ARMS.values()):
        return []
    base = {"pure bf16": by_arm.get(BASELINE, {}), "fp32": by_arm.get("vanilla_fp32") or by_arm.get(BASELINE, {})}

    def outcome(arm, weights):
        """Per seed with a baseline: (accuracy, gap to LayerNorm, degraded, collapsed)."""
        out = {}
        for seed, r in by_arm[arm].items():
            if seed in base[weights]:
                van, chance = base[weights][seed]["final_accuracy"], r["chance_accuracy"]
                gap = r["final_accuracy"] - van
                out[seed] = (r["final_accuracy"], gap, not r["collapsed"] and -gap >= DEGRADED_LOSS * (van - chance),
                             bool(r["collapsed"]))
        return out

    cells = {key: outcome(arm, key[1]) for key, arm in PRECISION_ARMS.items()}
    md = ["## The precision experiment: alpha frozen or free x the rest pure bf16 or fp32", "",
          "DyT at alpha_0 = 2, final top-1 test accuracy (%) and its gap to LayerNorm of the same seed in the same "
          "precision (points; p a paired t-test over seeds). Degraded: lost at least "
          f"{DEGRADED_LOSS:.0%} of what LayerNorm gained over chance, and not collapsed; collapsed: at chance by this "
          "project's rule. A free alpha is kept in fp32 and trained at 70 x the learning rate (as far as it could "
          "travel over the paper's 39,100 steps); a frozen one stays at 2 (in pure bf16 every update of it rounds "
          "away).", "",
          "| alpha | rest of the weights | arm | seeds | accuracy | LayerNorm | gap (p) | degraded | collapsed "
          "| final α: min, max |", "|---|---|---|---|---|---|---|---|---|---|"]
    for (alpha, weights), arm in PRECISION_ARMS.items():
        got = cells[(alpha, weights)]
        gaps = [g for _, g, _, _ in got.values()]
        test = paired_t_test([0.0] * len(gaps), gaps) if len(gaps) > 1 else None
        final_alphas = [mean_of_sites(r["log"][-1], "alpha") for r in by_arm[arm].values()]
        md.append(f"| {alpha} | {weights} | {arm} | {len(got)} | {mean_std([100 * a for a, *_ in got.values()])} "
                  f"| {mean_std([100 * base[weights][s]['final_accuracy'] for s in got])} "
                  f"| {fmt(100 * np.mean(gaps) if gaps else None, '+.1f')} ({fmt(test and test[1], '.2g')}) "
                  f"| {sum(d for _, _, d, _ in got.values())}/{len(got)} | {sum(c for *_, c in got.values())}/{len(got)} "
                  f"| {min(final_alphas):.4f}, {max(final_alphas):.4f} |")
    md += ["", "Each factor, the other held: the counts of degraded or collapsed runs (Fisher's exact p), and the "
           "accuracy difference seed by seed (points, paired t-test).", "",
           "| factor | held | failed: one level against the other | Fisher p | accuracy difference (p) |",
           "|---|---|---|---|---|"]
    contrasts = [("alpha free − frozen", w, (("free", w), ("frozen", w))) for w in ("pure bf16", "fp32")] + \
                [("rest fp32 − pure bf16", f"alpha {a}", ((a, "fp32"), (a, "pure bf16"))) for a in ("frozen", "free")]
    for factor, held, (one, other) in contrasts:
        a, b = cells[one], cells[other]
        fa, fb = (sum(d or c for _, _, d, c in x.values()) for x in (a, b))
        seeds = sorted(a.keys() & b.keys())
        test = paired_t_test([b[s][0] for s in seeds], [a[s][0] for s in seeds]) if len(seeds) > 1 else None
        diff = np.mean([a[s][0] - b[s][0] for s in seeds]) * 100 if seeds else None
        md.append(f"| {factor} | {held} | {fa}/{len(a)} against {fb}/{len(b)} | {fisher_exact(fa, len(a), fb, len(b)):.2g} "
                  f"| {fmt(diff, '+.1f')} ({fmt(test and test[1], '.2g')}) |")
    return md + [""]


def convert_section(runs, out=None):
    """A trained model's norms converted (convert.py): per cell and arm, the validation loss of the trained model
    as it was (the LayerNorm continuation's step 0), right after the conversion (the arm's step 0) and after
    fine-tuning, against LayerNorm fine-tuned as long from the same weights (Δ%, p a paired t-test over the
    seeds, each seed its own source), whether each run learned, and alpha_0 and the final alpha (the mean over
    the sites); in out (if given), the validation loss over fine-tuning."""
    study = [r for r in runs if r["config"].get("study") == "convert"]
    if not study:
        return []
    by_cell = defaultdict(list)
    for r in sorted(study, key=lambda r: (r["scale"], r["label"] != BASELINE, r["label"])):
        by_cell[(r["scale"], r["budget"])].append(r)
    cells = {key: pools(cell_runs) for key, cell_runs in by_cell.items()}
    baselines = {(key, arm): (van, why) for key, rows in comparisons(cells).items() for arm, _, _, van, why in rows}
    md = ["## A trained model's norms converted", "",
          "Validation loss, nats per token: the trained model as it was (LayerNorm's, before any fine-tuning step), "
          "right after its norms were converted (before any step) and after fine-tuning; Δ% = (arm − LayerNorm "
          "fine-tuned as long from the same weights) / LayerNorm, p a paired t-test over seeds (each seed starts "
          f"from its own trained run). Learned: the final training loss at least {LEARNED_MARGIN} nats below the "
          "unigram training loss. α: the mean over the sites at the start (alpha_0, calibrated or not) and at the end.",
          "", "| model | budget | arm | steps | trained, before | right after conversion | after fine-tuning "
          "| Δ% vs LayerNorm fine-tuned (p) | unigram val | learned | α: start → end |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
    missing = []
    for (scale, budget), labels in cells.items():
        for arm, group_runs in labels.items():
            van, why = baselines.get(((scale, budget), arm), (None, None))
            if why:
                missing.append(f"§ {arm} at {scale} {budget}: {why}.")
            base = van if van is not None else group_runs  # LayerNorm continued is its own baseline
            before = mean_std([r["log"][0]["val_loss"] for r in base])
            against = "—"
            if van is not None:
                d, p = delta(van, group_runs, "final_val_loss")
                against = f"{fmt(d, '+.1f')} ({fmt(p, '.2g')})"
            alphas = [(mean_of_sites(r["log"][0], "alpha"), mean_of_sites(r["log"][-1], "alpha")) for r in group_runs]
            alpha = "—" if alphas[0][0] is None else \
                f"{mean_std([a for a, _ in alphas])} → {mean_std([b for _, b in alphas])}"
            md.append(f"| {scale} | {budget} | {arm} | {group_runs[0]['log'][-1]['iter']} | {before} "
                      f"| {mean_std([r['log'][0]['val_loss'] for r in group_runs])} "
                      f"| {mean_std([r['final_val_loss'] for r in group_runs])} | {against} "
                      f"| {group_runs[0]['unigram_val_loss']:.3f} | {learned_count(group_runs)}/{len(group_runs)} | {alpha} |")
    md += [""] + missing + [""] if missing else [""]
    if out is None:
        return md
    figures.fine_tuning_curves(cells, os.path.join(out, "convert_curves.png"))
    return md + ["![validation loss over fine-tuning](convert_curves.png)", ""]
