"""
nanoGPT's configurator, as a function that refuses what it does not understand.

    python train.py config/dyt_64m_1m.py --batch_size=32 --compile=False

Each argument is either a config file (plain Python assignments, run in order) or --key=value.
Every key must already exist among the defaults; its value must have the default's type (an int
may stand for a float; a default of None takes any plain value). A mistake raises ConfigError
naming the key and the closest valid ones.
"""

import ast
import difflib
import os

PLAIN_TYPES = (bool, int, float, str, type(None))


class ConfigError(ValueError):
    pass


def _a(word):
    return "an" if word[0] in "aeiou" else "a"


def _suggest(key, known):
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def _check(key, value, defaults, source):
    if key not in defaults:
        raise ConfigError(f"unknown config key {key!r} in {source}{_suggest(key, list(defaults))}")
    default = defaults[key]
    if default is None or value is None:
        if not isinstance(value, PLAIN_TYPES):
            raise ConfigError(f"{key} in {source} must be a bool, int, float or string, not {type(value).__name__}")
        return value
    if isinstance(default, float) and type(value) is int:
        return float(value)
    if type(value) is not type(default):
        want, got = type(default).__name__, type(value).__name__
        raise ConfigError(f"{key}={value!r} in {source} should be {_a(want)} {want} like the default {default!r}, "
                          f"not {_a(got)} {got}")
    return value


def _parse_value(text):
    """--key=value: a Python literal (3, 1e-4, True, None, 'x') or else the bare string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def read_config_file(path):
    """The public names a config file assigns (imports of shared config modules included)."""
    if not os.path.isfile(path):
        raise ConfigError(f"config file {path} not found")
    namespace = {}
    with open(path) as f:
        code = compile(f.read(), path, "exec")
    exec(code, namespace)
    return {k: v for k, v in namespace.items()
            if not k.startswith("_") and not callable(v) and type(v).__name__ != "module"}


def configure(defaults, args):
    """The defaults updated by config files and --key=value arguments, in the order given."""
    config = dict(defaults)
    for arg in args:
        if arg.startswith("--"):
            key, sep, text = arg[2:].partition("=")
            if not sep:
                raise ConfigError(f"argument {arg!r} should be --key=value")
            config[key] = _check(key, _parse_value(text), defaults, "the command line")
        elif arg.endswith(".py"):
            for key, value in read_config_file(arg).items():
                config[key] = _check(key, value, defaults, arg)
        else:
            raise ConfigError(f"argument {arg!r} is neither a config file (.py) nor --key=value")
    return config
