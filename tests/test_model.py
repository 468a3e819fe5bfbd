"""GPT and Llama: every norm fits every site, sizes match the paper, the Llama switches do what they say."""

import math

import pytest
import torch

from dyt import NORMS
from model import MLP, ModelConfig, SwiGLU, apply_rope, Transformer, rope_tables


def small(arch="gpt", **kw):
    base = dict(arch=arch, n_layer=2, n_head=4, n_embd=64, vocab_size=128, block_size=16, bias=arch == "gpt")
    if arch == "llama":
        base.update(n_kv_head=2, activation="swiglu")
    return ModelConfig(**{**base, **kw})


@pytest.mark.parametrize("arch", ["gpt", "llama"])
@pytest.mark.parametrize("norm", NORMS)
def test_every_norm_swaps_into_both_architectures(arch, norm):
    torch.manual_seed(0)
    model = Transformer(small(arch, norm=norm))
    sites = [model.ln_f] + [b.ln_1 for b in model.h] + [b.ln_2 for b in model.h]
    assert all(type(s) is NORMS[norm] for s in sites)
    idx, targets = torch.randint(0, 128, (2, 3, 16))
    logits, loss = model(idx, targets)
    assert logits.shape == (3, 16, 128)
    # at init the model is close to uniform over the vocabulary
    assert abs(loss.item() - math.log(128)) < 0.5
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


# (n_layer, n_head, n_embd, params) of the regime paper's five GPT-2 scales
SCALES = {"64m": (12, 8, 512, 63.52e6), "124m": (12, 12, 768, 123.6e6), "354m": (24, 16, 1024, 353.6e6),
          "1.3b": (24, 32, 2048, 1311e6), "3.78b": (32, 32, 3072, 3779e6)}


@pytest.mark.parametrize("scale", SCALES)
def test_parameter_counts_match_the_paper(scale):
    n_layer, n_head, n_embd, expected = SCALES[scale]
    with torch.device("meta"):
        model = Transformer(ModelConfig(n_layer=n_layer, n_head=n_head, n_embd=n_embd, bias=False, block_size=512,
                                        vocab_size=50304))
    assert abs(model.num_params() / expected - 1) < 0.005


def test_num_params_counts_tied_embedding_once_and_skips_positions():
    model = Transformer(small())
    everything = sum(p.numel() for p in model.parameters())
    assert model.lm_head.weight is model.wte.weight
    assert model.num_params() == everything - model.wpe.weight.numel()


def last_logits_after_swapping_first_two(model):
    with torch.no_grad():  # sharpen attention, which is near uniform at init
        model.h[0].attn.c_attn.weight.mul_(20)
    idx = torch.randint(0, 128, (1, 8))
    swapped = idx.clone()
    swapped[0, [0, 1]] = idx[0, [1, 0]]
    with torch.no_grad():
        return model(idx)[0][0, -1], model(swapped)[0][0, -1]


def test_llama_without_rope_cannot_see_order():
    # one layer: the last position attends over the set of earlier tokens, so with no positional
    # signal their order cannot matter (with more layers, earlier positions see different prefixes)
    torch.manual_seed(0)
    a, b = last_logits_after_swapping_first_two(Transformer(small("llama", rope=False, n_layer=1)))
    assert torch.allclose(a, b, atol=1e-5)
    a, b = last_logits_after_swapping_first_two(Transformer(small("llama", n_layer=1)))
    assert (a - b).abs().max() > 1e-2


def test_llama_ablation_switches_change_the_model_as_named():
    gqa = Transformer(small("llama"))
    mha = Transformer(small("llama", n_kv_head=None))
    gelu = Transformer(small("llama", activation="gelu"))
    hd = 64 // 4
    assert gqa.h[0].attn.c_attn.weight.shape == ((4 + 2 * 2) * hd, 64)
    assert mha.h[0].attn.c_attn.weight.shape == (3 * 64, 64)
    assert isinstance(gqa.h[0].mlp, SwiGLU) and isinstance(gelu.h[0].mlp, MLP)
    assert isinstance(gelu.h[0].mlp.act, torch.nn.GELU)
    assert gqa.h[0].mlp.w1.out_features == 256 * math.ceil(int(8 * 64 / 3) / 256)
    # the paper's GELU ablation keeps SwiGLU's hidden width; GPT-2's MLP is 4d wide
    assert gelu.h[0].mlp.c_fc.out_features == gqa.h[0].mlp.w1.out_features == 256
    assert Transformer(small("gpt")).h[0].mlp.c_fc.out_features == 4 * 64


def test_the_papers_llama_gelu_ablation_is_1536_wide_at_64m():
    with torch.device("meta"):
        gelu = Transformer(ModelConfig(arch="llama", n_layer=12, n_head=8, n_embd=512, activation="gelu", bias=False,
                                       vocab_size=50304))
    assert gelu.h[0].mlp.c_fc.out_features == 1536


def test_grouped_query_attention_equals_multi_head_with_shared_keys():
    """GQA with 2 kv heads is MHA whose key/value heads come in identical pairs."""
    torch.manual_seed(0)
    gqa = Transformer(small("llama"))
    mha = Transformer(small("llama", n_kv_head=None))
    state = gqa.state_dict()
    hd, d = 16, 64
    for i in range(2):
        w = state[f"h.{i}.attn.c_attn.weight"]
        q, k, v = w.split([4 * hd, 2 * hd, 2 * hd])
        k, v = (t.view(2, hd, d).repeat_interleave(2, dim=0).reshape(4 * hd, d) for t in (k, v))
        state[f"h.{i}.attn.c_attn.weight"] = torch.cat([q, k, v])
    mha.load_state_dict(state)
    idx = torch.randint(0, 128, (2, 16))
    with torch.no_grad():
        assert torch.allclose(gqa(idx)[0], mha(idx)[0], atol=1e-5)


def test_rope_scores_depend_on_relative_position_only():
    torch.manual_seed(0)
    cos, sin = rope_tables(8, 32, 10000.0)
    q, k = torch.randn(8), torch.randn(8)

    def score(i, j):
        qi = apply_rope(q.expand(32, 8)[None, None], cos, sin)[0, 0, i]
        kj = apply_rope(k.expand(32, 8)[None, None], cos, sin)[0, 0, j]
        return (qi * kj).sum()

    assert torch.allclose(score(5, 2), score(20, 17), atol=1e-5)
    assert not torch.allclose(score(5, 2), score(5, 4), atol=1e-3)


def test_alpha_init_per_site_and_embedding_scale():
    model = Transformer(small(norm="dyt", alpha_init=1.0, alpha_init_attn=0.8, alpha_init_final=0.3, embed_scale=True))
    assert model.h[1].ln_1.alpha.item() == pytest.approx(0.8)
    assert model.h[1].ln_2.alpha.item() == pytest.approx(1.0)  # ffn falls back to alpha_init
    assert model.ln_f.alpha.item() == pytest.approx(0.3)
    assert model.embed_scale.item() == pytest.approx(8.0)  # sqrt(64)
    x, _ = model.embed(torch.tensor([[3]]))
    assert torch.allclose(x, 8.0 * model.wte.weight[3] + model.wpe.weight[0])


def test_residual_projections_get_the_scaled_init():
    torch.manual_seed(0)
    model = Transformer(small(n_layer=8, n_embd=256, n_head=4))
    assert model.h[0].attn.c_attn.weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert model.h[0].attn.c_proj.weight.std().item() == pytest.approx(0.02 / math.sqrt(16), rel=0.05)
    assert model.h[0].mlp.c_proj.weight.std().item() == pytest.approx(0.02 / math.sqrt(16), rel=0.05)


def test_generate_appends_tokens_and_greedy_is_argmax():
    torch.manual_seed(0)
    model = Transformer(small()).eval()
    idx = torch.randint(0, 128, (2, 5))
    out = model.generate(idx, 20, top_k=1)  # longer than block_size: the context is cropped
    assert out.shape == (2, 25) and torch.equal(out[:, :5], idx)
    with torch.no_grad():
        assert torch.equal(out[:, 5], model(idx)[0][:, -1].argmax(-1))


def test_unknown_choices_are_clear_errors():
    with pytest.raises(ValueError, match="choose one of layernorm"):
        Transformer(small(norm="batchnorm"))
    with pytest.raises(ValueError, match="choose gpt, llama or vit"):
        Transformer(small(arch="mamba"))
    with pytest.raises(ValueError, match="gelu, gelu_tanh, relu, leaky_relu, leaky_relu_global, leaky_relu_fixed, swiglu"):
        Transformer(small(activation="tanh"))
