"""
The normalisation layers a block can use, and the one registry that names them.

DyT (Zhu et al., "Transformers without Normalization", arXiv 2503.10622) replaces a norm by an
elementwise squash: weight * tanh(alpha * x) (+ bias), with alpha one learnable scalar per layer.
Derf (Chen, Lu, Zhu, Sun, Liu, "Stronger Normalization-Free Transformers", arXiv 2512.10938) squashes
with erf and a learnable shift: weight * erf(alpha * x + s) (+ bias). HardTanhNorm is the regime
paper's control (arXiv 2604.23434): the same squash with a hard clip and no alpha. LayerNorm and
RMSNorm are the usual baselines; "identity" removes the norm altogether.

A new norm is one class and one entry in NORMS. A squashing norm derives from SquashingNorm and says
what it squashes with, where the squash is flat and its alpha_0; the probes, the model's choices,
its error messages and the tests all read the registry.
"""

import math

import torch
import torch.nn as nn

# where tanh is flat enough to count as saturated, the regime paper's |alpha x| > 2: tanh'(2) = 0.07,
# the squash passes under 7% of the gradient there. Other squashes saturate where they are as flat.
FLAT = 1 - math.tanh(2.0) ** 2


class SquashingNorm(nn.Module):
    """weight * squash(alpha * x) + bias: a norm replaced by an elementwise squash.

    What a subclass says, once, and what the probes read (probes.py):
      squash(u)              the function, flat for large |u|;
      saturation_threshold   |u| past which the squash is as flat as tanh past 2 (its derivative at most FLAT
                             of its slope at 0): the fraction of inputs past it is the run's saturation;
      alpha_default          its alpha_0, when a config gives none (model.site_norms reads it, the one place
                             a norm's settings are resolved); None for a squash with no alpha (HardTanh);
      scalars                any other learnable scalar and its initial value (Derf's shift), which
                             squash_input then uses.
    alpha is one learnable scalar per layer, weight one gain per channel, bias one per channel when the
    model has biases; the probes log every scalar (probes.learned_scalars).
    """
    saturation_threshold = None
    alpha_default = None
    scalars = {}
    takes = ("alpha_init", "bias")  # what model.site_norms passes: the model's settings this norm is built with
    keeps = ("weight", "bias")  # what it takes over of a trained norm it replaces (convert.py): its gain and bias

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not isinstance(cls.saturation_threshold, (int, float)) or cls.saturation_threshold <= 0:
            raise TypeError(f"{cls.__name__} must say where its squash saturates: saturation_threshold = a positive "
                            f"number, the |s(x)| past which its derivative is at most {FLAT:.3f} of its slope at 0")
        if cls.squash is SquashingNorm.squash:
            raise TypeError(f"{cls.__name__} must say what it squashes with: def squash(self, u): ...")
        if cls.alpha_default is None:
            cls.takes = tuple(t for t in cls.takes if t != "alpha_init")

    def __init__(self, dim, alpha_init=None, bias=False):
        super().__init__()
        if "alpha_init" in self.takes and alpha_init is None:
            raise TypeError(f"{type(self).__name__} needs its alpha_0: alpha_init={self.alpha_default} is its own "
                            f"(model.site_norms resolves it from a run's settings)")
        self.alpha = nn.Parameter(torch.full((1,), float(alpha_init))) if "alpha_init" in self.takes else None
        for name, value in self.scalars.items():
            setattr(self, name, nn.Parameter(torch.full((1,), float(value))))
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim)) if bias else None

    def squash(self, u):
        raise NotImplementedError

    def squash_input(self, x):
        """What the squash sees, s(x): saturation is measured on this. alpha is used in x's precision: a pure-bf16
        model whose alpha alone is kept in fp32 (alpha_fp32) computes in bf16 as the rest of the model does."""
        return x if self.alpha is None else self.alpha.to(x.dtype) * x

    def forward(self, x):
        y = self.weight * self.squash(self.squash_input(x))
        return y + self.bias if self.bias is not None else y


class DyT(SquashingNorm):
    """Dynamic Tanh: weight * tanh(alpha * x) + bias."""
    # the regime paper's alpha_0, at every site; the DyT paper's own default is 0.5 (its ViTs), and for LLMs
    # it tunes alpha_0 per site and width (LLM_ALPHA0 below)
    alpha_default = 2.0
    saturation_threshold = 2.0

    def squash(self, u):
        return torch.tanh(u)

    def forward(self, x):
        # SquashingNorm.forward with tanh, written out: the formula this repo studies (alpha in x's precision, as
        # squash_input says why)
        y = self.weight * torch.tanh(self.alpha.to(x.dtype) * x)
        return y + self.bias if self.bias is not None else y


class Derf(SquashingNorm):
    """weight * erf(alpha * x + shift) + bias. alpha_0 = 0.5 and the shift s_0 = 0, its authors' default (for
    vision); their language-model script starts alpha at 1.0 at all three sites, and its GPT-2 also has
    biases and a learnable scale on the embeddings (config/grid.py says which of these the derf arm is not)."""
    alpha_default = 0.5
    # erf'(u) / erf'(0) = exp(-u^2) = FLAT
    saturation_threshold = math.sqrt(-math.log(FLAT))
    scalars = {"shift": 0.0}

    def squash(self, u):
        return torch.erf(u)

    def squash_input(self, x):
        return self.alpha.to(x.dtype) * x + self.shift.to(x.dtype)


class HardTanhNorm(SquashingNorm):
    """weight * clip(x, -1, 1) + bias: no alpha, as the regime paper's control has none."""
    saturation_threshold = 1.0  # the clip is flat past |x| = 1 and passes no gradient

    def squash(self, u):
        return u.clamp(-1.0, 1.0)


class LayerNorm(nn.LayerNorm):
    """PyTorch's LayerNorm over the last dimension, with a bias when the model has biases (GPT-2 does)."""
    takes = ("eps", "bias")
    keeps = ("weight", "bias")

    def __init__(self, dim, eps=1e-5, bias=False):
        super().__init__(dim, eps=eps, bias=bias)


class RMSNorm(nn.Module):
    takes = ("eps",)
    keeps = ("weight",)  # a trained LayerNorm's bias has nowhere to go

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
    takes = ()
    keeps = ()  # converted to, a trained norm is removed outright

    def __init__(self, dim):
        super().__init__()


# The registry: a norm's name in configs -> its class. Each class says which of the model's norm settings
# it is built with (takes: alpha_init, eps, bias); model.site_norms resolves them, once, for every site.
# And what of a trained norm it keeps when a run converts one (keeps: weight, bias; convert.py).
NORMS = {"layernorm": LayerNorm, "rmsnorm": RMSNorm, "dyt": DyT, "derf": Derf, "hardtanh": HardTanhNorm,
         "identity": Identity}


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
