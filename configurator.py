"""
nanoGPT's configurator, as a function that refuses what it does not understand; and a run's settings.

    python configurator.py config/dyt_64m_1m.py      # what the config sets, where from, and what the run resolves

Each argument is a config file (Python assignments, run in order) or --key=value. A key must be a declared
setting (settings.py, model.py), its value of the declared type (an int may stand for a float) and allowed;
a mistake is a ConfigError naming the key and the closest valid ones.
"""

import ast
import difflib
import os
import sys
import traceback
from dataclasses import fields
from typing import get_args

from cli import COMMAND_LINE, ConfigError, run_cli
from model import resolve_alphas, site_norms
from naming import default_out_dir, method_of
from settings import DEFAULTS, LABEL_KEYS, SPLIT_KEYS, WHERE_KEYS, Config, global_batch


def check(key, value, declared, source):
    """value as the setting `key` of the dataclass `declared` takes it, or a ConfigError that says why not."""
    known = {f.name: f for f in fields(declared)}
    if key not in known:
        close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
        raise ConfigError(f"unknown config key {key!r} in {source}" + (f" (did you mean {', '.join(close)}?)" * bool(close)))
    f, types = known[key], get_args(known[key].type) or (known[key].type,)  # Optional[float]: (float, NoneType)
    if type(value) is int and float in types:
        value = float(value)
    a = {t: f"{'an' if t.__name__ == 'int' else 'a'} {t.__name__}" for t in (*types, type(value)) if t is not type(None)}
    if type(value) not in types:
        raise ConfigError(f"{key}={value!r} in {source} should be {' or '.join(a.get(t, 'None') for t in types)} like "
                          f"the default {f.default!r}, not {a[type(value)]}")
    least, choices = f.metadata["least"], f.metadata["choices"]
    if least is not None and value is not None and value < least:
        raise ConfigError(f"{key}={value} must be at least {least}")
    if choices and value is not None and value not in choices:
        raise ConfigError(f"{key}={value!r}: use {' or '.join(choices)}")
    return value


def _where(error, path):
    """'file line N' of the innermost line of a config file (or a file it imports) behind an error."""
    if isinstance(error, SyntaxError) and error.filename:
        return f"{error.filename} line {error.lineno}"
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if not f.filename.startswith("<") and os.path.abspath(f.filename) != os.path.abspath(__file__)]
    return f"{frames[-1].filename} line {frames[-1].lineno}" if frames else path


def _origins(tree, path):
    """name -> the file that assigns it: the config file, or the shared config module it star-imports (the
    last import or assignment of a name wins, as in Python)."""
    origins = {}
    for node in tree.body:
        module = sys.modules.get(node.module) if isinstance(node, ast.ImportFrom) and node.module else None
        if module is not None and any(a.name == "*" for a in node.names):
            origins.update(dict.fromkeys(vars(module), os.path.relpath(module.__file__)))
        origins.update({n.id: path for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)})
    return origins


def read_config_file(path, origins=None):
    """The public names a config file assigns (imports of shared config modules included), and in `origins`
    the file each comes from. A file that does not parse or raises is a ConfigError: file, line, message."""
    if not os.path.isfile(path):
        raise ConfigError(f"config file {path} not found")
    namespace = {}
    try:
        with open(path, encoding="utf-8") as f:
            source = f.read()
        exec(compile(source, path, "exec"), namespace)
        if origins is not None:
            origins.update(_origins(ast.parse(source), path))
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text: is it a config file?") from None
    except Exception as e:  # a config file is Python, so anything can go wrong in it: say where and what
        message = e.msg if isinstance(e, SyntaxError) else f"{type(e).__name__}: {e}"
        raise ConfigError(f"{_where(e, path)}: {message}") from None
    if "GRID" in namespace:
        raise ConfigError(f"{path} is the table make_configs.py writes the configs from, not a config: "
                          f"give one of the files it makes (config/*_*.py, config/micro/*.py, ...)")
    return {k: v for k, v in namespace.items()
            if not k.startswith("_") and not callable(v) and type(v).__name__ != "module"}


def configure(declared, args, sources=None):
    """The defaults of the dataclass `declared`, updated by config files and --key=value arguments in the
    order given, as a dict. Given a dict `sources`, it is filled with where each value set came from."""
    config, sources = {f.name: f.default for f in fields(declared)}, {} if sources is None else sources
    for arg in args:
        if arg.startswith("--"):
            key, sep, text = arg[2:].partition("=")
            if not sep:
                raise ConfigError(f"argument {arg!r} should be --key=value")
            try:  # a Python literal (3, 1e-4, True, None, 'x'), or else the bare string
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                value = text
            config[key], sources[key] = check(key, value, declared, COMMAND_LINE), COMMAND_LINE
        elif arg.endswith(".py"):
            origins = {}
            for key, value in read_config_file(arg, origins).items():
                config[key], sources[key] = check(key, value, declared, arg), origins.get(key, arg)
        else:
            raise ConfigError(f"argument {arg!r} is neither a config file (.py) nor --key=value")
    return config


# -----------------------------------------------------------------------------
# A run's settings

def read_settings(argv):
    """(Config, sources, changes) of config files and --key=value arguments. What a config leaves to None
    that follows from the rest is filled in here, once: the method, alpha_0 (the norm's own: --norm=softsign
    on a DyT config takes Softsign's) and out_dir. sources: where each value came from; changes: the command
    line's overrides that change the run (key, value, the config's value), which name its folder and label."""
    sources = {}
    cfg = configure(Config, argv, sources)
    files = [a for a in argv if not a.startswith("--")]
    from_files = configure(Config, files)
    given = list(dict.fromkeys(a[2:].partition("=")[0] for a in argv if a.startswith("--")))
    changes = [(k, cfg[k], from_files[k]) for k in given  # a new split of the same global batch is the same run
               if k not in (*WHERE_KEYS, *LABEL_KEYS, "seed") and cfg[k] != from_files[k]
               and (k not in SPLIT_KEYS or global_batch(cfg) != global_batch(from_files))]
    cfg["method"] = method_of(cfg, sources)
    sources.setdefault("method", "its norm's label")
    for key, alpha in resolve_alphas(cfg).items():  # the one resolution of the norms' settings (model.site_norms)
        cfg[key], sources[key] = alpha, f"{cfg['norm_final' if key == 'alpha_init_final' else 'norm']}'s own alpha_0"
    has_alpha = any("alpha_init" in options for _, options in site_norms(cfg).values())
    if cfg["freeze_alpha"] and not has_alpha:
        raise ConfigError(f"freeze_alpha=True: norm {cfg['norm']!r} has no alpha to freeze; use it with dyt or derf")
    if cfg["alpha_fp32"] and (cfg["param_dtype"] != "bfloat16" or not has_alpha):
        raise ConfigError("alpha_fp32=True keeps alpha in fp32 in a pure-bf16 model: it needs param_dtype='bfloat16' "
                          "and a norm with an alpha (dyt, derf)")
    if cfg["alpha_lr_scale"] != 1.0 and (not has_alpha or cfg["freeze_alpha"]):
        raise ConfigError(f"alpha_lr_scale={cfg['alpha_lr_scale']} sets the learning rate of alpha, which this run "
                          f"{'freezes' if has_alpha else 'does not have'}: leave alpha_lr_scale at 1.0, or train an alpha "
                          f"(a norm with one: dyt, derf; freeze_alpha=False)")
    if cfg["calibrate_alpha"] and (cfg["start_from"] is None or not has_alpha or cfg["freeze_alpha"]):
        raise ConfigError("calibrate_alpha=True sets alpha_0 from a trained model's activations: it needs start_from "
                          "(the trained model) and a norm with a trained alpha (dyt, derf; freeze_alpha=False)")
    if cfg["out_dir"] is None:
        seed_given = "seed" in given and cfg["seed"] != from_files["seed"]
        cfg["out_dir"] = default_out_dir(files, changes, seed_given, cfg["seed"])
        sources["out_dir"] = "the config's path" + (" and the overrides" if changes or seed_given else "")
    return Config(**cfg), sources, changes


def setting_lines(cfg, sources):
    """'  key = value   (where from)' for the values of `sources`; '=' marks a value equal to its default."""
    return [f"{'=' if v == DEFAULTS[k] else ' '} {k} = {v!r}".ljust(44) + f"  {sources[k]}"
            for k, v in vars(cfg).items() if k in sources]


def show(argv):
    """The config view: everything the arguments set and where from, then what the run resolves: method,
    out_dir and alpha_0, and on this machine the dataset's vocabulary, the model's size, device and dtype."""
    import machine
    set_here = {}
    configure(Config, argv, set_here)
    cfg, sources, _ = read_settings(argv)
    derived = {k: v for k, v in sources.items() if k not in set_here}
    print(f"what {' '.join(argv) or 'no config'} sets ('=' marks a value equal to the default):",
          *setting_lines(cfg, set_here), "what the run resolves:", *setting_lines(cfg, derived), sep="\n")
    for key, value, where in machine.resolved(cfg):
        print((f"  {key} = {value}" if key else f"  {value}").ljust(44) + f"  {where}")
    print(f"({sum(k not in sources for k in vars(cfg))} other settings keep their defaults: python train.py --help)")


if __name__ == "__main__":
    run_cli(show, sys.argv[1:], doc=__doc__, settings=(Config,))
