"""plateau.py watches the run train.py trains, and sees what makes DyT different from LayerNorm at init."""

import json
import re

from conftest import TINY, run

STEPS = 4


def diagnose(data_dir, out, *configs):
    run("plateau.py", *(configs or ("config/micro/dyt_micro_8k.py",)), f"--data_dir={data_dir}",
        *[a for a in TINY if not a.startswith(("--val_tokens", "--log_interval"))], f"--steps={STEPS}", "--every=1",
        f"--out={out}")
    return json.loads((out / "diagnostics.json").read_text())


def test_the_diagnostics_see_the_losses_train_py_trains_on(data_dir, tmp_path):
    records = diagnose(data_dir, tmp_path / "diag")["micro/dyt_micro_8k"]
    p = run("train.py", "config/micro/dyt_micro_8k.py", f"--data_dir={data_dir}", f"--out_dir={tmp_path / 'run'}",
            *TINY, "--log_interval=1", f"--max_iters={STEPS + 1}", f"--eval_interval={STEPS + 1}")
    # train.py's "iter k: loss" is the loss of step k - 1, printed to 4 decimals
    printed = [float(v) for v in re.findall(r"^iter \d+: loss (\d+\.\d+)", p.stdout, re.M)]
    assert [round(r["loss"], 4) for r in records] == printed[: STEPS + 1]
    assert printed[0] > printed[-1]  # it trains
    assert (tmp_path / "diag" / "diagnostics.png").read_bytes()[:4] == b"\x89PNG"


def test_at_init_dyt_passes_a_small_signal_where_layernorm_passes_std_1(data_dir, tmp_path):
    faithful, ln, scaled = "micro_faithful/dyt_micro_faithful_8k", "micro_faithful/vanilla_micro_faithful_8k", "micro/dyt_micro_8k"
    results = diagnose(data_dir, tmp_path / "diag", *(f"config/{c}.py" for c in (faithful, ln, scaled)))
    dyt, ln, scaled = results[faithful][0], results[ln][0], results[scaled][0]
    for site, seen in dyt["sites"].items():
        # the paper's model: embeddings of std 0.02, alpha x is small, tanh is linear there, nothing saturates
        assert seen["saturation"] == 0 and seen["median"] < 0.1 and seen["out_std"] < 0.15, site
        assert abs(ln["sites"][site]["out_std"] - 1) < 0.05 and ln["sites"][site]["saturation"] is None, site
    # the embedding scale multiplies the token embeddings by sqrt(n_embd) = sqrt(32); the position
    # embeddings, of the same std 0.02, are added unscaled: the first norm's input grows sqrt(33 / 2) = 4.1x
    ratio = scaled["sites"]["h.0.ln_1"]["median"] / dyt["sites"]["h.0.ln_1"]["median"]
    assert 3.6 < ratio < 4.6 and scaled["sites"]["h.0.ln_1"]["saturation"] == 0, ratio
    assert set(dyt["alpha"].values()) == {2.0} and ln["alpha"] == {}
    assert all(g > 0 for g in dyt["grad_norm"].values())
