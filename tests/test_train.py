"""train.py end to end on a CPU: it learns, resumes exactly, splits over processes, and says what is wrong."""

import json
import os
import socket
import subprocess
import sys

import pytest
import torch

from conftest import REPO, TINY, read_log, run, train


def test_a_short_cpu_run_learns_and_writes_its_outputs(data_dir, tmp_path):
    out = tmp_path / "run"
    p = train(data_dir, out, "--max_iters=30", "--eval_interval=10", "--learning_rate=3e-3")
    log = read_log(out)
    assert [r["iter"] for r in log] == [0, 10, 20, 30]
    assert log[-1]["val_loss"] < log[0]["val_loss"] - 1.0  # from ln(256) = 5.5 toward byte-level text
    assert log[-1]["train_loss"] < log[0]["train_loss"] - 1.0
    assert log[-1]["tokens_seen"] == 30 * 8 * 32
    for key in ("iter", "tokens_seen", "lr", "train_loss", "val_loss", "elapsed_s"):
        assert key in log[-1]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["final_val_loss"] == log[-1]["val_loss"] and summary["iters"] == 30
    assert summary["best_val_loss"] == min(r["val_loss"] for r in log)
    assert summary["n_params"] > 0 and summary["tokens_per_sec"] > 0 and summary["config"]["n_layer"] == 2
    assert "done: final val loss" in p.stdout
    assert sorted(os.listdir(out)) == ["best.pt", "ckpt.pt", "log.jsonl", "settings.json", "summary.json"]


def test_adamw_counts_the_steps_it_took_and_no_more(data_dir, tmp_path):
    # the step-0 checkpoint must not give AdamW a step of its own: its bias correction counts steps
    train(data_dir, tmp_path / "run", "--max_iters=12", "--eval_interval=4")
    optimizer = torch.load(tmp_path / "run" / "ckpt.pt", weights_only=True)["optimizer"]
    assert {float(state["step"]) for state in optimizer["state"].values()} == {12.0}


def test_the_best_checkpoint_is_chosen_on_the_prefix_and_scored_on_the_whole_split(data_dir, tmp_path):
    # 500 training bytes at a high learning rate: overfitted within 80 steps, so the best is not the last step
    common = ["--train_tokens=500", "--learning_rate=1e-2", "--eval_interval=10", "--warmup_iters=0"]
    train(data_dir, tmp_path / "run", "--max_iters=80", *common)
    log, summary = read_log(tmp_path / "run"), json.loads((tmp_path / "run" / "summary.json").read_text())
    assert [r["iter"] for r in log if "val_loss_full" in r] == [80]  # the whole split: the last step only
    best = summary["best_iter"]
    assert 10 < best < 80 and summary["best_val_loss"] == min(r["val_loss"] for r in log)
    assert torch.load(tmp_path / "run" / "best.pt", weights_only=True)["iter"] == best
    # sample.py reads it: other weights, other text from the same seed
    texts = [run("sample.py", f"--out_dir={tmp_path / 'run'}", f"--ckpt={name}", "--num_samples=1").stdout
             for name in ("best.pt", "ckpt.pt")]
    assert texts[0] != texts[1] and all(len(t) > 100 for t in texts)
    # best.pt scored on the whole split is what a run stopped at that step scores there, to the bit
    train(data_dir, tmp_path / "stopped", f"--max_iters={best}", *common)
    stopped = json.loads((tmp_path / "stopped" / "summary.json").read_text())
    assert summary["best_val_loss_full"] == stopped["final_val_loss_full"] != summary["final_val_loss_full"]
    # a run cut before its best step and resumed finds the same best checkpoint
    train(data_dir, tmp_path / "cut", f"--max_iters={best - 10}", *common)
    train(data_dir, tmp_path / "cut", "--max_iters=80", "--init_from=resume", *common)
    cut = json.loads((tmp_path / "cut" / "summary.json").read_text())
    assert (cut["best_iter"], cut["best_val_loss_full"]) == (best, summary["best_val_loss_full"])


def test_resume_gives_the_same_losses_as_an_uninterrupted_run(data_dir, tmp_path):
    common = ["--eval_interval=10", "--dropout=0.1", "--seed=7"]  # dropout: the random state must resume too
    train(data_dir, tmp_path / "full", "--max_iters=40", *common)
    train(data_dir, tmp_path / "cut", "--max_iters=20", *common)
    train(data_dir, tmp_path / "cut", "--max_iters=40", "--init_from=resume", *common)
    full, cut = read_log(tmp_path / "full"), read_log(tmp_path / "cut")
    assert [r["iter"] for r in cut] == [0, 10, 20, 30, 40]
    for a, b in zip(full, cut):
        assert (a["val_loss"], a["train_loss"]) == (b["val_loss"], b["train_loss"])


def test_another_split_of_the_global_batch_is_the_same_run(data_dir, tmp_path):
    """How a step's batch is split into micro-batches is how a run runs: resumed as 4 x 2 where it had 8 x 1,
    it continues (the same windows, the sum split otherwise), and an override that only resplits names no
    other run; one that changes the global batch does."""
    train(data_dir, tmp_path / "straight", "--max_iters=16", "--eval_interval=8")
    train(data_dir, tmp_path / "split", "--max_iters=8", "--eval_interval=8")
    train(data_dir, tmp_path / "split", "--max_iters=16", "--eval_interval=8", "--init_from=resume",
          "--batch_size=4", "--gradient_accumulation_steps=2")
    straight, split = read_log(tmp_path / "straight"), read_log(tmp_path / "split")
    assert [r["iter"] for r in split] == [0, 8, 16]
    assert [r["val_loss"] for r in split[:2]] == [r["val_loss"] for r in straight[:2]]
    assert abs(straight[2]["val_loss"] - split[2]["val_loss"]) < 1e-4  # float sums in another order, no more
    p = train(data_dir, tmp_path / "split", "--max_iters=16", "--init_from=resume", "--batch_size=4", expect_ok=False)
    assert p.returncode == 2 and "global_batch (8 there, 4 asked)" in p.stderr
    micro = os.path.join(REPO, "config", "micro", "dyt_micro_8k.py")
    from configurator import read_settings
    plain, resplit = read_settings([micro]), read_settings([micro, "--batch_size=8", "--gradient_accumulation_steps=2"])
    assert resplit[2] == [] and resplit[0].out_dir == plain[0].out_dir
    assert read_settings([micro, "--batch_size=8"])[2] == [("batch_size", 8, 16)]


def two_nodes(data_dir, out_dir, *args):
    """train.py as two nodes of one process each, both on this machine: torchrun's multi-node launch
    with a c10d rendezvous on 127.0.0.1, as the README's two-node command on two machines."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes=2", "--nproc_per_node=1", "--rdzv-backend=c10d",
           f"--rdzv-endpoint=127.0.0.1:{port}", "--rdzv-id=two-nodes", "train.py", f"--data_dir={data_dir}",
           f"--out_dir={out_dir}", *TINY, *args]
    nodes = [subprocess.Popen(cmd, cwd=REPO, env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [node.communicate(timeout=600)[0] for node in nodes]
    assert all(node.returncode == 0 for node in nodes), "\n".join(o[-3000:] for o in outputs)


def test_two_processes_or_two_nodes_equal_one_process_with_doubled_accumulation(data_dir, tmp_path):
    # batch_size 4 x 2 micro-batches: one process runs both, two processes (or two nodes) run one each
    common = ["--max_iters=20", "--eval_interval=2", "--batch_size=4", "--gradient_accumulation_steps=2",
              "--dropout=0.0"]
    train(data_dir, tmp_path / "one", *common)
    train(data_dir, tmp_path / "two", *common, torchrun=2)
    two_nodes(data_dir, tmp_path / "nodes", *common)
    one = read_log(tmp_path / "one")
    assert len(one) == 11 and one[-1]["val_loss"] < one[0]["val_loss"] - 0.3  # it trained, so agreeing means something
    for other in (read_log(tmp_path / "two"), read_log(tmp_path / "nodes")):
        assert len(other) == 11
        for a, b in zip(one, other):
            assert abs(a["val_loss"] - b["val_loss"]) < 1e-5 and abs(a["train_loss"] - b["train_loss"]) < 1e-5


def test_sample_prints_text_from_a_trained_checkpoint(data_dir, tmp_path):
    train(data_dir, tmp_path / "run", "--max_iters=20", "--eval_interval=20", "--learning_rate=3e-3")
    p = run("sample.py", f"--out_dir={tmp_path / 'run'}", "--start=ROMEO:", "--num_samples=2", "--max_new_tokens=50")
    samples = p.stdout.split("---------------\n")
    assert len(samples) == 3 and samples[-1] == ""
    for s in samples[:2]:
        assert s.startswith("ROMEO:") and len(s.encode()) >= len("ROMEO:") + 40


def test_fsdp_matches_ddp_and_resumes(data_dir, tmp_path):
    common = ["--max_iters=12", "--eval_interval=4", "--batch_size=4", "--gradient_accumulation_steps=2",
              "--norm=dyt"]  # DyT: its one-element alpha is sharded unevenly across the two processes
    train(data_dir, tmp_path / "ddp", *common, torchrun=2)
    train(data_dir, tmp_path / "fsdp", *common, "--fsdp=True", torchrun=2)
    ddp, fsdp = read_log(tmp_path / "ddp"), read_log(tmp_path / "fsdp")
    assert len(ddp) == len(fsdp) == 4
    for a, b in zip(ddp, fsdp):
        assert abs(a["val_loss"] - b["val_loss"]) < 1e-5 and a["alpha"] == pytest.approx(b["alpha"], abs=1e-6)
    # a sharded run saves its checkpoint in shards: resume it under FSDP, and sample from its whole best.pt in one process
    train(data_dir, tmp_path / "cut", *common[1:], "--max_iters=8", "--fsdp=True", torchrun=2)
    train(data_dir, tmp_path / "cut", *common[1:], "--max_iters=12", "--fsdp=True", "--init_from=resume", torchrun=2)
    assert [r["val_loss"] for r in read_log(tmp_path / "cut")] == [r["val_loss"] for r in fsdp]
    p = run("sample.py", f"--out_dir={tmp_path / 'cut'}", "--ckpt=best.pt", "--num_samples=1", "--max_new_tokens=5")
    assert p.stdout.count("---------------") == 1


def test_a_sharded_bf16_run_logs_the_scalars_its_checkpoint_holds(data_dir, tmp_path):
    """Under FSDP in bf16 the log reads the fp32 values of every alpha (the final norm's, in the root, too), as
    the checkpoint holds them, not the bf16 copies a forward gathers."""
    train(data_dir, tmp_path / "run", "--max_iters=4", "--eval_interval=4", "--batch_size=4", "--norm=dyt",
          "--dtype=bfloat16", "--fsdp=True", "--learning_rate=3e-3", torchrun=2)
    logged = read_log(tmp_path / "run")[-1]["alpha"]
    from torch.distributed.checkpoint.format_utils import dcp_to_torch_save
    dcp_to_torch_save(tmp_path / "run" / "ckpt", tmp_path / "whole.pt")  # the shards a sharded run saves, as one file
    held = torch.load(tmp_path / "whole.pt", weights_only=False)["model"]
    assert logged == {name: held[f"{name}.alpha"].item() for name in logged} and logged["ln_f"] != 2.0


def test_a_sharded_run_saves_shards_that_resume_under_any_process_count(data_dir, tmp_path):
    """Under FSDP each process writes its own shards (ckpt/, best/), no process gathering the whole state; the
    shards resume under one process, whose whole checkpoint resumes under two again (2 -> 1 -> 2), and the run
    ends with a whole best.pt that sample.py reads in one process."""
    common = ["--eval_interval=4", "--batch_size=4", "--gradient_accumulation_steps=2", "--norm=dyt", "--dropout=0.0",
              "--fsdp=True"]
    train(data_dir, tmp_path / "straight", *common, "--max_iters=12", torchrun=2)
    train(data_dir, tmp_path / "moved", *common, "--max_iters=4", torchrun=2)
    held = sorted(os.listdir(tmp_path / "moved"))
    assert "ckpt" in held and "ckpt.pt" not in held and "extra.pt" in os.listdir(tmp_path / "moved" / "ckpt")
    train(data_dir, tmp_path / "moved", *common, "--max_iters=8", "--init_from=resume")  # one process reads 2 shards
    assert "ckpt.pt" in os.listdir(tmp_path / "moved") and "ckpt" not in os.listdir(tmp_path / "moved")
    train(data_dir, tmp_path / "moved", *common, "--max_iters=12", "--init_from=resume", torchrun=2)
    straight, moved = read_log(tmp_path / "straight"), read_log(tmp_path / "moved")
    assert [r["iter"] for r in moved] == [0, 4, 8, 12]
    for a, b in zip(straight, moved):
        assert abs(a["val_loss"] - b["val_loss"]) < 1e-5 and a["alpha"] == pytest.approx(b["alpha"], abs=1e-6)
    ends = sorted(os.listdir(tmp_path / "moved"))
    assert "best.pt" in ends and "best" not in ends and "ckpt" in ends
    p = run("sample.py", f"--out_dir={tmp_path / 'moved'}", "--ckpt=best.pt", "--num_samples=1", "--max_new_tokens=5")
    assert p.stdout.count("---------------") == 1


def test_a_one_process_checkpoint_resumes_under_two_processes(data_dir, tmp_path):
    """The global batch does not depend on the number of processes, so neither may a resume: rank 1 finds
    no random state of its own in a one-process checkpoint and seeds one (checkpoint.restore_rng)."""
    common = ["--eval_interval=4", "--batch_size=4", "--gradient_accumulation_steps=2", "--dropout=0.0"]
    train(data_dir, tmp_path / "straight", *common, "--max_iters=12")
    train(data_dir, tmp_path / "grown", *common, "--max_iters=8")
    train(data_dir, tmp_path / "grown", *common, "--max_iters=12", "--init_from=resume", torchrun=2)
    straight, grown = read_log(tmp_path / "straight"), read_log(tmp_path / "grown")
    assert [r["iter"] for r in grown] == [0, 4, 8, 12]
    for a, b in zip(straight, grown):
        assert abs(a["val_loss"] - b["val_loss"]) < 1e-5


def test_a_process_or_device_the_checkpoint_has_no_random_state_for_seeds_one(monkeypatch):
    from run_folder import restore_rng, rng_state
    saved = [rng_state("cpu")]  # a one-process CPU run: no CUDA state
    torch.manual_seed(0)
    restore_rng(saved, 0, "cpu", seed=5, step=8)
    assert torch.equal(torch.get_rng_state(), saved[0]["cpu"])
    restore_rng(saved, 1, "cpu", seed=5, step=8)
    rank_1 = torch.get_rng_state()
    torch.manual_seed(5 + 1 + 1_000_003 * 9)
    assert torch.equal(rank_1, torch.get_rng_state()) and not torch.equal(rank_1, saved[0]["cpu"])
    seeded = []  # on a GPU, the CPU-trained checkpoint's missing CUDA state is seeded, not restored from None
    monkeypatch.setattr(torch.cuda, "manual_seed", seeded.append)
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda state: pytest.fail("set_rng_state(None)"))
    restore_rng(saved, 0, "cuda", seed=5, step=8)
    assert seeded == [5 + 0 + 1_000_003 * 9]


def test_fsdp_with_one_process_runs_unsharded(data_dir, tmp_path):
    train(data_dir, tmp_path / "plain", "--max_iters=4", "--eval_interval=4")
    train(data_dir, tmp_path / "one", "--max_iters=4", "--eval_interval=4", "--fsdp=True")
    plain, one = read_log(tmp_path / "plain"), read_log(tmp_path / "one")
    assert len(plain) == len(one) == 2
    for a, b in zip(plain, one):
        # the attention-entropy probe is float64 but its q and k come from float32 matmuls, whose
        # rounding was seen to differ between identical CPU runs; every loss must agree to the bit
        flat = [[e for layer in r["attn_entropy"] for e in layer] for r in (a, b)]
        assert flat[0] == pytest.approx(flat[1], rel=1e-6)
        skip = ("elapsed_s", "attn_entropy")
        assert {k: v for k, v in a.items() if k not in skip} == {k: v for k, v in b.items() if k not in skip}


def test_the_probes_read_the_same_windows_at_every_batch_size_and_process_count(data_dir, tmp_path):
    # saturation and effective rank are measured on 50 windows of block_size tokens spread over the budget,
    # a micro-batch at a time: at step 0 the model is the same whatever the batch, and so must its probes be
    layouts = {"batch 1": (["--batch_size=1"], None), "batch 64": (["--batch_size=64"], None),
               "2 processes": (["--batch_size=4", "--gradient_accumulation_steps=2"], 2)}
    rows = {}
    for name, (args, processes) in layouts.items():
        out = tmp_path / name.replace(" ", "_")
        train(data_dir, out, "--max_iters=0", "--norm=dyt", "--alpha_init=100.0", *args, torchrun=processes)
        assert json.loads((out / "summary.json").read_text())["probe_tokens"] == 50 * 32
        rows[name] = read_log(out)[0]
    first = rows["batch 1"]
    assert 0 < first["saturation"] < 1 and all(1 < r < 32 for r in first["effective_rank"].values())
    for row in rows.values():
        assert row["saturation_layers"] == first["saturation_layers"]  # counts of elements: exact
        assert row["norm_std"] == pytest.approx(first["norm_std"], rel=1e-9)
        assert row["effective_rank"] == pytest.approx(first["effective_rank"], rel=1e-9)


def test_ddp_wraps_the_model_before_it_is_compiled(tmp_path, monkeypatch):
    """Compiled under DDP, the graph leaves DDP room to all-reduce gradient buckets during the backward; a
    model compiled first would be one opaque backward to DDP (torch.compile is lazy: nothing compiles here)."""
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    import machine
    monkeypatch.setenv("LOCAL_RANK", "0")
    dist.init_process_group("gloo", init_method=f"file://{tmp_path}/store", rank=0, world_size=1)
    try:
        two = machine.Machine(device="cpu", dtype="float32", param_dtype="float32", compile=True, fsdp=False, world=2)
        wrapped = machine.wrap(torch.nn.Linear(4, 4), two)
        assert isinstance(wrapped, torch._dynamo.eval_frame.OptimizedModule)
        assert isinstance(wrapped._orig_mod, DistributedDataParallel) and callable(wrapped.no_sync)
    finally:
        dist.destroy_process_group()


def test_tokens_per_second_leaves_out_the_first_step(data_dir, tmp_path, monkeypatch):
    """The first step compiles (24 s on a CPU for the micro model): counted, it would sink the run's tokens/s."""
    import time

    import train as trainer
    from configurator import read_settings
    step, calls = trainer.optimisation_step, []

    def slow_first(*args, **kw):
        calls.append(1)
        if len(calls) == 1:
            time.sleep(3.0)  # a compilation
        return step(*args, **kw)

    monkeypatch.setattr(trainer, "optimisation_step", slow_first)
    cfg = read_settings([f"--data_dir={data_dir}", f"--out_dir={tmp_path}/out", *TINY, "--max_iters=6",
                         "--eval_interval=6"])[0]
    trainer.train(cfg)
    tokens_per_sec = json.loads((tmp_path / "out" / "summary.json").read_text())["tokens_per_sec"]
    assert tokens_per_sec > 3 * 6 * 8 * 32 / 3.0  # counting the first step, all 6 steps' tokens took 3 s or more


def test_fsdp_gathers_bf16_weights_when_the_run_computes_in_bf16(tmp_path, monkeypatch):
    """Under FSDP each block's weights are gathered in bf16 (torchtitan's mixed-precision policy) when the run
    computes in bf16, so a micro-step moves half the bytes of the fp32 shards; an fp32 run gathers fp32."""
    import torch.distributed as dist

    import machine
    from model import ModelConfig, Transformer
    dist.init_process_group("gloo", init_method=f"file://{tmp_path}/store", rank=0, world_size=1)
    try:
        for dtype, gathered in (("bfloat16", torch.bfloat16), ("float32", torch.float32)):
            model = Transformer(ModelConfig(n_layer=2, n_head=2, n_embd=16, vocab_size=32, block_size=8))
            machine.shard(model, machine.Machine(device="cpu", dtype=dtype, param_dtype="float32", compile=False,
                                                 fsdp=True, world=2))
            seen = []
            model.h[1].attn.c_attn.register_forward_pre_hook(lambda m, args: seen.append(m.weight.dtype))
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == "bfloat16"):  # as train.py runs it
                _, loss = model(torch.randint(0, 32, (2, 8)), torch.randint(0, 32, (2, 8)))
            loss.backward()
            assert seen == [gathered] and model.h[1].attn.c_attn.weight.grad.dtype == torch.float32  # fp32 shards
    finally:
        dist.destroy_process_group()
