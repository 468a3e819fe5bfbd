"""
A folder of runs: what each run is, and which runs may be compared and pooled.

report.py and docs.py read study folders through load_runs: every finished run with its summary, its
log and a label (its arm), grouped into cells of the regime study by group. Two runs are pooled only
when their settings agree: a command-line override that changed a run shows in its label, overrides
every run of a cell shares show beside its budget, and runs whose settings still differ are told apart
by the keys that differ.
"""

import glob
import json
import math
import os
import re
from collections import defaultdict

import numpy as np

import paper
from checkpoint import read_log
from settings import LABEL_KEYS, format_value, identity

BASELINE = "vanilla"  # the architecture's usual norm, every arm's reference


# what the tables read from every summary.json
SUMMARY_FIELDS = ("n_params", "train_tokens", "T_over_P", "final_val_loss", "best_val_loss", "best_iter",
                  "final_val_loss_full", "best_val_loss_full", "final_saturation", "saturation_at_500",
                  "collapsed", "config")


def load_runs(out):
    """(finished runs, [(name, why) for runs left out]), each run labelled (see label_runs)."""
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
        run["val_loss_at_reference_step"] = next((r["val_loss"] for r in run["log"] if r["iter"] == paper.REFERENCE_STEP),
                                                 None)
        runs.append(run)
    label_runs(runs)
    return runs, left_out


def what_it_is(run):
    """The settings that make a run what it is (settings.identity), but for its seed and its labels."""
    return {k: v for k, v in identity(run["config"]).items() if k not in (*LABEL_KEYS, "seed")}


def label_runs(runs):
    """Give every run its arm's label and its cell. Runs are grouped by study, arch, scale and budget.
    A run's command-line overrides (summary's changes) that its group's vanilla runs share are the
    protocol of its cell (a shrunken grid's --max_iters=100), shown beside the budget; the others
    follow its method in its label (dyt_alpha_init=1.0; a --norm override is its method already). Runs
    of one cell and label whose settings still differ get the keys that differ in their label."""
    groups = defaultdict(list)
    for r in runs:
        c = r["config"]
        groups[(c.get("study"), c.get("arch", "gpt"), c.get("scale"), c.get("budget"))].append(r)
    for (study, arch, scale, budget), group in groups.items():
        bases = {frozenset(changes(r)) for r in group if r["config"]["method"] == BASELINE}
        bases = bases or {frozenset.intersection(*(frozenset(changes(r)) for r in group))}  # no vanilla: what all share
        for r in group:
            base = max((b for b in bases if b <= changes(r)), key=len, default=frozenset())
            own = [(k, v) for k, v in r.get("changes", []) if (k, json.dumps(v)) not in base and k != "norm"]
            r["label"] = r["config"]["method"] + "".join(f"_{k}={format_value(v)}" for k, v in own)
            r["protocol"] = ", ".join(f"{k}={format_value(json.loads(v))}" for k, v in sorted(base))
            r["budget"] = f"{budget} [{r['protocol']}]" if r["protocol"] and budget else budget
        by_label = defaultdict(list)
        for r in group:
            by_label[(r["budget"], r["label"])].append(r)
        for same in by_label.values():
            settings = [what_it_is(r) for r in same]
            # a key one run's settings lack (an older train.py had no such setting) is not compared
            shared = set.intersection(*(set(s) for s in settings))
            differ = sorted(k for k in shared if len({json.dumps(s[k]) for s in settings}) > 1)
            for r, s in zip(same, settings):
                if differ:
                    r["label"] += " [" + ", ".join(f"{k}={s[k]!r}" for k in differ) + "]"
        # the micro protocol's learnable embedding scale is a deliberate difference from the paper: say it
        scale_label = f"{scale} + embedding scale" if all(r["config"].get("embed_scale") for r in group) else scale
        for r in group:
            r["scale"] = scale_label
            r["key"] = (arch, scale_label, r["budget"]) if study == "regime" else None


def changes(run):
    """A run's command-line overrides that change it, as a set of (key, JSON value)."""
    return {(k, json.dumps(v)) for k, v in run.get("changes", [])}


def group(runs):
    """{(arch, scale, budget): {label: [runs]}} for the regime study, vanilla first in each cell, and the
    scale and budget orders (by parameters and by training tokens)."""
    cells = defaultdict(lambda: defaultdict(list))
    size, tokens = defaultdict(list), defaultdict(list)
    for r in runs:
        if r["key"] is None:
            continue
        arch, scale, budget = r["key"]
        cells[r["key"]][r["label"]].append(r)
        size[scale].append(r["n_params"])
        tokens[budget].append(r["train_tokens"])
    scales = sorted(size, key=lambda s: np.mean(size[s]))
    budgets = sorted(tokens, key=lambda b: (np.mean(tokens[b]), b))
    order = {k: (k[0], scales.index(k[1]), budgets.index(k[2])) for k in cells}
    cells = {k: dict(sorted(v.items(), key=lambda kv: (kv[0] != BASELINE, kv[0] != "dyt", kv[0])))
             for k, v in sorted(cells.items(), key=lambda kv: order[kv[0]])}
    return cells, scales, budgets


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
        out += [f"{label} at {', '.join(filter(None, (study, scale, budget)))}: no finished run of seed(s) "
                f"{', '.join(map(str, sorted(seeds - have)))}" for label, have in labels.items() if seeds - have]
    return out
