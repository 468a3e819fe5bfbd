"""
What the report's tables share: numbers as they are printed, a comparison of two sets of runs, collapse
flags, and when a run counts as having learned (report.py and studies.py write the tables).
"""

import math

import numpy as np

from stats import paired_t_test

# a run "leaves the unigram plateau" at the first evaluation this far below its budget's unigram val
# loss, and "learned" when its final training loss is at least this far below the unigram train loss
PLATEAU_DROP = 0.3
LEARNED_MARGIN = 0.5


def left_plateau_at(run):
    """The first step whose validation loss is PLATEAU_DROP below the unigram validation loss, or None."""
    return next((row["iter"] for row in run["log"] if row["val_loss"] <= run["unigram_val_loss"] - PLATEAU_DROP), None)


def learned_count(runs):
    """How many runs ended at least LEARNED_MARGIN below their budget's unigram training loss (a run without
    either loss did not)."""
    return sum(r.get("final_train_loss", math.inf) <= r.get("unigram_train_loss", -math.inf) - LEARNED_MARGIN for r in runs)


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
