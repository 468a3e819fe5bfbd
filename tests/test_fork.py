"""A fork's first ablation, as a new user makes it: a norm of its own, one class and one registry entry,
swept into a folder that already holds the DyT runs, trains runs of its own and is reported as an arm."""

import json
import shutil

from conftest import REPO, run

SOFTSIGN = '''

class Softsign(SquashingNorm):
    """weight * u / (1 + |u|), u = alpha x: a squash with polynomial tails."""
    alpha_default = 1.0
    saturation_threshold = 1 / FLAT ** 0.5 - 1  # d/du u / (1 + |u|) = 1 / (1 + |u|)^2 = FLAT there

    def squash(self, u):
        return u / (1 + u.abs())


NORMS["softsign"] = Softsign
'''
# the micro grid shrunk to seconds a run; the same for every run of the folder
SHRINK = ["--max_iters=10", "--eval_interval=5", "--warmup_iters=5", "--val_tokens=2048", "--n_layer=1",
          "--block_size=32"]


def test_a_forks_norm_is_swept_beside_dyt_and_reported_as_an_arm(data_dir, tmp_path):
    fork = tmp_path / "fork"
    shutil.copytree(REPO, fork, ignore=shutil.ignore_patterns(".git", "out", "data", "tests", "docs", "__pycache__"))
    with open(fork / "dyt.py", "a") as f:
        f.write(SOFTSIGN)
    out, configs = fork / "out", [f"config/micro/{arm}_micro_{b}.py" for arm in ("vanilla", "dyt") for b in ("8k", "32k")]

    def sweep(*args):
        return run("sweep.py", *args, "--seeds", "1", "--out", out, f"--data_dir={data_dir}", *SHRINK, cwd=fork)

    sweep(*configs)
    dyt_configs = [c for c in configs if "dyt" in c]
    for norm in ("softsign", "derf"):
        p = sweep(*dyt_configs, f"--norm={norm}")
        assert "done already" not in p.stdout and p.stdout.count("finished in") == 2, p.stdout
        run_dir = out / f"dyt_micro_8k_norm={norm}_{'_'.join(a[2:] for a in SHRINK)}_s1"
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["config"]["norm"] == summary["config"]["method"] == norm
        assert 0 <= summary["final_saturation"] <= 1  # the probes read the fork's squash through its interface
    p = sweep(*dyt_configs, "--norm=softsign")
    assert p.stdout.count("done already") == 2  # and a second sweep of it finds them done
    run("report.py", out, cwd=fork)
    md = (out / "report.md").read_text()
    table = md.split("## Final step: the paper's comparison")[1].split("##")[0]
    for budget in ("8k", "32k"):
        arms = [line.split("|")[5].strip() for line in table.splitlines() if f"| micro + embedding scale | {budget} [" in line]
        assert arms == ["dyt", "derf", "softsign"], arms  # every norm an arm of the cell, beside DyT
    assert "| softsign | sat_final | 2 |" in md  # in the saturation heuristic too
    assert (out / "phase_gpt.png").stat().st_size > 5000 and "(phase_gpt.png)" in md
