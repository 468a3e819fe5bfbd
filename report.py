"""
Turn a folder of runs into the regime paper's tables and figures.

    python report.py out/            # writes out/report.md and out/*.png (drawn by figures.py)

Reads every <run>/summary.json and log.jsonl (unfinished runs are listed and left out). What a run
is comes from its config (study, method, scale, budget; see train.py). Runs of the regime study are
grouped into cells (arch, scale, budget), and each method of a cell is compared with its "vanilla",
the architecture's usual norm (LayerNorm for GPT-2, RMSNorm for Llama). Runs of the entropic-overload
study get their own section: attention entropy per layer and head.

The paper (arXiv 2604.23434) compares losses at the final step; its author later noted that at each
method's best checkpoint the low-data DyT win does not hold. Both are reported, on the paper's
validation prefix and on the whole validation split. The paper's figures come from
reference/paper_cells.json, shipped with this repo.
"""

import glob
import json
import math
import os
import re
import sys
from collections import defaultdict

import numpy as np

import figures
from checkpoint import atomic_open, read_log
from configurator import ConfigError, run_cli
from probes import OVERLOAD_FRACTION, entropy_ceiling
from stats import auc, accuracy, leave_one_group_out_accuracy, mean_std, paired_t_test

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "reference", "paper_cells.json")) as f:
    PAPER = json.load(f)
THRESHOLD = 0.43  # the paper's rule: predict "DyT helps" iff its saturation > 0.43
MEASURES = [("final_val_loss", "Final step: the paper's comparison"),
            ("best_val_loss", "Best checkpoint: the author's later caveat"),
            ("final_val_loss_full", "Final step, whole validation split"),
            ("best_val_loss_full", "Best checkpoint, whole validation split")]


# -----------------------------------------------------------------------------
# Reading runs

def cell_key(config):
    """(arch, method, scale, budget) of a run of the regime study, as its config declares them, or None."""
    if config.get("study") != "regime":
        return None
    return config.get("arch", "gpt"), config["method"], config["scale"], config["budget"]


# what the tables read from every summary.json
SUMMARY_FIELDS = ("n_params", "train_tokens", "T_over_P", "final_val_loss", "best_val_loss", "best_iter",
                  "final_val_loss_full", "best_val_loss_full", "final_saturation", "saturation_at_500",
                  "collapsed", "config")


def load_runs(out):
    """(finished runs, [(name, why) for runs left out])."""
    runs, left_out = [], []
    for run_dir in sorted(glob.glob(os.path.join(out, "*", ""))):
        name = os.path.basename(run_dir.rstrip("/"))
        if not os.path.exists(os.path.join(run_dir, "log.jsonl")):
            continue  # not a run folder
        diverged = os.path.join(run_dir, "diverged.json")
        if os.path.exists(diverged):
            with open(diverged) as f:
                left_out.append((name, "diverged: " + json.load(f)["reason"]))
            continue
        if not os.path.exists(os.path.join(run_dir, "summary.json")):
            left_out.append((name, "unfinished"))
            continue
        try:
            with open(os.path.join(run_dir, "summary.json")) as f:
                run = json.load(f)
            missing = [k for k in SUMMARY_FIELDS if k not in run] if isinstance(run, dict) else ["everything"]
        except ValueError as e:  # not JSON: cut short, or another program's file
            missing = [f"valid JSON ({e})"]
        if missing:
            left_out.append((name, f"summary.json is not one train.py wrote: it lacks {', '.join(missing)}"))
            continue
        run["log"] = read_log(os.path.join(run_dir, "log.jsonl"), math.inf)  # a line cut by a kill is skipped
        if not run["log"]:
            left_out.append((name, "log.jsonl holds no evaluation"))
            continue
        run["name"], run["stem"] = name, re.sub(r"_s\d+$", "", name)
        run["seed"] = run["config"]["seed"]
        run["key"] = cell_key(run["config"])
        run["val_loss_at_reference_step"] = next((r["val_loss"] for r in run["log"] if r["iter"] == REFERENCE_STEP), None)
        runs.append(run)
    return runs, left_out


def group(runs):
    """{(arch, scale, budget): {method label: [runs]}}, and the scale and budget orders."""
    cells = defaultdict(lambda: defaultdict(list))
    size, tokens = defaultdict(list), defaultdict(list)
    for r in runs:
        if r["key"] is None:
            continue
        arch, method, scale, budget = r["key"]
        cells[(arch, scale, budget)][method].append(r)
        size[scale].append(r["n_params"])
        tokens[budget].append(r["train_tokens"])
    scales = sorted(size, key=lambda s: np.mean(size[s]))
    budgets = sorted(tokens, key=lambda b: np.mean(tokens[b]))
    order = {k: (k[0], scales.index(k[1]), budgets.index(k[2])) for k in cells}
    return dict(sorted(cells.items(), key=lambda kv: order[kv[0]])), scales, budgets


# -----------------------------------------------------------------------------
# The paper's numbers

def paper_delta(arch, scale, budget):
    """The paper's final-step Δ% of DyT against vanilla for a cell, or None."""
    if arch == "gpt":
        cell = next((c for c in PAPER["cells"] if (c["scale"], c["tokens"]) == (scale, budget)), None)
        return cell and cell["delta_pct"]
    iv = PAPER["interventions"]
    pair = {("64m", "1m"): iv["llama_64m"]["1m"], ("64m", "118m"): iv["llama_64m"]["118m"],
            ("124m", "1m"): iv["llama_124m_1m"]}.get((scale, budget))
    return pair and 100 * (pair["dyt"] - pair["vanilla"]) / pair["vanilla"]


def paper_value(arch, method, scale, budget):
    """The paper's final-step val loss for a variant (hardtanh, rmsnorm, alpha, dropout, ablation), or None."""
    iv = PAPER["interventions"]
    if scale != "64m":
        return None
    base, _, variant = method.partition("_")
    if arch == "llama":
        ablation = {"norope": "no_rope", "mha": "mha_instead_of_gqa", "gelu": "gelu_mlp_instead_of_swiglu"}
        return iv["llama_dyt_64m_118m_ablation"].get(ablation.get(variant)) if budget == "118m" else None
    if method == "hardtanh":
        return iv["hardtanh_64m"].get(budget)
    if method == "rmsnorm":
        return iv["rmsnorm_64m_2seeds"].get(budget)
    if base == "dyt" and variant.startswith("alpha"):
        sweep = {"118m": iv["dyt_alpha_sweep_64m_118m"], "1m": iv["dyt_alpha_sweep_64m_1m_2seeds"]}.get(budget, {})
        return sweep.get(f"{float(variant[5:]):.1f}")
    if base == "vanilla" and variant.startswith("dropout") and budget == "118m":
        return iv["vanilla_dropout_64m_118m"].get(variant[7:])
    return None


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


def regime_table(cells, measure):
    lines = ["| arch | scale | budget | T/P | vanilla | DyT | Δ% | p (paired t) | paper Δ% (final) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for (arch, scale, budget), methods in cells.items():
        van, dyt = methods.get("vanilla", []), methods.get("dyt", [])
        if not (van or dyt):
            continue
        tp = np.mean([r["T_over_P"] for r in van + dyt])
        d, p = delta(van, dyt, measure) if van and dyt else (None, None)
        lines.append(f"| {arch} | {scale} | {budget} | {tp:.3g} | {mean_std([r[measure] for r in van])}{flags(van)} "
                     f"| {mean_std([r[measure] for r in dyt])}{flags(dyt)} | {fmt(d)} | {fmt(p, '.3f')} "
                     f"| {fmt(paper_delta(arch, scale, budget))}{' ‡' if (arch, scale, budget) in PAPER_DELTA_NOTE else ''} |")
    notes = [f"‡ {PAPER_DELTA_NOTE[k]}." for k in cells if k in PAPER_DELTA_NOTE]
    return lines + ([""] + notes if notes else [])


# Published figures that are from step 4000, not 5000 (reference/paper_cells.json, step_notes): these
# variants are compared at our step-4000 evaluation, and the 3.78B/118M Δ% has one vanilla seed from it
REFERENCE_STEP = 4000
AT_REFERENCE_STEP = {("gpt", "vanilla_dropout0.3"), ("gpt", "vanilla_dropout0.5"),
                     ("llama", "dyt_norope"), ("llama", "dyt_mha"), ("llama", "dyt_gelu")}
PAPER_DELTA_NOTE = {("gpt", "3.78b", "118m"): "one of the paper's vanilla seeds ended at step 4000 "
                                              "(without it: +30.6%)"}


def variants_table(cells):
    lines = ["| arch | scale | budget | method | final (or step 4000 †) | Δ% vs vanilla | best | Δ% vs vanilla "
             "| paper (final) |", "|---|---|---|---|---|---|---|---|---|"]
    for (arch, scale, budget), methods in cells.items():
        van = methods.get("vanilla", [])
        for method, runs in methods.items():
            if method in ("vanilla", "dyt"):
                continue
            early = (arch, method) in AT_REFERENCE_STEP
            cols = []
            for measure in ("val_loss_at_reference_step" if early else "final_val_loss", "best_val_loss"):
                if any(r[measure] is None for r in runs + van):  # a run shorter than the reference step
                    cols += ["—", "—"]
                    continue
                d = delta(van, runs, measure)[0] if van else None
                cols += [mean_std([r[measure] for r in runs]) + flags(runs) + (" †" if early and cols == [] else ""),
                         fmt(d)]
            lines.append(f"| {arch} | {scale} | {budget} | {method} | {' | '.join(cols)} "
                         f"| {fmt(paper_value(arch, method, scale, budget), '.3f')}{' †' if early else ''} |")
    if len(lines) == 2:
        return []
    return lines + ["", f"† the paper's figure is from step {REFERENCE_STEP}, so ours is taken at the same step."]


def delta_grid(cells, scales, budgets, arch, measure):
    """DyT's Δ% against vanilla for every (scale, budget) of an architecture that has both (NaN elsewhere)."""
    grid = np.full((len(scales), len(budgets)), np.nan)
    for (a, scale, budget), methods in cells.items():
        if a == arch and methods.get("vanilla") and methods.get("dyt"):
            grid[scales.index(scale), budgets.index(budget)] = delta(methods["vanilla"], methods["dyt"], measure)[0]
    return grid


def cell_role(arch, scale, budget):
    """How the paper scores a cell with its saturation rule: the 12 GPT-2 calibration cells fit it,
    the 3.78B cells stress it, the Llama cells check it; 1.3B/10M is in the grid but in none of these."""
    if arch == "llama":
        return "llama"
    if scale == "3.78b":
        return "stress"
    return None if (scale, budget) == ("1.3b", "10m") else "calibration"


def heuristic_scores(rows, score):
    """The paper's figures for one saturation score of rows ({score, helps, scale, role}): accuracy at
    0.43 and AUC on the calibration cells, leave-one-scale-out accuracy on them, accuracy on
    calibration + stress, and on the Llama checks. None where a group has no cell."""
    pts = [r for r in rows if r[score] is not None]
    out = {}
    for name, roles in (("calibration", ("calibration",)), ("calibration + stress", ("calibration", "stress")),
                        ("llama", ("llama",))):
        group = [r for r in pts if r["role"] in roles]
        s, y, g = [r[score] for r in group], [r["helps"] for r in group], [r["scale"] for r in group]
        out[name] = {"n": len(group), "accuracy": accuracy(s, y, THRESHOLD) if group else None,
                     "auc": auc(s, y) if group else None,
                     "loso": leave_one_group_out_accuracy(s, y, g) if len(set(g)) > 1 else None}
    return out


def heuristic_section(cells):
    """The saturation rule on the cells that have both vanilla and DyT runs."""
    rows = []
    for (arch, scale, budget), methods in cells.items():
        van, dyt = methods.get("vanilla"), methods.get("dyt")
        if van and dyt:
            d, _ = delta(van, dyt, "final_val_loss")
            early = [r["saturation_at_500"] for r in dyt if r["saturation_at_500"] is not None]
            rows.append({"cell": f"{arch} {scale} {budget}", "scale": f"{arch} {scale}", "delta": d, "helps": d < 0,
                         "role": cell_role(arch, scale, budget), "sat_500": np.mean(early) if early else None,
                         "sat_final": np.mean([r["final_saturation"] for r in dyt])})
    if not rows:
        return ["No cell has both vanilla and DyT runs."], rows
    lines = ["| cell | scored as | DyT Δ% | DyT helps | saturation at step 500 | final saturation | predicted (final > 0.43) |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['cell']} | {r['role'] or 'not scored'} | {r['delta']:+.1f} | {'yes' if r['helps'] else 'no'} "
                     f"| {fmt(r['sat_500'], '.3f')} | {r['sat_final']:.3f} | {'helps' if r['sat_final'] > THRESHOLD else 'hurts'} |")
    h = PAPER["heuristic"]
    lines += ["", "As the paper scores it: accuracy at 0.43 and AUC on the calibration cells, leave-one-scale-out "
              "accuracy with the threshold re-fitted on the other scales (the first, lowest, best midpoint), "
              "the 3.78B stress cells added, and the Llama cells apart.", "",
              "| score | calibration cells | accuracy at 0.43 | AUC | leave-one-scale-out | + stress: cells, accuracy "
              "| Llama: cells, accuracy |", "|---|---|---|---|---|---|---|"]
    for score in ("sat_500", "sat_final"):
        sc = heuristic_scores(rows, score)
        cal, both, llama = sc["calibration"], sc["calibration + stress"], sc["llama"]
        lines.append(f"| {score} | {cal['n']} | {fmt(cal['accuracy'], '.2f')} | {fmt(cal['auc'], '.2f')} "
                     f"| {fmt(cal['loso'], '.2f', 'needs 2+ scales')} | {both['n']}, {fmt(both['accuracy'], '.2f')} "
                     f"| {llama['n']}, {fmt(llama['accuracy'], '.2f')} |")
    lines.append(f"| paper (final) | 12 | {h['in_sample_accuracy_12']:.2f} | {h['auc_12']:.2f} "
                 f"| {h['leave_one_scale_out_accuracy']:.2f} | 14, {h['accuracy_14']:.2f} "
                 f"| {len(h['llama_checks']['cells'])}, {h['llama_checks']['accuracy']:.2f} |")
    return lines, rows


def rank_section(cells, out):
    """DyT against vanilla on the effective rank of the residual stream (mean over blocks, final step),
    with a figure of it block by block; the paper finds DyT lowers it by 43-61%."""
    pairs = [(k, m) for k, m in cells.items() if m.get("vanilla") and m.get("dyt")
             and all(r.get("final_effective_rank") is not None for r in m["vanilla"] + m["dyt"])]
    if not pairs:
        return []
    md = ["## Effective rank of the residual stream", "",
          "exp of the entropy of the normalised singular values of each block's output over the probe tokens "
          "(Roy & Vetterli 2007), averaged over blocks, at the final step. The paper reports DyT lowering it "
          "by 43-61%.", "", "| arch | scale | budget | vanilla | DyT | Δ% |", "|---|---|---|---|---|---|"]
    for (arch, scale, budget), methods in pairs:
        d, _ = delta(methods["vanilla"], methods["dyt"], "final_effective_rank")
        md.append(f"| {arch} | {scale} | {budget} | {mean_std([r['final_effective_rank'] for r in methods['vanilla']])} "
                  f"| {mean_std([r['final_effective_rank'] for r in methods['dyt']])} | {d:+.1f} |")
    figures.rank_plot(pairs, os.path.join(out, "effective_rank.png"))
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


def plateau_section(runs, out):
    """The plateau-escape ablation (study 'plateau'): per setting and budget, where validation leaves
    the unigram plateau, how far below the unigram loss training ends, and whether it collapsed."""
    study = [r for r in runs if r["config"].get("study") == "plateau" and "unigram_val_loss" in r]
    if not study:
        return []
    by_budget = defaultdict(lambda: defaultdict(list))
    for r in sorted(study, key=lambda r: (r["train_tokens"], setting_order(r["config"]["method"]))):
        by_budget[r["config"]["budget"]][r["config"]["method"]].append(r)
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
    figures.plateau_plot(by_budget, PLATEAU_DROP, os.path.join(out, "plateau.png"))
    return md + ["", "![leaving the unigram plateau](plateau.png)", ""]


def entropy_section(runs, out):
    """Entropic overload: per config the loss and the overloaded fraction of heads; per run a
    layer x head heatmap of entropy / ceiling; the learnable slopes over training."""
    study = [r for r in runs if r["config"].get("study") == "entropy" and "attn_entropy" in r["log"][-1]]
    if not study:
        return []
    md = ["## Entropic overload (Jha & Reagen, arXiv 2410.09637)", "",
          "Each head's entropy is the Shannon entropy (nats) of its attention rows, averaged over positions "
          "and the probe windows. Its ceiling is that of uniform causal attention, (1/T) Σ ln i over the T "
          f"positions. Overloaded heads: the fraction whose entropy is at least {OVERLOAD_FRACTION} of "
          "the ceiling.", "",
          "| config | final val loss | best val loss | overloaded heads (final) | mean entropy, nats | ceiling, nats "
          "| mean entropy / ceiling |", "|---|---|---|---|---|---|---|"]
    def label(r):
        return f"{r['config']['method']} ({r['config']['scale']})"

    for stem in sorted({label(r) for r in study}):
        group_runs = [r for r in study if label(r) == stem]
        ceiling = entropy_ceiling(group_runs[0]["config"]["block_size"])
        nats = [float(np.mean(r["log"][-1]["attn_entropy"])) for r in group_runs]
        md.append(f"| {stem} | {mean_std([r['final_val_loss'] for r in group_runs])} "
                  f"| {mean_std([r['best_val_loss'] for r in group_runs])} "
                  f"| {mean_std([r['log'][-1]['entropy_overload'] for r in group_runs])} | {mean_std(nats)} "
                  f"| {ceiling:.3f} | {mean_std([n / ceiling for n in nats])} |")
    md.append("")
    for r in study:
        figures.entropy_heatmap(r, os.path.join(out, f"entropy_{r['name']}.png"))
        md += [f"![attention entropy](entropy_{r['name']}.png)", ""]
    leaky = [r for r in study if "leaky_slope" in r["log"][-1]]
    if leaky:
        figures.slopes_plot(leaky, os.path.join(out, "leaky_slopes.png"))
        md += ["![learnable leaky-ReLU slopes](leaky_slopes.png)", ""]
    return md


# -----------------------------------------------------------------------------

def report(out):
    runs, left_out = load_runs(out)
    if not runs:
        why = "".join(f"; {name}: {reason}" for name, reason in left_out)
        raise ConfigError(f"no finished run (summary.json) under {out}: run sweep.py first{why}")
    cells, scales, budgets = group(runs)
    md = ["# Report", "", f"{len(runs)} finished runs in `{out}`. Validation loss in nats per token; Δ% = "
          "(DyT − vanilla) / vanilla, negative when DyT is better; p is a paired t-test over matching seeds; "
          "⚠ marks runs flagged as collapsed, by criterion: stalled (val loss stalled while every α stayed "
          "near its start, the paper's rule) or unigram (final training loss within 0.1 of the unigram loss of "
          "the budget: the model learned token frequencies and nothing more).", ""]
    for measure, title in MEASURES:
        md += [f"## {title}", ""] + regime_table(cells, measure) + [""]
    variants = variants_table(cells)
    if variants:
        md += ["## Other norms and variants against the same vanilla", ""] + variants + [""]
    md += learned_section(cells)
    lines, rows = heuristic_section(cells)
    md += ["## The saturation heuristic: DyT helps iff saturation > 0.43", ""] + lines + [""]
    md += ["## Figures", ""]
    for arch in sorted({k[0] for k in cells}):
        if any(k[0] == arch and m.get("vanilla") and m.get("dyt") for k, m in cells.items()):
            grids = [(title.split(":")[0], delta_grid(cells, scales, budgets, arch, measure))
                     for measure, title in MEASURES[:2]]
            figures.phase_diagram(grids, scales, budgets, arch, os.path.join(out, f"phase_{arch}.png"))
            md += [f"![phase diagram]({f'phase_{arch}.png'})", ""]
        figures.curves(cells, arch, os.path.join(out, f"curves_{arch}.png"))
        md += [f"![loss curves]({f'curves_{arch}.png'})", ""]
    if rows:
        figures.saturation_plot(rows, THRESHOLD, os.path.join(out, "saturation.png"))
        md += ["![saturation against Δ%](saturation.png)", ""]
    for stem in sorted({r["stem"] for r in runs if any("alpha" in row for row in r["log"])}):
        run = min((r for r in runs if r["stem"] == stem), key=lambda r: r["name"])
        figures.alpha_plot(run, os.path.join(out, f"alpha_{stem}.png"))
        md += [f"![alpha against 1/std](alpha_{stem}.png)", ""]
    md += rank_section(cells, out)
    md += plateau_section(runs, out)
    md += entropy_section(runs, out)
    other = sorted({r["stem"] for r in runs if r["key"] is None and r["config"].get("study") not in ("entropy", "plateau")})
    if other:
        md += ["## Runs of no study", "", "| run | final | best |", "|---|---|---|"]
        md += [f"| {s} | {mean_std([r['final_val_loss'] for r in runs if r['stem'] == s])} "
               f"| {mean_std([r['best_val_loss'] for r in runs if r['stem'] == s])} |" for s in other] + [""]
    if left_out:
        md += ["## Runs left out", ""] + [f"- {name}: {why}" for name, why in left_out] + [""]
    md += ["Paper figures: Verma (2026), *When Does Removing LayerNorm Help?*, arXiv 2604.23434, "
           "as in `reference/paper_cells.json`."]
    with atomic_open(os.path.join(out, "report.md")) as f:
        f.write("\n".join(md) + "\n")
    for name, why in left_out:
        print(f"left out {name}: {why}")
    print(f"wrote {os.path.join(out, 'report.md')} from {len(runs)} runs")


def main(argv):
    if len(argv) != 1:
        raise ConfigError("usage: python report.py OUT_DIR   (a folder of run folders written by sweep.py)")
    if not os.path.isdir(argv[0]):
        raise ConfigError(f"{argv[0]} is not a folder: give the --out folder of a sweep")
    report(argv[0])


if __name__ == "__main__":
    run_cli(main, sys.argv[1:])
