"""Every regime config matches the paper's protocol, and every family of the grid runs and probes on a CPU."""

import glob
import json
import math
import os
import re

import numpy as np
import pytest
import torch

import train
from conftest import REPO, read_log, run
from configurator import configure
from dyt import llm_alpha0
from model import build_model, model_config
from probes import collapsed

with open(os.path.join(REPO, "reference", "paper_cells.json")) as f:
    PAPER = json.load(f)
PROTOCOL, SCALES = PAPER["protocol"], PAPER["scales"]
BUDGETS = {"1m": 1_000_000, "10m": 10_000_000, "50m": 50_000_000, "118m": None}
# WikiText-103's validation split holds about 0.25M GPT-2 tokens; where it is prepared here, its real
# size (from meta.json) is checked too
WIKITEXT_TRAIN_TOKENS, WIKITEXT_VAL_TOKENS = 118_000_000, 250_000
_META = os.path.join(REPO, "data", "wikitext103", "meta.json")
WIKITEXT_VAL_SIZES = [WIKITEXT_VAL_TOKENS] + ([json.load(open(_META))["val_tokens"]] if os.path.exists(_META) else [])


def expected_names():
    names = [f"{norm}_{c['scale']}_{c['tokens']}" for c in PAPER["cells"] for norm in ("vanilla", "dyt")]
    names += [f"hardtanh_64m_{b}" for b in ("1m", "10m", "118m")] + [f"rmsnorm_64m_{b}" for b in ("1m", "118m")]
    names += [f"dyt_64m_{b}_alpha{a}" for b in ("118m", "1m") for a in ("0.5", "1", "3")]
    names += [f"vanilla_64m_118m_dropout{p}" for p in ("0.1", "0.3", "0.5")]
    names += [f"llama_{n}_{s}_{b}" for n in ("vanilla", "dyt") for s in ("64m", "124m") for b in ("1m", "118m")]
    names += [f"llama_dyt_64m_118m_{a}" for a in ("norope", "mha", "gelu")]
    names += [f"dytrecipe_{c['scale']}_{c['tokens']}" for c in PAPER["cells"]]  # the DyT authors' LLM recipe
    names += [f"{norm}_64m_118m_10k" for norm in ("vanilla", "dyt")]  # the paper's 10,000-step runs
    names += [f"derf_64m_{b}" for b in ("1m", "10m", "50m", "118m")]  # Derf (arXiv 2512.10938), not in the paper
    return names


def test_every_listed_config_exists_and_nothing_else():
    present = {os.path.basename(p)[:-3] for p in glob.glob(os.path.join(REPO, "config", "*.py"))}
    present = {name for name in present if not name.startswith(("ln_", "lnfree_"))}  # the entropy study
    assert len(expected_names()) == 55 + 15 + 2 + 4
    assert present == set(expected_names())


@pytest.mark.parametrize("name", expected_names())
def test_config_matches_the_paper(name):
    cfg = configure(train.DEFAULTS, [os.path.join(REPO, "config", f"{name}.py")])
    # what the config says it is, and that its file is named after it
    llama, scale, budget = cfg["arch"] == "llama", cfg["scale"], cfg["budget"].removesuffix("_10k")
    norm, _, variant = cfg["method"].partition("_")
    steps = "_10k" if cfg["budget"].endswith("_10k") else ""
    assert cfg["study"] == "regime"
    assert name == f"{'llama_' if llama else ''}{norm}_{scale}_{budget}{'_' + variant if variant else ''}{steps}"
    value, variant = re.sub(r"^[a-z]+", "", variant), re.sub(r"[\d.]+$", "", variant)  # alpha0.5 -> 0.5, alpha
    s = SCALES[scale]
    # the protocol
    assert cfg["dataset"] == "wikitext103" and cfg["max_iters"] == (10_000 if steps else PROTOCOL["steps"])
    assert cfg["block_size"] == PROTOCOL["block_size"] and cfg["vocab_size"] == PROTOCOL["vocab_size"]
    assert cfg["batch_size"] * cfg["gradient_accumulation_steps"] * cfg["block_size"] == PROTOCOL["tokens_per_step"]
    assert (cfg["batch_size"], cfg["gradient_accumulation_steps"]) == (s["batch_size"], s["grad_accum"])
    assert cfg["learning_rate"] == PROTOCOL["lr"][scale]
    assert (cfg["warmup_iters"], cfg["lr_decay_iters"], cfg["min_lr"]) == (2000, 600_000, 6e-5)
    assert (cfg["beta1"], cfg["beta2"], cfg["weight_decay"], cfg["grad_clip"]) == (0.9, 0.95, 0.1, 1.0)
    assert cfg["eval_interval"] == 500 and cfg["bias"] is False
    assert cfg["dropout"] == (float(value) if variant == "dropout" else 0.0)
    if cfg["norm"] in ("dyt", "derf"):  # Derf starts where its authors start it
        assert cfg["alpha_init"] == (0.5 if norm == "derf" else float(value) if variant == "alpha" else 2.0)
    recipe = norm == "dytrecipe"  # the DyT authors' per-site alpha_0 for the width, and the embedding scale
    sites = (cfg["alpha_init_attn"], cfg["alpha_init_ffn"], cfg["alpha_init_final"])
    assert sites == (llm_alpha0(cfg["n_embd"]) if recipe else (None, None, None))
    assert cfg["embed_scale"] is recipe
    # the scale and the budget
    assert (cfg["n_layer"], cfg["n_head"], cfg["n_embd"]) == (s["n_layer"], s["n_head"], s["n_embd"])
    assert cfg["train_tokens"] == BUDGETS[budget]
    # the validation prefix the paper's code takes, val[:max(10000, N // 100)], on a split of WikiText's size
    for split in WIKITEXT_VAL_SIZES:
        budget_tokens = BUDGETS[budget] or WIKITEXT_TRAIN_TOKENS
        assert min(cfg["val_tokens"] or split, split) == min(max(10_000, budget_tokens // 100), split)
    # the model
    vanilla = "rmsnorm" if llama else "layernorm"
    assert cfg["norm"] == {"vanilla": vanilla, "dytrecipe": "dyt"}.get(norm, norm)
    assert cfg["arch"] == ("llama" if llama else "gpt")
    if llama:
        assert cfg["rope"] == (variant != "norope")
        assert cfg["n_kv_head"] is None  # the paper's code: multi-head unless told otherwise, and no run told it
        assert cfg["activation"] == ("gelu" if variant == "gelu" else "swiglu")
    else:
        assert cfg["activation"] == "gelu" and cfg["n_kv_head"] is None
        with torch.device("meta"):
            model = build_model(model_config(cfg))
        assert abs(model.num_params() / s["params"] - 1) < 0.005
    assert cfg["out_dir"] == f"out/{name}"


# --- the collapse rule, on synthetic logs ---------------------------------------------------------

def fake_log(val_losses, alphas):
    return [{"iter": 500 * i, "val_loss": v, "alpha": {"ln_f": a}} for i, (v, a) in enumerate(zip(val_losses, alphas))]


def test_collapse_rule():
    stuck = fake_log([10.8, 7.6, 7.46, 7.45, 7.44], [2.0, 2.01, 2.02, 2.02, 2.03])
    assert collapsed(stuck)
    learning_alpha_frozen = fake_log([10.8, 7.0, 6.0, 5.5, 5.0], [2.0, 2.0, 2.0, 2.0, 2.0])
    assert not collapsed(learning_alpha_frozen)  # still improving
    plateau_alpha_moved = fake_log([10.8, 4.4, 4.35, 4.33, 4.32], [2.0, 1.5, 1.3, 1.2, 1.1])
    assert not collapsed(plateau_alpha_moved)  # converged, not collapsed
    assert not collapsed([{"iter": 0, "val_loss": 9.0}, {"iter": 500, "val_loss": 9.0}, {"iter": 1000, "val_loss": 9.0}])
    assert not collapsed(stuck[:2])  # too short to tell
    assert collapsed(stuck) == ["stalled"]


def test_a_run_at_the_unigram_loss_is_collapsed_and_one_that_memorised_is_not():
    log = [{"iter": i, "val_loss": v, "train_loss": t} for i, (v, t) in enumerate([(5.5, 5.5), (3.5, 3.3), (3.45, 3.25)])]
    assert collapsed(log, unigram_train_loss=3.213) == ["unigram"]  # 0.037 above it
    assert collapsed(log, unigram_train_loss=3.1) == []  # 0.15 above: it learned something past frequencies
    memorised = log[:2] + [{"iter": 2, "val_loss": 4.2, "train_loss": 0.4}]
    assert collapsed(memorised, unigram_train_loss=3.213) == []
    assert collapsed(fake_log([10.8, 7.6, 7.46, 7.45, 7.44], [2.0] * 5), unigram_train_loss=None) == ["stalled"]


# --- one tiny cell of each family through train.py -----------------------------------------------

SHRINK = ["--dataset=shakespeare_byte", "--vocab_size=256", "--n_layer=2", "--n_head=4", "--n_embd=64",
          "--block_size=32", "--batch_size=8", "--gradient_accumulation_steps=1", "--max_iters=20",
          "--eval_interval=10", "--train_tokens=50_000", "--val_tokens=4096", "--learning_rate=3e-3",
          "--warmup_iters=5"]
FAMILIES = ["dyt_64m_1m", "vanilla_64m_1m", "hardtanh_64m_1m", "rmsnorm_64m_1m", "dytrecipe_64m_1m", "derf_64m_1m",
            "llama_dyt_64m_1m", "llama_vanilla_64m_1m", "llama_dyt_64m_118m_norope"]


@pytest.mark.parametrize("name", FAMILIES)
def test_a_shrunken_cell_runs_and_writes_every_probe(data_dir, tmp_path, name):
    out = tmp_path / name
    run("train.py", f"config/{name}.py", *SHRINK, f"--data_dir={data_dir}", f"--out_dir={out}")
    log = read_log(out)
    summary = json.loads((out / "summary.json").read_text())
    n_layer = 2
    for row in log:
        assert math.isfinite(row["val_loss"]) and math.isfinite(row["train_loss"])
        assert len(row["norm_std"]) == 2 * n_layer + 1 and all(v > 0 for v in row["norm_std"].values())
        assert list(row["effective_rank"]) == ["h.0", "h.1"] and all(1 <= v <= 64 for v in row["effective_rank"].values())
    last = log[-1]
    if any(k in name for k in ("dyt", "derf", "hardtanh")):
        assert 0.0 <= last["saturation"] <= 1.0
        assert len(last["saturation_layers"]) == 2 * n_layer + 1
    else:
        assert last["saturation"] is None and "saturation_layers" not in last
    if "dyt" in name or "derf" in name:
        assert len(last["alpha"]) == 2 * n_layer + 1  # ln_1, ln_2 per block and ln_f
        first = log[0]["alpha"]
        assert all(abs(last["alpha"][k] - first[k]) > 1e-5 for k in first)  # every alpha is trained
    else:
        assert "alpha" not in last
    assert summary["final_val_loss_full"] == last["val_loss_full"] and math.isfinite(last["val_loss_full"])
    if summary["best_iter"] == last["iter"]:  # else best.pt's, scored after training (test_train.py)
        assert summary["best_val_loss_full"] == last["val_loss_full"]
    assert summary["T_over_P"] == pytest.approx(50_000 / summary["n_params"])
    assert summary["final_saturation"] == last["saturation"] and summary["saturation_at_500"] is None
    assert summary["final_effective_rank"] == pytest.approx(sum(last["effective_rank"].values()) / 2)
    assert summary["collapse_criteria"] == collapsed(log, summary["unigram_train_loss"])
    assert summary["collapsed"] is bool(summary["collapse_criteria"]) and summary["final_train_loss"] == last["train_loss"]
    # the unigram losses of the budget's bytes: the model, after 20 steps, is still above them
    assert 2.5 < summary["unigram_train_loss"] < summary["unigram_val_loss"] < 4.0


def wikitext_shaped(root, train_tokens, val_tokens):
    """A dataset 'wikitext103' with WikiText-103's split sizes: a sparse train.bin (zeros cost no disk)
    and a validation split of val_tokens tokens below 256, so a shrunken model with vocab 256 reads it."""
    folder = root / "wikitext103"
    folder.mkdir(parents=True)
    with open(folder / "train.bin", "wb") as f:
        f.truncate(2 * train_tokens)
    (np.arange(val_tokens) % 256).astype(np.uint16).tofile(folder / "val.bin")
    meta = {"tokenizer": "gpt2", "vocab_size": 50257, "train_tokens": train_tokens, "val_tokens": val_tokens}
    (folder / "meta.json").write_text(json.dumps(meta))
    return root


@pytest.mark.parametrize("name", ["vanilla_64m_50m", "dyt_64m_50m"])
def test_a_50m_cell_starts_on_a_wikitext_shaped_split(tmp_path, name):
    root = wikitext_shaped(tmp_path / "data", 50_000_000, WIKITEXT_VAL_TOKENS)
    out = tmp_path / name
    tiny = ["--vocab_size=256", "--n_layer=1", "--n_head=2", "--n_embd=32", "--block_size=128", "--batch_size=64",
            "--gradient_accumulation_steps=1", "--max_iters=1", "--eval_interval=1"]
    run("train.py", f"config/{name}.py", *tiny, f"--data_dir={root}", f"--out_dir={out}")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["val_tokens"] == WIKITEXT_VAL_TOKENS  # the whole split, as the paper's val[:500_000]
    assert summary["train_tokens"] == 50_000_000
