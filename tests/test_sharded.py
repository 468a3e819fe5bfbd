"""The sharded path (FSDP2) measures and computes what a replicated run does, shown on a CPU: one process in a
gloo group plays one of two (Machine(world=2)), so every unit is sharded and gathered as on a GPU node."""

import math
from contextlib import nullcontext

import pytest
import torch
import torch.distributed as dist

import machine
from cli import ConfigError
from model import ModelConfig, Transformer
from probes import NormStats, forward_with_hooks, norm_hooks, probe_attention


@pytest.fixture
def group(tmp_path):
    dist.init_process_group("gloo", init_method=f"file://{tmp_path}/store", rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def sharded(dtype="float32", compile=False, **model):
    """A small DyT GPT sharded as train.py shards it, and an unsharded copy of its initial weights."""
    cfg = ModelConfig(**{"n_layer": 2, "n_head": 2, "n_embd": 16, "vocab_size": 32, "block_size": 8, "norm": "dyt",
                         **model})
    torch.manual_seed(0)
    model, plain = Transformer(cfg), Transformer(cfg)
    plain.load_state_dict(model.state_dict())
    machine.shard(model, machine.Machine(device="cpu", dtype=dtype, param_dtype="float32", compile=compile, fsdp=True,
                                         world=2))
    return model, plain


def test_the_probes_see_every_element_of_a_block_compiled_model_and_compile_nothing(group, monkeypatch):
    """A compiled module does not see a hook added after it was compiled, and compiles again for the probes'
    passes (eval mode, no gradients, new hooks) until Dynamo's limit: the probes run every module eager, so each
    norm counts all of its input, the attention probe measures every layer and nothing is compiled for them."""
    graphs = []

    def counting(gm, example_inputs):  # a CPU backend that counts the graphs it is given and runs them as they are
        graphs.append(gm)
        return gm.forward

    compile_module = torch.nn.Module.compile
    monkeypatch.setattr(torch.nn.Module, "compile", lambda self: compile_module(self, backend=counting))
    torch._dynamo.reset()
    model, _ = sharded(compile=True)
    x = torch.randint(0, 32, (6, 8))
    for _ in range(2):  # compiled, and run, before any probe
        model(x[:3], x[:3])[1].backward()
    compiled = len(graphs)
    assert compiled > 0
    for _ in range(3):  # every evaluation alike, a chunk of windows at a time, as probe_norms_and_rank reads them
        stats = NormStats()
        with torch.no_grad():
            for i in range(0, 6, 2):
                forward_with_hooks(model, x[i: i + 2], nullcontext(), norm_hooks(model, stats))
            entropy = probe_attention(model, x, nullcontext())["attn_entropy"]
        assert stats.count == {name: 6 * 8 * 16 for name in ("h.0.ln_1", "h.0.ln_2", "h.1.ln_1", "h.1.ln_2", "ln_f")}
        assert len(entropy) == 2 and all(len(layer) == 2 and all(0 < e <= math.log(8) for e in layer) for layer in entropy)
    assert len(graphs) == compiled


def test_a_sharded_step_computes_the_norms_in_fp32_as_a_replicated_one(group):
    """In bf16, FSDP gathers a block's matrices in bf16 (the values autocast would cast them to) and nothing
    else: DyT's input, alpha and gain stay fp32, as under DDP's autocast, and the loss and every gradient agree
    with the unsharded model's to float rounding (sharded gradients are reduced in another order)."""
    model, plain = sharded(dtype="bfloat16")
    seen = []
    for m in (model, plain):
        m.h[1].ln_1.register_forward_pre_hook(lambda mod, args: seen.append((args[0].dtype, mod.alpha.dtype, mod.weight.dtype)))
        m.h[1].attn.c_attn.register_forward_pre_hook(lambda mod, args: seen.append(mod.weight.dtype))
    x = torch.randint(0, 32, (4, 8))
    losses = []
    for m in (model, plain):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            losses.append(m(x, x)[1])
        losses[-1].backward()
    assert seen == [(torch.float32,) * 3, torch.bfloat16, (torch.float32,) * 3, torch.float32]
    assert losses[0].item() == pytest.approx(losses[1].item(), abs=1e-6)
    grads = {n: p.grad.full_tensor() for n, p in model.named_parameters()}
    for n, p in plain.named_parameters():  # a gradient of a bf16-gathered matrix is bf16 before its fp32 reduction
        assert torch.allclose(grads[n], p.grad, rtol=1e-2, atol=1e-6), n


def test_logged_scalars_are_the_checkpoints_values_under_fsdp(group):
    """After a sharded forward the root stays gathered: what the log reads must be the fp32 values the
    checkpoint holds, not a bf16 copy of them."""
    from probes import learned_scalars
    from run_folder import full_state
    model, _ = sharded(dtype="bfloat16")
    with torch.no_grad():
        for p in model.parameters():
            if p.numel() == 1:
                p.add_(3.41e-5)  # under half a bf16 spacing of 2.0: a bf16 copy reads 2.0
    x = torch.randint(0, 32, (2, 8))
    with torch.autocast("cpu", dtype=torch.bfloat16), torch.no_grad():
        model(x)
    state, _ = full_state(model, torch.optim.AdamW(model.parameters()))
    logged = learned_scalars(model)["alpha"]
    assert logged["ln_f"] == state["ln_f.alpha"].item() != 2.0
    assert all(logged[name] == state[f"{name}.alpha"].item() for name in logged)


def test_a_slope_shared_by_every_block_is_refused_under_fsdp(group):
    with pytest.raises(ConfigError, match="activation='leaky_relu_global' shares one slope among all blocks"):
        sharded(activation="leaky_relu_global", norm="identity", norm_final="layernorm")
    sharded(activation="leaky_relu", norm="identity", norm_final="layernorm")  # a slope per block shards
