"""The configurator takes what it understands and names what it does not."""

import os
import re
from dataclasses import dataclass
from typing import Optional

import pytest

from conftest import REPO, run
from configurator import ConfigError, configure, read_settings
from model import setting
from settings import DEFAULTS, Config


@dataclass(frozen=True)
class Small:
    batch_size: int = setting(12, "", least=1)
    learning_rate: float = setting(6e-4, "")
    compile: bool = setting(True, "")
    device: Optional[str] = setting(None, "")
    norm: str = setting("layernorm", "", choices=("layernorm", "dyt"))
    train_tokens: Optional[int] = setting(None, "")


SMALL = vars(Small())


@dataclass(frozen=True)
class OnAGpu(Small):
    device: Optional[str] = setting("cuda", "")


def test_files_then_flags_in_order(tmp_path):
    cfg_file = tmp_path / "c.py"
    cfg_file.write_text("batch_size = 4\nnorm = 'dyt'\n")
    cfg = configure(Small, [str(cfg_file), "--batch_size=8", "--learning_rate=1e-3", "--compile=False"])
    assert cfg == {**SMALL, "batch_size": 8, "norm": "dyt", "learning_rate": 1e-3, "compile": False}


def test_none_defaults_are_overridable():
    cfg = configure(Small, ["--device=cpu", "--train_tokens=1_000_000"])
    assert cfg["device"] == "cpu" and cfg["train_tokens"] == 1_000_000
    assert configure(OnAGpu, ["--device=None"])["device"] is None


def test_int_stands_for_float_but_not_the_reverse():
    assert configure(Small, ["--learning_rate=1"])["learning_rate"] == 1.0
    with pytest.raises(ConfigError, match="batch_size=0.5 in the command line should be an int"):
        configure(Small, ["--batch_size=0.5"])
    with pytest.raises(ConfigError, match="should be a bool"):
        configure(Small, ["--compile=yes"])


def test_unknown_key_names_the_closest_ones(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown config key 'batch_sise'.*did you mean batch_size"):
        configure(Small, ["--batch_sise=3"])
    cfg_file = tmp_path / "c.py"
    cfg_file.write_text("lerning_rate = 1e-3\n")
    with pytest.raises(ConfigError, match=r"'lerning_rate' in .*c.py.*learning_rate"):
        configure(Small, [str(cfg_file)])


def test_missing_file_and_malformed_arguments():
    with pytest.raises(ConfigError, match="config file nowhere.py not found"):
        configure(Small, ["nowhere.py"])
    with pytest.raises(ConfigError, match="should be --key=value"):
        configure(Small, ["--compile"])
    with pytest.raises(ConfigError, match="neither a config file"):
        configure(Small, ["batch_size=3"])


def test_the_regime_config_loads_through_its_shared_files():
    cfg = configure(Config, [os.path.join(REPO, "config", "dyt_64m_1m.py")])
    assert (cfg["norm"], cfg["n_layer"], cfg["n_head"], cfg["n_embd"]) == ("dyt", 12, 8, 512)
    assert (cfg["train_tokens"], cfg["val_tokens"], cfg["max_iters"], cfg["alpha_init"]) == (1_000_000, 10_000, 5000, None)
    assert read_settings([os.path.join(REPO, "config", "dyt_64m_1m.py")])[0].alpha_init == 2.0  # DyT's own, resolved
    assert cfg["batch_size"] * cfg["gradient_accumulation_steps"] * cfg["block_size"] == 32768


@pytest.mark.parametrize("config", ["dyt_64m_1m.py", "micro/vanilla_micro_8k.py"])
def test_the_config_view_shows_everything_a_config_sets_and_what_the_run_resolves(config, data_dir):
    path = os.path.join("config", config)
    args = [path, "--seed=7", f"--data_dir={data_dir}"]  # a prepared byte dataset, so the vocabulary resolves
    p = run("configurator.py", *args)
    sources = {}
    cfg = configure(Config, args, sources)
    shown = {line[2:].split(" = ")[0]: line for line in p.stdout.splitlines() if " = " in line}
    assert set(sources) <= set(shown) and sources  # every key a file or the command line sets, defaults or not
    for key in sources:
        assert shown[key].startswith("=" if cfg[key] == DEFAULTS[key] else " "), shown[key]
        assert shown[key].rstrip().endswith(sources[key]), shown[key]
    assert shown["seed"].rstrip().endswith("the command line") and shown["n_layer"].startswith(" " if "64m" in config else "=")
    if "64m" in config:
        assert shown["alpha_init"].startswith("  alpha_init = 2.0 ") and shown["alpha_init"].rstrip().endswith(
            "dyt's own alpha_0")  # left to the norm by the config, resolved when the run is read
    # resolved when the run starts: its label, its folder, the vocabulary, the machine's device
    assert shown["method"].rstrip().endswith("its norm's label") and shown["out_dir"].rstrip().endswith("overrides")
    assert "device = 'cpu'" in p.stdout and "dtype = 'float32'" in p.stdout and "compile = False" in p.stdout
    assert ("vocab_size = 256" in p.stdout) == ("micro" in config)  # the regime config sets GPT-2's
    assert re.search(r"the model: (63\.52|0\.82)M parameters", p.stdout)


def test_a_runs_label_follows_its_norm_unless_a_config_names_it(tmp_path):
    micro = os.path.join(REPO, "config", "micro", "dyt_micro_8k.py")
    cfg, _, changes = read_settings([micro, "--norm=derf", "--learning_rate=3e-3", "--seed=5", "--log_interval=1"])
    cfg = vars(cfg)
    # the DyT config leaves alpha_0 to the norm, so Derf trains at its own, as the folder name implies
    assert cfg["method"] == "derf" and cfg["alpha_init"] == 0.5
    assert changes == [("norm", "derf", "dyt"), ("learning_rate", 0.003, 0.001)]  # not the seed, nor where or how it runs
    assert read_settings([micro, "--norm=rmsnorm"])[0].alpha_init is None  # a norm without alpha takes none
    assert read_settings([micro, "--alpha_init=1.0"])[0].alpha_init == 1.0
    assert cfg["out_dir"] == os.path.join("out", "micro", "dyt_micro_8k_norm=derf_learning_rate=0.003_s5")
    llama = os.path.join(REPO, "config", "llama_vanilla_64m_1m.py")
    assert read_settings([llama])[0].method == "vanilla"  # RMSNorm is Llama's usual norm
    named = os.path.join(REPO, "config", "vanilla_64m_118m_dropout0.3.py")
    assert read_settings([named])[0].method == "vanilla_dropout0.3"
    with pytest.raises(ConfigError, match="names the method 'vanilla_dropout0.3', and --norm=dyt makes the run "
                                          "another norm's: label it with --method=NAME too"):
        read_settings([named, "--norm=dyt", "--alpha_init=2.0"])
    assert read_settings([named, "--norm=dyt", "--method=dyt_dropout0.3"])[0].method == "dyt_dropout0.3"
    fork = tmp_path / "mine.py"
    fork.write_text('norm = "hardtanh"\nmethod = "dyt_mine"\n')  # a DyT config copied, its norm changed, not its label
    with pytest.raises(ConfigError, match="method 'dyt_mine' .* is a label of 'dyt', but the run's norm is 'hardtanh'"):
        read_settings([str(fork)])
    fork.write_text('norm = "hardtanh"\nmethod = "hardtanh_mine"\n')
    assert read_settings([str(fork)])[0].method == "hardtanh_mine"
