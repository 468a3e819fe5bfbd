"""
What a run measures beyond its loss, at evaluation time only, on fixed windows of the data.

- saturation: the fraction of elements a squashing norm pushes into its flat part, |alpha*x| > 2 for
  DyT (the regime paper's mechanism), |x| > 1 for HardTanh (each class says where); pooled over all
  such layers and per layer.
- norm_std: the std of every norm's input, and alpha: every DyT layer's alpha, so that the DyT
  paper's observation "alpha tracks 1/std of its input" can be plotted; leaky_slope: every learnable
  leaky-ReLU slope.
- attn_entropy: per layer and head, the Shannon entropy of the attention rows (Jha & Reagen,
  arXiv 2410.09637), and entropy_overload: the fraction of heads at 3/4 of the maximum ln T or more
  (entropy_overload_causal: of the causal ceiling, a tighter maximum).
- effective_rank: per block, the effective rank of its output over the probe tokens (the regime
  paper finds DyT lowers it by 43-61%).
The norm statistics and ranks read PROBE_WINDOWS windows spread over the training budget, the same at
every scale and batch size; attention entropy reads the first 8 validation windows.
- collapse: the regime paper's failure mode of Llama-DyT runs, or a run that never left the unigram
  loss, decided from a run's log (and its budget's unigram loss) alone.

Probes run under torch.no_grad(), eager (compiled modules too), and never touch the training step.
"""

import math

import torch
import torch.nn.functional as F

from dyt import NORMS, Identity, SquashingNorm

SATURATION_STEP = 500  # the regime paper's early-warning heuristic reads saturation at step 500


# -----------------------------------------------------------------------------
# What each norm sees, without changing the model

def saturated(norm, x):
    """Which elements of a squashing norm's input x its squash sees past its flat point: the regime
    paper's saturation, |alpha x| > 2 for DyT (dyt.SquashingNorm says where for each squash)."""
    return norm.squash_input(x).abs() > norm.saturation_threshold


class NormStats:
    """Per-norm statistics gathered by forward hooks over one or more forward passes.

    For every norm module: the std of its input (pooled over all elements), and for the squashing
    norms (DyT, Derf, HardTanh: dyt.SquashingNorm) the fraction of elements past the point where the
    squash is flat (saturated).
    """

    def __init__(self):
        self.count, self.total, self.total_sq, self.saturated = {}, {}, {}, {}

    def record(self, name, module, x):
        x = x.detach().double()
        self.count[name] = self.count.get(name, 0) + x.numel()
        self.total[name] = self.total.get(name, 0.0) + x.sum().item()
        self.total_sq[name] = self.total_sq.get(name, 0.0) + x.pow(2).sum().item()
        if isinstance(module, SquashingNorm):
            n = saturated(module, x).sum().item()
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
    """(name, module) for every norm of the registry in the model (Identity is no norm), in forward order."""
    kinds = tuple(cls for cls in NORMS.values() if cls is not Identity)
    return [(name, m) for name, m in model.named_modules() if isinstance(m, kinds)]


def norm_hooks(model, stats):
    """Forward hooks on every norm of the model that record what it sees into stats; returns their handles. Each
    runs before the norm's other forward hooks: a sharded norm (machine.shard) is resharded by one of them, and
    the probe reads its alpha."""
    return [m.register_forward_hook(lambda mod, inp, out, name=name: stats.record(name, mod, inp[0]), prepend=True)
            for name, m in norm_modules(model)]


def forward_with_hooks(model, x, autocast, hooks):
    """One forward pass over x in eval mode with the hooks (handles) in place; they are removed after. Eager
    throughout, compiled modules too (a sharded model's compiled blocks: machine.shard): a compiled module
    does not see hooks added after it was compiled, and would be compiled again for each probe pass."""
    was_training = model.training
    model.eval()
    try:
        with autocast, torch.compiler.set_stance("force_eager"):
            model(x)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)


def median_and_p90(s):
    """The median and 90th percentile of a 1-d tensor (of at most ~100,000 evenly strided elements: quantile's
    limit), on the tensor's own device."""
    return torch.quantile(s[:: max(1, s.numel() // 100_000)], torch.tensor([0.5, 0.9], dtype=s.dtype, device=s.device))


@torch.no_grad()
def probe_norm_sites(model, x, autocast):
    """Per norm, what it sees in one forward pass over x: the median and 90th percentile of |s(x)|, the
    input of its squash (x itself for a norm that does not squash), the fraction past the flat point
    (None for a norm that does not squash) and the std of its output, which LayerNorm holds at 1."""
    seen = {}

    def record(name):
        def hook(module, args, out):
            squashes = isinstance(module, SquashingNorm)
            s = (module.squash_input(args[0]) if squashes else args[0]).abs().flatten().double()
            q50, q90 = median_and_p90(s)
            seen[name] = {"median": q50.item(), "p90": q90.item(), "out_std": out.double().std().item(),
                          "saturation": saturated(module, args[0]).double().mean().item() if squashes else None}
        return hook

    forward_with_hooks(model, x, autocast, [m.register_forward_hook(record(name), prepend=True)  # as norm_hooks
                                            for name, m in norm_modules(model)])
    return seen


def _value(p):
    """A scalar parameter's value; under FSDP it is a sharded DTensor, gathered first (all ranks call this)."""
    return (p.full_tensor() if hasattr(p, "full_tensor") else p).item()


def learned_scalars(model):
    """Every learnable scalar (one-element parameter) by kind and module: DyT's alpha, a Derf shift, a
    leaky-ReLU slope (logged as leaky_slope), the embedding scale (module 'model'). A new norm's
    scalars are logged without a change here."""
    out = {}
    for module_name, module in model.named_modules():
        for name, p in module.named_parameters(recurse=False):
            if p.numel() == 1:
                key = "leaky_slope" if name == "negative_slope" else name
                out.setdefault(key, {})[module_name or "model"] = _value(p)
    return out


def norm_gains(model):
    """The mean gain (weight) of every norm, by module: each starts at 1, and in pure bf16 an update under half
    the spacing of 1.0 is rounded away, so a gain that never moves stays exactly 1."""
    out = {}
    for name, m in norm_modules(model):
        w = getattr(m, "weight", None)
        if w is not None:
            w = w.full_tensor() if hasattr(w, "full_tensor") else w  # FSDP: gathered on all ranks
            out[name] = w.float().mean().item()
    return out


def effective_rank_of_gram(gram):
    """The effective rank of a matrix A from its Gram matrix A^T A (float64), whose eigenvalues are A's
    squared singular values: a sum over rows, so it can be gathered chunk by chunk. Eigenvalues below
    rounding (largest x size x eps) count as zero, as a rank does."""
    eig = torch.linalg.eigvalsh(gram)
    s = eig.clamp_min(0).sqrt() * (eig > eig.max() * len(eig) * torch.finfo(eig.dtype).eps)
    p = s / s.sum()
    return math.exp(-(p * p.clamp_min(1e-300).log()).sum().item())


# The norm statistics and effective ranks are measured on this many windows of block_size tokens,
# evenly spread over the training budget, at every scale and in every process layout (the regime
# paper's saturation script reads 50 windows of 512 tokens), a micro-batch of windows at a time
PROBE_WINDOWS = 50


@torch.no_grad()
def probe_norms_and_rank(model, x, autocast, chunk):
    """From one forward pass over the windows x (N, T), `chunk` windows at a time, a dict for log.jsonl:
    what every norm sees (saturation, pooled and per layer; the std of its input) and the effective
    rank of each block's output (the residual stream), tokens x channels, from its Gram matrix summed
    over the chunks. Hooks only read, so each pass is the model's own."""
    stats, grams = NormStats(), {}

    def gather(name):
        def hook(module, args, out):
            h = out.flatten(0, 1).double()
            grams[name] = grams.get(name, 0) + h.T @ h
        return hook

    for i in range(0, len(x), chunk):
        rank_hooks = [block.register_forward_hook(gather(f"h.{j}")) for j, block in enumerate(model.h)]
        p = next(model.parameters())  # images in the weights' dtype, tokens as they are
        forward_with_hooks(model, x[i: i + chunk].to(p.device, dtype=p.dtype if x.is_floating_point() else None),
                           autocast, norm_hooks(model, stats) + rank_hooks)
    out = {"saturation": stats.pooled_saturation()}
    if stats.saturation():
        out["saturation_layers"] = stats.saturation()
    out["norm_std"] = stats.std()
    out["effective_rank"] = {name: effective_rank_of_gram(g) for name, g in grams.items()}
    return out


# -----------------------------------------------------------------------------
# Attention entropy (entropic overload)

# A head is overloaded when its entropy is at least 3/4 of the maximum, as Jha & Reagen count it. Their
# maximum is ln T, the entropy of uniform attention over the whole context (their entropy-regularisation
# code: max_entropy = log(context_size)); a causal row i spreads over i positions only, so the mean row
# entropy of uniform causal attention, the true ceiling, is lower (entropy_ceiling): both are reported.
# Counting [3/4, 1] rather than [3/4, 1) keeps float rounding from deciding whether a head counts.
OVERLOAD_FRACTION = 0.75


def entropy_max(T):
    """The entropy overload is measured against, as the paper's authors take it: ln T, uniform over T positions."""
    return math.log(T)


def entropy_ceiling(T):
    """The largest mean row entropy causal attention over T positions can have: uniform rows,
    row i spreading over i positions, so (1/T) sum_{i=1..T} ln i."""
    return sum(math.log(i) for i in range(1, T + 1)) / T


def attention_entropy(scores, causal=True):
    """Mean entropy (nats) of the softmax rows of scores (B, nh, T, T), per head: (nh,); causal rows see
    their past only."""
    T = scores.size(-1)
    future = torch.ones(T, T, dtype=torch.bool, device=scores.device).triu(1) & causal
    # float64: near-uniform rows make the entropy a small difference of large terms, and float32
    # attention scores were seen to move it by 1e-5 between two identical runs on one CPU
    logp = F.log_softmax(scores.double().masked_fill(future, float("-inf")), dim=-1)
    plogp = torch.where(future, 0.0, logp.exp() * logp)  # masked entries contribute 0, not 0 * -inf
    return -plogp.sum(-1).mean(dim=(0, 2))


@torch.no_grad()
def probe_attention(model, x, autocast):
    """Per layer and head, the mean attention-row entropy over the windows x, and the overloaded fraction.
    The attention probabilities are recomputed from each block's input in a hook, while the block's
    parameters are at hand (also under FSDP): the training step's fused attention never materialises them."""
    entropy = []

    tokens = []

    def measure(attn, args):
        q, k, _ = attn.qkv(*args)
        k = k.repeat_interleave(attn.n_head // attn.n_kv_head, dim=1)  # grouped-query: share kv heads
        scores = q.double() @ k.double().transpose(-2, -1) / math.sqrt(attn.head_dim)
        entropy.append(attention_entropy(scores, attn.causal).tolist())
        tokens[:] = [q.size(2), attn.causal]

    forward_with_hooks(model, x, autocast, [block.attn.register_forward_pre_hook(measure) for block in model.h])
    heads = [e for layer in entropy for e in layer]
    T, causal = tokens

    def overloaded(maximum):
        return sum(e >= OVERLOAD_FRACTION * maximum for e in heads) / len(heads)

    # attention both ways (a ViT) can reach ln T: its ceiling is the maximum itself
    return {"attn_entropy": entropy, "entropy_overload": overloaded(entropy_max(T)),
            "entropy_overload_causal": overloaded(entropy_ceiling(T) if causal else entropy_max(T))}


# -----------------------------------------------------------------------------
# Collapse: the one rule, used by train.py and report.py

COLLAPSE_MIN_IMPROVEMENT = 0.01   # val loss improved by less than 1% over the second half of training ...
COLLAPSE_MAX_ALPHA_MOVE = 0.05    # ... while every alpha stayed within 5% of its initial value
UNIGRAM_MARGIN = 0.1              # a final training loss this close to the unigram loss learned nothing more


def collapsed(log, unigram_train_loss=None):
    """The criteria by which a run collapsed, an empty list when it did not:

    - "stalled": the regime paper's failure mode of Llama-DyT runs, a run with DyT layers whose val loss
      improved by less than 1% from the evaluation nearest mid-training to the last one while every
      alpha stayed within 5% of its initial value (as logged at step 0, before any update). The paper's
      collapsed runs plateau near val loss 7.44 with alpha stuck near 2.0. Runs without alphas, or with
      fewer than three evaluations, never meet it.
    - "unigram": a final training loss within 0.1 nats of the unigram loss of the run's budget
      (data.unigram_losses): the model predicts token frequencies and nothing else.
    """
    out = []
    rows = [r for r in log if "alpha" in r]
    if len(rows) >= 3:
        first, last = rows[0], rows[-1]
        middle = min(rows, key=lambda r: abs(r["iter"] - last["iter"] / 2))
        improvement = (middle["val_loss"] - last["val_loss"]) / abs(middle["val_loss"])
        alpha_move = max(abs(last["alpha"][name] - a0) / abs(a0) for name, a0 in first["alpha"].items())
        if improvement < COLLAPSE_MIN_IMPROVEMENT and alpha_move < COLLAPSE_MAX_ALPHA_MOVE:
            out.append("stalled")
    if unigram_train_loss is not None and log and abs(log[-1]["train_loss"] - unigram_train_loss) <= UNIGRAM_MARGIN:
        out.append("unigram")
    return out
