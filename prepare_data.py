"""
Turn text into the token files train.py reads: data/<name>/{train,val}.bin (uint16) and meta.json;
and images into the arrays it reads: data/<name>/{train,val}_{x,y}.npy and meta.json (images.py).

    python prepare_data.py wikitext103 [--input wikitext-103-raw-v1.zip or its extracted folder]
    python prepare_data.py shakespeare [--input input.txt] [--tokenizer byte|gpt2]
    python prepare_data.py text --input book.txt --name book [--tokenizer byte|gpt2]
    python prepare_data.py digits [--input digits.csv.gz]       # 1,797 UCI handwritten digits, 8x8
    python prepare_data.py cifar10 [--input cifar-10-python.tar.gz]   # (and cifar100) the official python archives

WikiText-103 is prepared as the regime paper did: every non-empty line of wiki.train.raw and
wiki.valid.raw encoded with the GPT-2 BPE (tiktoken r50k_base, encode_ordinary) and concatenated.
Its data budgets (1M, 10M, 50M tokens) are prefixes chosen at training time, not copies.
Set TIKTOKEN_CACHE_DIR to a folder holding the BPE ranks to work offline. The digits are the UCI
"Optical Recognition of Handwritten Digits" test set (Alpaydin & Kaynak, 1998, CC BY 4.0), as
scikit-learn ships it; a fixed fifth of them (a seeded shuffle) is the test split.
Every file is written to a temporary name and renamed, so an interrupted run leaves nothing that
looks finished.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import pickle
import sys
import tarfile
import urllib.request
import zipfile

import numpy as np

from atomic import atomic_open
from cli import run_cli
from data import DataError

WIKITEXT_URL = "https://wikitext.smerity.com/wikitext-103-raw-v1.zip"
SHAKESPEARE_URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
# local copies used before downloading: where a download lands, and where this project's CI keeps one
SHAKESPEARE_COPIES = ("data/tinyshakespeare.txt", "../shared/data/tinyshakespeare.txt")
TOKENIZERS = ("byte", "gpt2")


class Tokenizer:
    """'byte' (raw UTF-8 bytes, vocab 256: what makes CPU runs fast) or 'gpt2' (tiktoken r50k_base,
    byte-identical to GPT-2's BPE)."""

    def __init__(self, name):
        if name not in TOKENIZERS:
            raise ValueError(f"unknown tokenizer {name!r}: choose one of {', '.join(TOKENIZERS)}")
        self.name = name
        if name == "gpt2":
            import tiktoken
            try:
                self.bpe = tiktoken.get_encoding("r50k_base")
            except Exception as e:  # offline with no cache: a network error of whatever library tiktoken uses
                raise DataError(f"the GPT-2 BPE could not be loaded ({type(e).__name__}): set TIKTOKEN_CACHE_DIR to "
                                f"a folder holding its ranks, or go online once") from None
        self.vocab_size = self.bpe.n_vocab if name == "gpt2" else 256

    def encode(self, text):
        return self.bpe.encode_ordinary(text) if self.name == "gpt2" else list(text.encode("utf-8"))

    def encode_batch(self, texts):
        return self.bpe.encode_ordinary_batch(texts) if self.name == "gpt2" else [self.encode(t) for t in texts]

    def decode(self, ids):
        return self.bpe.decode(ids) if self.name == "gpt2" else bytes(ids).decode("utf-8", errors="replace")


def encode_lines(lines, tokenizer, chunk=20_000):
    """Token ids of each line, concatenated, as uint16; lines are encoded in batches."""
    parts, batch, done = [], [], 0
    for line in lines:
        batch.append(line)
        if len(batch) == chunk:
            parts.extend(tokenizer.encode_batch(batch))
            done += len(batch)
            batch = []
            print(f"\r  {done:,} lines, {sum(map(len, parts)):,} tokens", end="", file=sys.stderr, flush=True)
    parts.extend(tokenizer.encode_batch(batch))
    if done:
        print(file=sys.stderr)
    return np.concatenate([np.asarray(p, dtype=np.uint16) for p in parts]) if parts else np.zeros(0, np.uint16)


def write_dataset(out_dir, train, val, meta):
    """train.bin, val.bin, and last meta.json: a folder with meta.json is a finished one."""
    os.makedirs(out_dir, exist_ok=True)
    if os.path.exists(os.path.join(out_dir, "meta.json")):
        os.remove(os.path.join(out_dir, "meta.json"))
    meta = {**meta, "train_tokens": int(len(train)), "val_tokens": int(len(val))}
    for name, data in (("train.bin", train.astype(np.uint16).tobytes()), ("val.bin", val.astype(np.uint16).tobytes()),
                       ("meta.json", (json.dumps(meta, indent=2) + "\n").encode())):
        with atomic_open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
    print(f"wrote {out_dir}: {len(train):,} train and {len(val):,} val tokens ({meta['tokenizer']})")


def download(url, path, expected=None):
    """Fetch url to path with a progress line; a clear error when there is no network. The file is checked
    against `expected` (a checksum, its size, its lines: what was published of it) before it is kept."""
    print(f"downloading {url}", file=sys.stderr)
    expected = expected or {}
    hashes = {name: hashlib.new(name) for name in ("md5", "sha256") if name in expected}
    try:
        with urllib.request.urlopen(url, timeout=30) as r, atomic_open(path, "wb") as f:
            total, done, lines = int(r.headers.get("Content-Length") or 0), 0, 0
            while chunk := r.read(1 << 20):
                f.write(chunk)
                done, lines = done + len(chunk), lines + chunk.count(b"\n")
                for h in hashes.values():
                    h.update(chunk)
                pct = f" ({100 * done / total:.0f}%)" if total else ""
                print(f"\r  {done / 1e6:.1f} MB{pct}", end="", file=sys.stderr, flush=True)
            print(file=sys.stderr)
            found = {"bytes": done, "lines": lines, **{name: h.hexdigest() for name, h in hashes.items()}}
            wrong = [k for k in expected if k in found and found[k] != expected[k]]
            if wrong:  # raised inside atomic_open: the file is not kept
                raise DataError(f"{url} is not the published file: its {', '.join(f'{k} is {found[k]}' for k in wrong)}, "
                                f"expected {', '.join(f'{k} {expected[k]}' for k in wrong)}; it was not kept: download "
                                f"it again, or pass a good copy with --input PATH")
    except OSError as e:
        raise DataError(f"could not download {url} ({e}): download it yourself and pass --input PATH") from None


# What each download must be, checked before it is kept: its checksum where one is published (WikiText-103's
# as the Hugging Face wikitext dataset records it, CIFAR's as torchvision does), else its size and lines
PUBLISHED = {
    WIKITEXT_URL: {"sha256": "91c00ae287f0d699e18605c84afc9e45c192bc6b7797ff8837e5474655a33794", "bytes": 191_984_949},
    SHAKESPEARE_URL: {"bytes": 1_115_394, "lines": 40_000},
}


def source_file(args, url, copies=(), name=None):
    """Where a dataset's source is: --input if given, else the first local copy that exists, else the file
    downloaded once into --data_dir as `name` (the url's own file name unless given)."""
    if args.input:
        return args.input
    path = next((p for p in copies if os.path.exists(p)), os.path.join(args.data_dir, name or os.path.basename(url)))
    if not os.path.exists(path):
        os.makedirs(args.data_dir, exist_ok=True)
        download(url, path, PUBLISHED.get(url))
    return path


def open_wikitext(source, split):
    """wiki.{split}.raw as a text file, from the zip or from its extracted folder."""
    name = f"wiki.{split}.raw"
    if zipfile.is_zipfile(source):
        zf = zipfile.ZipFile(source)
        member = next((m for m in zf.namelist() if m.endswith("/" + name) or m == name), None)
        if member is None:
            raise DataError(f"{source} has no {name}: is it wikitext-103-raw-v1.zip?")
        return io.TextIOWrapper(zf.open(member), encoding="utf-8")
    path = next((os.path.join(d, name) for d, _, files in os.walk(source) if name in files), None)
    if path is None:
        raise DataError(f"no {name} under {source}: pass the zip or its extracted folder")
    return open(path, encoding="utf-8")


def prepare_wikitext103(args):
    source = source_file(args, WIKITEXT_URL)
    if not os.path.exists(source):
        raise DataError(f"{source} not found")
    files = {key: open_wikitext(source, split) for split, key in (("train", "train"), ("valid", "val"))}
    tokenizer, splits = Tokenizer("gpt2"), {}
    for key, f in files.items():
        print(f"tokenising {key} split", file=sys.stderr)
        with f:
            splits[key] = encode_lines((line for line in f if line.strip()), tokenizer)
    write_dataset(os.path.join(args.data_dir, "wikitext103"), splits["train"], splits["val"],
                  {"tokenizer": "gpt2", "vocab_size": tokenizer.vocab_size,
                   "source": os.path.basename(source.rstrip("/"))})


# the fewest tokens a split can hold: one input and the target after it
MIN_SPLIT_TOKENS = 2


def prepare_text(path, name, tokenizer, data_dir, val_fraction=0.1):
    """Any UTF-8 text file: the last val_fraction of its characters is the validation split."""
    if not os.path.isfile(path):
        raise DataError(f"{path} is a folder, not a text file" if os.path.isdir(path) else f"{path} not found")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError as e:
        raise DataError(f"{path} is not UTF-8 text (byte {e.start} cannot be decoded): give a text file") from None
    if not text.strip():
        raise DataError(f"{path} holds no text ({len(text)} characters, all blank): give a text file with something in it")
    cut = int(len(text) * (1 - val_fraction))
    tok = Tokenizer(tokenizer)
    train, val = (encode_lines([part], tok) for part in (text[:cut], text[cut:]))
    if min(len(train), len(val)) < MIN_SPLIT_TOKENS:
        raise DataError(f"{path} is too short: its {len(text)} characters make {len(train)} training and {len(val)} "
                        f"validation tokens, and each split needs at least {MIN_SPLIT_TOKENS} (the validation split "
                        f"is the last {val_fraction:.0%}); give a longer text")
    write_dataset(os.path.join(data_dir, name), train, val,
                  {"tokenizer": tokenizer, "vocab_size": tok.vocab_size, "source": os.path.basename(path)})


# -----------------------------------------------------------------------------
# Images

CIFAR = {  # name: (URL, folder in the archive, training members, test member, label key, classes)
    "cifar10": ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", "cifar-10-batches-py",
                [f"data_batch_{i}" for i in range(1, 6)], "test_batch", b"labels", 10),
    "cifar100": ("https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz", "cifar-100-python", ["train"], "test",
                 b"fine_labels", 100),
}
PUBLISHED.update({  # torchvision's records (datasets/cifar.py: tgz_md5)
    CIFAR["cifar10"][0]: {"md5": "c58f30108f718f92721af3b95e74349a", "bytes": 170_498_071},
    CIFAR["cifar100"][0]: {"md5": "eb9058c3a382ffc7106e4002c42a8d85"},
})
DIGITS_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/optdigits/optdigits.tes"
PUBLISHED[DIGITS_URL] = {"lines": 1_797}  # no checksum or size published: the UCI test set's 1,797 rows
DIGITS_COPIES = ("data/digits.csv.gz", "../shared/data/digits.csv.gz")
DIGITS_TEST_FRACTION = 0.2


class ArraysOnly(pickle.Unpickler):
    """The official CIFAR archives are pickles of dicts of numpy arrays: nothing else is unpickled."""
    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}  # bytes, as protocol 2 writes them

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a CIFAR batch")
        return super().find_class(module, name)


def read_cifar(path, name):
    """{split: (pixels N x 3 x 32 x 32 uint8, labels)} from an official python-format CIFAR archive."""
    _, folder, train_members, test_member, label_key, classes = CIFAR[name]
    try:
        with tarfile.open(path, "r:gz") as tar:
            def batch(member):
                d = ArraysOnly(tar.extractfile(f"{folder}/{member}"), encoding="bytes").load()
                return np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32), np.asarray(d[label_key], np.int16)
            train = [batch(m) for m in train_members]
            test = batch(test_member)
    except (tarfile.TarError, OSError, EOFError, KeyError, ValueError, pickle.UnpicklingError, TypeError) as e:
        raise DataError(f"{path} is not the official {name} python archive, or is cut short "
                        f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'no detail'}): download "
                        f"{CIFAR[name][0]} again") from None
    splits = {"train": (np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train])), "val": test}
    if any(y.min() < 0 or y.max() >= classes for _, y in splits.values()):
        raise DataError(f"{path} holds labels outside 0..{classes - 1}: it is not {name}")
    return splits


def read_digits(path):
    """(pixels N x 1 x 8 x 8 uint8 of 0..16, labels) from the UCI digits as comma-separated rows (.gz or not)."""
    try:
        with (gzip.open(path, "rt") if path.endswith(".gz") else open(path)) as f:
            rows = np.loadtxt(f, delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"{path} is not the UCI digits (rows of 64 pixels and a label) ({type(e).__name__}: "
                        f"{str(e).splitlines()[0] if str(e) else 'no detail'})") from None
    if rows.shape[1] != 65 or rows[:, :64].min() < 0 or rows[:, :64].max() > 16 or not set(rows[:, 64]) <= set(range(10)):
        raise DataError(f"{path} holds rows of {rows.shape[1]} numbers, not 64 pixels of 0..16 and a label 0..9: "
                        f"it is not the UCI digits")
    return rows[:, :64].reshape(-1, 1, 8, 8).astype(np.uint8), rows[:, 64].astype(np.int16)


def write_images(out_dir, splits, meta):
    """{train,val}_{x,y}.npy, and last meta.json: a folder with meta.json is a finished one."""
    os.makedirs(out_dir, exist_ok=True)
    if os.path.exists(os.path.join(out_dir, "meta.json")):
        os.remove(os.path.join(out_dir, "meta.json"))
    for split, (x, y) in splits.items():
        for part, array in (("x", x), ("y", y)):
            with atomic_open(os.path.join(out_dir, f"{split}_{part}.npy"), "wb") as f:
                np.save(f, array)
    meta = {"kind": "images", **meta, "train_images": len(splits["train"][0]), "val_images": len(splits["val"][0])}
    with atomic_open(os.path.join(out_dir, "meta.json")) as f:
        json.dump(meta, f, indent=2)
    print(f"wrote {out_dir}: {meta['train_images']:,} training and {meta['val_images']:,} test images")


def prepare_images(args):
    """CIFAR-10, CIFAR-100 or the digits: from --input, a local copy, or downloaded."""
    if args.dataset == "digits":
        path = source_file(args, DIGITS_URL, DIGITS_COPIES)
        x, y = read_digits(path)
        order = np.random.default_rng(0).permutation(len(x))  # the fixed split: the last fifth of a seeded shuffle
        cut = len(x) - round(DIGITS_TEST_FRACTION * len(x))
        splits = {"train": (x[order[:cut]], y[order[:cut]]), "val": (x[order[cut:]], y[order[cut:]])}
        meta = {"classes": 10, "image_size": 8, "channels": 1, "pixel_max": 16}
    else:
        path = source_file(args, CIFAR[args.dataset][0])
        splits = read_cifar(path, args.dataset)
        meta = {"classes": CIFAR[args.dataset][5], "image_size": 32, "channels": 3, "pixel_max": 255}
    if not os.path.isfile(path):
        raise DataError(f"{path} not found")
    write_images(os.path.join(args.data_dir, args.dataset), splits, {**meta, "source": os.path.basename(path)})


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dataset", choices=["wikitext103", "shakespeare", "text", "digits", "cifar10", "cifar100"])
    p.add_argument("--input", help="local copy of the source (zip, folder, text file or archive) instead of downloading")
    p.add_argument("--tokenizer", choices=TOKENIZERS, default="byte", help="shakespeare and text only")
    p.add_argument("--name", help="text only: the dataset name, data/<name>/")
    p.add_argument("--data_dir", default="data")
    args = p.parse_args(argv)
    if os.path.exists(args.data_dir) and not os.path.isdir(args.data_dir):
        raise DataError(f"--data_dir {args.data_dir} is a file, not a folder")

    if args.dataset == "wikitext103":
        prepare_wikitext103(args)
    elif args.dataset in ("digits", *CIFAR):
        prepare_images(args)
    elif args.dataset == "shakespeare":
        path = source_file(args, SHAKESPEARE_URL, SHAKESPEARE_COPIES, "tinyshakespeare.txt")
        prepare_text(path, f"shakespeare_{args.tokenizer}", args.tokenizer, args.data_dir)
    else:
        if not (args.input and args.name):
            p.error("text needs --input PATH and --name NAME")
        prepare_text(args.input, args.name, args.tokenizer, args.data_dir)


if __name__ == "__main__":
    run_cli(main, sys.argv[1:])
