"""
A folder of runs: what each run is, its label, and the runs it is compared with.

report.py and docs.py read study folders through load_runs: every finished run with its summary and its
log. Everything this module says of a run follows from the run alone, never from the other runs of its
folder:

- Its label, as its folder's name: its method, then its norm's settings where they are not the norm's
  own (a copied config's alpha_init), then the command line's overrides that change it
  (dyt_dropout=0.1). Runs are pooled only when their labels and their settings agree.
- Its baseline (BASELINE_RULE): the settings of the runs it is compared with. Whether the folder holds
  such runs is then looked up; where it does not, the comparison says so and gives the command that
  trains them, rather than borrowing other runs.
"""

import glob
import json
import math
import os
import re
from collections import defaultdict

import numpy as np

import paper
from config.grid import ARMS
from model import resolve_alphas
from naming import BASELINE, BASELINE_NORM, format_value, norm_label
from run_folder import read_log
from settings import ADDED_LATER, DEFAULTS, run_identity

BASELINE_RULE = ("An arm is compared with the runs of its architecture's usual norm (LayerNorm for GPT-2 and the ViT, "
                 "RMSNorm for Llama) whose settings equal its own in every key but the norm's own (the norm, the "
                 "settings it takes, the method); a run of the usual norm that changes one thing (an override, or an "
                 "ablation arm of config/grid.py) is an arm against the usual norm without that change.")

# A norm's own settings: an arm is compared with the baseline runs whose settings equal its own in every
# other key
NORM_KEYS = ("norm", "norm_final", "norm_eps", "alpha_init", "alpha_init_attn", "alpha_init_ffn", "alpha_init_final",
             "freeze_alpha", "alpha_fp32", "alpha_lr_scale", "calibrate_alpha")
ALPHA_KEYS = ("alpha_init", "alpha_init_attn", "alpha_init_ffn", "alpha_init_final")
# what differs between the seeds of one arm: the seed, and the checksum of a trained model each seed starts from
# (start_from names one per seed: convert.py)
PER_SEED = ("seed", "start_from_sha256")

# what the tables read from every summary.json
SUMMARY_FIELDS = ("n_params", "train_tokens", "T_over_P", "final_val_loss", "best_val_loss", "best_iter",
                  "final_val_loss_full", "best_val_loss_full", "final_saturation", "saturation_at_500",
                  "collapsed", "config")


def load_runs(out):
    """(finished runs, [(name, why) for runs left out]), each with its label, scale and cell (describe)."""
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
        # a run recorded before a setting was declared ran as its default says, and pools with the runs after it
        run["config"] = {**{k: DEFAULTS[k] for k in ADDED_LATER}, **run["config"]}
        run["name"], run["stem"] = name, re.sub(r"_s\d+$", "", name)
        run["seed"] = run["config"]["seed"]
        run["val_loss_at_reference_step"] = next((r["val_loss"] for r in run["log"] if r["iter"] == paper.REFERENCE_STEP),
                                                 None)
        describe(run)
        runs.append(run)
    return runs, left_out


# -----------------------------------------------------------------------------
# What a run is, from the run alone

def describe(run):
    """Give a run its label, its scale (the micro protocol's embedding scale, a deliberate difference from the
    paper, named in it), its budget, and its cell of the regime study (None for the other studies)."""
    c = run["config"]
    run["label"] = label(c, run.get("changes", []))
    run["scale"] = f"{c.get('scale')} + embedding scale" if c.get("embed_scale") else c.get("scale")
    run["budget"] = c.get("budget")
    run["key"] = (c.get("arch", "gpt"), run["scale"], run["budget"]) if c.get("study") == "regime" else None
    run["settings"] = json.dumps({k: v for k, v in run_identity(c).items() if k not in PER_SEED}, sort_keys=True)


def plain(config):
    """Whether a run is its norm as it comes, as far as its method says: the method is the norm's label."""
    return config["method"] == norm_label(config["norm"], config.get("arch", "gpt"))


def own_settings(config):
    """The values of a run's norm settings that its norms have of their own: each site's alpha_0 as the run's
    resolution fills it in when none is given (model.resolve_alphas), the defaults of the rest."""
    cleared = {**DEFAULTS, **config, **{k: None for k in ALPHA_KEYS}}
    return {**{k: DEFAULTS[k] for k in NORM_KEYS[1:]}, **resolve_alphas(cleared)}


def label(config, changes):
    """The method, the norm's settings that are not its own (for a method that does not name them), and
    the overrides that change the run but the norm (which the method names): dyt_alpha_init=1.0_dropout=0.1.
    A grid arm's method whose settings the run does not have (a copied config, edited) is not its label:
    the norm's label and what the run has in their place are (vanilla_dropout=0.2, not vanilla_dropout0.1)."""
    arch, shown = config.get("arch", "gpt"), []
    method = config["method"]
    edited = [(k, config[k]) for k, v in ARMS.get(method, ("", {}))[1].items()
              if k in config and k in DEFAULTS and k != "norm" and config[k] != v]
    if edited:
        method, shown = norm_label(config["norm"], arch), edited
    elif plain(config):
        defaults = own_settings(config)
        shown = [(k, config[k]) for k in NORM_KEYS[1:] if k in config and k != "norm_eps" and config[k] != defaults[k]]
    shown += [(k, v) for k, v, *_ in changes if k != "norm" and k not in dict(shown)]
    return method + "".join(f"_{k}={format_value(v)}" for k, v in shown)


def baseline_of(run):
    """The settings the runs an arm is compared with must have (BASELINE_RULE), as {key: value} over the keys
    compared, and None; or None and why it has none: a run of the usual norm as it comes is a baseline (why
    None), and a named arm of the usual norm that config/grid.py does not define changes what, unknown."""
    c = run["config"]
    base_norm = BASELINE_NORM.get(c.get("arch", "gpt"))
    mine = {k: v for k, v in run_identity(c).items() if k not in PER_SEED}
    if c["norm"] != base_norm:
        return {k: v for k, v in mine.items() if k not in (*NORM_KEYS, "method")}, None
    undone = {k: was for k, _, was in (ch for ch in run.get("changes", []) if len(ch) == 3)}
    # an alpha_0 the run's norms took as their own is the undone run's norms' own (a DyT final norm undone
    # leaves no alpha_init_final)
    own_here, own_undone = own_settings(c), own_settings({**c, **undone})
    undone.update({k: own_undone[k] for k in ALPHA_KEYS if k in c and c[k] == own_here[k] and k not in undone})
    # as the settings compared (a batch_size undone is a global batch undone)
    undone = {k: v for k, v in run_identity({**c, **undone}).items() if k not in PER_SEED and v != mine.get(k)}
    if not plain(c):  # an ablation arm of the grid: the usual norm as it comes, but for what the arm sets
        if c["method"] not in ARMS:
            return None, (f"its method {c['method']!r} is not an arm of config/grid.py, so what it changes of "
                          f"{BASELINE} is unknown: give the change as an override (--dropout=0.1) on the plain config")
        ablated = set(ARMS[c["method"]][1])
        return {**{k: v for k, v in {**mine, **undone}.items() if k not in ablated}, "method": BASELINE}, None
    if not undone:
        return None, None
    return {k: v for k, v in {**mine, **undone}.items() if k != "method"}, None


def matches(candidate, wanted):
    """Whether a run is of the usual norm and has the settings an arm's baseline must have."""
    c = candidate["config"]
    mine = run_identity(c)
    usual = BASELINE_NORM.get(c.get("arch", "gpt"))
    return c["norm"] == usual and c.get("norm_final") in (None, usual) and all(mine.get(k) == v for k, v in wanted.items())


def baseline_command(run):
    """The command that trains an arm's missing baseline runs into its folder."""
    c = run["config"]
    files = " ".join(run.get("config_files") or [f"CONFIG ({run['stem']})"])
    if c["norm"] == BASELINE_NORM.get(c.get("arch", "gpt")):
        if plain(c):  # an override of the usual norm: its config without the override
            return f"python sweep.py {files} --seeds SEEDS --out FOLDER"
        return f"python sweep.py (this cell's {BASELINE} config) --seeds SEEDS --out FOLDER"
    args = [f"--norm={BASELINE_NORM.get(c.get('arch', 'gpt'))}", f"--method={BASELINE}"]
    args += [f"--{k}={DEFAULTS[k]}" for k in NORM_KEYS[1:] if c.get(k, DEFAULTS[k]) != DEFAULTS[k]]
    args += [f"--{k}={v}" for k, v, *_ in run.get("changes", []) if k not in NORM_KEYS]
    return f"python sweep.py {files} {' '.join(args)} --seeds SEEDS --out FOLDER"


# -----------------------------------------------------------------------------
# The regime study's cells and their comparisons

def pools(runs):
    """{label: [runs]} of one cell: runs of one label are pooled when their settings agree; where one label
    holds runs of other settings (a copied config), each set is told apart by its folder names."""
    by_label = defaultdict(lambda: defaultdict(list))
    for r in runs:
        by_label[r["label"]][r["settings"]].append(r)
    out = {}
    for lab, sets in by_label.items():
        for same in sets.values():
            name = lab if len(sets) == 1 else f"{lab} [{', '.join(sorted({r['stem'] for r in same}))}]"
            while name in out:  # one folder name, other settings: runs of other versions of one config
                name += "'"
            out[name] = same
    return out


def group(runs):
    """{(arch, scale, budget): {label: [runs]}} for the regime study, the usual norm first in each cell, and
    the scale and budget orders (by parameters and by training tokens)."""
    cells = defaultdict(list)
    size, tokens = defaultdict(list), defaultdict(list)
    for r in runs:
        if r["key"] is None:
            continue
        arch, scale, budget = r["key"]
        cells[r["key"]].append(r)
        size[scale].append(r["n_params"])
        tokens[budget].append(r["train_tokens"])
    scales = sorted(size, key=lambda s: np.mean(size[s]))
    budgets = sorted(tokens, key=lambda b: (np.mean(tokens[b]), b))
    order = {k: (k[0], scales.index(k[1]), budgets.index(k[2])) for k in cells}
    cells = {k: dict(sorted(pools(v).items(), key=lambda kv: (kv[0] != BASELINE, kv[0] != "dyt", kv[0])))
             for k, v in sorted(cells.items(), key=lambda kv: order[kv[0]])}
    return cells, scales, budgets


def comparisons(cells):
    """Every arm of every cell with its baseline: {cell: [(label, runs, baseline label, baseline runs, why)]}.
    The baseline label and runs are None where the folder holds none, and why then says what trains them;
    a pool of the usual norm as it comes is no arm. Baselines are looked up among the pools of every cell (a
    one-factor ablation's plain baseline may sit in another cell)."""
    every_pool = [(lab, group_runs) for methods in cells.values() for lab, group_runs in methods.items()]
    out = {}
    for key, methods in cells.items():
        rows = []
        for lab, group_runs in methods.items():
            wanted, why = baseline_of(group_runs[0])
            if wanted is None:
                if why:  # else it is a baseline
                    rows.append((lab, group_runs, None, None, why))
                continue
            found = [(base, base_runs) for base, base_runs in every_pool if matches(base_runs[0], wanted)]
            if found:
                base_label, base_runs = min(found, key=lambda f: (len(f[0]), f[0]))
                rows.append((lab, group_runs, base_label, base_runs, None))
            else:
                rows.append((lab, group_runs, None, None, f"no baseline in this folder: {baseline_command(group_runs[0])}"))
        out[key] = rows
    # a run of the usual norm with an override that every run of a grid shares (a shrunken grid's --max_iters=10)
    # is its arms' baseline: it is not also shown as an arm without one
    bases = {id(r) for rows in out.values() for *_, base_runs, _ in rows for r in base_runs or []}
    return {key: [row for row in rows if row[3] is not None or id(row[1][0]) not in bases] for key, rows in out.items()}


def not_compared(cells, rows):
    """'label at cell: why' for every pool of the regime cells that is in no comparison: an arm without a
    baseline here, or a baseline no arm of the folder is compared with."""
    used = {id(r) for cell_rows in rows.values() for _, arm_runs, _, base_runs, _ in cell_rows
            for r in arm_runs + (base_runs or [])}
    out = []
    for key, methods in cells.items():
        where = " ".join(filter(None, key))
        why = {lab: reason for lab, _, base, _, reason in rows.get(key, []) if base is None}
        for lab, group_runs in methods.items():
            if lab in why:
                out.append(f"{lab} at {where}: {why[lab]}")
            elif not any(id(r) in used for r in group_runs):
                out.append(f"{lab} at {where}: no arm of this folder has it as its baseline")
    return out


def arms(cells, arch=None):
    """Every label but the baseline's that has runs in the cells (of one architecture), DyT first."""
    found = {m for k, methods in cells.items() if arch in (None, k[0]) for m in methods if m != BASELINE}
    return sorted(found, key=lambda m: (m != "dyt", m))


def missing_runs(runs, left_out):
    """'name: why' for every run not (yet) in the tables: unfinished or diverged, and the seeds one label of a
    cell has and another lacks (a study folder still filling)."""
    out = [f"{name}: {why}" for name, why in left_out]
    cells = defaultdict(lambda: defaultdict(set))
    for r in runs:
        c = r["config"]
        cells[(c.get("study"), r["scale"], r["budget"])][r["label"]].add(r["seed"])
    for (study, scale, budget), labels in cells.items():
        seeds = set().union(*labels.values())
        out += [f"{lab} at {', '.join(filter(None, (study, scale, budget)))}: no finished run of seed(s) "
                f"{', '.join(map(str, sorted(seeds - have)))}" for lab, have in labels.items() if seeds - have]
    return out
