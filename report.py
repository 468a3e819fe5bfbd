"""
Turn a folder of runs into the regime paper's tables and figures.

    python report.py out/            # writes out/report.md and out/*.png (drawn by figures.py)

Reads every finished run of the folder (runs.py: what each run is, which runs pool; unfinished and
missing runs are listed). Runs of the regime study are grouped into cells (arch, scale, budget), and
every arm of a cell (DyT, Derf, HardTanh, a fork's norm, an intervention) is compared with its
baseline by one rule (runs.BASELINE_RULE): the architecture's usual norm (LayerNorm for GPT-2 and the
ViT, RMSNorm for Llama) with the arm's settings but the norm's own; every run is in a comparison or in
a list that says why not. The plateau ablation, the entropic-overload study, the ViT and the conversion study get sections
of their own (studies.py).

The paper (arXiv 2604.23434) compares losses at the final step; its author later noted that at each
method's best checkpoint the low-data DyT win does not hold. Both are reported, on the paper's
validation prefix and on the whole validation split, with the paper's figures beside them (paper.py).
"""

import os
import sys

import numpy as np

import figures
import paper
from atomic import atomic_open
from cli import ConfigError, run_cli
from runs import BASELINE, BASELINE_RULE, arms, comparisons, group, load_runs, missing_runs, not_compared
from stats import mean_std
from studies import convert_section, entropy_section, plateau_section, precision_section, vit_section
from tables import LEARNED_MARGIN, PLATEAU_DROP, collapses, delta, flags, fmt, left_plateau_at

MEASURES = [("final_val_loss", "Final step: the paper's comparison"),
            ("best_val_loss", "Best checkpoint: the author's later caveat"),
            ("final_val_loss_full", "Final step, whole validation split"),
            ("best_val_loss_full", "Best checkpoint, whole validation split")]


# -----------------------------------------------------------------------------
# The regime study's tables

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
    early_step, missing, short = False, [], []
    for (arch, scale, budget), cell_rows in rows.items():
        for method, runs, base_label, van, why in cell_rows:
            ref_vanilla, ref, ref_delta = paper.reference(arch, method, scale, budget)
            # where the paper's figure is from its step 4000, ours is taken there too (a cell the paper has no
            # figure for, a micro one, at its final step)
            early = measure == "final_val_loss" and (arch, method) in paper.AT_REFERENCE_STEP and ref is not None
            m = "val_loss_at_reference_step" if early else measure
            if any(r[m] is None for r in runs + (van or [])):  # a run shorter than the reference step
                short.append(f"{method} at {arch} {scale} {budget}")
                continue
            early_step |= early
            d, p = delta(van, runs, m) if van else (None, None)
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
    if short:
        notes.append(f"Not in this table: {', '.join(short)}: the paper's figure is from step {paper.REFERENCE_STEP}, "
                     f"and these runs (or their baseline's) end before it.")
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




def llama_mechanism_section(runs):
    """The paper's Llama mechanism claim, re-derived as it states it: over its component ablation, saturation
    >= 0.5 marks every collapsed run, and r(saturation, val loss) = 0.939. Ours from the folder's Llama ablation
    runs (final saturation; the best validation loss up to step 4000, where the paper's runs stopped), the
    paper's from its per-seed figures."""
    ours = [r for r in runs if r["config"].get("arch") == "llama" and r["config"]["method"] in paper.LLAMA_ABLATIONS
            and r["final_saturation"] is not None]
    m = paper.PAPER["llama_ablation_mechanism"]
    threshold = m["collapse_threshold"]
    rows = [("paper", *paper.llama_mechanism(), len(m["runs"]))]
    if ours:
        points = [(r["final_saturation"], min(row["val_loss"] for row in r["log"] if row["iter"] <= paper.REFERENCE_STEP),
                   r["collapsed"]) for r in ours]
        rows.append(("this folder", *paper.mechanism(points, threshold), len(points)))
    md = ["## The paper's Llama mechanism: does saturation mark collapse?", "",
          f"Over the Llama-DyT component ablation (RoPE, GQA, SwiGLU each removed, {', '.join(paper.LLAMA_ABLATIONS)} here), "
          f"the paper finds saturation >= {threshold} in every collapsed run and in none of the others, and Pearson r "
          f"(saturation, val loss) = {m['pearson_r']}. The paper's row is computed from its per-seed figures "
          "(reference/paper_cells.json: its collapsed runs are those on the 7.44 plateau; its loss is the step-4000 "
          "evaluation's, which its files call best_val_loss); ours from this folder's runs (collapse by this project's "
          "rule, the best validation loss up to step 4000). The paper's separation is in-sample: "
          f"{m['threshold_caveat']}. Its runs' final mean alpha: collapsed "
          f"{', '.join(f'{x:.4f}' for x in sorted(r['mean_alpha'] for r in m['runs'] if r['val_loss'] > 7))}, converged "
          f"{', '.join(f'{x:.4f}' for x in sorted(r['mean_alpha'] for r in m['runs'] if r['val_loss'] <= 7))}, with fp32 "
          "master weights: an alpha that stays at 2 goes with failing, in fp32 too.", "",
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


# -----------------------------------------------------------------------------

def report(out):
    runs, left_out = load_runs(out)
    if not runs:
        why = "".join(f"; {name}: {reason}" for name, reason in left_out)
        raise ConfigError(f"no finished run (summary.json) under {out}: run sweep.py first{why}")
    cells, scales, budgets = group(runs)
    rows = comparisons(cells)
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
    md += precision_section(runs)
    md += convert_section(runs, out)
    other = sorted({r["stem"] for r in runs if r["key"] is None and r["config"].get("study") not in ("entropy", "plateau",
                                                                                                    "vit", "convert")})
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
