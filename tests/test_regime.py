"""The collapse rule, and every family of the regime grid runs and probes on a CPU (tests/test_configs.py
checks the configs against the paper)."""

import json
import math

import numpy as np
import pytest

from conftest import read_log, run
from probes import collapsed

WIKITEXT_VAL_TOKENS = 250_000  # WikiText-103's validation split holds about 0.25M GPT-2 tokens


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
