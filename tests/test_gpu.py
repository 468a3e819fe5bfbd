"""What only a GPU can show: a compiled bf16 run, resumes across devices and process counts, FSDP's
mixed-precision policy against DDP, the ViT's augmentation on the GPU, bench.py's MFU.

Marked gpu: `python -m pytest -m gpu` runs them on a GPU machine (docs/performance.md says what they
printed there); the README's test command leaves them out, so a CPU machine skips nothing.
"""

import json

import pytest
import torch

from conftest import TINY, read_log, run, train

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
