"""Every entry point answers bad input the same way: one clear line, exit code 2, no traceback, and
nothing written. Each row is a mistake a user makes; the README's table "When something is wrong"
lists the ones that matter most.
"""

import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch

from conftest import REPO, TINY, digits, run

# (entry point, arguments, words the message must contain); {W} is a folder of prepared mistakes
# (see `world`), {data} a prepared data_dir, {run} a finished tiny run, {bad} a data_dir of damaged datasets
T = ["train.py", "--data_dir={data}", "--out_dir={W}/out", *TINY, "--max_iters=2"]
ROWS = [
    # train.py: the configuration
    (T + ["--n_layers=3"], "unknown config key 'n_layers' in the command line (did you mean n_layer"),
    (T + ["--batch_size=eight"], "batch_size='eight' in the command line should be an int like the default"),
    (T + ["--max_iters=1e3"], "max_iters=1000.0 in the command line should be an int"),
    (T + ["config/nope.py"], "config file config/nope.py not found"),
    (T + ["{W}/typo.py"], "typo.py line 2: unterminated string literal"),
    (T + ["{W}/prose.py"], "prose.py line 3: invalid syntax"),
    (T + ["{W}/raises.py"], "raises.py line 2: ZeroDivisionError: division by zero"),
    (T + ["{W}/imports.py"], "imports.py line 1: ModuleNotFoundError: No module named 'config.common.nope'"),
    (T + ["{W}/binary.py"], "binary.py is not UTF-8 text"),
    (T + ["--init_from=latest"], "init_from='latest': use scratch or resume"),
    (T + ["--dtype=float16"], "use float32 or bfloat16"),
    (T + ["--norm=batchnorm"], "unknown norm 'batchnorm': choose one of layernorm"),
    (T + ["--norm=identity", "--norm_final=layernorm", "--alpha_init=1.0"],
     "norms 'identity' and 'layernorm' take no alpha_init, but alpha_init=1.0 is set: set alpha_init to None"),
    (T + ["--norm=dyt", "--norm_final=layernorm", "--alpha_init_final=0.5"],
     "norm 'layernorm' takes no alpha_init, but alpha_init_final=0.5 is set: set alpha_init_final to None"),
    (T + ["--n_embd=30", "--n_head=4"], "n_embd=30 is not a multiple of n_head=4"),
    (T + ["--start_from={W}/nowhere"], "start_from: there is no run folder or file at"),
    (T + ["--start_from={W}/typo.py"], "is not a torch file this repo can read"),
    (T + ["--start_from={run}", "--n_embd=64"], "the source's weights do not fit this model"),
    (T + ["--norm=dyt", "--calibrate_alpha=True"], "calibrate_alpha=True sets alpha_0 from a trained model's activations"),
    (T + ["--activation=swish"], "unknown activation 'swish'"),
    (T + ["--lr_decay=step"], "lr_decay='step': use cosine or linear"),
    (T + ["--norm=batchnorm"], "unknown norm 'batchnorm': choose one of layernorm"),
    (T + ["--activation=tanh"], "unknown activation 'tanh'"),
    (T + ["--n_embd=33"], "n_embd=33 is not a multiple of n_head=2"),
    (T + ["--dropout=1.5"], "dropout=1.5 is a probability: give one from 0 up to (not including) 1"),
    (T + ["--max_iters=-1"], "max_iters=-1 must be at least 0"),
    (T + ["--batch_size=0"], "batch_size=0 must be at least 1"),
    (T + ["--device=cuda:99"], "device='cuda:99' is not on this machine, which has cpu"),
    (T + ["--device=tpu"], "device='tpu' is not a device name"),
    # train.py: the data
    (T + ["--dataset=shakespeare_gpt2"], "run `python prepare_data.py shakespeare` first"),
    (T + ["--data_dir={W}/nowhere"], "nowhere/shakespeare_byte/meta.json is missing"),
    (T + ["--train_tokens=2_000_000"], "train_tokens=2,000,000 is larger than the 1,003,854 tokens"),
    (T + ["--train_tokens=0"], "train_tokens=0 is not a number of tokens"),
    (T + ["--val_tokens=100", "--block_size=128"], "evaluation prefix of 100 tokens ("),
    (T + ["--data_dir={bad}", "--dataset=odd_bytes"], "odd_bytes/train.bin has 10001 bytes, not a whole number"),
    (T + ["--data_dir={bad}", "--dataset=foreign_ids"], "holds token id 299 but vocab_size=256"),
    (T + ["--data_dir={bad}", "--dataset=empty_val"], "empty_val/val.bin is empty: prepare the dataset again"),
    (T + ["--data_dir={bad}", "--dataset=short_val", "--val_tokens=None"],
     "short_val/val.bin) is shorter than block_size + 1 = 33"),
    (T + ["--data_dir={bad}", "--dataset=short_train", "--val_tokens=None"],
     "short_train/train.bin) is shorter than one window"),
    # train.py: the run folder
    (T + ["--out_dir={W}/afile"], "out_dir {W}/afile is a file, not a folder"),
    (T + ["--out_dir={run}"], "already holds a finished run: choose another out_dir, or pass --overwrite=True"),
    (T + ["--out_dir={W}/fresh", "--init_from=resume"], "there is no checkpoint at {W}/fresh/ckpt.pt"),
    (T + ["--out_dir={run}", "--init_from=resume", "--n_embd=48"],
     "cannot resume {run}: its run was trained with other settings: n_embd (32 there, 48 asked)"),
    (T + ["--out_dir={run}", "--init_from=resume", "--max_iters=1", "--eval_interval=2"],
     "cannot resume {run} to max_iters=1: its checkpoint is at step 2, and a run is continued, not shortened"),
    (T + ["--norm=dyt", "--norm_eps=1e-5"], "norm 'dyt' takes no eps, but norm_eps=1e-05 is set: set norm_eps to None"),
    (T + ["config/micro/vanilla_micro_8k.py", "--alpha_init=3"],
     "norm 'layernorm' takes no alpha_init, but alpha_init=3.0 is set: set alpha_init to None"),
    (T + ["config/plateau/dyt_faithful_8k.py", "--norm=hardtanh"],
     "names the method 'dyt_faithful', and --norm=hardtanh makes the run another norm's: label it with --method=NAME"),
    (T + ["--norm=hardtanh", "--method=dyt_clip"], "method 'dyt_clip' (the command line) is a label of 'dyt'"),
    (T + ["config/grid.py"], "config/grid.py is the table make_configs.py writes the configs from, not a config"),
    (T + ["--out_dir={W}/corrupt", "--init_from=resume"], "checkpoint {W}/corrupt/ckpt.pt is corrupt or truncated"),
    (T + ["--out_dir={W}/foreign", "--init_from=resume"], "not a checkpoint of this repo's train.py"),
    # sample.py
    (["sample.py", "--out_dir={W}/fresh"], "there is no checkpoint at {W}/fresh/ckpt.pt"),
    (["sample.py", "--out_dir={run}", "--ckpt=nope.pt"], "there is no checkpoint at {run}/nope.pt"),
    (["sample.py", "--out_dir={W}/corrupt"], "is corrupt or truncated"),
    (["sample.py", "--out_dir={W}/foreign"], "not a checkpoint of this repo's train.py"),
    (["sample.py", "--out_dir={run}", "--start=FILE:{W}/nope.txt"], "prompt file {W}/nope.txt not found"),
    (["sample.py", "--out_dir={run}", "--start="], "--start is empty"),
    (["sample.py", "--out_dir={run}", "--top_k=0"], "top_k=0 must be at least 1"),
    (["sample.py", "--out_dir={run}", "--device=cuda:99"], "is not on this machine"),
    (["sample.py", "--out_dr={run}"], "unknown config key 'out_dr' in the command line (did you mean out_dir"),
    # plateau.py: every config read, and its dataset found, before the first one trains
    (["plateau.py"], "usage: python plateau.py CONFIG"),
    (["plateau.py", "config/nope.py"], "config file config/nope.py not found"),
    (["plateau.py", "config/micro/dyt_micro_8k.py", "--steps=-1"], "steps=-1 must be at least 0"),
    (["plateau.py", "config/micro/dyt_micro_8k.py", "--n_layers=3"], "unknown config key 'n_layers'"),
    (["plateau.py", "config/micro/dyt_micro_8k.py", "--data_dir={W}/nowhere"], "nowhere/shakespeare_byte/meta.json is missing"),
    (["plateau.py", "config/micro/dyt_micro_8k.py", "--data_dir={data}", "--out={W}/afile"], "--out {W}/afile is a file"),
    # sweep.py: everything is checked before the first run starts
    (["sweep.py", "{W}/none*.py", "--out", "{W}/sweep"], "no config matches {W}/none*.py"),
    (["sweep.py", "config/nope.py", "--out", "{W}/sweep"], "config file config/nope.py not found"),
    (["sweep.py", "{W}/typo.py", "--out", "{W}/sweep"], "typo.py line 2: unterminated string literal"),
    (["sweep.py", "config/micro/dyt_micro_8k.py", "--out", "{W}/sweep", "--n_layers=3"], "unknown config key 'n_layers'"),
    (["sweep.py", "config/micro/dyt_micro_8k.py", "--out", "{W}/afile"], "--out {W}/afile is a file, not a folder"),
    (["sweep.py", "config/micro/dyt_micro_8k.py", "--seeds", "one"], "argument --seeds: invalid int value: 'one'"),
    (["sweep.py", "config/micro/dyt_micro_8k.py", "max_iters=3"],
     "argument 'max_iters=3' is neither a config file (.py) nor --key=value"),
    (["sweep.py", "config/micro/dyt_micro_8k.py", "--nproc", "0"], "a run needs at least one process"),
    (["sweep.py", "config/micro/dyt_micro_8k.py", "--norm=batchnorm"], "unknown norm 'batchnorm': choose one of"),
    (["sweep.py", "config/micro/vanilla_micro_8k.py", "--alpha_init=2"], "norm 'layernorm' takes no alpha_init"),
    # report.py
    (["report.py"], "usage: python report.py OUT_DIR"),
    (["claims.py"], "usage: python claims.py OUT_DIR [ENTROPY_OUT_DIR]"),
    (["claims.py", "{W}/nowhere"], "{W}/nowhere is not a folder: train the runs of docs/claims.md into it first"),
    (["report.py", "{W}/nowhere"], "{W}/nowhere is not a folder"),
    (["report.py", "{W}/empty"], "no finished run (summary.json) under {W}/empty"),
    (["report.py", "{W}/broken_runs"], "x_s1: summary.json is not one train.py wrote: it lacks valid JSON"),
    # bench.py
    (["bench.py", "--data_dir={data}", "--sections=warp"], "unknown section 'warp'"),
    (["bench.py", "--data_dir={data}", "--steps=0"], "steps=0 must be at least 1"),
    (["bench.py", "--data_dir={W}/nowhere", "--sections=step"], "or give the vocabulary with --vocab_size=N"),
    (["bench.py", "--data_dir={data}", "--device=cuda:99"], "is not on this machine"),
    (["bench.py", "--stepz=3"], "unknown config key 'stepz'"),
    # gpu_check.py (on a machine without a GPU, as CI's)
    (["gpu_check.py"], "this machine has no CUDA GPU: gpu_check.py checks the GPU path on a machine that has one"),
    (["gpu_check.py", "--fast"], "usage: python gpu_check.py (no arguments)"),
    # memory.py
    (["memory.py", "config/nope.py"], "config file config/nope.py not found"),
    (["memory.py", "{W}/typo.py"], "typo.py line 2: unterminated string literal"),
    (["memory.py", "config/dyt_64m_1m.py", "--gpus", "0"], "argument --gpus: 0 is not above zero"),
    (["memory.py", "config/micro/dyt_micro_8k.py", "--data_dir", "{W}/nowhere"], "--vocab_size=N"),
    # configurator.py
    (["configurator.py", "config/nope.py"], "config file config/nope.py not found"),
    (["configurator.py", "{W}/typo.py"], "typo.py line 2: unterminated string literal"),
    (["configurator.py", "config/dyt_64m_1m.py", "--n_layers=3"], "unknown config key 'n_layers'"),
    # train.py and prepare_data.py: images
    (["train.py", "config/vit_digits/dyt_all.py", "--data_dir={img}", "--out_dir={W}/out", "--patch_size=3"],
     "image_size=8 is not a multiple of patch_size=3: the patches must tile the image"),
    (["train.py", "config/vit_digits/dyt_all.py", "--data_dir={img}", "--out_dir={W}/out", "--train_images=5000"],
     "train_images=5,000 is not a number of images of"),
    (["train.py", "--data_dir={img}", "--dataset=digits", "--out_dir={W}/out"],
     "arch='gpt' cannot read 'digits', a dataset of images: a ViT reads images, a GPT or Llama text"),
    (["prepare_data.py", "cifar10", "--input", "{W}/other.zip", "--data_dir", "{W}/d"],
     "other.zip is not the official cifar10 python archive, or is cut short"),
    (["prepare_data.py", "cifar100", "--input", "{W}/cut.tar.gz", "--data_dir", "{W}/d"],
     "cut.tar.gz is not the official cifar100 python archive, or is cut short"),
    (["prepare_data.py", "digits", "--input", "{W}/prose.py", "--data_dir", "{W}/d"], "is not the UCI digits"),
    # docs.py: a page, its block kinds and the run folders they name
    (["docs.py", "{W}/prose.py"], "prose.py is not a markdown page: usage: python docs.py"),
    (["docs.py", "{W}/unknown_block.md"], "unknown_block.md: unknown docs.py block kind 'warp'"),
    (["docs.py", "{W}/missing_runs.md"], "{W}/nowhere is not there: run the command the page names beside the block first"),
    (["docs.py", "{W}/missing_diagnostics.md"], "{W}/nowhere/diagnostics.json is not there: run the command the page"),
    # make_configs.py
    (["make_configs.py", "--write"], "usage: python make_configs.py [--check]"),
    # prepare_data.py
    (["prepare_data.py", "text", "--input", "{W}/empty.txt", "--name", "e", "--data_dir", "{W}/d"], "holds no text"),
    (["prepare_data.py", "text", "--input", "{W}/blank.txt", "--name", "e", "--data_dir", "{W}/d"], "all blank"),
    (["prepare_data.py", "text", "--input", "{W}/short.txt", "--name", "e", "--data_dir", "{W}/d"], "is too short"),
    (["prepare_data.py", "text", "--input", "{W}/binary.py", "--name", "e", "--data_dir", "{W}/d"], "is not UTF-8"),
    (["prepare_data.py", "text", "--input", "{W}/nope.txt", "--name", "e", "--data_dir", "{W}/d"], "nope.txt not found"),
    (["prepare_data.py", "text", "--input", "{W}/empty", "--name", "e", "--data_dir", "{W}/d"], "is a folder"),
    (["prepare_data.py", "text", "--input", "{W}/prose.py"], "text needs --input PATH and --name NAME"),
    (["prepare_data.py", "wikitext2"], "argument dataset: invalid choice: 'wikitext2'"),
    (["prepare_data.py", "wikitext103", "--input", "{W}/other.zip", "--data_dir", "{W}/d"], "has no wiki.train.raw"),
    (["prepare_data.py", "shakespeare", "--data_dir", "{W}/afile"], "--data_dir {W}/afile is a file"),
]


@pytest.fixture(scope="module")
def world(data_dir, tmp_path_factory):
    """A folder of the things users get wrong, and a finished tiny run beside it."""
    W = tmp_path_factory.mktemp("world")
    files = {"typo.py": 'n_layer = 2\nnorm = "dyt\n', "prose.py": "n_layer = 2\n\nThis line is prose, not Python.\n",
             "raises.py": "n_layer = 2\nn_head = 1 / 0\n", "imports.py": "from config.common.nope import *\n",
             "empty.txt": "", "blank.txt": " \n\n\t\n", "short.txt": "ab", "afile": "not a folder"}
    for name, text in files.items():
        (W / name).write_text(text)
    (W / "unknown_block.md").write_text("# a page\n<!-- docs.py warp out/micro -->\n<!-- /docs.py -->\n")
    (W / "missing_diagnostics.md").write_text(f"# a page\n<!-- docs.py diagnostics {W}/nowhere -->\n<!-- /docs.py -->\n")
    (W / "missing_runs.md").write_text(f"# a page\n<!-- docs.py arms final_val_loss {W}/nowhere micro -->\n<!-- /docs.py -->\n")
    (W / "binary.py").write_bytes(bytes(range(128, 256)) * 4)
    (W / "empty").mkdir()
    (W / "corrupt").mkdir()
    (W / "corrupt" / "ckpt.pt").write_bytes(b"PK\x03\x04 half a checkpoint")
    (W / "foreign").mkdir()
    torch.save({"weights": torch.zeros(2)}, W / "foreign" / "ckpt.pt")
    (W / "broken_runs" / "x_s1").mkdir(parents=True)
    (W / "broken_runs" / "x_s1" / "summary.json").write_text('{"n_params": 12')  # cut short
    (W / "broken_runs" / "x_s1" / "log.jsonl").write_text('{"iter": 0, "val_loss": 5.0}\n')
    with zipfile.ZipFile(W / "other.zip", "w") as zf:
        zf.writestr("readme.txt", "not WikiText")
    from test_vit import cifar_archive
    full = cifar_archive(W / "full.tar.gz", "cifar100", n_train=20, n_test=10)
    (W / "cut.tar.gz").write_bytes(full.read_bytes()[: full.stat().st_size // 2])  # a download cut short
    full.unlink()
    from prepare_data import main as prepare
    images = tmp_path_factory.mktemp("images")
    prepare(["digits", "--input", digits(), "--data_dir", str(images)])
    from prepare_data import write_dataset
    bad = tmp_path_factory.mktemp("bad")
    meta = {"tokenizer": "byte", "vocab_size": 256}
    for name, train, val in (("odd_bytes", np.arange(5000) % 200, np.arange(5000) % 200),
                             ("foreign_ids", np.arange(5000) % 300, np.arange(5000) % 200),
                             ("empty_val", np.arange(5000) % 200, np.zeros(0)),
                             ("short_val", np.arange(5000) % 200, np.arange(20)),
                             ("short_train", np.arange(20), np.arange(5000) % 200)):
        write_dataset(str(bad / name), train, val, meta)
    with open(bad / "odd_bytes" / "train.bin", "ab") as f:
        f.write(b"\0")
    finished = tmp_path_factory.mktemp("runs") / "finished"
    run("train.py", f"--data_dir={data_dir}", f"--out_dir={finished}", *TINY, "--max_iters=2", "--eval_interval=2")
    return {"W": str(W), "data": data_dir, "run": str(finished), "bad": str(bad), "img": str(images)}


def snapshot(*folders):
    """Every file under the folders, with its size and modification time."""
    return {os.path.join(d, f): (os.stat(os.path.join(d, f)).st_size, os.stat(os.path.join(d, f)).st_mtime_ns)
            for folder in folders for d, _, names in os.walk(folder) for f in names}


@pytest.mark.parametrize("args, words", ROWS, ids=[f"{r[0][0]}: {r[1][:50]}" for r in ROWS])
def test_bad_input_gets_one_line_exit_2_and_writes_nothing(world, args, words):
    before = snapshot(world["W"], world["run"], world["bad"], world["data"], world["img"])
    p = run(*[a.format(**world) for a in args], expect_ok=False, timeout=120)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2, f"exit {p.returncode}:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}"
    assert "Traceback" not in p.stderr + p.stdout, p.stderr
    # one line; argparse's own usage errors print the usage before it
    assert len(lines) == 1 or (len(lines) <= 5 and lines[0].startswith("usage:")), p.stderr
    assert words.format(**world) in lines[-1], lines[-1]
    assert snapshot(world["W"], world["run"], world["bad"], world["data"], world["img"]) == before  # nothing written


def test_a_bug_keeps_its_traceback(data_dir, tmp_path):
    """Only the project's own errors are one line: a ValueError in a fork's new norm is a bug, not a bad input,
    and the user sees where it happened."""
    code = ("import sys, dyt, train, cli\n"
            "class Broken(dyt.SquashingNorm):\n"
            "    saturation_threshold = 2.0\n"
            "    alpha_default = 1.0\n"
            "    def squash(self, u):\n"
            "        raise ValueError('a shape bug in the fork')\n"
            "dyt.NORMS['broken'] = Broken\n"
            "cli.run_cli(train.main, sys.argv[1:])\n")
    p = subprocess.run([sys.executable, "-c", code, f"--data_dir={data_dir}", f"--out_dir={tmp_path}/out", *TINY,
                        "--norm=broken", "--max_iters=2"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert p.returncode == 1 and "Traceback" in p.stderr, p.stderr
    assert "in squash" in p.stderr and p.stderr.strip().endswith("ValueError: a shape bug in the fork")


def test_every_entry_point_has_rows():
    scripts = {f for f in os.listdir(REPO) if f.endswith(".py") and "__main__" in open(os.path.join(REPO, f)).read()}
    assert scripts == {args[0] for args, _ in ROWS}, "an entry point without bad-input rows"


def test_asking_for_a_gpu_that_is_not_there_names_the_devices_there_are(data_dir, tmp_path):
    missing = f"cuda:{torch.cuda.device_count()}" if torch.cuda.is_available() else "cuda"
    p = run("train.py", f"--data_dir={data_dir}", f"--out_dir={tmp_path}/out", *TINY, f"--device={missing}",
            expect_ok=False)
    assert p.returncode == 2 and p.stderr.startswith(f"error: device='{missing}' is not on this machine, which has cpu")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("script", sorted(f for f in os.listdir(REPO) if f.endswith(".py") and "__main__" in
                                          open(os.path.join(REPO, f)).read()))
def test_every_entry_point_answers_help_with_what_it_does_and_its_usage(script):
    p = run(script, "--help", expect_ok=False)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert f"python {script}" in p.stdout or p.stdout.startswith("usage:"), p.stdout[:500]
    if script in ("train.py", "configurator.py", "bench.py", "plateau.py"):  # the --key=value scripts: every setting
        from settings import DEFAULTS
        listed = {line.split()[0]: line.split(maxsplit=1)[1:] for line in p.stdout.splitlines() if line.startswith("  --")}
        assert {f"--{k}={v!r}" for k, v in DEFAULTS.items()} <= set(listed)
        assert all(listed.values())  # each with its meaning, as declared
        from dyt import NORMS
        norm = next(line for line in p.stdout.splitlines() if line.startswith("  --norm="))
        assert norm.endswith(", ".join(NORMS))  # the registry's norms, a fork's among them
