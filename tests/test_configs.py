"""config/ is what its table makes, and the table is the regime paper's protocol."""

import json
import os
import shutil

import pytest
import torch

from conftest import REPO, run
from config.grid import BUDGETS, GRID, PAPER_CELLS, SCALES, SHARDED
from configurator import read_settings
from make_configs import cells, configs, generated_files
from model import Transformer
from model import model_config

with open(os.path.join(REPO, "reference", "paper_cells.json")) as f:
    PAPER = json.load(f)
WIKITEXT_VAL_TOKENS = 250_000  # WikiText-103's validation split holds about 0.25M GPT-2 tokens


def test_regenerating_the_configs_changes_nothing():
    p = run("make_configs.py", "--check", expect_ok=False)
    assert p.returncode == 0 and p.stdout == "", p.stdout
    assert set(generated_files()) == set(configs())  # every file that says it is generated is the table's


def test_a_changed_table_is_caught(tmp_path):
    """--check names a generated file that differs from the table, and one the table no longer makes."""
    copy = tmp_path / "repo"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(".git", "out", "data", "docs", "tests", "__pycache__"))
    grid = (copy / "config" / "grid.py").read_text()
    (copy / "config" / "grid.py").write_text(grid.replace('"hardtanh",                           "64m: 1m 10m 118m"',
                                                          '"hardtanh",                           "64m: 1m 10m"'))
    (copy / "config" / "dyt_64m_1m.py").write_text((copy / "config" / "dyt_64m_1m.py").read_text() + "dropout = 0.1\n")
    p = run(str(copy / "make_configs.py"), "--check", expect_ok=False)
    assert p.returncode == 1 and sorted(p.stdout.splitlines()) == [
        "config/dyt_64m_1m.py is not what config/grid.py makes", "config/hardtanh_64m_118m.py is no longer in config/grid.py"]


def test_the_table_is_the_papers_grid_and_protocol():
    protocol = PAPER["protocol"]
    assert sorted(cells(PAPER_CELLS)) == sorted((c["scale"], c["tokens"]) for c in PAPER["cells"])
    for scale, paper in PAPER["scales"].items():
        n_layer, n_head, n_embd, batch, accum, lr = SCALES[scale]
        assert (n_layer, n_head, n_embd) == (paper["n_layer"], paper["n_head"], paper["n_embd"])
        # the paper's split of its 64 sequences into micro-batches, but for the sharded 3.78B cells, 8 a GPU over 8
        # GPUs: another split of the same global batch is the same run
        assert (batch, accum) == ((8, 8) if scale in SHARDED else (paper["batch_size"], paper["grad_accum"]))
        assert batch * accum == paper["batch_size"] * paper["grad_accum"]
        assert lr == protocol["lr"][scale] and batch * accum * protocol["block_size"] == protocol["tokens_per_step"]
        with torch.device("meta"):
            model = Transformer(model_config({"n_layer": n_layer, "n_head": n_head, "n_embd": n_embd, "bias": False,
                                              "block_size": 512, "vocab_size": protocol["vocab_size"]}))
        assert abs(model.num_params() / paper["params"] - 1) < 0.005


@pytest.mark.parametrize("path", sorted(p for p, text in configs().items() if 'study = "regime"' in text
                                        and "micro" not in p))
def test_every_regime_config_runs_the_papers_protocol(path):
    cfg = vars(read_settings([os.path.join(REPO, "config", path)])[0])
    protocol, budget = PAPER["protocol"], cfg["budget"].removesuffix("_10k")
    assert cfg["dataset"] == "wikitext103" and cfg["block_size"] == protocol["block_size"]
    assert cfg["vocab_size"] == protocol["vocab_size"] and cfg["bias"] is protocol["bias"]
    assert cfg["max_iters"] == (10_000 if cfg["budget"].endswith("_10k") else protocol["steps"])
    assert cfg["batch_size"] * cfg["gradient_accumulation_steps"] * cfg["block_size"] == protocol["tokens_per_step"]
    assert cfg["learning_rate"] == protocol["lr"][cfg["scale"]] and cfg["eval_interval"] == 500
    assert (cfg["warmup_iters"], cfg["lr_decay_iters"], cfg["min_lr"]) == (2000, 600_000, 6e-5)
    assert (cfg["beta1"], cfg["beta2"], cfg["weight_decay"], cfg["grad_clip"]) == (0.9, 0.95, 0.1, 1.0)
    assert cfg["train_tokens"] == BUDGETS[budget]
    # the paper's validation prefix, val[:max(10000, N // 100)], on a split of WikiText's size
    tokens = cfg["train_tokens"] or 118_000_000
    assert min(cfg["val_tokens"] or WIKITEXT_VAL_TOKENS, WIKITEXT_VAL_TOKENS) == \
        min(max(10_000, tokens // 100), WIKITEXT_VAL_TOKENS)
    assert cfg["out_dir"] == os.path.join("out", path[:-3])


def test_every_row_of_the_grid_makes_configs_whose_label_is_their_arm():
    made = configs()
    for study, pattern, protocols, arms, cell_text, extra in GRID:
        for scale, budget in cells(cell_text):
            for arm in arms.split():
                base, _, variant = arm.partition("_")
                path = pattern.format(arm=arm, base=base, variant=f"_{variant}" if variant else "",
                                      scale=scale.replace("-", "_"), budget=budget) + ".py"
                cfg = vars(read_settings([os.path.join(REPO, "config", path)])[0])
                assert (cfg["study"], cfg["method"], cfg["scale"], cfg["budget"]) == (study, arm, scale, budget)
                assert path in made


def test_the_papers_vit_cells_train_as_its_code_does_and_fp32_is_an_intervention():
    cells = sorted(p for p in configs() if p.startswith("vit_") and "cifar" in p)
    methods = {read_settings([os.path.join(REPO, "config", p)])[0].method for p in cells}
    assert {"vanilla", "dyt", "dyt_alpha0.1", "dyt_alpha0.3", "dyt_alpha0.5", "dyt_alpha1"} <= methods  # its sweep
    for path in cells:
        cfg = vars(read_settings([os.path.join(REPO, "config", path)])[0])
        fp32 = "_fp32" in cfg["method"]  # dyt_fp32, dyt_fp32_frozen; not dyt_alphafp32, whose alpha alone is fp32
        assert cfg["param_dtype"] == ("float32" if fp32 else "bfloat16"), path  # pure bf16 but where the arm says
        assert cfg["alpha_fp32"] == (cfg["method"] == "dyt_alphafp32") and cfg["compile"] is False  # eager, as its code
        assert cfg["lr_per_epoch"] and cfg["warmup_iters"] == 0 and cfg["min_lr"] == 0.0  # its per-epoch cosine
        assert (cfg["learning_rate"], cfg["weight_decay"], cfg["weight_decay_all"], cfg["beta2"]) == (1e-3, 0.05, True, 0.999)
        assert abs(cfg["max_iters"] - 100 * 50_000 / 128) < 1 and cfg["eval_interval"] == 391  # every epoch evaluated
