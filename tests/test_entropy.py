"""LayerNorm-free models and entropic overload: the entropy probe, the learnable slope, the configs."""

import json
import math
import os
from contextlib import nullcontext
from types import SimpleNamespace

import pytest
import torch

import train
from conftest import REPO, read_log, run
from configurator import read_settings
from make_configs import generated_files
from dyt import LayerNorm
from model import LeakyReLU, ModelConfig, Transformer
from probes import attention_entropy, entropy_ceiling, entropy_max, learned_scalars, probe_attention


def test_uniform_causal_attention_has_the_ceiling_entropy():
    T = 16
    expected = sum(math.log(i) for i in range(1, T + 1)) / T
    assert entropy_ceiling(T) == pytest.approx(expected)
    assert attention_entropy(torch.zeros(2, 3, T, T)).tolist() == pytest.approx([expected] * 3, rel=1e-6)


def test_one_hot_attention_has_zero_entropy():
    T = 12
    to_self = 1e4 * torch.eye(T).expand(2, 3, T, T)
    to_first = torch.zeros(2, 3, T, T)
    to_first[..., 0] = 1e4
    assert attention_entropy(to_self).abs().max() < 1e-6
    assert attention_entropy(to_first).abs().max() < 1e-6


@pytest.mark.parametrize("arch", ["gpt", "llama"])
def test_probe_reads_the_models_own_attention(arch):
    torch.manual_seed(0)
    cfg = ModelConfig(arch=arch, n_layer=2, n_head=4, n_kv_head=2 if arch == "llama" else None, n_embd=32,
                      vocab_size=64, block_size=16)
    model = Transformer(cfg)
    x = torch.randint(0, 64, (3, 16))
    with torch.no_grad():
        for block in model.h:  # zero queries: every score is 0, attention is uniform
            block.attn.c_attn.weight[: 32].zero_()
    out = probe_attention(model, x, nullcontext())
    assert torch.tensor(out["attn_entropy"]) == pytest.approx(torch.full((2, 4), entropy_ceiling(16)), rel=1e-5)
    # uniform causal attention reaches the causal ceiling, but over 16 positions not 3/4 of ln 16: overloaded
    # against the one maximum and not against the other
    assert entropy_ceiling(16) < 0.75 * entropy_max(16) and 0.75 * entropy_max(128) < entropy_ceiling(128)
    assert (out["entropy_overload_causal"], out["entropy_overload"]) == (1.0, 0.0)
    with torch.no_grad():
        for block in model.h:  # large random queries: peaked attention, far below the ceiling
            block.attn.c_attn.weight[: 32].normal_(0, 5.0)
    low = probe_attention(model, x, nullcontext())
    assert max(max(layer) for layer in low["attn_entropy"]) < 0.75 * entropy_ceiling(16)
    assert low["entropy_overload"] == low["entropy_overload_causal"] == 0.0


def optimizer_for(model, slope_weight_decay=False, weight_decay_all=False):
    cfg = SimpleNamespace(weight_decay=0.1, slope_weight_decay=slope_weight_decay, weight_decay_all=weight_decay_all,
                          param_dtype="float32", alpha_fp32=False, alpha_lr_scale=1.0,
                          learning_rate=1e-3, beta1=0.9, beta2=0.95)
    return train.make_optimizer(model, cfg, fused=False)


def decayed(opt):
    return {id(p) for g in opt.param_groups if g["weight_decay"] > 0 for p in g["params"]}


def test_learnable_slope_gets_gradient_and_weight_decay_only_when_asked():
    act = LeakyReLU()
    x = torch.tensor([-2.0, -0.5, 0.0, 3.0])
    assert torch.allclose(act(x), torch.tensor([-0.02, -0.005, 0.0, 3.0]))
    model = Transformer(ModelConfig(n_layer=2, n_head=2, n_embd=16, vocab_size=32, block_size=8, activation="leaky_relu"))
    idx, targets = torch.randint(0, 32, (2, 4, 8))
    model(idx, targets)[1].backward()
    slopes = [m.negative_slope for m in model.modules() if isinstance(m, LeakyReLU)]
    assert len(slopes) == 2 and all(s.grad is not None and s.grad.abs().item() > 0 for s in slopes)
    assert not any(id(s) in decayed(optimizer_for(model)) for s in slopes)
    assert all(id(s) in decayed(optimizer_for(model, slope_weight_decay=True)) for s in slopes)
    assert id(model.h[0].mlp.c_fc.weight) in decayed(optimizer_for(model))
    assert not any(id(p) in decayed(optimizer_for(model, True)) for p in (model.ln_f.weight, model.h[0].ln_1.weight))
    assert set(learned_scalars(model)["leaky_slope"]) == {"h.0.mlp.act", "h.1.mlp.act"}
    # the regime paper's ViT code decays every parameter: gains and slopes too
    assert decayed(optimizer_for(model, weight_decay_all=True)) == {id(p) for p in model.parameters()}


def test_global_slope_is_one_parameter_and_fixed_slope_none():
    cfg = dict(n_layer=3, n_head=2, n_embd=16, vocab_size=32, block_size=8)
    shared = Transformer(ModelConfig(**cfg, activation="leaky_relu_global"))
    slopes = [m.negative_slope for m in shared.modules() if isinstance(m, LeakyReLU)]
    assert len(slopes) == 3 and all(s is slopes[0] for s in slopes)
    assert sum(n.endswith("negative_slope") for n, _ in shared.named_parameters()) == 1
    fixed = Transformer(ModelConfig(**cfg, activation="leaky_relu_fixed"))
    assert not any(n.endswith("negative_slope") for n, _ in fixed.named_parameters())
    assert fixed.h[0].mlp.act(torch.tensor([-1.0])).item() == pytest.approx(-0.1)  # the paper's fixed slope
    per_layer = Transformer(ModelConfig(**cfg, activation="leaky_relu"))
    assert sum(p.numel() for p in per_layer.parameters()) == sum(p.numel() for p in shared.parameters()) + 2


def test_plain_init_leaves_residual_projections_at_002():
    torch.manual_seed(0)
    cfg = dict(n_layer=8, n_head=4, n_embd=256, vocab_size=32, block_size=8)
    plain = Transformer(ModelConfig(**cfg, scaled_init=False))
    scaled = Transformer(ModelConfig(**cfg))
    assert plain.h[0].attn.c_proj.weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert scaled.h[0].attn.c_proj.weight.std().item() == pytest.approx(0.02 / 4, rel=0.05)


def test_lnfree_keeps_only_the_final_norm():
    model = Transformer(ModelConfig(n_layer=2, n_head=2, n_embd=16, vocab_size=32, block_size=8,
                                    norm="identity", norm_final="layernorm"))
    assert all(isinstance(b.ln_1, torch.nn.Identity) and isinstance(b.ln_2, torch.nn.Identity) for b in model.h)
    assert isinstance(model.ln_f, LayerNorm)


@pytest.mark.parametrize("path", [os.path.join(REPO, "config", p) for p in generated_files() if p.startswith("ln")])
def test_entropy_configs_are_what_their_names_say(path):
    name = os.path.basename(path)[:-3]
    cfg = vars(read_settings([path])[0])
    kind, act = cfg["method"].split("_")
    shape = cfg["scale"]
    assert cfg["study"] == "entropy" and name == f"{kind}_{act}_{shape}"
    assert cfg["norm"] == ("identity" if kind == "lnfree" else "layernorm")
    assert cfg["norm_final"] == ("layernorm" if kind == "lnfree" else None)
    assert cfg["activation"] == {"gelu": "gelu", "relu": "relu", "leaky": "leaky_relu", "leakyglobal": "leaky_relu_global",
                                 "leakyfixed": "leaky_relu_fixed"}[act]
    # the authors' setup: plain N(0, 0.02) init for every model, AdamW at 1e-3 with beta2 0.999 and decayed
    # slopes, 5% warmup then a linear decay to 0
    assert cfg["scaled_init"] is False and cfg["learning_rate"] == 1e-3 and cfg["lr_decay"] == "linear"
    assert cfg["beta2"] == 0.999 and cfg["slope_weight_decay"] is True and cfg["min_lr"] == 0.0
    assert cfg["warmup_iters"] == 0.05 * cfg["max_iters"] == 0.05 * cfg["lr_decay_iters"]
    if shape != "micro":
        assert cfg["batch_size"] * cfg["gradient_accumulation_steps"] == 512
    shapes = {"gpt2small": (12, 12, 768, "wikitext103"), "pythia70m": (6, 8, 512, "wikitext103"),
              "micro": (4, 4, 128, "shakespeare_byte")}
    assert (cfg["n_layer"], cfg["n_head"], cfg["n_embd"], cfg["dataset"]) == shapes[shape]
    assert cfg["block_size"] == 128 and cfg["out_dir"] == f"out/{name}"


def test_micro_lnfree_run_logs_entropy_and_slopes_and_report_draws_them(data_dir, tmp_path):
    out = tmp_path / "runs" / "lnfree_leaky_micro_s1"
    run("train.py", "config/lnfree_leaky_micro.py", f"--data_dir={data_dir}", f"--out_dir={out}", "--max_iters=20",
        "--eval_interval=10", "--n_layer=2", "--block_size=32", "--batch_size=8", "--val_tokens=4096", "--seed=1")
    last = read_log(out)[-1]
    assert len(last["attn_entropy"]) == 2 and all(len(layer) == 4 for layer in last["attn_entropy"])
    assert all(0 <= e <= entropy_ceiling(32) + 1e-4 for layer in last["attn_entropy"] for e in layer)
    assert 0.0 <= last["entropy_overload"] <= 1.0
    assert set(last["leaky_slope"]) == {"h.0.mlp.act", "h.1.mlp.act"}
    assert any(abs(v - 0.01) > 1e-6 for v in last["leaky_slope"].values())  # the slopes train
    run("report.py", tmp_path / "runs")
    md = (tmp_path / "runs" / "report.md").read_text()
    assert "## Entropic overload" in md
    # the run's label: its method and the overrides that change it, in the order given
    row = next(line for line in md.splitlines() if line.startswith("| lnfree_leaky_max_iters=20_eval_interval=10_n_layer=2_"
                                                                   "block_size=32_batch_size=8_val_tokens=4096 (micro) |"))
    summary = json.loads((out / "summary.json").read_text())
    assert f"| {summary['final_val_loss']:.2f} (1 seed) | {summary['best_val_loss']:.2f} (1 seed) " \
           f"| {summary['unigram_val_loss']:.2f} (1 seed) |" in row
    nats = sum(e for layer in last["attn_entropy"] for e in layer) / 8
    assert f"| {nats:.2f} (1 seed) | {math.log(32):.3f} | {nats / math.log(32):.2f} (1 seed) | {entropy_ceiling(32):.3f} |" \
        in row
    for png in ("entropy_lnfree_leaky_micro_s1.png", "leaky_slopes.png"):
        assert (tmp_path / "runs" / png).stat().st_size > 5000
    assert json.loads((out / "summary.json").read_text())["collapsed"] is False


def test_the_linear_decay_falls_from_the_peak_to_min_lr_in_a_straight_line():
    cfg = SimpleNamespace(learning_rate=1e-3, warmup_iters=25, lr_decay_iters=525, min_lr=0.0, lr_decay="linear",
                          lr_per_epoch=False)
    assert train.get_lr(cfg, 24) == pytest.approx(1e-3 * 25 / 26)  # warmup, as the cosine's
    assert [train.get_lr(cfg, it) for it in (25, 275, 525, 600)] == pytest.approx([1e-3, 5e-4, 0.0, 0.0])
    cosine = SimpleNamespace(**{**vars(cfg), "lr_decay": "cosine"})
    assert train.get_lr(cosine, 275) == pytest.approx(5e-4) and train.get_lr(cosine, 150) > train.get_lr(cfg, 150)
