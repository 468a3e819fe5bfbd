"""The norm layers do what the papers say they do."""

import math

import pytest
import torch

from cli import ConfigError
from dyt import FLAT, NORMS, Derf, DyT, HardTanhNorm, LayerNorm, RMSNorm, SquashingNorm, llm_alpha0
from model import SITES, ModelConfig, Transformer, build_norm, resolve_alphas, site_norms
from probes import (NormStats, effective_rank_of_gram, forward_with_hooks, median_and_p90, norm_hooks,
                    probe_norms_and_rank)


def make_norm(kind, dim, site="attn", **settings):
    """A norm as a model builds it at `site`, from the model's settings (site_norms, the one resolution)."""
    return build_norm(site, site_norms(ModelConfig(norm=kind, n_embd=dim, **settings)), dim)


def test_dyt_at_init_is_tanh_of_alpha_x():
    torch.manual_seed(0)
    x = torch.randn(4, 7, 16)
    for alpha in (0.5, 2.0):
        assert torch.equal(DyT(16, alpha_init=alpha)(x), torch.tanh(alpha * x))


def test_derf_at_init_is_erf_of_alpha_x_with_its_authors_values():
    torch.manual_seed(0)
    x = torch.randn(4, 7, 16)
    norm = make_norm("derf", 16, alpha_init=0.5)
    assert norm.alpha.item() == 0.5 and norm.shift.item() == 0.0 and norm.bias is None
    assert torch.equal(norm(x), torch.erf(0.5 * x))
    with torch.no_grad():
        norm.shift.fill_(0.3)
        norm.weight.copy_(torch.arange(16.0))
    assert torch.allclose(norm(x), torch.arange(16.0) * torch.erf(0.5 * x + 0.3))
    # its saturation threshold is where erf is as flat as tanh at DyT's 2.0
    u, v = torch.tensor(Derf.saturation_threshold, requires_grad=True), torch.tensor(2.0, requires_grad=True)
    torch.erf(u).backward()
    torch.tanh(v).backward()
    assert u.grad.item() / (2 / math.sqrt(math.pi)) == pytest.approx(v.grad.item(), rel=1e-6)


def test_dyt_applies_weight_and_bias_per_channel():
    torch.manual_seed(0)
    norm = DyT(8, alpha_init=1.5, bias=True)
    with torch.no_grad():
        norm.weight.copy_(torch.arange(8.0))
        norm.bias.copy_(-torch.arange(8.0))
    x = torch.randn(3, 8)
    assert torch.allclose(norm(x), torch.arange(8.0) * torch.tanh(1.5 * x) - torch.arange(8.0))
    assert norm.alpha.shape == (1,) and DyT(8, alpha_init=2.0).bias is None


def test_hardtanh_clips_at_one():
    x = torch.tensor([[-3.0, -1.0, -0.5, 0.0, 0.25, 1.0, 7.0]])
    assert torch.equal(HardTanhNorm(7)(x), torch.tensor([[-1.0, -1.0, -0.5, 0.0, 0.25, 1.0, 1.0]]))


@pytest.mark.parametrize("kind", [k for k in NORMS if k != "identity"])
def test_gradients_match_finite_differences(kind):
    torch.manual_seed(0)
    alpha = {"alpha_init": 0.7} if "alpha_init" in NORMS[kind].takes else {}
    norm = make_norm(kind, 6, bias=True, **alpha).double()
    with torch.no_grad():  # move parameters off their init so every term of the gradient matters
        for p in norm.parameters():
            p.add_(0.1 * torch.randn_like(p))
    x = torch.randn(3, 6, dtype=torch.float64)
    x = x + 0.05 * torch.sign(x)  # keep HardTanh's inputs off its kinks at +-1 ... mostly
    x[(x.abs() - 1).abs() < 0.05] = 0.3
    x.requires_grad_(True)
    params = tuple(norm.parameters())

    def f(x, *ps):
        return torch.func.functional_call(norm, dict(zip([n for n, _ in norm.named_parameters()], ps)), (x,))

    assert torch.autograd.gradcheck(f, (x, *params))


def test_layernorm_matches_torch():
    torch.manual_seed(0)
    x = torch.randn(5, 32)
    assert torch.allclose(LayerNorm(32, bias=True)(x), torch.nn.LayerNorm(32, eps=1e-5)(x), atol=1e-6)
    assert LayerNorm(32, bias=False).bias is None


def test_rmsnorm_normalises_in_fp32_for_bf16_input():
    torch.manual_seed(0)
    x = torch.randn(4, 64) * 1e-3  # bf16 keeps 8 bits of mantissa: its sum of squares would be rounded
    ref = x / x.pow(2).mean(-1, keepdim=True).add(1e-6).sqrt()
    out = RMSNorm(64)(x.bfloat16())
    assert out.dtype == torch.bfloat16
    assert (out.float() - ref).abs().max() < 1e-2  # bf16 rounding of input and output only
    assert torch.allclose(RMSNorm(64)(x), ref, atol=1e-5)


def test_a_norm_is_built_with_what_it_is_given_or_its_own_and_refuses_what_it_does_not_take():
    assert make_norm("dyt", 8, alpha_init=3.0).alpha.item() == 3.0 and make_norm("dyt", 8).alpha.item() == 2.0
    assert make_norm("derf", 8).alpha.item() == 0.5  # each squash's own alpha_0 when none is given
    assert make_norm("rmsnorm", 8, norm_eps=1e-5).eps == 1e-5 and make_norm("rmsnorm", 8).eps == 1e-6
    # bias is the model's: a norm that has one takes it, one that has none is built without
    assert make_norm("layernorm", 8, bias=True).bias is not None and make_norm("hardtanh", 8, bias=True).bias is not None
    assert isinstance(make_norm("rmsnorm", 8, bias=True), RMSNorm) and isinstance(make_norm("identity", 8, bias=True),
                                                                                    torch.nn.Identity)
    for kind, key, option in (("layernorm", "alpha_init", "alpha_init"), ("hardtanh", "alpha_init", "alpha_init"),
                              ("identity", "alpha_init", "alpha_init"), ("dyt", "norm_eps", "eps"),
                              ("identity", "norm_eps", "eps")):
        with pytest.raises(ConfigError, match=f"norm '{kind}' takes no {option}, but {key}=3.0 is set: set {key} to None"):
            make_norm(kind, 8, **{key: 3.0})
    with pytest.raises(ConfigError, match=f"choose one of {', '.join(NORMS)}"):
        make_norm("batchnorm", 8)
    with pytest.raises(TypeError, match="DyT needs its alpha_0"):  # built by hand, a norm is given its alpha_0
        DyT(8)


def test_a_model_names_the_setting_its_norm_does_not_take():
    with pytest.raises(ConfigError, match="norm 'layernorm' takes no alpha_init, but alpha_init=2.0 is set"):
        Transformer(ModelConfig(vocab_size=32, norm="layernorm", alpha_init=2.0))
    with pytest.raises(ConfigError, match="norm 'dyt' takes no eps, but norm_eps=1e-05 is set.*\\(layernorm, rmsnorm\\)"):
        Transformer(ModelConfig(vocab_size=32, norm="dyt", norm_eps=1e-5))
    with pytest.raises(ConfigError, match="norm 'layernorm' takes no alpha_init, but alpha_init_final=0.3 is set"):
        Transformer(ModelConfig(vocab_size=32, norm="dyt", norm_final="layernorm", alpha_init_final=0.3))
    with pytest.raises(ConfigError, match="norms 'identity' and 'layernorm' take no alpha_init, but alpha_init=1.0"):
        Transformer(ModelConfig(vocab_size=32, norm="identity", norm_final="layernorm", alpha_init=1.0))
    with pytest.raises(ConfigError, match="norm 'layernorm' takes no alpha_init, but alpha_init_attn=0.8 is set"):
        Transformer(ModelConfig(vocab_size=32, norm="layernorm", norm_final="dyt", alpha_init_attn=0.8))


def site_alphas(model):
    """Every site's alpha_0 as the model holds it (None where its norm has none)."""
    modules = {"attn": [b.ln_1 for b in model.h], "ffn": [b.ln_2 for b in model.h], "final": [model.ln_f]}
    alphas = {site: {getattr(getattr(m, "alpha", None), "item", lambda: None)() for m in ms} for site, ms in modules.items()}
    assert all(len(a) == 1 for a in alphas.values())  # every block's norm at a site alike
    return {site: a.pop() for site, a in alphas.items()}


@pytest.mark.parametrize("blocks", NORMS)
@pytest.mark.parametrize("final", NORMS)
def test_every_pair_of_block_and_final_norm_builds_and_records_what_it_builds(blocks, final):
    """Every norm in the blocks with every norm at the final site: the model builds, each site holds its
    norm with its alpha_0, and the settings a run records (resolve_alphas) give the same alphas again."""
    settings = {**vars(ModelConfig(vocab_size=32, n_layer=2, n_embd=8, n_head=2)), "norm": blocks, "norm_final": final}
    model = Transformer(ModelConfig(**settings))
    assert type(model.h[0].ln_1) is NORMS[blocks] and type(model.ln_f) is NORMS[final]
    own = {site: getattr(NORMS[blocks if site != "final" else final], "alpha_default", None) for site in SITES}
    assert site_alphas(model) == own
    recorded = {**settings, **resolve_alphas(settings)}
    assert site_alphas(Transformer(ModelConfig(**recorded))) == own
    assert site_norms(recorded) == site_norms(settings)
    # per-site alphas reach their site, alpha_init every other site whose norm takes one
    given = {"alpha_init": 0.75, **{f"alpha_init_{s}": a for s, a in (("attn", 0.25), ("final", 1.5))
                                    if "alpha_init" in NORMS[blocks if s != "final" else final].takes}}
    if any("alpha_init" in NORMS[k].takes for k in (blocks, final)):
        model = Transformer(ModelConfig(**{**settings, **given}))
        wanted = {s: given.get(f"alpha_init_{s}", 0.75) if own[s] is not None else None for s in SITES}
        assert site_alphas(model) == wanted


@pytest.mark.parametrize("kind", NORMS)
def test_every_norm_of_the_registry_has_what_the_probes_read(kind):
    """A squashing norm says where it saturates, and its squash is as flat there as tanh past 2; every other
    norm normalises (the same output for x and 10 x) or is the identity: a squash that does not derive from
    SquashingNorm would log no saturation, and this test names it."""
    torch.manual_seed(0)
    cls, norm = NORMS[kind], make_norm(kind, 16)
    x = torch.randn(4, 16)
    if not issubclass(cls, SquashingNorm):
        with torch.no_grad():  # as trained: a learnable scale equals x at its start, but not once it moves
            for p in norm.parameters():
                p.copy_(torch.randn_like(p))
        scale_free = torch.allclose(norm(10 * x), norm(x), atol=1e-4)
        assert scale_free or torch.equal(norm(x), x), \
            f"{kind} neither normalises nor is the identity: a squash derives from SquashingNorm"
        return
    assert set(cls.takes) <= {"alpha_init", "bias"} and "bias" in cls.takes
    assert ("alpha_init" in cls.takes) == (cls.alpha_default is not None)
    for name, p in norm.named_parameters():  # alpha and the scalars are one number each, per layer
        assert p.numel() == (16 if name in ("weight", "bias") else 1), name
    # the squash is at least as steep as tanh at 2 just inside its threshold, and at most as steep just past it
    u = torch.tensor([0.0, 0.999 * cls.saturation_threshold, 1.001 * cls.saturation_threshold], requires_grad=True)
    norm.squash(u).sum().backward()
    at_zero, inside, past = u.grad.tolist()
    assert at_zero > 0 and inside / at_zero > FLAT >= past / at_zero, (inside / at_zero, past / at_zero)
    with torch.no_grad():  # saturation is measured on what the squash sees
        assert torch.equal(norm(x), norm.weight * norm.squash(norm.squash_input(x)))


def test_a_squashing_norm_must_say_what_the_probes_read():
    with pytest.raises(TypeError, match="must say where its squash saturates"):
        type("NoThreshold", (SquashingNorm,), {"squash": lambda self, u: u.tanh()})
    with pytest.raises(TypeError, match="must say what it squashes with"):
        type("NoSquash", (SquashingNorm,), {"saturation_threshold": 2.0})


def test_saturation_probe_counts_squashed_elements_without_changing_outputs():
    torch.manual_seed(0)
    model = torch.nn.Sequential(DyT(16, alpha_init=2.0), torch.nn.Linear(16, 16), HardTanhNorm(16), RMSNorm(16))
    x = torch.randn(8, 16) * 1.5
    before = model(x)
    stats = NormStats()
    handles = norm_hooks(model, stats)
    during = model(x)
    for h in handles:
        h.remove()
    assert torch.equal(before, during) and torch.equal(model(x), before)
    h = model[1](model[0](x))
    expected = {"0": (2.0 * x).abs().gt(2.0).float().mean().item(), "2": h.abs().gt(1.0).float().mean().item()}
    assert stats.saturation() == pytest.approx(expected)
    pooled = ((2.0 * x).abs().gt(2.0).sum() + h.abs().gt(1.0).sum()).item() / (2 * x.numel())
    assert stats.pooled_saturation() == pytest.approx(pooled)
    assert 0 < pooled < 1
    assert stats.std()["0"] == pytest.approx(x.double().std(unbiased=False).item(), rel=1e-9)
    assert set(stats.std()) == {"0", "2", "3"}  # RMSNorm's input std is watched; it does not saturate


@pytest.mark.parametrize("chunk", [1, 2, 5])
def test_the_probes_in_chunks_report_what_each_measurement_sees_over_all_the_windows(chunk):
    # the norm statistics and the effective ranks share forward passes over the probe windows, a chunk at
    # a time: each must equal the measurement taken on all the windows at once, and the model must not move
    torch.manual_seed(0)
    model = Transformer(ModelConfig(n_layer=2, n_head=2, n_embd=16, vocab_size=32, block_size=8, norm="dyt",
                                    alpha_init=40.0))  # large enough that some elements saturate
    x = torch.randint(0, 32, (5, 8))
    before = model(x)[0]
    probed = probe_norms_and_rank(model, x, torch.autocast("cpu", enabled=False), chunk)
    assert torch.equal(model(x)[0], before)
    stats = NormStats()
    with torch.no_grad():
        forward_with_hooks(model, x, torch.autocast("cpu", enabled=False), norm_hooks(model, stats))
    assert probed["norm_std"] == pytest.approx(stats.std(), rel=1e-12)
    assert probed["saturation_layers"] == stats.saturation()  # counts of elements: exact
    assert probed["saturation"] == stats.pooled_saturation() and 0 < probed["saturation"] < 1
    outputs = []
    with torch.no_grad():
        forward_with_hooks(model, x, torch.autocast("cpu", enabled=False),
                           [b.register_forward_hook(lambda m, a, out: outputs.append(out.flatten(0, 1))) for b in model.h])
    svd = {f"h.{i}": math.exp(-(lambda p: (p * p.log()).sum().item())(torch.linalg.svdvals(o.double()) /
                                                                       torch.linalg.svdvals(o.double()).sum()))
           for i, o in enumerate(outputs)}
    assert probed["effective_rank"] == pytest.approx(svd, rel=1e-9)  # the Gram matrix's, as the singular values'
    assert all(1 < r < 16 for r in probed["effective_rank"].values())


def test_the_dyt_llm_recipe_takes_its_row_by_width():
    assert llm_alpha0(4096) == (0.8, 0.2, 0.2) and llm_alpha0(8192) == (0.2, 0.05, 0.05)
    assert llm_alpha0(6144) == (0.6, 0.15, 0.15)  # between 5120 and 8192: the 5120 row
    assert llm_alpha0(512) == llm_alpha0(3072) == (0.8, 0.2, 0.2)  # narrower than any tuned width


def effective_rank(a):
    return effective_rank_of_gram(a.double().T @ a.double())


def test_effective_rank_counts_the_directions_used():
    torch.manual_seed(0)
    assert effective_rank(torch.eye(6)) == pytest.approx(6.0)  # six equal singular values
    assert effective_rank(torch.outer(torch.randn(50), torch.randn(8))) == pytest.approx(1.0, abs=1e-6)
    two = torch.zeros(40, 8)
    two[:20, 0], two[20:, 1] = 3.0, 1.0  # singular values 3 sqrt(20) and sqrt(20): p = 3/4, 1/4
    assert effective_rank(two) == pytest.approx(math.exp(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25))))


def test_the_norm_probes_quantiles_stay_on_their_tensors_device():
    s = torch.arange(1001, dtype=torch.float64)
    assert median_and_p90(s).tolist() == [500.0, 900.0]
    on_meta = median_and_p90(s.to("meta"))  # as on a GPU: the quantiles asked for live where the tensor does
    assert on_meta.device.type == "meta" and on_meta.shape == (2,)
