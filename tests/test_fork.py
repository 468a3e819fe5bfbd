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
# the micro protocol shrunk to seconds a run, in the fork's config/common/micro.py: every micro config follows it
SHRINK = "\nmax_iters = 10\neval_interval = 5\nwarmup_iters = 5\nval_tokens = 2048\nn_layer = 1\nblock_size = 32\n"


def final_rows(out):
    """{(budget, arm): the baseline column and the Δ%} of the report's final-step table."""
    table = (out / "report.md").read_text().split("## Final step: the paper's comparison")[1].split("##")[0]
    return {(cells[3], cells[5]): (cells[6], cells[8]) for cells in
            ([c.strip() for c in line.split("|")] for line in table.splitlines() if line.startswith("| gpt"))}


def test_a_forks_ablations_are_swept_beside_dyt_and_each_compared_with_its_own_baseline(data_dir, tmp_path):
    fork = tmp_path / "fork"
    shutil.copytree(REPO, fork, ignore=shutil.ignore_patterns(".git", "out", "data", "tests", "docs", "__pycache__"))
    with open(fork / "dyt.py", "a") as f:
        f.write(SOFTSIGN)
    with open(fork / "config" / "common" / "micro.py", "a") as f:
        f.write(SHRINK)
    out = fork / "out"
    configs = [f"config/micro/{arm}_micro_{b}.py" for arm in ("vanilla", "dyt") for b in ("8k", "32k")]
    dyt_configs = [c for c in configs if "dyt" in c]

    def sweep(*args):
        return run("sweep.py", *args, "--seeds", "1", "--out", out, f"--data_dir={data_dir}", cwd=fork)

    assert "softsign" in run("train.py", "--help", cwd=fork).stdout  # --help lists the fork's norm
    sweep(*configs)
    for norm, own_alpha in (("softsign", 1.0), ("derf", 0.5)):  # the README's fork command, and a norm of the repo
        p = sweep(*dyt_configs, f"--norm={norm}")
        assert "done already" not in p.stdout and p.stdout.count("finished in") == 2, p.stdout
        run_dir = out / f"dyt_micro_8k_norm={norm}_s1"
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["config"]["norm"] == summary["config"]["method"] == norm
        # the norm's own alpha_0, not the 2.0 of DyT: in its settings and in the model it trained
        first = json.loads((run_dir / "log.jsonl").read_text().splitlines()[0])
        assert summary["config"]["alpha_init"] == own_alpha and set(first["alpha"].values()) == {own_alpha}
        assert 0 <= summary["final_saturation"] <= 1  # the probes read the fork's squash through its interface
    assert sweep(*dyt_configs, "--norm=softsign").stdout.count("done already") == 2  # a second sweep finds them done
    # a one-factor ablation of each norm, and a config copied and edited by hand, the nanoGPT way
    sweep("config/micro/vanilla_micro_8k.py", "config/micro/dyt_micro_8k.py", "--dropout=0.1")
    mine = fork / "config" / "micro" / "my_ablation.py"
    mine.write_text((fork / "config" / "micro" / "dyt_micro_8k.py").read_text() + "alpha_init = 1.0\n")
    sweep(str(mine.relative_to(fork)))
    assert run("make_configs.py", "--check", cwd=fork).stdout == ""  # the copy is the user's, not a stale generated file

    run("report.py", out, cwd=fork)
    rows = final_rows(out)
    vanilla_8k = rows[("8k", "dyt")][0]
    assert {arm for budget, arm in rows} == {"dyt", "derf", "softsign", "dyt_dropout=0.1", "vanilla_dropout=0.1",
                                             "dyt_alpha_init=1.0"}
    for arm in ("derf", "softsign", "dyt_alpha_init=1.0", "vanilla_dropout=0.1"):  # beside DyT, against the same LayerNorm
        assert rows[("8k", arm)][0] == vanilla_8k
    assert rows[("8k", "dyt_dropout=0.1")][0].endswith("(vanilla_dropout=0.1)")  # against LayerNorm with dropout
    assert {arm for budget, arm in rows if budget == "32k"} == {"dyt", "derf", "softsign"}
    md = (out / "report.md").read_text()
    assert "| softsign | sat_final | 2 |" in md  # in the saturation heuristic too
    assert (out / "phase_gpt.png").stat().st_size > 5000 and "(phase_gpt.png)" in md

    # without LayerNorm with dropout, DyT with dropout has no baseline, and the rows of the rest do not move
    shutil.move(out / "vanilla_micro_8k_dropout=0.1_s1", tmp_path / "aside")
    run("report.py", out, cwd=fork)
    fewer = final_rows(out)
    assert fewer[("8k", "dyt_dropout=0.1")] == ("none here §", "—")
    assert {k: v for k, v in fewer.items() if "dropout" not in k[1]} == {k: v for k, v in rows.items() if "dropout" not in k[1]}
    assert "python sweep.py config/micro/dyt_micro_8k.py --norm=layernorm --method=vanilla --alpha_init=None --dropout=0.1" \
        in (out / "report.md").read_text()
