"""The configurator takes what it understands and names what it does not."""

import os

import pytest

from conftest import REPO
from configurator import ConfigError, configure

DEFAULTS = {"batch_size": 12, "learning_rate": 6e-4, "compile": True, "device": None, "norm": "layernorm",
            "train_tokens": None}


def test_files_then_flags_in_order(tmp_path):
    cfg_file = tmp_path / "c.py"
    cfg_file.write_text("batch_size = 4\nnorm = 'dyt'\n")
    cfg = configure(DEFAULTS, [str(cfg_file), "--batch_size=8", "--learning_rate=1e-3", "--compile=False"])
    assert cfg == {**DEFAULTS, "batch_size": 8, "norm": "dyt", "learning_rate": 1e-3, "compile": False}


def test_none_defaults_are_overridable():
    cfg = configure(DEFAULTS, ["--device=cpu", "--train_tokens=1_000_000"])
    assert cfg["device"] == "cpu" and cfg["train_tokens"] == 1_000_000
    assert configure({**DEFAULTS, "device": "cuda"}, ["--device=None"])["device"] is None


def test_int_stands_for_float_but_not_the_reverse():
    assert configure(DEFAULTS, ["--learning_rate=1"])["learning_rate"] == 1.0
    with pytest.raises(ConfigError, match="batch_size=0.5 in the command line should be an int"):
        configure(DEFAULTS, ["--batch_size=0.5"])
    with pytest.raises(ConfigError, match="should be a bool"):
        configure(DEFAULTS, ["--compile=yes"])


def test_unknown_key_names_the_closest_ones(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown config key 'batch_sise'.*did you mean batch_size"):
        configure(DEFAULTS, ["--batch_sise=3"])
    cfg_file = tmp_path / "c.py"
    cfg_file.write_text("lerning_rate = 1e-3\n")
    with pytest.raises(ConfigError, match=r"'lerning_rate' in .*c.py.*learning_rate"):
        configure(DEFAULTS, [str(cfg_file)])


def test_missing_file_and_malformed_arguments():
    with pytest.raises(ConfigError, match="config file nowhere.py not found"):
        configure(DEFAULTS, ["nowhere.py"])
    with pytest.raises(ConfigError, match="should be --key=value"):
        configure(DEFAULTS, ["--compile"])
    with pytest.raises(ConfigError, match="neither a config file"):
        configure(DEFAULTS, ["batch_size=3"])


def test_the_regime_config_loads_through_its_shared_files():
    import train
    cfg = configure(train.DEFAULTS, [os.path.join(REPO, "config", "dyt_64m_1m.py")])
    assert (cfg["norm"], cfg["n_layer"], cfg["n_head"], cfg["n_embd"]) == ("dyt", 12, 8, 512)
    assert (cfg["train_tokens"], cfg["val_tokens"], cfg["max_iters"], cfg["alpha_init"]) == (1_000_000, 10_000, 5000, 2.0)
    assert cfg["batch_size"] * cfg["gradient_accumulation_steps"] * cfg["block_size"] == 32768


def test_every_value_a_config_changes_is_shown_with_the_file_it_comes_from(monkeypatch):
    import train
    monkeypatch.chdir(REPO)
    from configurator import changes
    sources = {}
    path = os.path.join("config", "dyt_64m_1m.py")
    cfg = configure(train.DEFAULTS, [path, "--seed=7"], sources)
    shown = {line.split(" = ")[0]: line for line in changes(cfg, train.DEFAULTS, sources)}
    assert set(shown) == {k for k in cfg if cfg[k] != train.DEFAULTS[k]}
    assert shown["n_layer"].endswith(f"({path})") and shown["norm"].endswith(f"({path})")
    assert shown["max_iters"].endswith(f"({os.path.join('config', 'common', 'regime.py')})")
    assert shown["seed"].endswith("(the command line)")
    # a reader of the config file alone sees the size, learning rate, batch, budget, norm and alpha_0
    text = open(os.path.join(REPO, path)).read()
    for key in ("n_layer", "n_embd", "learning_rate", "batch_size", "train_tokens", "norm", "alpha_init"):
        assert f"\n{key} = " in text
