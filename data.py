"""
Token streams on disk, and the two ways train.py reads them.

A prepared dataset is a folder data_dir/<dataset>/ with train.bin and val.bin (uint16 token ids) and
meta.json. Budgets are prefixes: train_tokens=1_000_000 trains on the first million tokens.

Training reads windows of block_size + 1 tokens. Which windows a step sees is a pure function of
(seed, step), so a resumed run sees exactly the data of an uninterrupted one, and the global batch
is the same whatever the number of processes: each rank takes its own slice of it.
Evaluation reads consecutive non-overlapping windows covering every target of a prefix exactly once,
so a loss does not depend on batch size, world size or luck.
"""

import json
import math
import os
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import torch

from cli import UserError


class DataError(UserError):
    pass


def load_meta(data_dir, dataset):
    path = os.path.join(data_dir, dataset, "meta.json")
    if not os.path.isfile(path):
        hint = dataset.split("_")[0] if dataset.startswith("shakespeare") else dataset
        raise DataError(f"dataset {dataset!r} not found ({path} is missing): "
                        f"run `python prepare_data.py {hint}` first, or set --data_dir")
    with open(path) as f:
        return json.load(f)


def padded_vocab(meta):
    """The dataset's vocabulary rounded up to a multiple of 64 (GPT-2's 50257 -> 50304): faster matmuls."""
    return 64 * math.ceil(meta["vocab_size"] / 64)


def dataset_settings(cfg, meta):
    """The model's settings a dataset decides where cfg leaves them None: a text's vocabulary (padded), an
    image set's size, channels and classes. A value set that the dataset contradicts is an error."""
    if meta.get("kind") != "images":
        return {"vocab_size": padded_vocab(meta) if cfg.vocab_size is None else cfg.vocab_size}
    found = {"image_size": meta["image_size"], "channels": meta["channels"], "num_classes": meta["classes"]}
    for key, value in found.items():
        if getattr(cfg, key) not in (None, value):
            raise DataError(f"{key}={getattr(cfg, key)}, but {cfg.dataset}'s is {value}: leave it None, or prepare "
                            f"another dataset")
    return found


@dataclass
class EvalSet:
    """What one evaluation reads: its items (windows, images), made into a batch (x, y) by make(some)."""
    items: list
    make: Callable


@dataclass
class Reading:
    """What a run reads, fixed for the whole run (read_text, images.read_images): the training batches
    (batches.batch(first, count) -> x, y of examples first .. first + count - 1), what every evaluation
    reads, the probes' inputs, and the budget's targets for the unigram floor."""
    batches: object
    tokens_per_example: int    # a window's tokens, or an image's patches and class token
    train_size: int            # the training budget, in tokens
    val_size: int
    val: EvalSet               # the validation prefix (or every test image)
    train: EvalSet             # a sample of the training budget of the same size
    val_full: Optional[EvalSet]  # the whole validation split, when val is a prefix of it
    probe_x: torch.Tensor      # the norm probes' inputs (probes.PROBE_WINDOWS of the budget)
    attn_x: torch.Tensor       # attention entropy's (8 validation windows: its probabilities are T x T per head);
                               # train.prepare moves it to the run's device
    targets: tuple             # (training, validation) targets: tokens or labels
    n_targets: int             # how many kinds of target: the vocabulary, or the classes


def load_tokens(data_dir, dataset, split, limit=None, vocab_size=None):
    """The first `limit` tokens (all if None) of data_dir/dataset/{split}.bin, memory-mapped.
    Checks the file is whole uint16 tokens, holds enough tokens and no id beyond the vocabulary."""
    path = os.path.join(data_dir, dataset, f"{split}.bin")
    key = "train_tokens" if split == "train" else "val_tokens"
    if not os.path.isfile(path):
        raise DataError(f"{path} is missing: run `python prepare_data.py` for {dataset!r} again")
    size = os.path.getsize(path)
    if size % 2:
        raise DataError(f"{path} has {size} bytes, not a whole number of uint16 tokens: "
                        f"it is truncated or not a token file; prepare the dataset again")
    n = size // 2
    if n == 0:
        raise DataError(f"{path} is empty: prepare the dataset again from a longer text")
    if limit is not None and limit < 1:
        raise DataError(f"{key}={limit} is not a number of tokens: use a positive count, or None for all")
    if limit is not None and limit > n:
        raise DataError(f"{key}={limit:,} is larger than the {n:,} tokens in {path}: "
                        f"use at most {n:,} (or None for all)")
    tokens = np.memmap(path, dtype=np.uint16, mode="r", shape=(n,))[: n if limit is None else limit]
    if vocab_size is not None and len(tokens) and int(tokens.max()) >= vocab_size:
        raise DataError(f"{path} holds token id {int(tokens.max())} but vocab_size={vocab_size}: "
                        f"the data was prepared with another tokenizer, or vocab_size is too small")
    return tokens


def source(tokens):
    """The token file a memory-mapped stream (or a slice of it) comes from, for error messages."""
    return getattr(tokens, "filename", None) or "in memory"


class TrainWindows:
    """The training windows of one run: sequence k of the run (k = step * batch + i) is a window of
    block_size + 1 tokens from the budget.

    Windows are drawn epoch by epoch without replacement: epoch e cuts the budget at a random shift
    into n windows of block_size and visits them in a random order, both drawn from (seed, e). Every
    token but one spare window's worth is seen once per epoch, and the cut points move from epoch to
    epoch, so a small budget is not always seen in the same segments.
    """

    def __init__(self, tokens, block_size, seed):
        self.tokens, self.T, self.seed = tokens, block_size, seed
        if len(tokens) < block_size + 1:
            raise DataError(f"the training budget of {len(tokens):,} tokens ({source(tokens)}) is shorter than one "
                            f"window of block_size + 1 = {block_size + 1}: raise train_tokens, prepare a longer "
                            f"text, or lower block_size")
        self.n = max(1, (len(tokens) - 1) // block_size - 1)  # one window spare for the shift
        self.max_shift = min(block_size - 1, len(tokens) - 1 - self.n * block_size)
        self._epoch, self._order, self._shift = None, None, 0

    def _plan(self, epoch):
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._shift = int(torch.randint(self.max_shift + 1, (1,), generator=g))
            self._order = torch.randperm(self.n, generator=g).numpy()
            self._epoch = epoch
        return self._shift, self._order

    def starts(self, first, count):
        """Start offsets of sequences first .. first + count - 1."""
        out = np.empty(count, dtype=np.int64)
        for i, k in enumerate(range(first, first + count)):
            shift, order = self._plan(k // self.n)
            out[i] = shift + order[k % self.n] * self.T
        return out

    def batch(self, first, count):
        """x, y (count, block_size) int64 tensors for sequences first .. first + count - 1."""
        rows = np.stack([self.tokens[s: s + self.T + 1] for s in self.starts(first, count)]).astype(np.int64)
        rows = torch.from_numpy(rows)
        # contiguous copies: a view's pin_memory() copies through an unpinned temporary, and the host would
        # then wait for each copy to a GPU
        return rows[:, :-1].contiguous(), rows[:, 1:].contiguous()


def eval_windows(tokens, block_size):
    """(start, n_new) for consecutive windows covering targets 1 .. len-1 exactly once.
    Each window reads block_size inputs from start; the last may overlap its neighbour, and then only
    its final n_new targets count."""
    n_targets = len(tokens) - 1
    if n_targets < block_size:
        raise DataError(f"an evaluation prefix of {len(tokens):,} tokens ({source(tokens)}) is shorter than "
                        f"block_size + 1 = {block_size + 1}: lower block_size, use more validation tokens, or "
                        f"prepare a longer text")
    windows = [(s, block_size) for s in range(0, n_targets - block_size + 1, block_size)]
    covered = len(windows) * block_size
    if covered < n_targets:
        windows.append((n_targets - block_size, n_targets - covered))
    return windows


def spread(items, k):
    """At most k items, evenly spaced over the list: a fixed sample of a long stream (of windows, of images)."""
    if len(items) <= k:
        return items
    return [items[i] for i in np.linspace(0, len(items) - 1, k).round().astype(int)]


def eval_batch(tokens, windows, T):
    """x, y (len(windows), T) for eval windows; targets already counted by an earlier window are -1."""
    x = np.stack([tokens[s: s + T] for s, _ in windows]).astype(np.int64)
    y = np.stack([tokens[s + 1: s + T + 1] for s, _ in windows]).astype(np.int64)
    for row, (_, n_new) in enumerate(windows):
        y[row, : T - n_new] = -1
    return torch.from_numpy(x), torch.from_numpy(y)


def unigram_losses(train_tokens, eval_tokens, vocab_size):
    """The loss of predicting every token from the budget's token frequencies alone, the floor a model
    that learned nothing else sits on: (the entropy of the training budget's counts, the cross-entropy
    of the evaluation targets under those counts plus 1/2 each, so an unseen token costs a finite loss).
    Nats per token, like the model's losses."""
    counts = np.bincount(train_tokens, minlength=vocab_size).astype(np.float64)
    p = counts[counts > 0] / counts.sum()
    smoothed = (counts + 0.5) / (counts.sum() + 0.5 * vocab_size)
    targets = np.asarray(eval_tokens[1:])  # every token but the first is a target of the evaluation windows
    return float(-(p * np.log(p)).sum()), float(-np.log(smoothed[targets]).mean())


def read_text(cfg, meta, vocab_size, probe_windows):
    """A text dataset's Reading: the validation windows of the prefix and of the whole split (the paper's
    prefix differs per budget; the whole split makes budgets comparable), a sample of the training budget
    of the same size, probe_windows fixed windows spread over the budget for the probes."""
    T = cfg.block_size
    train = load_tokens(cfg.data_dir, cfg.dataset, "train", cfg.train_tokens, vocab_size)
    val = load_tokens(cfg.data_dir, cfg.dataset, "val", cfg.val_tokens, vocab_size)
    batches = TrainWindows(train, T, cfg.seed)  # first: a budget shorter than one window is the error to tell

    def windows(tokens, items):
        return EvalSet(items, lambda some: eval_batch(tokens, some, T))

    val_windows, train_windows = eval_windows(val, T), eval_windows(train, T)
    val_full = load_tokens(cfg.data_dir, cfg.dataset, "val", None, vocab_size) if cfg.val_tokens else None
    return Reading(
        batches=batches, tokens_per_example=T, train_size=len(train), val_size=len(val),
        val=windows(val, val_windows), train=windows(train, spread(train_windows, len(val_windows))),
        val_full=windows(val_full, eval_windows(val_full, T)) if val_full is not None else None,
        probe_x=eval_batch(train, spread(train_windows, probe_windows), T)[0],
        attn_x=eval_batch(val, val_windows[:8], T)[0], targets=(train, val), n_targets=meta["vocab_size"])
