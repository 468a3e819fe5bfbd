"""
The normalisation layers a block can use, and the one registry that names them.

DyT (Zhu et al., "Transformers without Normalization", arXiv 2503.10622) replaces a norm by an
elementwise squash: weight * tanh(alpha * x) (+ bias), with alpha one learnable scalar per layer.
Derf (Chen, Lu, Zhu, Sun, Liu, "Stronger Normalization-Free Transformers", arXiv 2512.10938) squashes
with erf and a learnable shift: weight * erf(alpha * x + s) (+ bias). HardTanhNorm is the regime
paper's control (arXiv 2604.23434): the same squash with a hard clip and no alpha. LayerNorm and
RMSNorm are the usual baselines; "identity" removes the norm altogether.

A new norm is one class and one entry in NORMS. A squashing norm says what its squash sees
(`squash_input`) and where the squash is flat (`saturation_threshold`); the probes, the model's
choices, its error message and the tests all read the registry.
"""

import inspect
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class DyT(nn.Module):
    # |alpha x| > 2 is the regime paper's saturation: tanh'(2) = 0.07, the squash passes under 7% of the gradient
    saturation_threshold = 2.0

    def __init__(self, dim, alpha_init, bias=False):
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


class Derf(nn.Module):
    """Its authors initialise alpha at 0.5 and the shift s at 0 (their language-model code); the model
    passes alpha_init from its config, so a Derf config sets alpha_init = 0.5."""

    # where erf is as flat as tanh is at DyT's threshold: erf'(u) / erf'(0) = exp(-u^2) = tanh'(2)
    saturation_threshold = math.sqrt(-math.log(1 - math.tanh(2.0) ** 2))

    def __init__(self, dim, alpha_init, bias=False):
        super().__init__()
        self.alpha = nn.Parameter(torch.full((1,), float(alpha_init)))
        self.shift = nn.Parameter(torch.zeros(1))
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim)) if bias else None

    def forward(self, x):
        y = self.weight * torch.erf(self.squash_input(x))
        return y + self.bias if self.bias is not None else y

    def squash_input(self, x):
        return self.alpha * x + self.shift


class HardTanhNorm(nn.Module):
    saturation_threshold = 1.0  # the clip is flat past |x| = 1 and passes no gradient

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
        # the mean of squares in (at least) fp32: bf16 has fp32's range but 8 bits of mantissa, so a
        # sum of thousands of squares rounded to bf16 loses the small ones
        xf = x.to(torch.promote_types(x.dtype, torch.float32))
        y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return (self.weight * y).type_as(x)


class Identity(nn.Identity):
    """No norm at all: what the LN-free models of the entropic-overload study have inside their blocks."""


# The registry: a norm's name in configs -> its class
NORMS = {"layernorm": LayerNorm, "rmsnorm": RMSNorm, "dyt": DyT, "derf": Derf, "hardtanh": HardTanhNorm,
         "identity": Identity}


def make_norm(kind, dim, **options):
    """One norm of the given kind over `dim` channels. Each class takes the options it has (bias,
    alpha_init, eps) and leaves the others: LayerNorm has no alpha, HardTanh no bias."""
    if kind not in NORMS:
        raise ValueError(f"unknown norm {kind!r}: choose one of {', '.join(NORMS)}")
    cls = NORMS[kind]
    takes = inspect.signature(cls.__init__).parameters
    return cls(dim, **{k: v for k, v in options.items() if k in takes and v is not None})


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
