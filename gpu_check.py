"""
Check a new GPU machine's path in one command, in about ten minutes on one GPU, and print a table:

    python gpu_check.py

- the GPU tests (`python -m pytest -m gpu`): a compiled bf16 run that learns, resumes across devices and
  process counts, FSDP forced on for one process on a 3.78B-wide model of two blocks (the probes count every
  element, DyT's input and alpha stay fp32), no host sync in a training step or the ViT's batches, a pure-bf16
  ViT step, an MFU bound;
- tokens/s, MFU and peak memory of a compiled bf16 step of the 64M and 124M configs (bench.py), beside what
  memory.py estimates for one GPU;
- whether scaled_dot_product_attention runs its flash kernel here.

docs/performance.md says what it is expected to print on an H100. On a machine without a CUDA GPU it says
so in one line.
"""

import os
import re
import subprocess
import sys

import torch

from cli import UserError, run_cli

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = ("config/dyt_64m_1m.py", "config/dyt_124m_1m.py")


def command(*args, timeout=600):
    """(exit code, output) of a command in the repo."""
    p = subprocess.run([sys.executable, *args], cwd=HERE, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def flash_attention():
    """Whether SDPA's flash kernel runs a bf16 causal attention of GPT-2's head size on this GPU."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    q = torch.randn(1, 8, 512, 64, device="cuda", dtype=torch.bfloat16)
    try:
        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            torch.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True)
        return "yes"
    except RuntimeError as e:
        return f"no ({str(e).splitlines()[0][:80]})"


def main(argv):
    if argv:
        raise UserError("usage: python gpu_check.py (no arguments)")
    if not torch.cuda.is_available():
        raise UserError("this machine has no CUDA GPU: gpu_check.py checks the GPU path on a machine that has one")
    rows = [("GPU", torch.cuda.get_device_name(), "")]
    code, out = command("-m", "pytest", "-m", "gpu", "-q", "-rA", "-p", "no:cacheprovider", timeout=420)
    for outcome, name in re.findall(r"^(PASSED|FAILED|SKIPPED|ERROR) tests/test_gpu\.py::(\w+)", out, re.M):
        rows.append(("gpu test", name, outcome.lower()))
    if code not in (0, 1):
        rows.append(("gpu tests", f"pytest exited {code}", out.strip().splitlines()[-1] if out.strip() else ""))
    from memory import estimate
    from configurator import read_settings
    for config in CONFIGS:
        code, out = command("bench.py", config, "--vocab_size=50304", "--sections=step", "--steps=10",
                            "--device=cuda", "--dtype=bfloat16", timeout=300)
        found = re.search(r"compiled\s+([\d.]+) ms/step\s+([\d,]+) tokens/s .*?(MFU [^ ]+|MFU n/a[^p]*)\s+peak (.+)", out)
        expected = estimate(vars(read_settings([config, "--vocab_size=50304"])[0]))["total"] / 1e9
        rows.append((f"step {os.path.basename(config)}",
                     f"{found.group(2)} tokens/s, {found.group(3).strip()}" if found else f"bench.py failed ({code})",
                     f"peak {found.group(4).strip() if found else '?'}; memory.py estimates {expected:.1f} GB"))
    rows.append(("flash attention", flash_attention(), "bf16, causal, head size 64"))
    width = max(len(r[0]) for r in rows) + 2
    print("\n".join(f"{a:{width}s}{b}  {c}".rstrip() for a, b, c in rows))
    return 1 if any(r[2] == "failed" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:], doc=__doc__))
