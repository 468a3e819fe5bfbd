"""Starting a run from a trained model (convert.py): a LayerNorm run converted to DyT learns and resumes exactly,
GPT-2's released weights in Hugging Face's format load to the forward GPT-2 computes, a misfit is refused."""

import json
import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from conftest import read_log, run
from convert import convert, load
from model import ModelConfig, Transformer
from runs import baseline_of, load_runs, matches
from studies import convert_section

MICRO = ["config/micro/vanilla_micro_1m.py", "--warmup_iters=10", "--eval_interval=10"]


def test_a_layernorm_run_converted_to_calibrated_dyt_learns_resumes_and_is_compared_with_its_continuation(
        data_dir, tmp_path):
    """The issue's check: a LayerNorm micro run of 60 steps, converted to DyT with calibrated alphas and fine-tuned
    20 steps, ends below the unigram loss; settings.json names the source and the conversion; cut at 10 steps and
    resumed it logs what the straight run logs; the report compares it with LayerNorm continued from the same
    checkpoint, not with the source."""
    out = tmp_path / "runs"
    run("train.py", *MICRO, f"--data_dir={data_dir}", f"--out_dir={tmp_path}/source", "--max_iters=60")
    source = read_log(tmp_path / "source")
    common = [*MICRO, f"--data_dir={data_dir}", f"--start_from={tmp_path}/source", "--study=convert", "--max_iters=20"]
    dyt = [*common, "--norm=dyt", "--calibrate_alpha=True", "--method=dyt_calibrated"]
    p = run("train.py", *dyt, f"--out_dir={out}/dyt")
    assert "its norms converted to dyt" in p.stdout
    log, summary = read_log(out / "dyt"), json.loads((out / "dyt" / "summary.json").read_text())
    assert log[0]["val_loss"] > source[-1]["val_loss"]  # converted, the model is not the one trained
    assert math.isfinite(log[-1]["val_loss"]) and log[-1]["val_loss"] < summary["unigram_val_loss"]
    settings = json.loads((out / "dyt" / "settings.json").read_text())["settings"]
    assert settings["start_from"] == f"{tmp_path}/source" and settings["calibrate_alpha"] is True
    assert settings["start_from_model"]["norm"] == "layernorm" and len(settings["start_from_sha256"]) == 64
    # each alpha_0 is 1/std of its site's input in the source: different per site, none of them DyT's 2.0; the
    # first site sees what it saw in the source (the embedding), so its alpha_0 times its input's std is 1
    alphas = log[0]["alpha"]
    assert len(set(alphas.values())) == len(alphas) == 9 and 2.0 not in alphas.values()
    assert alphas["h.0.ln_1"] * log[0]["norm_std"]["h.0.ln_1"] == pytest.approx(1, rel=1e-5)
    # resumed exactly
    run("train.py", *dyt, f"--out_dir={tmp_path}/cut", "--max_iters=10")
    run("train.py", *dyt, f"--out_dir={tmp_path}/cut", "--init_from=resume")
    for a, b in zip(log, read_log(tmp_path / "cut"), strict=True):
        assert (a["iter"], a["train_loss"], a["val_loss"]) == (b["iter"], b["train_loss"], b["val_loss"])
    # compared with LayerNorm continued from the same checkpoint
    run("train.py", *common, f"--out_dir={out}/vanilla")
    runs = {r["name"]: r for r in load_runs(str(out))[0]}
    wanted, why = baseline_of(runs["dyt"])
    assert why is None and matches(runs["vanilla"], wanted)
    source_run = load_runs(str(tmp_path))[0]
    assert not any(matches(r, wanted) for r in source_run)
    # the report's row: the trained model's loss (LayerNorm's step 0), the converted one's, and Δ against it
    row = next(line for line in convert_section(list(runs.values())) if "| dyt_calibrated" in line).split(" | ")
    vanilla = runs["vanilla"]
    assert row[4:7] == [f"{v:.2f} (1 seed)" for v in (vanilla["log"][0]["val_loss"], log[0]["val_loss"],
                                                      log[-1]["val_loss"])]
    assert row[7].startswith(f"{100 * (log[-1]['val_loss'] / vanilla['final_val_loss'] - 1):+.1f} ")


def hugging_face_gpt2(n_layer=2, n_embd=768, vocab=300, positions=64, prefix=""):
    """A file in the format of Hugging Face's GPT-2 pytorch_model.bin: its key names, Conv1D's (in, out)
    matrices, the attention masks it stores; random weights."""
    g = torch.Generator().manual_seed(0)

    def r(*shape, std=0.05):
        return torch.randn(*shape, generator=g) * std

    state = {f"{prefix}wte.weight": r(vocab, n_embd, std=0.1), f"{prefix}wpe.weight": r(positions, n_embd, std=0.1),
             f"{prefix}ln_f.weight": 1 + r(n_embd), f"{prefix}ln_f.bias": r(n_embd)}
    for i in range(n_layer):
        h = f"{prefix}h.{i}."
        state.update({h + "ln_1.weight": 1 + r(n_embd), h + "ln_1.bias": r(n_embd),
                      h + "attn.c_attn.weight": r(n_embd, 3 * n_embd), h + "attn.c_attn.bias": r(3 * n_embd),
                      h + "attn.c_proj.weight": r(n_embd, n_embd), h + "attn.c_proj.bias": r(n_embd),
                      h + "attn.bias": torch.tril(torch.ones(1, 1, positions, positions)),
                      h + "attn.masked_bias": torch.tensor(-1e4),
                      h + "ln_2.weight": 1 + r(n_embd), h + "ln_2.bias": r(n_embd),
                      h + "mlp.c_fc.weight": r(n_embd, 4 * n_embd), h + "mlp.c_fc.bias": r(4 * n_embd),
                      h + "mlp.c_proj.weight": r(4 * n_embd, n_embd), h + "mlp.c_proj.bias": r(n_embd)})
    if prefix:
        state["lm_head.weight"] = state[f"{prefix}wte.weight"]
    return state


def gpt2_reference(w, idx, n_head):
    """GPT-2's forward written from its definition over the file's own tensors (Conv1D: x @ W + b)."""
    n_layer = len({k.split(".")[1] for k in w if k.startswith("h.")})
    T = idx.shape[1]
    x = w["wte.weight"][idx] + w["wpe.weight"][:T]
    C = x.shape[-1]

    def ln(x, name):
        mu, var = x.mean(-1, keepdim=True), x.var(-1, unbiased=False, keepdim=True)
        return (x - mu) / torch.sqrt(var + 1e-5) * w[name + ".weight"] + w[name + ".bias"]

    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(n_layer):
        h = f"h.{i}."
        q, k, v = (ln(x, h + "ln_1") @ w[h + "attn.c_attn.weight"] + w[h + "attn.c_attn.bias"]).split(C, dim=-1)
        q, k, v = (t.view(1, T, n_head, C // n_head).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-1, -2) / math.sqrt(C // n_head)).masked_fill(~mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(1, T, C)
        x = x + y @ w[h + "attn.c_proj.weight"] + w[h + "attn.c_proj.bias"]
        m = ln(x, h + "ln_2") @ w[h + "mlp.c_fc.weight"] + w[h + "mlp.c_fc.bias"]
        m = 0.5 * m * (1 + torch.tanh(math.sqrt(2 / math.pi) * (m + 0.044715 * m ** 3)))  # GPT-2's GELU
        x = x + m @ w[h + "mlp.c_proj.weight"] + w[h + "mlp.c_proj.bias"]
    return ln(x, "ln_f") @ w["wte.weight"].T


def gpt2_model(block_size=48, vocab=300, norm="layernorm"):
    return Transformer(ModelConfig(arch="gpt", vocab_size=vocab, block_size=block_size, n_layer=2, n_head=12,
                                   n_embd=768, bias=True, norm=norm, activation="gelu_tanh"))


def test_gpt2s_released_format_loads_to_the_forward_gpt2_computes(tmp_path):
    """A file in Hugging Face's format (as GPT2Model and as GPT2LMHeadModel save it) loads into this repo's GPT,
    a context shorter than the file's keeping its first positions; the logits are the reference forward's."""
    idx = torch.randint(0, 300, (1, 40), generator=torch.Generator().manual_seed(1))
    for prefix in ("", "transformer."):
        state = hugging_face_gpt2(prefix=prefix)
        torch.save(state, tmp_path / "pytorch_model.bin")
        model = gpt2_model()
        source = load(SimpleNamespace(start_from=str(tmp_path / "pytorch_model.bin"), seed=0))
        convert(model, source, False, idx, torch.autocast("cpu", enabled=False), chunk=4)
        plain = {k.removeprefix("transformer."): v for k, v in state.items()}
        with torch.no_grad():
            ours = model.eval()(idx)[0]
        ref = gpt2_reference(plain, idx, n_head=12)
        assert torch.allclose(ours, ref, atol=1e-4, rtol=1e-4), (ours - ref).abs().max()
        assert F.cross_entropy(ours[0], idx[0]).item() > 0


def test_gpt2_converted_to_dyt_keeps_gains_and_biases_and_calibrates_alpha(tmp_path):
    """GPT-2's LayerNorms converted to DyT: every gain and bias kept, each alpha_0 = 1/std of what its LayerNorm
    saw in GPT-2's own forward; converted to identity the norms are gone and the rest of the weights kept."""
    state = hugging_face_gpt2()
    torch.save(state, tmp_path / "pytorch_model.bin")
    idx = torch.randint(0, 300, (4, 40), generator=torch.Generator().manual_seed(2))
    source = load(SimpleNamespace(start_from=str(tmp_path / "pytorch_model.bin"), seed=0))
    model = gpt2_model(norm="dyt")
    alphas = convert(model, source, True, idx, torch.autocast("cpu", enabled=False), chunk=2)
    assert torch.equal(model.h[1].ln_2.weight, state["h.1.ln_2.weight"]) and torch.equal(model.ln_f.bias, state["ln_f.bias"])
    embedded = state["wte.weight"][idx] + state["wpe.weight"][:40]
    assert alphas["h.0.ln_1"] == torch.tensor(1 / embedded.double().std(unbiased=False).item()).float().item()
    assert model.h[0].ln_1.alpha.item() == alphas["h.0.ln_1"] and len(set(alphas.values())) == 5
    bare = gpt2_model(norm="identity")
    convert(bare, source, False, idx, torch.autocast("cpu", enabled=False), chunk=2)
    assert not any("ln_" in k for k in bare.state_dict())
    assert torch.equal(bare.h[0].mlp.c_fc.weight, state["h.0.mlp.c_fc.weight"].T)


def test_a_source_that_does_not_fit_is_refused_in_one_line(data_dir, tmp_path):
    torch.save(hugging_face_gpt2(), tmp_path / "pytorch_model.bin")
    p = run("train.py", f"--data_dir={data_dir}", f"--out_dir={tmp_path}/run", f"--start_from={tmp_path}/pytorch_model.bin",
            "--max_iters=2", expect_ok=False)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and not (tmp_path / "run" / "ckpt.pt").exists()
    assert "the source's weights do not fit this model" in p.stderr and "n_embd=768" in p.stderr
    torch.save(hugging_face_gpt2(n_embd=96), tmp_path / "narrow.bin")
    p = run("train.py", f"--data_dir={data_dir}", f"--out_dir={tmp_path}/run", f"--start_from={tmp_path}/narrow.bin",
            "--max_iters=2", expect_ok=False)
    assert p.returncode == 2 and "a GPT-2 file of width 96" in p.stderr
