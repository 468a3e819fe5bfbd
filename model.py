"""
GPT-2 and Llama language models, and a Vision Transformer, with a pluggable normalisation layer.

All three are the same pre-norm transformer (embed -> n_layer x Block -> final norm -> head). The
language models differ in how positions enter (a learned table vs rotary embeddings), in the MLP
(GELU vs SwiGLU) and in attention heads (multi-head vs grouped-query); the ViT embeds image patches,
attends both ways and classifies from a class token. The norm at each of the three sites comes from
site_norms, so any norm of dyt.NORMS (LayerNorm, RMSNorm, DyT, Derf, HardTanh) or nothing can sit there.
"""

import math
from dataclasses import dataclass, field
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from cli import ConfigError
from dyt import NORMS


def setting(default, meaning, kind="what", least=None, choices=None):
    """A setting's one declaration: its default (its type is the field's), what it means (--help prints it),
    its kind ("what" makes a run what it is, and a resume must keep it; "label" is how report.py groups
    runs; "where" is where and how a run goes, free to change on a resume; "split" divides the global
    batch, which a resume must keep, into micro-batches) and the values it may take
    (at least `least`, or one of `choices`), which configurator.py checks."""
    return field(default=default, metadata={"meaning": meaning, "kind": kind, "least": least, "choices": choices})


@dataclass(frozen=True)
class ModelConfig:
    """The model's settings. The defaults are a small GPT that trains on tiny Shakespeare bytes in
    minutes on a laptop CPU; the configs in config/ set the papers' shapes."""
    arch: str = setting("gpt", "gpt (GPT-2: learned positions, GELU MLP), llama (rotary, SwiGLU) or vit (a Vision "
                               "Transformer over an image dataset's patches)")
    block_size: int = setting(128, "context length in tokens", least=1)
    vocab_size: Optional[int] = setting(None, "None = the dataset's vocabulary padded up to a multiple of 64 (GPT-2: "
                                              "50304)")
    n_layer: int = setting(4, "transformer blocks", least=1)
    n_head: int = setting(4, "attention heads (n_embd / n_head channels each)", least=1)
    n_kv_head: Optional[int] = setting(None, "grouped-query attention's key/value heads; None = n_head (multi-head)")
    n_embd: int = setting(128, "width of the residual stream", least=1)
    dropout: float = setting(0.0, "on attention, on each block's two outputs and on the embeddings")
    bias: bool = setting(False, "biases in Linear layers, and in the norms that have one (GPT-2 has them)")
    norm: str = setting("layernorm", f"a name in dyt.NORMS: {', '.join(NORMS)}")
    norm_final: Optional[str] = setting(None, "the final norm if it differs (LN-free models keep a final LayerNorm)")
    norm_eps: Optional[float] = setting(None, "a normalising norm's eps; None = its own (LayerNorm 1e-5, RMSNorm 1e-6)")
    alpha_init: Optional[float] = setting(None, "a squashing norm's alpha_0 at every site; None = the norm's own "
                                                "alpha_default")
    alpha_init_attn: Optional[float] = setting(None, "alpha_0 of the norms before attention; None = alpha_init (the "
                                                     "DyT authors tune the three sites apart)")
    alpha_init_ffn: Optional[float] = setting(None, "alpha_0 of the norms before the MLP; None = alpha_init")
    alpha_init_final: Optional[float] = setting(None, "alpha_0 of the final norm; None = alpha_init")
    embed_scale: bool = setting(False, "a learnable scalar on the embeddings, init sqrt(n_embd) (DyT's LLM recipe)")
    activation: str = setting("gelu", "gelu (exact), gelu_tanh (GPT-2's), relu, swiglu, leaky_relu (a learnable slope per layer, init "
                                      "0.01), leaky_relu_global (one learnable slope for the model), leaky_relu_fixed "
                                      "(slope 0.1)")
    scaled_init: bool = setting(True, "GPT-2's residual projections at std 0.02 / sqrt(2 n_layer); False = plain "
                                      "N(0, 0.02), as the entropic-overload paper's LN-free models use")
    rope: bool = setting(True, "llama only: rotary positions; False leaves attention without positions")
    rope_theta: float = setting(10000.0, "llama only: the base of the rotary frequencies")
    patch_size: int = setting(4, "vit only: the side of a square patch, in pixels")
    image_size: Optional[int] = setting(None, "vit only: the side of a square image; None = the dataset's")
    channels: Optional[int] = setting(None, "vit only: colour channels; None = the dataset's")
    num_classes: Optional[int] = setting(None, "vit only: None = the dataset's classes")


def model_config(settings, **resolved):
    """The ModelConfig of a run's settings (any object with the fields, or a dict), with `resolved` (the
    dataset's vocabulary, say) replacing fields left to None."""
    values = settings if isinstance(settings, dict) else vars(settings)
    return ModelConfig(**{**{f: values[f] for f in MODEL_FIELDS if f in values}, **resolved})


MODEL_FIELDS = tuple(ModelConfig.__dataclass_fields__)


class LeakyReLU(nn.Module):
    """x for x >= 0, slope * x below, with the slope one learnable scalar (init 0.01). Where it drifts
    says what a model wants: 0 is ReLU, 1 is linear (Jha & Reagen, arXiv 2410.09637)."""

    def __init__(self, slope=0.01):
        super().__init__()
        self.negative_slope = nn.Parameter(torch.tensor([slope]))

    def forward(self, x):
        return torch.where(x >= 0, x, self.negative_slope * x)


# an MLP's activation by name; swiglu is the SwiGLU MLP itself; leaky_relu_fixed is the entropic-overload paper's;
# gelu_tanh is GPT-2's own (its released weights were trained with it)
ACTIVATIONS = {"gelu": nn.GELU, "gelu_tanh": lambda: nn.GELU(approximate="tanh"), "relu": nn.ReLU, "leaky_relu": LeakyReLU, "leaky_relu_global": LeakyReLU,
               "leaky_relu_fixed": lambda: nn.LeakyReLU(0.1), "swiglu": None}


def check_config(cfg):
    """Fail early, with the valid choices, on a config that cannot build a model."""
    if cfg.arch not in ("gpt", "llama", "vit"):
        raise ConfigError(f"unknown arch {cfg.arch!r}: choose gpt, llama or vit")
    if cfg.arch == "vit" and cfg.image_size is not None and cfg.image_size % cfg.patch_size:
        raise ConfigError(f"image_size={cfg.image_size} is not a multiple of patch_size={cfg.patch_size}: the patches "
                         f"must tile the image")
    if cfg.activation not in ACTIVATIONS:
        raise ConfigError(f"unknown activation {cfg.activation!r}: choose one of {', '.join(ACTIVATIONS)}")
    if not 0 <= cfg.dropout < 1:
        raise ConfigError(f"dropout={cfg.dropout} is a probability: give one from 0 up to (not including) 1")
    if cfg.n_embd % cfg.n_head:
        raise ConfigError(f"n_embd={cfg.n_embd} is not a multiple of n_head={cfg.n_head}")
    if cfg.n_head % (cfg.n_kv_head or cfg.n_head):
        raise ConfigError(f"n_head={cfg.n_head} is not a multiple of n_kv_head={cfg.n_kv_head}")


# -----------------------------------------------------------------------------
# Rotary position embeddings (Llama)

def rope_tables(head_dim, length, theta):
    """cos and sin of each position's rotation angles, (T, head_dim / 2)."""
    freqs = 1.0 / theta ** (torch.arange(0, head_dim, 2).float() / head_dim)
    angles = torch.outer(torch.arange(length).float(), freqs)
    return angles.cos(), angles.sin()


def apply_rope(x, cos, sin):
    """Rotate consecutive pairs of channels of x (B, nh, T, hs) by their position's angle."""
    x1, x2 = x.float().unflatten(-1, (-1, 2)).unbind(-1)
    y = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).flatten(-2)
    return y.type_as(x)


# -----------------------------------------------------------------------------
# The pieces of a block

class Attention(nn.Module):
    """Self-attention, causal in the language models, both ways in the ViT; grouped-query when
    n_kv_head < n_head, rotary when given the tables."""

    def __init__(self, cfg):
        super().__init__()
        self.n_head = cfg.n_head
        self.n_kv_head = cfg.n_kv_head or cfg.n_head
        self.head_dim = cfg.n_embd // cfg.n_head
        # q, k and v in one matmul; k and v have n_kv_head heads each
        self.c_attn = nn.Linear(cfg.n_embd, (self.n_head + 2 * self.n_kv_head) * self.head_dim, bias=cfg.bias)
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.c_proj.residual = True  # scaled init, see Transformer.init_weights
        self.dropout = cfg.dropout
        self.resid_dropout = nn.Dropout(cfg.dropout)
        self.causal = cfg.arch != "vit"

    def qkv(self, x, rope=None):
        """Queries, keys and values, (B, nh or n_kv, T, hs), rotated when rope tables are given."""
        B, T, _ = x.shape
        q, k, v = self.c_attn(x).split(
            [self.n_head * self.head_dim, self.n_kv_head * self.head_dim, self.n_kv_head * self.head_dim], dim=-1)
        q = q.view(B, T, self.n_head, self.head_dim).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_kv_head, self.head_dim).transpose(1, 2)  # (B, n_kv, T, hs)
        v = v.view(B, T, self.n_kv_head, self.head_dim).transpose(1, 2)
        if rope is not None:
            cos, sin = rope
            q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        return q, k, v

    def forward(self, x, rope=None):
        B, T, C = x.shape
        q, k, v = self.qkv(x, rope)
        # SDPA picks flash attention on a GPU; the attention matrix is never materialised
        y = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal, enable_gqa=self.n_kv_head != self.n_head,
                                           dropout_p=self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


def swiglu_hidden(n_embd):
    """Llama's MLP width: 2/3 of 4d (SwiGLU has three matrices, not two), rounded up to a multiple of 256."""
    return 256 * math.ceil(int(2 * 4 * n_embd / 3) / 256)


class MLP(nn.Module):
    """GPT-2's MLP, `hidden` wide: GELU (or ReLU / leaky ReLU, for the entropic-overload study)."""

    def __init__(self, cfg, hidden):
        super().__init__()
        self.c_fc = nn.Linear(cfg.n_embd, hidden, bias=cfg.bias)
        self.act = ACTIVATIONS[cfg.activation]()
        self.c_proj = nn.Linear(hidden, cfg.n_embd, bias=cfg.bias)
        self.c_proj.residual = True
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.act(self.c_fc(x))))


class SwiGLU(nn.Module):
    """Llama's MLP: w2(silu(w1 x) * w3 x), `hidden` wide."""

    def __init__(self, cfg, hidden):
        super().__init__()
        self.w1 = nn.Linear(cfg.n_embd, hidden, bias=cfg.bias)
        self.w2 = nn.Linear(hidden, cfg.n_embd, bias=cfg.bias)
        self.w3 = nn.Linear(cfg.n_embd, hidden, bias=cfg.bias)
        self.w2.residual = True
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x):
        return self.dropout(self.w2(F.silu(self.w1(x)) * self.w3(x)))


# The three places a block stack has a norm: before attention, before the MLP (in every block), and
# the final one before the head. The modules keep nanoGPT's names (ln_1, ln_2, ln_f), whatever they hold.
SITES = ("attn", "ffn", "final")


def site_norms(settings):
    """{site: (norm name, the options it is built with)} for the three sites: the one place a norm's settings
    are resolved. settings.json records what this gives (resolve_alphas) and the model builds it.

    The final site holds norm_final when set, the others norm. A site's alpha_0 is its own alpha_init_<site>,
    else alpha_init, else its norm's alpha_default; alpha_init and norm_eps reach every site whose norm takes
    them (DyT blocks under a final LayerNorm: alpha_init is the blocks'), bias every norm that has one. A
    setting that no site's norm takes would do nothing: it is refused, naming the setting and what works."""
    values = settings if isinstance(settings, dict) else vars(settings)
    kinds = {site: values["norm_final"] if site == "final" and values["norm_final"] else values["norm"] for site in SITES}
    for kind in set(kinds.values()):
        if kind not in NORMS:
            raise ConfigError(f"unknown norm {kind!r}: choose one of {', '.join(NORMS)}")
    for key, option, sites in [("alpha_init", "alpha_init", SITES), ("norm_eps", "eps", SITES),
                               *((f"alpha_init_{site}", "alpha_init", (site,)) for site in SITES)]:
        refusing = sorted({kinds[s] for s in sites if option not in NORMS[kinds[s]].takes})
        if values[key] is not None and len(refusing) == len({kinds[s] for s in sites}):
            works = ", ".join(k for k, cls in NORMS.items() if option in cls.takes)
            one = len(refusing) == 1
            raise ConfigError(f"norm{'s' * (not one)} {' and '.join(map(repr, refusing))} take{'s' * one} no {option}, "
                              f"but {key}={values[key]!r} is set: set {key} to None, or choose a norm that has one "
                              f"({works})")
    out = {}
    for site, kind in kinds.items():
        cls, options = NORMS[kind], {}
        if "alpha_init" in cls.takes:
            given = [values[f"alpha_init_{site}"], values["alpha_init"], cls.alpha_default]
            options["alpha_init"] = next(float(a) for a in given if a is not None)
        if "eps" in cls.takes and values["norm_eps"] is not None:
            options["eps"] = values["norm_eps"]
        if "bias" in cls.takes:
            options["bias"] = values["bias"]
        out[site] = (kind, options)
    return out


def resolve_alphas(settings):
    """The alpha settings a run records, each norm's own alpha_0 filled in where the settings leave it to None:
    alpha_init the blocks' norm's, alpha_init_final a final norm's of another kind. Recorded, they give
    site_norms the same alphas as the settings they came from."""
    values = settings if isinstance(settings, dict) else vars(settings)
    sites, out = site_norms(values), {}
    if values["alpha_init"] is None:
        if "alpha_init" in NORMS[sites["attn"][0]].takes:
            out["alpha_init"] = NORMS[sites["attn"][0]].alpha_default
        final = sites["final"][0]
        if final != sites["attn"][0] and "alpha_init" in NORMS[final].takes and values["alpha_init_final"] is None:
            out["alpha_init_final"] = NORMS[final].alpha_default
    return out


def build_norm(site, sites, dim):
    """The norm module at `site` of site_norms' answer, over `dim` channels."""
    kind, options = sites[site]
    return NORMS[kind](dim, **options)


class Block(nn.Module):
    """Pre-norm: x + attn(norm(x)), then x + mlp(norm(x)); the MLP `hidden` wide."""

    def __init__(self, cfg, hidden, sites):
        super().__init__()
        # The norm slots keep nanoGPT's names (ln_1, ln_2, ln_f) whatever they hold, DyT or nothing:
        # forkers diff against nanoGPT and GPT-2 state dicts, and the regime paper's code and logs
        # name its layers the same way (h.3.ln_2), so our probes and theirs line up key for key.
        self.ln_1 = build_norm("attn", sites, cfg.n_embd)
        self.attn = Attention(cfg)
        self.ln_2 = build_norm("ffn", sites, cfg.n_embd)
        self.mlp = (SwiGLU if cfg.activation == "swiglu" else MLP)(cfg, hidden)

    def forward(self, x, rope=None):
        x = x + self.attn(self.ln_1(x), rope)
        x = x + self.mlp(self.ln_2(x))
        return x


# -----------------------------------------------------------------------------
# The model

def at_least_fp32(logits):
    """Logits for the loss in fp32 at least: bf16 logits lose the small differences a softmax needs."""
    return logits.to(torch.promote_types(logits.dtype, torch.float32))


class Transformer(nn.Module):
    """GPT-2, Llama or a ViT (cfg.arch): one trunk of blocks and a final norm, between an embedding and a
    head that differ. GPT-2 adds a learned position table to its token embeddings, Llama rotates queries
    and keys instead, and both read the next token off the tied embedding. The ViT, as the regime
    paper's ViT code builds it (code/vit_experiment.py), embeds square patches with a strided convolution,
    prepends a class token, adds learned positions, attends both ways and classifies the class token."""

    def __init__(self, cfg):
        super().__init__()
        check_config(cfg)
        self.config = cfg
        # modules are registered in the order their initial weights are drawn in: a new one goes last
        if cfg.arch == "vit":
            self.patch = nn.Conv2d(cfg.channels, cfg.n_embd, cfg.patch_size, stride=cfg.patch_size)
            self.cls_token = nn.Parameter(torch.zeros(1, 1, cfg.n_embd))
            self.pos_embed = nn.Parameter(torch.zeros(1, (cfg.image_size // cfg.patch_size) ** 2 + 1, cfg.n_embd))
        else:
            self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
            self.embed_scale = nn.Parameter(torch.tensor([math.sqrt(cfg.n_embd)])) if cfg.embed_scale else None
        self.drop = nn.Dropout(cfg.dropout)
        # a Llama keeps SwiGLU's width with any activation (the regime paper's GELU ablation does)
        hidden = swiglu_hidden(cfg.n_embd) if cfg.arch == "llama" else 4 * cfg.n_embd
        sites = site_norms(cfg)
        self.h = nn.ModuleList([Block(cfg, hidden, sites) for _ in range(cfg.n_layer)])
        if cfg.activation == "leaky_relu_global":  # one slope for the whole model: every MLP shares the first's
            for block in self.h[1:]:
                block.mlp.act.negative_slope = self.h[0].mlp.act.negative_slope
        self.ln_f = build_norm("final", sites, cfg.n_embd)
        if cfg.arch == "vit":
            self.head = nn.Linear(cfg.n_embd, cfg.num_classes, bias=cfg.bias)
        else:
            self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
            self.lm_head.weight = self.wte.weight  # tied: the same matrix reads and writes tokens
        if cfg.arch == "gpt":
            self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)
        if cfg.arch == "llama":
            cos, sin = rope_tables(cfg.n_embd // cfg.n_head, cfg.block_size, cfg.rope_theta)
            # buffers so they follow .to(device); not saved: they are a function of the config
            self.register_buffer("rope_cos", cos, persistent=False)
            self.register_buffer("rope_sin", sin, persistent=False)
        self.init_weights()

    @torch.no_grad()
    def init_weights(self):
        """As each paper's code. The ViT: class token and positions N(0, 0.02), the patch convolution and
        every Linear PyTorch's own init (uniform, scaled by fan-in). The language models: GPT-2's init,
        N(0, 0.02), the residual projections scaled by 1/sqrt(2 n_layer) (unless scaled_init=False), as each
        block adds two of them to the residual stream. Norm parameters keep their own init."""
        if self.config.arch == "vit":
            nn.init.normal_(self.cls_token, std=0.02)
            nn.init.normal_(self.pos_embed, std=0.02)
            return
        scale = 1 / math.sqrt(2 * self.config.n_layer) if self.config.scaled_init else 1.0
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                std = 0.02 * scale if getattr(module, "residual", False) else 0.02
                nn.init.normal_(module.weight, mean=0.0, std=std)
                if getattr(module, "bias", None) is not None:
                    nn.init.zeros_(module.bias)

    def embed(self, x):
        """The residual stream's input (B, T, C) and the rotary tables (or None): x is token ids (B, T), or
        images (B, channels, H, W) for the ViT."""
        if self.config.arch == "vit":
            x = self.patch(x).flatten(2).transpose(1, 2)  # (B, patches, C)
            return torch.cat([self.cls_token.expand(len(x), -1, -1), x], dim=1) + self.pos_embed, None
        if x.size(1) > self.config.block_size:
            raise ValueError(f"sequence of length {x.size(1)} is longer than block_size={self.config.block_size}")
        T = x.size(1)
        tokens = self.wte(x) * self.embed_scale if self.embed_scale is not None else self.wte(x)
        if self.config.arch == "gpt":
            return tokens + self.wpe(torch.arange(T, device=x.device)), None
        return tokens, (self.rope_cos[:T], self.rope_sin[:T]) if self.config.rope else None

    def forward(self, x, targets=None):
        """Logits, (B, T, vocab) for the next token or (B, classes) for an image, and the mean cross-entropy
        if targets are given (-1 = ignore)."""
        x, rope = self.embed(x)
        x = self.drop(x)
        for block in self.h:
            x = block(x, rope)
        if self.config.arch == "vit":
            logits = self.head(self.ln_f(x[:, 0]))  # the class token
        else:
            logits = self.lm_head(self.ln_f(x))
        if targets is None:
            return logits, None
        loss = F.cross_entropy(at_least_fp32(logits).flatten(0, -2), targets.flatten(), ignore_index=-1)
        return logits, loss

    def num_params(self):
        """Parameters as the regime paper counts them: tied embedding once, no position table (GPT-2's)."""
        n = sum(p.numel() for p in self.parameters())  # parameters() yields a tied tensor once
        return n - (self.wpe.weight.numel() if self.config.arch == "gpt" else 0)

    @torch.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
        """Append max_new_tokens sampled tokens to idx (B, T), feeding back the last block_size."""
        for _ in range(max_new_tokens):
            logits, _ = self(idx[:, -self.config.block_size:])
            logits = logits[:, -1, :] / max(temperature, 1e-8)
            if top_k is not None:
                kth = torch.topk(logits, min(top_k, logits.size(-1))).values[:, [-1]]
                logits[logits < kth] = -float("inf")
            idx = torch.cat((idx, torch.multinomial(F.softmax(logits, dim=-1), num_samples=1)), dim=1)
        return idx
