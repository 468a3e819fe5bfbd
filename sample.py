"""
Sample text from a trained model.

    python sample.py --out_dir=out/micro/dyt_micro_8k_s1337 --start="ROMEO:" --num_samples=3 --max_new_tokens=200
    python sample.py --out_dir=out/micro/vanilla_micro_8k_s1337 --ckpt=best.pt   # before it memorised

Decodes with the tokenizer the model was trained with (bytes or GPT-2 BPE), recorded in its checkpoint.
--start may also be FILE:path to read the prompt from a file.
"""

import os
import sys
from dataclasses import dataclass
from typing import Optional

import torch

from cli import ConfigError, run_cli
from configurator import configure
from machine import check_device
from model import Transformer, model_config, setting
from prepare_data import Tokenizer
from run_folder import load_checkpoint


@dataclass(frozen=True)
class Sampling:
    out_dir: str = setting("out", "the run folder")
    ckpt: str = setting("ckpt.pt", "its last evaluated step, or best.pt: the lowest validation loss")
    start: str = setting("\n", "the prompt")
    num_samples: int = setting(3, "how many texts to sample, each from the prompt", least=1)
    max_new_tokens: int = setting(200, "the length of each, in tokens (bytes for a byte-level model)", least=0)
    temperature: float = setting(0.8, "< 1 sharpens the distribution, > 1 flattens it")
    top_k: Optional[int] = setting(200, "sample among the k most likely tokens only (None = all)", least=1)
    seed: int = setting(1337, "the sampling's random seed: the same seed, the same texts")
    device: str = setting("cpu", "cpu, cuda, cuda:N or mps")


def main(argv):
    cfg = Sampling(**configure(Sampling, argv))
    check_device(cfg.device)
    sharded = cfg.ckpt == "ckpt.pt" and os.path.isdir(os.path.join(cfg.out_dir, "ckpt"))  # run_folder.py
    ckpt = load_checkpoint(os.path.join(cfg.out_dir, cfg.ckpt),
                           hint="its run is sharded: its whole weights are best.pt (--ckpt=best.pt)" if sharded else
                           "point out_dir at a run folder written by train.py")
    model = Transformer(model_config(ckpt["model_args"]))
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
    run_cli(main, sys.argv[1:], doc=__doc__, settings=(Sampling,))
