"""
What a run measures beyond its loss, at evaluation time only, on a few fixed training windows.

- saturation: the fraction of elements a squashing norm pushes into its flat part, |alpha*x| > 2 for
  DyT (the regime paper's mechanism), |x| > 1 for HardTanh; pooled over all such layers and per layer.
- alpha: every DyT layer's alpha, and norm_std: the std of every norm's input, so that the DyT
  paper's observation "alpha tracks 1/std of its input" can be plotted.
- collapse: the regime paper's failure mode of Llama-DyT runs, decided from a run's log alone.

Probes run under torch.no_grad() on the uncompiled model and never touch the training step.
"""

import torch

from dyt import DyT, watch_norms

SATURATION_THRESHOLD = 2.0  # tanh(2) = 0.96: past it DyT passes less than 7% of the gradient


@torch.no_grad()
def probe_norms(model, x, autocast):
    """Norm statistics of one forward pass over the windows x (B, T): a dict for log.jsonl."""
    was_training = model.training
    model.eval()
    with watch_norms(model, SATURATION_THRESHOLD) as stats, autocast:
        model(x)
    model.train(was_training)
    out = {"saturation": stats.pooled_saturation()}
    if stats.saturation():
        out["saturation_layers"] = stats.saturation()
    alphas = {name: m.alpha.item() for name, m in model.named_modules() if isinstance(m, DyT)}
    if alphas:
        out["alpha"] = alphas
    out["norm_std"] = stats.std()
    return out


# -----------------------------------------------------------------------------
# Collapse: the one rule, used by train.py and report.py

COLLAPSE_MIN_IMPROVEMENT = 0.01   # val loss improved by less than 1% over the second half of training ...
COLLAPSE_MAX_ALPHA_MOVE = 0.05    # ... while every alpha stayed within 5% of its initial value


def collapsed(log, alpha_init):
    """True when a DyT run stalled with its alphas frozen where they started.

    The regime paper's collapsed Llama-DyT runs plateau near val loss 7.44 with alpha stuck near its
    initial 2.0; converged runs move alpha and keep improving. The rule reads two things off the log:
    the relative val-loss improvement from the evaluation nearest mid-training to the last one, and
    the largest relative move of any alpha from its initial value (alpha_init: {layer: alpha_0}).
    Runs without DyT layers, or with fewer than three evaluations, are never called collapsed.
    """
    rows = [r for r in log if "alpha" in r]
    if len(rows) < 3 or not alpha_init:
        return False
    last = rows[-1]
    middle = min(rows, key=lambda r: abs(r["iter"] - last["iter"] / 2))
    improvement = (middle["val_loss"] - last["val_loss"]) / abs(middle["val_loss"])
    alpha_move = max(abs(last["alpha"][name] - a0) / abs(a0) for name, a0 in alpha_init.items())
    return improvement < COLLAPSE_MIN_IMPROVEMENT and alpha_move < COLLAPSE_MAX_ALPHA_MOVE
