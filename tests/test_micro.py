"""The README's main command, shrunk to a few steps and one seed, so the micro-grid pipeline cannot rot."""

import glob
import os

from conftest import REPO, run
from configurator import read_settings
from make_configs import generated_files

# the grid's micro configs (a config a user copied into config/micro/ is not one of them)
MICRO = [os.path.join(REPO, "config", p) for p in generated_files() if p.startswith("micro" + os.sep)]


def test_the_micro_grid_spans_the_papers_range():
    cells = {os.path.basename(p)[:-3]: vars(read_settings([p])[0]) for p in MICRO}
    assert {name.split("_")[0] for name in cells} == {"vanilla", "dyt"}
    budgets = sorted({c["train_tokens"] for c in cells.values()})
    assert len(budgets) == 4 and len(cells) == 8
    from memory import model_size
    n_params = model_size({**cells["dyt_micro_8k"], "vocab_size": 256})[0]
    assert 0.005 <= budgets[0] / n_params <= 0.02 and 1.0 <= budgets[-1] / n_params <= 2.0
    for c in cells.values():  # the paper's protocol shape: fixed steps, long warmup, nearly constant rate
        assert c["dataset"] == "shakespeare_byte" and c["max_iters"] == 700 and c["warmup_iters"] == 0.4 * 700
        assert c["lr_decay_iters"] > 100 * c["max_iters"] and c["alpha_init"] == (2.0 if c["norm"] == "dyt" else None)
        assert c["embed_scale"] is True  # both norms: the one change to the paper's model (config/common/micro.py)
        assert c["max_iters"] % c["eval_interval"] == 0 and 500 % c["eval_interval"] == 0


def test_sweep_and_report_of_the_shrunken_micro_grid(data_dir, tmp_path):
    out = tmp_path / "micro"
    run("sweep.py", *MICRO, "--seeds", "1", "--out", out, f"--data_dir={data_dir}", "--max_iters=10",
        "--eval_interval=5", "--warmup_iters=5", "--val_tokens=2048", "--n_layer=1", "--block_size=32")
    assert len(glob.glob(str(out / "*" / "summary.json"))) == 8
    run("report.py", out)
    md = (out / "report.md").read_text()
    table = md.split("## Final step: the paper's comparison")[1].split("##")[0]
    shrunk = "_max_iters=10_eval_interval=5_warmup_iters=5_val_tokens=2048_n_layer=1_block_size=32"
    for budget in ("8k", "32k", "128k", "1m"):  # the overrides every run shares: DyT's and its baseline's, both named
        row = next(line for line in table.splitlines() if f"| gpt | micro + embedding scale | {budget} |" in line)
        assert f"| dyt{shrunk} | " in row and f"(1 seed) (vanilla{shrunk}) |" in row
    assert table.count("(1 seed)") == 8 and "§" not in table
    for png in ("phase_gpt.png", "curves_gpt.png", "saturation.png"):
        assert (out / png).stat().st_size > 5000


def test_the_derf_micro_set_mirrors_the_dyt_one():
    for path in [os.path.join(REPO, "config", p) for p in generated_files() if p.startswith("micro_derf" + os.sep)]:
        derf = vars(read_settings([path])[0])
        dyt = vars(read_settings([path.replace("micro_derf", "micro").replace("derf_", "dyt_")])[0])
        assert (derf["norm"], derf["method"], derf["alpha_init"]) == ("derf", "derf", 0.5)
        differ = {k for k in derf if derf[k] != dyt[k]}
        assert differ == {"norm", "method", "alpha_init", "out_dir"}


def test_the_paper_faithful_set_is_the_main_grid_without_the_embedding_scale():
    paths = [os.path.join(REPO, "config", p) for p in generated_files() if p.startswith("micro_faithful" + os.sep)]
    assert len(paths) == len(MICRO)
    for path in paths:
        faithful = vars(read_settings([path])[0])
        main = vars(read_settings([path.replace("micro_faithful", "micro").replace("_micro_micro", "_micro")])[0])
        assert {k for k in faithful if faithful[k] != main[k]} == {"embed_scale", "scale", "out_dir"}
        assert (faithful["embed_scale"], faithful["scale"]) == (False, "micro-faithful")
