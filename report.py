"""
Turn a folder of runs into the regime paper's tables and figures.

    python report.py out/            # writes out/report.md and out/*.png (drawn by figures.py)

Reads every finished run of the folder (runs.py: what each run is, which runs pool; unfinished and
missing runs are listed). Runs of the regime study are grouped into cells (arch, scale, budget), and
every arm of a cell (DyT, Derf, HardTanh, a fork's norm, an intervention) is compared with its
baseline by one rule (runs.BASELINE_RULE): the architecture's usual norm (LayerNorm for GPT-2 and the
ViT, RMSNorm for Llama) with the arm's settings but the norm's own; every run is in a comparison or in
a list that says why not. The plateau ablation, the entropic-overload study and the ViT get sections
of their own.

The paper (arXiv 2604.23434) compares losses at the final step; its author later noted that at each
method's best checkpoint the low-data DyT win does not hold. Both are reported, on the paper's
validation prefix and on the whole validation split, with the paper's figures beside them (paper.py).
"""

import os
import sys
from collections import defaultdict

import numpy as np

import figures
import paper
from checkpoint import atomic_open
from cli import ConfigError, run_cli
from probes import OVERLOAD_FRACTION, entropy_ceiling, entropy_max
from runs import BASELINE, BASELINE_RULE, arms, comparisons, group, load_runs, missing_runs, not_compared, pools
from stats import mean_std, paired_t_test

MEASURES = [("final_val_loss", "Final step: the paper's comparison"),
            ("best_val_loss", "Best checkpoint: the author's later caveat"),
            ("final_val_loss_full", "Final step, whole validation split"),
            ("best_val_loss_full", "Best checkpoint, whole validation split")]


# -----------------------------------------------------------------------------
# Tables

def fmt(x, spec="+.1f", none="—"):
    return none if x is None or (isinstance(x, float) and np.isnan(x)) else format(x, spec)


def delta(vanilla, other, measure):
    """(Δ% of the means, paired t-test p over matching seeds)."""
    a = np.mean([r[measure] for r in vanilla])
    b = np.mean([r[measure] for r in other])
    by_seed = {r["seed"]: r[measure] for r in vanilla}
    pairs = [(by_seed[r["seed"]], r[measure]) for r in other if r["seed"] in by_seed]
    test = paired_t_test([p[0] for p in pairs], [p[1] for p in pairs]) if pairs else None
    return 100 * (b - a) / a, test and float(test[1])


def fired(runs):
    """'stalled 1, unigram 2': the collapse criteria that fired over runs, each with its count."""
    criteria = [c for r in runs for c in r.get("collapse_criteria", ["stalled"] if r["collapsed"] else [])]
    return ", ".join(f"{c} {criteria.count(c)}" for c in sorted(set(criteria)))


def collapses(runs):
    """'2/3 (stalled 1, unigram 2)', or '0/3': how many runs collapsed, and by which criterion."""
    n = sum(bool(r["collapsed"]) for r in runs)
    return f"{n}/{len(runs)}" + (f" ({fired(runs)})" if n else "")


def flags(runs):
    """' ⚠ 2/3 collapsed (stalled 1, unigram 2)' after a loss, or nothing when no run collapsed."""
    n = sum(bool(r["collapsed"]) for r in runs)
    return f" ⚠ {n}/{len(runs)} collapsed ({fired(runs)})" if n else ""


def baseline_cell(base_label, base_runs, measure):
    """The baseline column: its numbers, and its label where it is not the usual norm as it comes."""
    if base_runs is None:
        return "none here §"
    return mean_std([r[measure] for r in base_runs]) + flags(base_runs) + ("" if base_label == BASELINE else f" ({base_label})")


def arms_table(rows, measure):
    """Every arm of every cell against its baseline (rows: runs.comparisons) on one measure, with the paper's
    figures. Arms whose paper figure is from step 4000 are compared at our step 4000 on the final-step
    measure (†); an arm whose baseline the folder lacks says so (§) and what trains it."""
    lines = ["| arch | scale | budget | T/P | arm | vanilla | arm | Δ% | p (paired t) | paper: vanilla | paper: arm "
             "| paper Δ% |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    early_step, missing = False, []
    for (arch, scale, budget), cell_rows in rows.items():
        for method, runs, base_label, van, why in cell_rows:
            early = measure == "final_val_loss" and (arch, method) in paper.AT_REFERENCE_STEP
            m = "val_loss_at_reference_step" if early else measure
            if any(r[m] is None for r in runs + (van or [])):  # a run shorter than the reference step
                continue
            early_step |= early
            d, p = delta(van, runs, m) if van else (None, None)
            ref_vanilla, ref, ref_delta = paper.reference(arch, method, scale, budget)
            note = " ‡" if (arch, scale, budget) in paper.DELTA_NOTE and method == "dyt" else ""
            tp = np.mean([r["T_over_P"] for r in (van or []) + runs])
            lines.append(f"| {arch} | {scale} | {budget} | {tp:.3g} | {method} | {baseline_cell(base_label, van, m)} "
                         f"| {mean_std([r[m] for r in runs])}{flags(runs)}{' †' if early else ''} "
                         f"| {fmt(d)} | {fmt(p, '.3f')} | {fmt(ref_vanilla, '.3f')} | {fmt(ref, '.3f')}{' †' if early else ''} "
                         f"| {fmt(ref_delta)}{note} |")
            if van is None:
                missing.append(f"§ {method} at {arch} {scale} {budget}: {why}.")
    if len(lines) == 2:
        return ["No cell has an arm."]
    notes = [f"‡ {paper.DELTA_NOTE[k]}." for k in rows if k in paper.DELTA_NOTE]
    if early_step:
        notes.append(f"† the paper's figure is from step {paper.REFERENCE_STEP}, so ours is taken at the same step.")
    return lines + ([""] + notes + missing if notes or missing else [])


def delta_grid(rows, scales, budgets, arch, arm, measure):
    """An arm's Δ% against its baseline for every (scale, budget) of an architecture that has both (NaN
    elsewhere), and beside it what of the cell's runs (both arms) collapsed, as "2/6" ("" when none)."""
    grid = np.full((len(scales), len(budgets)), np.nan)
    flags = np.full(grid.shape, "", dtype=object)
    for (a, scale, budget), cell_rows in rows.items():
        for method, runs, _, van, _ in cell_rows:
            if a != arch or method != arm or not van:
                continue
            i, j = scales.index(scale), budgets.index(budget)
            grid[i, j] = delta(van, runs, measure)[0]
            both = van + runs
            n = sum(bool(r.get("collapsed")) for r in both)
            flags[i, j] = f"{n}/{len(both)}" if n else ""
    return grid, flags


def squashing(runs):
    """Whether the runs' norm is a squashing one: they logged a saturation."""
    return all(r["final_saturation"] is not None for r in runs)


def role(arch, scale, budget):
    """How the paper's rule scores a cell, and whether the paper ran it: a cell it did not run (a micro cell,
    a fork's) is scored as the calibration cell it stands in for, and says so."""
    scored = paper.cell_role(arch, scale, budget)
    ran = paper.ran(arch, scale, budget)
    return scored, (scored or "not scored") + ("" if ran else ", a cell the paper did not run")


def heuristic_section(comparisons):
    """The paper's saturation rule on every arm with a squashing norm and a baseline: the rule was fitted on
    DyT, and a fork's squash is scored by it the same way."""
    rows = []
    for (arch, scale, budget), cell_rows in comparisons.items():
        for arm, runs, _, van, _ in cell_rows:
            if van and squashing(runs):
                d, _ = delta(van, runs, "final_val_loss")
                early = [r["saturation_at_500"] for r in runs if r["saturation_at_500"] is not None]
                scored, shown = role(arch, scale, budget)
                rows.append({"arm": arm, "cell": f"{arch} {scale} {budget}", "scale": f"{arch} {scale}", "delta": d,
                             "helps": d < 0, "role": scored, "shown": shown,
                             "sat_500": np.mean(early) if early else None,
                             "sat_final": np.mean([r["final_saturation"] for r in runs])})
    if not rows:
        return ["No cell has vanilla runs and a squashing arm."], rows
    lines = ["| arm | cell | scored as | Δ% | helps | saturation at step 500 | final saturation "
             f"| predicted (final > {paper.THRESHOLD}) |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['arm']} | {r['cell']} | {r['shown']} | {r['delta']:+.1f} "
                     f"| {'yes' if r['helps'] else 'no'} | {fmt(r['sat_500'], '.3f')} | {r['sat_final']:.3f} "
                     f"| {'helps' if r['sat_final'] > paper.THRESHOLD else 'hurts'} |")
    h = paper.PAPER["heuristic"]
    lines += ["", "As the paper scores it, per arm: accuracy at 0.43 and AUC on the calibration cells, "
              "leave-one-scale-out accuracy with the threshold re-fitted on the other scales (the first, lowest, "
              "best midpoint), the 3.78B stress cells added, and the Llama cells apart.", "",
              "| arm | score | calibration cells | accuracy at 0.43 | AUC | leave-one-scale-out | + stress: cells, accuracy "
              "| Llama: cells, accuracy |", "|---|---|---|---|---|---|---|---|"]
    for arm in dict.fromkeys(r["arm"] for r in rows):
        for score in ("sat_500", "sat_final"):
            sc = paper.heuristic_scores([r for r in rows if r["arm"] == arm], score)
            cal, both, llama = sc["calibration"], sc["calibration + stress"], sc["llama"]
            lines.append(f"| {arm} | {score} | {cal['n']} | {fmt(cal['accuracy'], '.2f')} | {fmt(cal['auc'], '.2f')} "
                         f"| {fmt(cal['loso'], '.2f', 'needs 2+ scales')} | {both['n']}, {fmt(both['accuracy'], '.2f')} "
                         f"| {llama['n']}, {fmt(llama['accuracy'], '.2f')} |")
    lines.append(f"| paper's DyT | final | 12 | {h['in_sample_accuracy_12']:.2f} | {h['auc_12']:.2f} "
                 f"| {h['leave_one_scale_out_accuracy']:.2f} | 14, {h['accuracy_14']:.2f} "
                 f"| {len(h['llama_checks']['cells'])}, {h['llama_checks']['accuracy']:.2f} |")
    table = h["llama_checks"]["saturation_table_64m_118m"]
    lines += ["", "The paper's Llama check is {} of {} with the saturations its predictor uses (64M/118M: {}), and {} of {} "
              "with its own saturation table's for that cell ({}).".format(*paper.llama_check(), next(
                  c["saturation"] for c in h["llama_checks"]["cells"] if c["tokens"] == "118m"),
                  *paper.llama_check(table), table)]
    return lines, rows


def rank_section(comparisons, out=None):
    """Every arm against its baseline on the effective rank of the residual stream (mean over blocks, final
    step), with a figure of it block by block in out (if given); the paper finds DyT lowers it by 43-61%."""
    def ranked(runs):
        return all(r.get("final_effective_rank") is not None for r in runs)

    pairs = []
    for key, cell_rows in comparisons.items():
        shown = [(arm, runs, base, van) for arm, runs, base, van, _ in cell_rows if van and ranked(runs) and ranked(van)]
        if shown:
            pairs.append((key, {lab: r for arm, runs, base, van in shown for lab, r in ((base, van), (arm, runs))}, shown))
    if not pairs:
        return []
    md = ["## Effective rank of the residual stream", "",
          "exp of the entropy of the normalised singular values of each block's output over the probe tokens "
          "(Roy & Vetterli 2007), averaged over blocks, at the final step. The paper reports DyT lowering it "
          "by 43-61%.", "", "| arch | scale | budget | arm | vanilla | arm | Δ% |", "|---|---|---|---|---|---|---|"]
    for (arch, scale, budget), _, shown in pairs:
        for arm, runs, base, van in shown:
            d, _ = delta(van, runs, "final_effective_rank")
            md.append(f"| {arch} | {scale} | {budget} | {arm} | {mean_std([r['final_effective_rank'] for r in van])}"
                      f"{'' if base == BASELINE else f' ({base})'} | {mean_std([r['final_effective_rank'] for r in runs])} "
                      f"| {d:+.1f} |")
    if out is None:
        return md + [""]
    figures.rank_plot([(key, methods) for key, methods, _ in pairs], os.path.join(out, "effective_rank.png"))
    return md + ["", "![effective rank per block](effective_rank.png)", ""]


# a run "leaves the unigram plateau" at the first evaluation this far below its budget's unigram val
# loss, and "learned" when its final training loss is at least this far below the unigram train loss
PLATEAU_DROP = 0.3
LEARNED_MARGIN = 0.5


def setting_order(method):
    """The plateau table's rows: the paper-faithful baseline, the settings that change it, then LayerNorm."""
    return method != "dyt_faithful", method.startswith("vanilla"), method


def left_plateau_at(run):
    """The first step whose validation loss is PLATEAU_DROP below the unigram validation loss, or None."""
    return next((row["iter"] for row in run["log"] if row["val_loss"] <= run["unigram_val_loss"] - PLATEAU_DROP), None)


def separation_table(runs):
    """Does saturation >= 0.5 separate the collapsed runs from the others, as the regime paper says of its
    Llama-DyT runs? Counts of runs with a saturation, by collapse (the project's rule) and final saturation."""
    runs = [r for r in runs if r["final_saturation"] is not None]
    if not any(r["collapsed"] for r in runs):
        return []
    count = {(c, high): sum(bool(r["collapsed"]) == c and (r["final_saturation"] >= 0.5) == high for r in runs)
             for c in (True, False) for high in (True, False)}
    return ["## Collapse and saturation", "",
            "The paper separates its collapsed Llama-DyT runs (a plateau near 7.44, alpha near 2) from the converged "
            "ones by saturation >= 0.5; the collapse rule here is this project's (probes.collapsed: stalled or "
            "unigram). Every run with a squashing norm, of every study in this folder:", "",
            "| | final saturation >= 0.5 | < 0.5 |", "|---|---|---|",
            f"| collapsed | {count[True, True]} | {count[True, False]} |",
            f"| not collapsed | {count[False, True]} | {count[False, False]} |", ""]


LLAMA_ABLATIONS = ("dyt_norope", "dyt_mha", "dyt_gelu")  # the paper's ablate_rope, ablate_gqa, ablate_swiglu


def llama_mechanism_section(runs):
    """The paper's Llama mechanism claim, re-derived as it states it: over its component ablation, saturation
    >= 0.5 marks every collapsed run, and r(saturation, val loss) = 0.939. Ours from the folder's Llama ablation
    runs (final saturation; the best validation loss up to step 4000, where the paper's runs stopped), the
    paper's from its per-seed figures."""
    ours = [r for r in runs if r["config"].get("arch") == "llama" and r["config"]["method"] in LLAMA_ABLATIONS
            and r["final_saturation"] is not None]
    m = paper.PAPER["llama_ablation_mechanism"]
    threshold = m["collapse_threshold"]
    rows = [("paper", *paper.llama_mechanism(), len(m["runs"]))]
    if ours:
        points = [(r["final_saturation"], min(row["val_loss"] for row in r["log"] if row["iter"] <= paper.REFERENCE_STEP),
                   r["collapsed"]) for r in ours]
        rows.append(("this folder", *paper.mechanism(points, threshold), len(points)))
    md = ["## The paper's Llama mechanism: does saturation mark collapse?", "",
          f"Over the Llama-DyT component ablation (RoPE, GQA, SwiGLU each removed, {', '.join(LLAMA_ABLATIONS)} here), "
          f"the paper finds saturation >= {threshold} in every collapsed run and in none of the others, and Pearson r "
          f"(saturation, val loss) = {m['pearson_r']}. The paper's row is computed from its per-seed figures "
          "(reference/paper_cells.json: its collapsed runs are those on the 7.44 plateau); ours from this folder's runs "
          "(collapse by this project's rule, the best validation loss up to step 4000).", "",
          "| runs | n | Pearson r | collapsed, sat ≥ 0.5 | collapsed, sat < 0.5 | not collapsed, sat ≥ 0.5 "
          "| not collapsed, sat < 0.5 |", "|---|---|---|---|---|---|---|"]
    for name, r, count, n in rows:
        md.append(f"| {name} | {n} | {fmt(r, '.3f')} | {count[True, True]} | {count[True, False]} "
                  f"| {count[False, True]} | {count[False, False]} |")
    if not ours:
        md += ["", "This folder holds no Llama ablation run: `python sweep.py config/llama_dyt_64m_118m_*.py --seeds 1337 42 7`."]
    return md + [""]


def learned_section(cells):
    """Did every run of the regime cells learn more than token frequencies? Per cell and method, the
    final training loss against the budget's unigram training loss."""
    rows = [(k, m, runs) for k, methods in cells.items() for m, runs in methods.items()
            if all("unigram_train_loss" in r for r in runs)]
    if not rows:
        return []
    md = ["## Did every run learn? Against the unigram loss", "",
          f"The unigram loss is what a model that predicts every token from its frequency in the budget scores. "
          f"A run counts as learned when its final training loss is at least {LEARNED_MARGIN} nats below the "
          f"unigram training loss; 'leaves the plateau' is the first evaluation whose validation loss is "
          f"{PLATEAU_DROP} below the unigram validation loss.", "",
          "| arch | scale | budget | method | unigram train / val | final train | unigram − final train (min) "
          f"| learned (≥ {LEARNED_MARGIN}) | leaves the plateau at step | collapsed |", "|---|---|---|---|---|---|---|---|---|---|"]
    for (arch, scale, budget), method, runs in rows:
        margins = [r["unigram_train_loss"] - r["final_train_loss"] for r in runs]
        leaves = [left_plateau_at(r) for r in runs]
        md.append(f"| {arch} | {scale} | {budget} | {method} | {runs[0]['unigram_train_loss']:.3f} / "
                  f"{runs[0]['unigram_val_loss']:.3f} | {mean_std([r['final_train_loss'] for r in runs])} "
                  f"| {min(margins):.3f} | {sum(m >= LEARNED_MARGIN for m in margins)}/{len(runs)} "
                  f"| {', '.join('never' if s is None else str(s) for s in leaves)} | {collapses(runs)} |")
    return md + [""]


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
    baselines = {(key, arm): (van, why) for key, rows in comparisons(cells, study).items() for arm, _, _, van, why in rows}
    refs = paper.PAPER["vit"]
    md = ["## The ViT: DyT against LayerNorm on images", "",
          "Top-1 test accuracy, %. A run learned when its final test accuracy is at least halfway from chance "
          "to 100%. Paper: the final accuracy of its two seeds (results/vit_results.json) and the best over "
          f"evaluations of its one-seed alpha_0 sweep (its table), after epochs {', '.join(map(str, PAPER_BEST_EPOCHS))}: "
          "our best on CIFAR is over the same epochs, elsewhere over every evaluation. The paper trains in pure bf16; "
          "the weights column says what each row did. α and gain: the final means over the norm sites.", "",
          "| data | budget | arm | weights | final | Δ vs baseline (p) | best | Δ vs baseline (p) | chance | learned "
          "| final saturation | final α | final gain | paper: final | paper: best |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]

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


# -----------------------------------------------------------------------------

def report(out):
    runs, left_out = load_runs(out)
    if not runs:
        why = "".join(f"; {name}: {reason}" for name, reason in left_out)
        raise ConfigError(f"no finished run (summary.json) under {out}: run sweep.py first{why}")
    cells, scales, budgets = group(runs)
    rows = comparisons(cells, runs)
    md = ["# Report", "", f"{len(runs)} finished runs in `{out}`. {BASELINE_RULE} Its label is in brackets "
          "beside the baseline's numbers where it is not the usual norm as it comes; § marks an arm whose baseline "
          "this folder lacks, with the command that trains it. Validation loss in nats per token; Δ% = "
          "(arm − vanilla) / vanilla, negative when the arm is better; p is a paired t-test over matching seeds; "
          "⚠ marks runs flagged as collapsed, by criterion: stalled (val loss stalled while every α stayed "
          "near its start, the paper's rule) or unigram (final training loss within 0.1 of the unigram loss of "
          "the budget: the model learned token frequencies and nothing more).", ""]
    for measure, title in MEASURES:
        md += [f"## {title}", ""] + arms_table(rows, measure) + [""]
    unused = not_compared(cells, rows)
    if unused:
        md += ["## Runs in no comparison", "", "Finished runs of the regime cells that no table above compares, and why:",
               ""] + [f"- {u}" for u in unused] + [""]
    md += learned_section(cells)
    md += separation_table(runs)
    if any(r["config"].get("arch") == "llama" for r in runs):
        md += llama_mechanism_section(runs)
    lines, scored = heuristic_section(rows)
    md += [f"## The saturation heuristic: the arm helps iff saturation > {paper.THRESHOLD}", ""] + lines + [""]
    md += ["## Figures", ""]
    for arch in sorted({k[0] for k in cells}):
        compared = [arm for k, cell_rows in rows.items() if k[0] == arch for arm, _, _, van, _ in cell_rows if van]
        shown = [a for a in arms(cells, arch) if compared.count(a) >= 2]
        if shown:  # an arm in two cells or more has a phase diagram to draw
            grids = [(arm, title.split(":")[0], *delta_grid(rows, scales, budgets, arch, arm, measure))
                     for arm in shown for measure, title in MEASURES[:2]]
            figures.phase_diagram(grids, scales, budgets, arch, os.path.join(out, f"phase_{arch}.png"))
            md += [f"![phase diagram](phase_{arch}.png)", ""]
        figures.curves(cells, arch, os.path.join(out, f"curves_{arch}.png"))
        md += [f"![loss curves](curves_{arch}.png)", ""]
    if scored:
        figures.saturation_plot(scored, paper.THRESHOLD, os.path.join(out, "saturation.png"))
        md += ["![saturation against Δ%](saturation.png)", ""]
    for stem in sorted({r["stem"] for r in runs if any("alpha" in row for row in r["log"])}):
        run = min((r for r in runs if r["stem"] == stem), key=lambda r: r["name"])
        figures.alpha_plot(run, os.path.join(out, f"alpha_{stem}.png"))
        md += [f"![alpha against 1/std](alpha_{stem}.png)", ""]
    md += rank_section(rows, out)
    md += plateau_section(runs, out)
    md += entropy_section(runs, out)
    md += vit_section(runs, out)
    other = sorted({r["stem"] for r in runs if r["key"] is None and r["config"].get("study") not in ("entropy", "plateau",
                                                                                                    "vit")})
    if other:
        md += ["## Runs of no study", "", "| run | final | best |", "|---|---|---|"]
        md += [f"| {s} | {mean_std([r['final_val_loss'] for r in runs if r['stem'] == s])} "
               f"| {mean_std([r['best_val_loss'] for r in runs if r['stem'] == s])} |" for s in other] + [""]
    missing = missing_runs(runs, left_out)
    if missing:
        md += ["## Runs missing or left out", "", "Not in the tables above (a study folder still filling shows "
               "here what it lacks):", ""] + [f"- {m}" for m in missing] + [""]
    md += ["Paper figures: Verma (2026), *When Does Removing LayerNorm Help?*, arXiv 2604.23434, "
           "as in `reference/paper_cells.json`."]
    with atomic_open(os.path.join(out, "report.md")) as f:
        f.write("\n".join(md) + "\n")
    for m in missing:
        print(f"missing {m}")
    print(f"wrote {os.path.join(out, 'report.md')} from {len(runs)} runs" + (f"; {len(missing)} missing" if missing else ""))


def main(argv):
    if len(argv) != 1:
        raise ConfigError("usage: python report.py OUT_DIR   (a folder of run folders written by sweep.py)")
    if not os.path.isdir(argv[0]):
        raise ConfigError(f"{argv[0]} is not a folder: give the --out folder of a sweep")
    report(argv[0])


if __name__ == "__main__":
    run_cli(main, sys.argv[1:], doc=__doc__)
