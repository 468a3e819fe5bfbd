"""What only a GPU can show: a compiled bf16 run, resumes across devices and process counts, FSDP's
mixed-precision policy against DDP and on one GPU, the probes' coverage under compiled blocks, host syncs of
a training step and of the ViT's batches, a pure-bf16 ViT step, bench.py's MFU.

Marked gpu: `python -m pytest -m gpu` runs them on a GPU machine (docs/performance.md says what they
printed there); the README's test command leaves them out, so a CPU machine skips nothing.
"""

import json

import pytest
import torch

from conftest import REPO, TINY, read_log, run, train

pytestmark = pytest.mark.gpu


@pytest.fixture(autouse=True)
def cuda():
    if not torch.cuda.is_available():
        pytest.fail("marked gpu, but this machine has no CUDA GPU: run these where one is")


def gpus(n):
    if torch.cuda.device_count() < n:
        pytest.skip(f"needs {n} GPUs, this machine has {torch.cuda.device_count()}")


def test_a_compiled_bf16_run_learns_on_the_gpu(data_dir, tmp_path):
    p = train(data_dir, tmp_path / "gpu", "--device=cuda", "--compile=True", "--dtype=bfloat16", "--max_iters=100",
              "--eval_interval=50")
    log = read_log(tmp_path / "gpu")
    summary = json.loads((tmp_path / "gpu" / "summary.json").read_text())
    assert log[-1]["val_loss"] < log[0]["val_loss"] - 1.0, [r["val_loss"] for r in log]
    assert summary["config"]["device"] == "cuda" and summary["config"]["compile"] is True
    print(f"compiled bf16 TINY run: {summary['tokens_per_sec']:,.0f} tokens/s after its first step\n{p.stdout[-300:]}")


def test_a_cpu_checkpoint_resumes_on_the_gpu_and_back(data_dir, tmp_path):
    common = ["--eval_interval=8", "--dtype=float32", "--compile=False", "--dropout=0.1"]
    train(data_dir, tmp_path / "straight", "--max_iters=24", "--device=cpu", *common)
    train(data_dir, tmp_path / "moved", "--max_iters=8", "--device=cpu", *common)
    train(data_dir, tmp_path / "moved", "--max_iters=16", "--device=cuda", "--init_from=resume", *common)
    train(data_dir, tmp_path / "moved", "--max_iters=24", "--device=cpu", "--init_from=resume", *common)
    straight, moved = read_log(tmp_path / "straight"), read_log(tmp_path / "moved")
    assert [r["iter"] for r in moved] == [0, 8, 16, 24]
    # TF32 matmuls on the GPU and another dropout stream there: the same run, not the same bits
    assert all(abs(a["val_loss"] - b["val_loss"]) < 0.05 for a, b in zip(straight, moved))


def test_a_one_process_gpu_checkpoint_resumes_under_two_processes(data_dir, tmp_path):
    gpus(2)
    common = ["--eval_interval=4", "--device=cuda", "--compile=False", "--gradient_accumulation_steps=2"]
    train(data_dir, tmp_path / "grown", *common, "--max_iters=8")
    p = train(data_dir, tmp_path / "grown", *common, "--max_iters=12", "--init_from=resume", torchrun=2)
    assert "Traceback" not in p.stderr and [r["iter"] for r in read_log(tmp_path / "grown")] == [0, 4, 8, 12]


def test_fsdp_with_its_bf16_policy_follows_ddp(data_dir, tmp_path):
    gpus(2)
    common = ["--max_iters=40", "--eval_interval=20", "--device=cuda", "--dtype=bfloat16", "--compile=True",
              "--gradient_accumulation_steps=2"]
    train(data_dir, tmp_path / "ddp", *common, torchrun=2)
    train(data_dir, tmp_path / "fsdp", *common, "--fsdp=True", torchrun=2)
    ddp, fsdp = read_log(tmp_path / "ddp"), read_log(tmp_path / "fsdp")
    # FSDP's policy gathers bf16 weights where DDP's autocast casts fp32 ones: close, not equal
    assert all(abs(a["val_loss"] - b["val_loss"]) < 0.05 for a, b in zip(ddp, fsdp)), (ddp, fsdp)


def test_the_vits_augmentation_on_the_gpu_draws_what_the_cpu_draws():
    import numpy as np

    from images import TrainImages
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, (50, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, 50)
    on = {d: TrainImages(x, y, 3, {"pixel_max": 255}, 4, True, d).batch(40, 32) for d in ("cpu", "cuda")}
    assert on["cuda"][0].device.type == "cuda" and torch.equal(on["cuda"][0].cpu(), on["cpu"][0])


def test_bench_prints_mfu_on_the_gpu(data_dir):
    import re

    from memory import gpu_peak
    p = run("bench.py", f"--data_dir={data_dir}", *TINY, "--sections=step", "--steps=10", "--device=cuda",
            "--dtype=bfloat16")
    print(p.stdout)
    known = gpu_peak(torch.cuda.get_device_name()) is not None
    assert bool(re.search(r"compiled .* MFU \d+\.\d%", p.stdout)) == known and ("MFU n/a" in p.stdout) != known


def test_the_vits_gpu_batches_do_not_wait_for_the_gpu():
    """The ViT's batches are drawn on the host and copied through pinned memory: no step waits on the GPU."""
    import numpy as np

    from images import TrainImages
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, (50, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, 50)
    batches = TrainImages(x, y, 3, {"pixel_max": 255}, 4, True, "cuda")
    batches.batch(0, 32)  # the first call may set the device up
    torch.cuda.set_sync_debug_mode("error")  # any host-device synchronisation raises
    try:
        for k in range(1, 4):
            batches.batch(32 * k, 32)
    finally:
        torch.cuda.set_sync_debug_mode("default")


def test_a_training_step_does_not_wait_for_the_gpu(data_dir, tmp_path):
    """Between logs, the loop's only host sync is the loss it prints every log_interval steps."""
    from dataclasses import replace

    import train as trainer
    from settings import Config
    cfg = Config(data_dir=str(data_dir), out_dir=str(tmp_path / "out"), device="cuda", dtype="bfloat16", compile=False,
                 n_layer=2, n_head=2, n_embd=64, block_size=32, batch_size=8, max_iters=10)
    run_, _ = trainer.prepare(cfg)
    trainer.optimisation_step(run_, run_.model, 0)  # the first step sets the device up
    torch.cuda.set_sync_debug_mode("error")
    try:
        for it in range(1, 4):
            trainer.set_lr(run_, it)
            trainer.optimisation_step(run_, run_.model, it)
    finally:
        torch.cuda.set_sync_debug_mode("default")


def test_fsdp_on_one_gpu_probes_every_element_and_computes_the_norms_in_fp32(tmp_path):
    """FSDP forced on for one process (as one of two): a wide model of two blocks, compiled block by block in
    bf16; the probes count every element of every norm's input, and DyT's input and alpha stay fp32."""
    import torch.distributed as dist

    import machine
    from model import ModelConfig, Transformer
    from probes import NormStats, forward_with_hooks, norm_hooks
    dist.init_process_group("nccl", init_method=f"file://{tmp_path}/store", rank=0, world_size=1)
    try:
        cfg = ModelConfig(n_layer=2, n_head=24, n_embd=3072, vocab_size=50304, block_size=512, norm="dyt")
        model = Transformer(cfg).cuda()
        machine.shard(model, machine.Machine(device="cuda", dtype="bfloat16", param_dtype="float32", compile=True,
                                             fsdp=True, world=2))
        x = torch.randint(0, 50304, (2, 512), device="cuda")
        autocast = torch.autocast("cuda", dtype=torch.bfloat16)
        seen = []
        model.h[1].ln_2.register_forward_pre_hook(lambda m, args: seen.append((args[0].dtype, m.alpha.dtype)))
        with autocast:
            model(x, x)[1].backward()
        assert seen == [(torch.float32, torch.float32)]
        stats = NormStats()
        with torch.no_grad():
            forward_with_hooks(model, x, autocast, norm_hooks(model, stats))
        assert set(stats.count.values()) == {2 * 512 * 3072} and len(stats.count) == 5
    finally:
        dist.destroy_process_group()


def test_a_pure_bf16_vit_step_runs_and_learns_on_the_gpu(tmp_path):
    """The paper's ViT recipe in pure bf16 on a GPU (weights and AdamW state bf16, foreach arithmetic): a few
    steps on random CIFAR-sized images move the loss and keep every weight bf16."""
    from model import ModelConfig, Transformer
    from train import make_optimizer
    from settings import Config
    torch.manual_seed(0)
    cfg = Config(arch="vit", n_layer=2, n_head=4, n_embd=64, patch_size=4, image_size=32, channels=3, num_classes=10,
                 param_dtype="bfloat16", weight_decay_all=True, learning_rate=1e-3, norm="dyt", alpha_init=2.0)
    model = Transformer(ModelConfig(**{k: getattr(cfg, k) for k in ModelConfig.__dataclass_fields__})).cuda().bfloat16()
    optimizer = make_optimizer(model, cfg, fused=True)
    x, y = torch.randn(64, 3, 32, 32, device="cuda", dtype=torch.bfloat16), torch.randint(0, 10, (64,), device="cuda")
    losses = []
    for _ in range(20):
        loss = model(x, y)[1]
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
    assert losses[-1] < losses[0] and all(p.dtype == torch.bfloat16 for p in model.parameters())


def test_bench_mfu_of_the_64m_model_is_in_a_plausible_range(data_dir):
    """MFU of a compiled bf16 step of the 64M config on an H100 or H200: a unit mistake lands far outside."""
    import re

    from memory import gpu_peak
    if gpu_peak(torch.cuda.get_device_name()) is None:
        pytest.skip(f"no bf16 peak known for {torch.cuda.get_device_name()}")
    p = run("bench.py", "config/dyt_64m_1m.py", f"--data_dir={data_dir}", "--vocab_size=50304", "--sections=step",
            "--steps=10", "--device=cuda", "--dtype=bfloat16", "--batch_size=16")
    mfu = float(re.search(r"compiled .* MFU (\d+\.\d)%", p.stdout).group(1))
    assert 10 < mfu < 80, p.stdout


def test_the_memory_estimate_is_within_its_error_of_a_gpu_peak():
    """GPT-2 124M in bf16 autocast on the GPU, 4 sequences of 512 tokens: the allocator's peak over two training
    steps against memory.estimate for that run on one GPU (without the CUDA context, which the allocator does not
    count)."""
    from configurator import read_settings
    from memory import ASSUMED_CONTEXT, ERROR, estimate
    from model import Transformer, model_config
    import train as trainer
    cfg = read_settings([f"{REPO}/config/vanilla_124m_1m.py", "--batch_size=4", "--gradient_accumulation_steps=1"])[0]
    torch.cuda.reset_peak_memory_stats()
    model = Transformer(model_config(cfg)).cuda()
    optimizer = trainer.make_optimizer(model, cfg, fused=True)
    x, y = torch.randint(0, cfg.vocab_size, (2, 4, cfg.block_size), device="cuda")
    for _ in range(2):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(x, y)[1]
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    measured = torch.cuda.max_memory_allocated()
    estimated = estimate(vars(cfg), dtype="bfloat16", device="cuda")["total"] - ASSUMED_CONTEXT
    assert abs(estimated / measured - 1) < ERROR, (estimated / 1e9, measured / 1e9)
