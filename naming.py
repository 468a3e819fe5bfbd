"""
A run's name: its method (the arm report.py compares it as) and its folder, from its config and the
command line's overrides. What a run is compared with is the study's (runs.py); this is the run's own.
"""

import hashlib
import os

from cli import COMMAND_LINE, ConfigError
from dyt import NORMS

HERE = os.path.dirname(os.path.abspath(__file__))

# The architecture's usual norm, the baseline every other norm is compared with; its label is "vanilla"
BASELINE = "vanilla"
BASELINE_NORM = {"gpt": "layernorm", "llama": "rmsnorm", "vit": "layernorm"}


def norm_label(norm, arch):
    """How report.py names a norm: "vanilla" for the architecture's usual one, else its registry name."""
    return BASELINE if BASELINE_NORM.get(arch) == norm else norm


def claimed_norm(method, labels):
    """The norm label a method name begins with (the longest of `labels`), or None: 'dytrecipe' is DyT's."""
    return max((lab for lab in labels if method.startswith(lab)), key=len, default=None)


def method_of(cfg, sources):
    """The run's arm, as report.py compares it: the method a config (or --method) names, else its
    norm's label. A named method that is a label of another norm (method 'dyt' with norm 'softsign'),
    or one a config names while the command line changes the norm, is an error: the run would be
    pooled with another norm's runs."""
    own, named = norm_label(cfg["norm"], cfg["arch"]), cfg["method"]
    if named is None:
        return own
    where = sources.get("method", COMMAND_LINE)
    if where != COMMAND_LINE and sources.get("norm") == COMMAND_LINE:
        raise ConfigError(f"{where} names the method {named!r}, and --norm={cfg['norm']} makes the run another norm's: "
                          f"label it with --method=NAME too")
    claimed = claimed_norm(named, [*NORMS, BASELINE])
    claimed = norm_label(claimed, cfg["arch"]) if claimed in NORMS else claimed
    if claimed not in (None, own):
        raise ConfigError(f"method {named!r} ({where}) is a label of {claimed!r}, but the run's norm is {cfg['norm']!r} "
                          f"({own!r}): name the method after its norm, or leave it unset to follow the norm")
    return named


def format_value(value):
    """A setting's value as a run folder's name shows it: 0.003, 1000000, dyt, None."""
    text = repr(value) if isinstance(value, float) else str(value)
    return "".join(c if c.isalnum() or c in "._+-" else "-" for c in text)


def name_suffix(changes):
    """'_norm=softsign_alpha_init=1.0' for the overrides that change a run ((key, value, the config's value)
    in the order given); a very long one keeps its start and a hash of the whole, so a folder name stays
    readable and unique."""
    text = "".join(f"_{key}={format_value(value)}" for key, value, *_ in changes)
    if len(text) > 120:
        text = text[:100] + "_" + hashlib.sha1(text.encode()).hexdigest()[:8]
    return text


def run_name(config_path, changes, seed):
    """A sweep's run folder name: the config's file name, the overrides that change the run, the seed."""
    return f"{os.path.splitext(os.path.basename(config_path))[0]}{name_suffix(changes)}_s{seed}"


def default_out_dir(config_paths, changes, seed_changed, seed):
    """out/ + the last config's path under config/ (or its file name) + the overrides that change the
    run (+ _s<seed> when the seed was given): config/micro/dyt_micro_8k.py -> out/micro/dyt_micro_8k."""
    if not config_paths:
        return "out"
    path = os.path.abspath(config_paths[-1])
    under = os.path.relpath(path, os.path.join(HERE, "config"))
    stem = os.path.splitext(under if not under.startswith("..") else os.path.basename(path))[0]
    return os.path.join("out", stem) + name_suffix(changes) + (f"_s{seed}" if seed_changed else "")
