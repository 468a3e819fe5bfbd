"""
Sample text from a trained model.

    python sample.py --out_dir=out/micro/dyt_micro_8k_s1337 --start="ROMEO:" --num_samples=3 --max_new_tokens=200
    python sample.py --out_dir=out/micro/vanilla_micro_8k_s1337 --ckpt=best.pt   # before it memorised

Decodes with the tokenizer the model was trained with (bytes or GPT-2 BPE), recorded in its checkpoint.
--start may also be FILE:path to read the prompt from a file.
"""

import os
import sys
from types import SimpleNamespace

import torch

from checkpoint import load_checkpoint
from cli import ConfigError, comments, run_cli
from configurator import configure
from model import build_model
from prepare_data import Tokenizer
from settings import check_device, model_config

DEFAULTS = {
    "out_dir": "out",          # the run folder
    "ckpt": "ckpt.pt",         # its last evaluated step, or best.pt: the lowest validation loss
    "start": "\n",             # the prompt
    "num_samples": 3,          # how many texts to sample, each from the prompt
    "max_new_tokens": 200,     # the length of each, in tokens (bytes for a byte-level model)
    "temperature": 0.8,        # < 1 sharpens the distribution, > 1 flattens it
    "top_k": 200,              # sample among the k most likely tokens only (None = all)
    "seed": 1337,              # the sampling's random seed: the same seed, the same texts
    "device": "cpu",           # cpu, cuda, cuda:N or mps
}


def main(argv):
    cfg = SimpleNamespace(**configure(DEFAULTS, argv))
    check_device(cfg.device)
    if cfg.num_samples < 1 or cfg.max_new_tokens < 0 or (cfg.top_k is not None and cfg.top_k < 1):
        raise ConfigError(f"num_samples={cfg.num_samples}, max_new_tokens={cfg.max_new_tokens}, top_k={cfg.top_k}: "
                          f"use num_samples >= 1, max_new_tokens >= 0 and top_k >= 1 (or None)")
    ckpt = load_checkpoint(os.path.join(cfg.out_dir, cfg.ckpt), hint="point out_dir at a run folder written by train.py")
    model = build_model(model_config(ckpt["model_args"]))
    model.load_state_dict(ckpt["model"])
    model.eval().to(cfg.device)
    tokenizer = Tokenizer(ckpt["meta"]["tokenizer"])

    prompt = cfg.start
    if prompt.startswith("FILE:"):
        if not os.path.isfile(prompt[5:]):
            raise ConfigError(f"prompt file {prompt[5:]} not found (--start=FILE:path reads the prompt from a file)")
        with open(prompt[5:], encoding="utf-8", errors="replace") as f:
            prompt = f.read()
    ids = tokenizer.encode(prompt)
    if not ids:
        raise ConfigError("--start is empty: give at least one character of prompt")
    torch.manual_seed(cfg.seed)
    x = torch.tensor([ids], dtype=torch.long, device=cfg.device)
    for _ in range(cfg.num_samples):
        y = model.generate(x, cfg.max_new_tokens, temperature=cfg.temperature, top_k=cfg.top_k)
        # ids past the tokenizer's vocabulary are padding rows of the embedding, never seen in training
        print(tokenizer.decode([i for i in y[0].tolist() if i < tokenizer.vocab_size]))
        print("---------------")


if __name__ == "__main__":
    notes = comments(__file__)
    run_cli(main, sys.argv[1:], doc=__doc__, settings=[(k, v, notes.get(k, "")) for k, v in DEFAULTS.items()])
