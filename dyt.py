"""
The normalisation layers a block can use, and a probe that watches them.

DyT (Zhu et al., "Transformers without Normalization", arXiv 2503.10622) replaces a norm by an
elementwise squash: weight * tanh(alpha * x) (+ bias), with alpha one learnable scalar per layer.
HardTanhNorm is the regime paper's control (arXiv 2604.23434): the same squash with a hard clip and
no alpha. LayerNorm and RMSNorm are the usual baselines; "identity" removes the norm altogether.
"""

import math
from contextlib import contextmanager

import torch
import torch.nn as nn
import torch.nn.functional as F

NORM_KINDS = ("layernorm", "rmsnorm", "dyt", "hardtanh", "identity")

# The DyT authors' alpha_0 for LLMs (attention norm, FFN norm, final norm) by model width, with a
# learnable scale on the embeddings: their LLaMA 2 7B, 13B, 34B and 70B training configs
# (arXiv 2503.10622, github.com/jiachenzhu/DyT, other_tasks/LLaMA). Wider models want smaller alpha_0.
# They tune no width below 4096; a narrower model takes the 4096 row (the largest alpha_0 they use).
LLM_ALPHA0 = {4096: (0.8, 0.2, 0.2), 5120: (0.6, 0.15, 0.15), 8192: (0.2, 0.05, 0.05)}


def llm_alpha0(width):
    """(attention, FFN, final) alpha_0 of the DyT authors' LLM recipe: the row of the widest tuned
    width not above `width`, or the narrowest row for a narrower model."""
    rows = [w for w in sorted(LLM_ALPHA0) if w <= width]
    return LLM_ALPHA0[rows[-1] if rows else min(LLM_ALPHA0)]


class DyT(nn.Module):
    def __init__(self, dim, alpha_init=0.5, bias=False):
        super().__init__()
        self.alpha = nn.Parameter(torch.full((1,), float(alpha_init)))
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim)) if bias else None

    def forward(self, x):
        y = self.weight * torch.tanh(self.alpha * x)
        return y + self.bias if self.bias is not None else y

    def squash_input(self, x):
        """What the squash sees: saturation is measured on this."""
        return self.alpha * x


class HardTanhNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return self.weight * x.clamp(-1.0, 1.0)

    def squash_input(self, x):
        return x


class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (PyTorch's has no bias=False before 2.1)."""

    def __init__(self, dim, bias=False, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, self.eps)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        # the mean of squares in (at least) fp32: in bf16 it loses the small activations
        xf = x.to(torch.promote_types(x.dtype, torch.float32))
        y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return (self.weight * y).type_as(x)


def make_norm(kind, dim, bias=False, alpha_init=0.5, eps=None):
    """One norm of the given kind; the one place a norm is chosen."""
    if kind == "layernorm":
        return LayerNorm(dim, bias=bias, eps=1e-5 if eps is None else eps)
    if kind == "rmsnorm":
        return RMSNorm(dim, eps=1e-6 if eps is None else eps)
    if kind == "dyt":
        return DyT(dim, alpha_init=alpha_init, bias=bias)
    if kind == "hardtanh":
        return HardTanhNorm(dim)
    if kind == "identity":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}: choose one of {', '.join(NORM_KINDS)}")


# -----------------------------------------------------------------------------
# Probe: what each norm sees, without changing the model

class NormStats:
    """Per-norm statistics gathered by forward hooks over one or more forward passes.

    For every norm module: the std of its input (pooled over all elements), and for the squashing
    norms (DyT, HardTanh) the fraction of elements past the squash threshold, |alpha*x| > threshold
    for DyT (default 2.0: tanh(2) = 0.96, the regime paper's metric) and |x| > 1 for HardTanh,
    where the clip is flat and passes no gradient.
    """

    def __init__(self, threshold=2.0):
        self.threshold = threshold
        self.count, self.total, self.total_sq, self.saturated = {}, {}, {}, {}

    def _record(self, name, module, x):
        x = x.detach().double()
        self.count[name] = self.count.get(name, 0) + x.numel()
        self.total[name] = self.total.get(name, 0.0) + x.sum().item()
        self.total_sq[name] = self.total_sq.get(name, 0.0) + x.pow(2).sum().item()
        if hasattr(module, "squash_input"):
            limit = self.threshold if isinstance(module, DyT) else 1.0
            n = (module.squash_input(x).abs() > limit).sum().item()
            self.saturated[name] = self.saturated.get(name, 0) + n

    def std(self):
        out = {}
        for name, n in self.count.items():
            mean = self.total[name] / n
            out[name] = math.sqrt(max(self.total_sq[name] / n - mean * mean, 0.0))
        return out

    def saturation(self):
        """Per-layer fraction of saturated elements, for the squashing norms only."""
        return {name: s / self.count[name] for name, s in self.saturated.items()}

    def pooled_saturation(self):
        """Saturated elements over all squashing layers / all their elements (None if there are none)."""
        if not self.saturated:
            return None
        return sum(self.saturated.values()) / sum(self.count[name] for name in self.saturated)


def norm_modules(model):
    """(name, module) for every norm in the model, in forward order."""
    kinds = (DyT, HardTanhNorm, LayerNorm, RMSNorm)
    return [(name, m) for name, m in model.named_modules() if isinstance(m, kinds)]


@contextmanager
def watch_norms(model, threshold=2.0):
    """with watch_norms(model) as stats: model(x)  -> stats.pooled_saturation(), stats.std(), ..."""
    stats = NormStats(threshold)
    handles = [m.register_forward_hook(lambda mod, inp, out, name=name: stats._record(name, mod, inp[0]))
               for name, m in norm_modules(model)]
    try:
        yield stats
    finally:
        for h in handles:
            h.remove()
