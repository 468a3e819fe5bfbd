"""
The statistics report.py needs, with numpy and math only (no scipy).

- paired_t_test: two-sided p-value of the mean of paired differences, Student-t tail via the
  regularised incomplete beta function.
- auc: area under the ROC curve of a score for a binary label (the Mann-Whitney U statistic / n1 n0).
- threshold rules: accuracy of "label iff score > threshold", the best threshold on a set, and
  leave-one-group-out accuracy with the threshold re-fit on the other groups.
- fisher_exact: two-sided p of a 2 x 2 table of counts (how many runs of two arms failed).
- mean_std: a mean with the precision its seeds support.
"""

import math

import numpy as np


def _betacf(a, b, x, iterations=300, eps=1e-15):
    """Continued fraction of the incomplete beta function (modified Lentz's method)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, iterations + 1):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def betainc(a, b, x):
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x))
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1 - x) / b


def t_two_sided_p(t, df):
    """P(|T| >= |t|) for Student's t with df degrees of freedom."""
    return betainc(df / 2.0, 0.5, df / (df + t * t))


def paired_t_test(a, b):
    """(t, p) for the mean of b - a over pairs; None when fewer than 2 pairs. Identical nonzero
    differences give p = 0; all-zero differences give p = 1."""
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    n = len(d)
    if n < 2:
        return None
    sd = d.std(ddof=1)
    if sd == 0:
        return (0.0, 1.0) if d.mean() == 0 else (math.copysign(math.inf, d.mean()), 0.0)
    t = d.mean() / (sd / math.sqrt(n))
    return t, t_two_sided_p(t, n - 1)


def auc(scores, labels):
    """Probability that a positive scores above a negative (ties count half); None if a class is empty."""
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def accuracy(scores, labels, threshold):
    """Accuracy of predicting the label as score > threshold."""
    return float(np.mean([(s > threshold) == bool(y) for s, y in zip(scores, labels)]))


def best_threshold(scores, labels):
    """The threshold with the best accuracy on these points, as the regime paper's analysis searches
    it: candidates are min - 0.01, the midpoints between sorted distinct scores, and max + 0.01, in
    increasing order, and the first (lowest) of the best is kept."""
    s = sorted(set(scores))
    candidates = [s[0] - 0.01] + [(x + y) / 2 for x, y in zip(s, s[1:])] + [s[-1] + 0.01]
    best = max(accuracy(scores, labels, c) for c in candidates)
    return next(c for c in candidates if accuracy(scores, labels, c) == best)


def leave_one_group_out_accuracy(scores, labels, groups):
    """Accuracy over all points, each predicted with a threshold fitted on the other groups only."""
    scores, labels, groups = list(scores), list(labels), list(groups)
    right = 0
    for g in set(groups):
        train = [i for i, x in enumerate(groups) if x != g]
        test = [i for i, x in enumerate(groups) if x == g]
        if not train:
            return None
        th = best_threshold([scores[i] for i in train], [labels[i] for i in train])
        right += sum((scores[i] > th) == bool(labels[i]) for i in test)
    return right / len(scores)


def fisher_exact(a, n_a, b, n_b):
    """Two-sided p of Fisher's exact test that a of n_a runs and b of n_b runs are draws of one rate: the
    probability, given a + b events among the n_a + n_b runs, of every split no likelier than the one seen."""
    events = a + b
    splits = [math.comb(n_a, k) * math.comb(n_b, events - k)
              for k in range(max(0, events - n_b), min(n_a, events) + 1)]
    seen = math.comb(n_a, a) * math.comb(n_b, b)
    return min(1.0, sum(w for w in splits if w <= seen * (1 + 1e-9)) / math.comb(n_a + n_b, events))


def mean_std(values):
    """'4.512 ± 0.034' with digits down to the std's first significant one; one value says so."""
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.2f} (1 seed)"
    m, sd = float(np.mean(values)), float(np.std(values, ddof=1))
    digits = 4 if sd == 0 else min(4, max(1, 1 - math.floor(math.log10(sd))))
    return f"{m:.{digits}f} ± {sd:.{digits}f}"
