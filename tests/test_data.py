"""Data preparation and the two ways of reading token streams."""

import json
import math
import os
import zipfile

import numpy as np
import pytest

from conftest import need_gpt2_bpe
from data import DataError, TrainWindows, eval_batch, eval_windows, load_meta, load_tokens, unigram_losses
from prepare_data import Tokenizer, main as prepare

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n" * 20


def test_gpt2_bpe_is_the_real_one():
    need_gpt2_bpe()
    assert Tokenizer("gpt2").encode("Hello world") == [15496, 995]
    assert Tokenizer("gpt2").vocab_size == 50257


def test_prepare_text_bytes_splits_last_tenth_for_validation(tmp_path):
    src = tmp_path / "t.txt"
    src.write_text(TEXT)
    prepare(["text", "--input", str(src), "--name", "tiny", "--data_dir", str(tmp_path)])
    out = tmp_path / "tiny"
    train = np.fromfile(out / "train.bin", dtype=np.uint16)
    val = np.fromfile(out / "val.bin", dtype=np.uint16)
    cut = int(len(TEXT) * 0.9)
    assert bytes(train.astype(np.uint8)) == TEXT[:cut].encode() and bytes(val.astype(np.uint8)) == TEXT[cut:].encode()
    meta = json.loads((out / "meta.json").read_text())
    assert meta == {"tokenizer": "byte", "vocab_size": 256, "source": "t.txt",
                    "train_tokens": len(train), "val_tokens": len(val)}
    assert not [f for f in os.listdir(out) if f.endswith(".tmp")]


def test_prepare_shakespeare_gpt2_round_trips(tmp_path):
    need_gpt2_bpe()
    src = tmp_path / "input.txt"
    src.write_text(TEXT)
    prepare(["shakespeare", "--input", str(src), "--tokenizer", "gpt2", "--data_dir", str(tmp_path)])
    tok = Tokenizer("gpt2")
    train = np.fromfile(tmp_path / "shakespeare_gpt2" / "train.bin", dtype=np.uint16)
    assert tok.decode(train.tolist()) == TEXT[: int(len(TEXT) * 0.9)]


WIKI = {"train": " = Title = \n\n Some text here . \n \n More text @-@ here .\n", "valid": " = Valid = \n\n Words .\n"}


@pytest.mark.parametrize("as_zip", [True, False])
def test_prepare_wikitext_encodes_non_empty_lines(tmp_path, as_zip):
    need_gpt2_bpe()
    folder = tmp_path / "wikitext-103-raw"
    folder.mkdir()
    for split, text in WIKI.items():
        (folder / f"wiki.{split}.raw").write_text(text)
    source = folder
    if as_zip:
        source = tmp_path / "wikitext-103-raw-v1.zip"
        with zipfile.ZipFile(source, "w") as zf:
            for split in WIKI:
                zf.write(folder / f"wiki.{split}.raw", f"wikitext-103-raw/wiki.{split}.raw")
    prepare(["wikitext103", "--input", str(source), "--data_dir", str(tmp_path / "data")])
    tok = Tokenizer("gpt2")
    for split, name in (("train", "train"), ("valid", "val")):
        lines = [l for l in WIKI[split].splitlines(keepends=True) if l.strip()]
        expected = [t for l in lines for t in tok.encode(l)]
        assert np.fromfile(tmp_path / "data" / "wikitext103" / f"{name}.bin", dtype=np.uint16).tolist() == expected
    assert load_meta(str(tmp_path / "data"), "wikitext103")["tokenizer"] == "gpt2"


def test_download_failure_says_to_pass_input(tmp_path, monkeypatch):
    import urllib.request

    def offline(*a, **k):
        raise OSError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.chdir(tmp_path)  # no local copy of tiny Shakespeare here
    with pytest.raises(DataError, match="pass --input PATH"):
        prepare(["shakespeare", "--data_dir", str(tmp_path)])
    assert os.listdir(tmp_path) == []


def write_bin(path, ids):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.asarray(ids, dtype=np.uint16).tofile(path)


def test_load_tokens_checks(tmp_path):
    write_bin(tmp_path / "d" / "train.bin", range(100))
    assert load_tokens(str(tmp_path), "d", "train", 10).tolist() == list(range(10))
    with pytest.raises(DataError, match="train_tokens=1,000 is larger than the 100 tokens"):
        load_tokens(str(tmp_path), "d", "train", 1000)
    with pytest.raises(DataError, match="token id 99 but vocab_size=64"):
        load_tokens(str(tmp_path), "d", "train", None, vocab_size=64)
    with open(tmp_path / "d" / "train.bin", "ab") as f:
        f.write(b"\x01")
    with pytest.raises(DataError, match="not a whole number of uint16 tokens"):
        load_tokens(str(tmp_path), "d", "train")
    with pytest.raises(DataError, match="python prepare_data.py shakespeare"):
        load_meta(str(tmp_path), "shakespeare_byte")


def test_train_windows_visit_every_window_once_per_epoch_and_are_deterministic():
    tokens = np.arange(1000, dtype=np.uint16)
    w = TrainWindows(tokens, block_size=32, seed=1)
    n = w.n
    assert n == 30
    for epoch in range(3):
        starts = w.starts(epoch * n, n)
        shift = starts.min() % 32
        assert sorted(starts) == [shift + 32 * i for i in range(n)]
        assert starts.max() + 33 <= len(tokens)
    shifts = {int(w.starts(e * n, 1)[0] % 32) for e in range(20)}
    assert len(shifts) > 1  # the cut points move between epochs
    again = TrainWindows(tokens, block_size=32, seed=1)
    assert np.array_equal(again.starts(45, 70), w.starts(45, 70))  # any order of access, same answer
    assert not np.array_equal(TrainWindows(tokens, 32, seed=2).starts(0, 30), w.starts(0, 30))
    x, y = w.batch(5, 4)
    assert x.shape == (4, 32) and (y[:, :-1] == x[:, 1:]).all() and (y == x + 1).all()
    assert x.is_contiguous() and y.is_contiguous()  # pinned and copied to a GPU without a temporary


@pytest.mark.parametrize("length", [33, 64, 65, 100, 129])
def test_eval_windows_count_every_target_exactly_once(length):
    tokens = np.arange(length, dtype=np.uint16)
    windows = eval_windows(tokens, 32)
    x, y = eval_batch(tokens, windows, 32)
    counted = y[y >= 0]
    assert sorted(counted.tolist()) == list(range(1, length))
    assert ((y == x + 1) | (y == -1)).all()
    with pytest.raises(DataError, match="shorter than block_size"):
        eval_windows(tokens[:20], 32)


def test_unigram_losses_by_hand():
    train = np.array([0, 0, 1, 1], dtype=np.uint16)  # two tokens, equally often: ln 2 nats
    entropy, cross = unigram_losses(train, np.array([3, 0, 2], dtype=np.uint16), vocab_size=4)
    assert entropy == pytest.approx(math.log(2))
    # targets 0 (count 2) and 2 (unseen), counts plus 1/2 over 4 + 2: p = 2.5/6 and 0.5/6
    assert cross == pytest.approx(-(math.log(2.5 / 6) + math.log(0.5 / 6)) / 2)


def test_the_issues_unigram_figures_for_the_8k_budget():
    from conftest import shakespeare
    from prepare_data import prepare_text
    import tempfile
    with tempfile.TemporaryDirectory() as root:
        prepare_text(shakespeare(), "s", "byte", root)
        train = load_tokens(root, "s", "train", 8_000)
        val = load_tokens(root, "s", "val", 16_384)
        entropy, cross = unigram_losses(train, val, 256)
    assert (round(entropy, 3), round(cross, 3)) == (3.213, 3.428)  # as measured in issue 11


def test_a_download_is_kept_only_when_it_is_the_published_file(tmp_path):
    import hashlib

    from prepare_data import download
    good = tmp_path / "published.txt"
    good.write_bytes(b"To be, or not to be\nthat is the question\n" * 50)
    record = {"sha256": hashlib.sha256(good.read_bytes()).hexdigest(), "bytes": good.stat().st_size, "lines": 100}
    download(good.as_uri(), str(tmp_path / "kept.txt"), record)
    assert (tmp_path / "kept.txt").read_bytes() == good.read_bytes()
    bad = tmp_path / "corrupt.txt"
    bad.write_bytes(good.read_bytes().replace(b"question", b"questiom"))  # same size and lines: only the checksum sees it
    with pytest.raises(DataError, match=f"its sha256 is {hashlib.sha256(bad.read_bytes()).hexdigest()}, expected "
                                        f"sha256 {record['sha256']}; it was not kept"):
        download(bad.as_uri(), str(tmp_path / "dropped.txt"), record)
    short = tmp_path / "short.txt"
    short.write_bytes(good.read_bytes()[:-21])
    with pytest.raises(DataError, match=r"its bytes is 2029, lines is 99, expected bytes 2050, lines 100"):
        download(short.as_uri(), str(tmp_path / "dropped.txt"), {"bytes": 2050, "lines": 100})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corrupt.txt", "kept.txt", "published.txt", "short.txt"]


def test_the_published_sizes_are_those_of_the_real_files(tmp_path):
    """Where no checksum is published, a download is checked by its size and lines: those of tiny Shakespeare and
    of the UCI digits (the copy scikit-learn ships holds the same rows)."""
    import gzip

    from conftest import digits, shakespeare
    from prepare_data import DIGITS_URL, PUBLISHED, SHAKESPEARE_URL, download
    download(f"file://{os.path.abspath(shakespeare())}", str(tmp_path / "s.txt"), PUBLISHED[SHAKESPEARE_URL])
    path = digits()
    rows = (gzip.open(path) if path.endswith(".gz") else open(path, "rb")).read()
    assert rows.count(b"\n") == PUBLISHED[DIGITS_URL]["lines"]
