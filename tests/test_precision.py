"""Pure bf16, as the regime paper's ViT code trains: an update under half a weight's spacing is lost, so DyT's
alpha and every gain stay where they start; with fp32 master weights they move. And the rest of its recipe:
a cosine stepped once an epoch, alpha frozen on purpose as the experiment's control."""

import json
import math
from types import SimpleNamespace

import pytest
import torch

from conftest import read_log, run
from dyt import DyT
from settings import DEFAULTS
from train import get_lr, make_optimizer

# the paper's ViT optimiser: AdamW at 1e-3, betas (0.9, 0.999), weight decay 0.05 on every parameter
PAPER_VIT = {**DEFAULTS, "learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "weight_decay": 0.05,
             "weight_decay_all": True}


def steps_of_one_sign(param_dtype, steps=2000):
    """DyT's alpha (2.0) and gains (1.0) after `steps` AdamW steps at lr 1e-3 whose gradient always has one
    sign, in the given weight dtype."""
    cfg = SimpleNamespace(**{**PAPER_VIT, "param_dtype": param_dtype})
    norm = DyT(8, alpha_init=2.0).to(getattr(torch, param_dtype))
    optimizer = make_optimizer(norm, cfg, fused=False)
    x = torch.linspace(0.1, 0.3, 8, dtype=norm.alpha.dtype)
    for _ in range(steps):
        (-norm(x).sum()).backward()  # always pushes alpha and the gains up
        optimizer.step()
        optimizer.zero_grad()
    return norm.alpha.item(), norm.weight.detach().float()


def test_in_pure_bf16_alpha_and_the_gains_never_move_and_with_fp32_weights_they_do():
    alpha, gains = steps_of_one_sign("bfloat16")
    assert alpha == 2.0 and torch.all(gains == 1.0)  # 2,000 steps, each under half of bf16's spacing there
    alpha, gains = steps_of_one_sign("float32")
    assert alpha > 2.5 and torch.all(gains > 1.5)  # the same steps, accumulated in fp32


def test_a_bf16_step_at_the_spacing_of_its_weight_does_move_it():
    """The freezing is rounding, not a broken optimiser: at lr 1e-2 a step is over half bf16's spacing near 2
    (2^-6) and alpha moves even in bf16."""
    cfg = SimpleNamespace(**{**PAPER_VIT, "param_dtype": "bfloat16", "learning_rate": 1e-2})
    norm = DyT(8, alpha_init=2.0).to(torch.bfloat16)
    optimizer = make_optimizer(norm, cfg, fused=False)
    (-norm(torch.ones(8, dtype=torch.bfloat16)).sum()).backward()
    optimizer.step()
    assert norm.alpha.item() == 2.0 + 2 ** -6


def test_the_per_epoch_cosine_is_the_papers_cosine_annealing_stepped_once_an_epoch():
    epochs, steps_per_epoch = 10, 1438 / 128  # the digits: an epoch is not a whole number of steps
    max_iters = math.ceil(epochs * steps_per_epoch)
    cfg = SimpleNamespace(**{**PAPER_VIT, "warmup_iters": 0, "lr_decay_iters": max_iters, "min_lr": 0.0,
                             "lr_per_epoch": True})
    optimizer = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=1e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    for it in range(max_iters):
        epoch = math.floor(it / steps_per_epoch)
        while scheduler.last_epoch < epoch:
            optimizer.step()
            scheduler.step()
        assert get_lr(cfg, it, steps_per_epoch) == pytest.approx(optimizer.param_groups[0]["lr"], rel=1e-12, abs=1e-15)


def test_a_frozen_alpha_stays_at_its_start_while_the_rest_trains(digits_dir, tmp_path):
    args = ["config/vit_precision/dyt_fp32_frozen.py", f"--data_dir={digits_dir}", "--max_iters=6", "--eval_interval=6",
            "--n_layer=2"]
    run("train.py", *args, f"--out_dir={tmp_path / 'frozen'}")
    last = read_log(tmp_path / "frozen")[-1]
    assert set(last["alpha"].values()) == {2.0} and all(g != 1.0 for g in last["gain"].values())
    p = run("train.py", *args, "--norm=layernorm", "--method=vanilla", f"--out_dir={tmp_path / 'ln'}", expect_ok=False)
    assert p.returncode == 2 and "freeze_alpha=True: norm 'layernorm' has no alpha to freeze" in p.stderr
    assert not (tmp_path / "ln").exists()
    summary = json.loads((tmp_path / "frozen" / "summary.json").read_text())
    assert summary["probe_tokens"] == 50 * 17  # 50 images of 16 patches (2x2) and a class token, not 50 x 64 pixels


def test_alpha_alone_in_fp32_moves_in_a_pure_bf16_model_whose_gains_do_not():
    """alpha_fp32: the same one-signed steps on a pure-bf16 DyT whose alpha alone is fp32, in its own AdamW group at
    alpha_lr_scale x the lr: alpha accumulates its updates (at twice the lr, about twice as far), every gain stays
    at 1.0, and the norm still computes in bf16."""
    from train import set_lr
    moved = {}
    for scale in (1.0, 2.0):
        cfg = SimpleNamespace(**{**PAPER_VIT, "param_dtype": "bfloat16", "alpha_fp32": True, "alpha_lr_scale": scale,
                                 "lr_per_epoch": False, "warmup_iters": 0, "lr_decay_iters": 10**9, "min_lr": 1e-3})
        norm = DyT(8, alpha_init=2.0).bfloat16()
        norm.alpha.data = norm.alpha.data.float()
        optimizer = make_optimizer(norm, cfg, fused=False)
        set_lr(SimpleNamespace(cfg=cfg, optimizer=optimizer, steps_per_epoch=None), 1)
        x = torch.linspace(0.1, 0.3, 8, dtype=torch.bfloat16)
        for _ in range(500):
            y = norm(x)
            (-y.float().sum()).backward()
            optimizer.step()
            optimizer.zero_grad()
        assert y.dtype == torch.bfloat16 and norm.alpha.dtype == torch.float32 and torch.all(norm.weight == 1.0)
        moved[scale] = norm.alpha.item() - 2.0
    assert moved[1.0] > 0.2 and moved[2.0] == pytest.approx(2 * moved[1.0], rel=0.05)


def test_alpha_lr_scale_moves_alpha_alone_in_an_fp32_model():
    """alpha_lr_scale is alpha's own learning rate in fp32 too (the 2 x 2 experiment's free-alpha arms): at twice
    the scale alpha travels about twice as far in the same steps, while a gain moves about as far as at scale 1 (its gradient sees the other alpha)."""
    from train import set_lr
    moved, gains = {}, {}
    for scale in (1.0, 2.0):
        cfg = SimpleNamespace(**{**PAPER_VIT, "param_dtype": "float32", "alpha_fp32": False, "alpha_lr_scale": scale,
                                 "lr_per_epoch": False, "warmup_iters": 0, "lr_decay_iters": 10**9, "min_lr": 1e-3})
        norm = DyT(8, alpha_init=2.0)
        optimizer = make_optimizer(norm, cfg, fused=False)
        set_lr(SimpleNamespace(cfg=cfg, optimizer=optimizer, steps_per_epoch=None), 1)
        x = torch.linspace(0.1, 0.3, 8)
        for _ in range(100):
            (-norm(x).sum()).backward()
            optimizer.step()
            optimizer.zero_grad()
        moved[scale], gains[scale] = norm.alpha.item() - 2.0, norm.weight.mean().item() - 1.0
    assert moved[1.0] > 0.05 and moved[2.0] == pytest.approx(2 * moved[1.0], rel=0.05)
    assert gains[2.0] == pytest.approx(gains[1.0], rel=0.02) and gains[1.0] > 0.05


def test_a_pure_bf16_run_keeps_alpha_in_fp32_when_asked(digits_dir, tmp_path):
    run("train.py", "config/vit_precision/dyt.py", f"--data_dir={digits_dir}", f"--out_dir={tmp_path}/run",
        "--alpha_fp32=True", "--alpha_lr_scale=10.0", "--max_iters=4", "--eval_interval=4")
    model = torch.load(tmp_path / "run" / "ckpt.pt", weights_only=True)["model"]
    alphas = {k: v for k, v in model.items() if k.endswith(".alpha")}
    assert alphas and all(v.dtype == torch.float32 for v in alphas.values())
    assert model["h.0.attn.c_attn.weight"].dtype == torch.bfloat16 and any(v.item() != 2.0 for v in alphas.values())
    p = run("train.py", "config/vit_precision/vanilla.py", f"--data_dir={digits_dir}", f"--out_dir={tmp_path}/no",
            "--alpha_fp32=True", expect_ok=False)
    assert p.returncode == 2 and "needs param_dtype='bfloat16' and a norm with an alpha" in p.stderr
    p = run("train.py", "config/vit_precision/dyt_fp32_frozen.py", f"--data_dir={digits_dir}", f"--out_dir={tmp_path}/fr",
            "--alpha_lr_scale=10.0", expect_ok=False)
    assert p.returncode == 2 and "alpha_lr_scale=10.0 sets the learning rate of alpha, which this run freezes" in p.stderr
