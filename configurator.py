"""
nanoGPT's configurator, as a function that refuses what it does not understand; and a run's settings.

    python train.py config/dyt_64m_1m.py --batch_size=32 --compile=False
    python configurator.py config/dyt_64m_1m.py      # everything the config sets, where from, and what the run resolves

Each argument is either a config file (plain Python assignments, run in order) or --key=value.
Every key must already exist among the defaults (settings.py); its value must have the default's
type (an int may stand for a float; a default of None takes any plain value). A mistake raises
ConfigError naming the key and the closest valid ones.

A run's label (method) and folder (out_dir) follow from its settings when a config leaves them to
None: see read_settings.
"""

import ast
import difflib
import os
import sys
import traceback

from cli import ConfigError, run_cli
from settings import (DEFAULTS, FLOATS, LABEL_KEYS, RUN_KEYS, claimed_norm, default_out_dir, help_settings,
                      model_config, norm_label)

PLAIN_TYPES = (bool, int, float, str, type(None))
CLI = "the command line"


def _a(word):
    return "an" if word[0] in "aeiou" else "a"


def _suggest(key, known):
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def _check(key, value, defaults, source):
    if key not in defaults:
        raise ConfigError(f"unknown config key {key!r} in {source}{_suggest(key, list(defaults))}")
    default = defaults[key]
    if default is None and key in FLOATS and type(value) is int:
        return float(value)
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


def _where(error, path):
    """'file line N' of the innermost line of a config file (or a file it imports) behind an error."""
    if isinstance(error, SyntaxError) and error.filename:
        return f"{error.filename} line {error.lineno}"
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if not f.filename.startswith("<") and os.path.abspath(f.filename) != os.path.abspath(__file__)]
    return f"{frames[-1].filename} line {frames[-1].lineno}" if frames else path


def _origins(tree, path):
    """name -> the file that assigns it: the config file itself, or the shared config module it
    star-imports (the last import that defines the name wins, as in Python)."""
    origins = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names) and node.module:
            module = sys.modules.get(node.module)
            for name in vars(module) if module else ():
                origins[name] = os.path.relpath(module.__file__)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        origins[name.id] = path
    return origins


def read_config_file(path, origins=None):
    """The public names a config file assigns (imports of shared config modules included). A file that
    does not parse, or raises while it runs, is a ConfigError naming the file, the line and Python's message.
    Given a dict `origins`, it is filled with the file each name comes from."""
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


def configure(defaults, args, sources=None):
    """The defaults updated by config files and --key=value arguments, in the order given. Given a
    dict `sources`, it is filled with where each value that was set came from."""
    config = dict(defaults)
    sources = {} if sources is None else sources
    for arg in args:
        if arg.startswith("--"):
            key, sep, text = arg[2:].partition("=")
            if not sep:
                raise ConfigError(f"argument {arg!r} should be --key=value")
            config[key] = _check(key, _parse_value(text), defaults, CLI)
            sources[key] = CLI
        elif arg.endswith(".py"):
            origins = {}
            for key, value in read_config_file(arg, origins).items():
                config[key] = _check(key, value, defaults, arg)
                sources[key] = origins.get(key, arg)
        else:
            raise ConfigError(f"argument {arg!r} is neither a config file (.py) nor --key=value")
    return config


# -----------------------------------------------------------------------------
# A run's settings

def method_of(cfg, sources):
    """The run's arm, as report.py compares it: the method a config (or --method) names, else its
    norm's label. A named method that is a label of another norm (method 'dyt' with norm 'softsign'),
    or one a config names while the command line changes the norm, is an error: the run would be
    pooled with another norm's runs."""
    from dyt import NORMS  # torch: the config view prints what a config sets before it gets here
    own, named = norm_label(cfg["norm"], cfg["arch"]), cfg["method"]
    if named is None:
        return own
    where = sources.get("method", CLI)
    if where != CLI and sources.get("norm") == CLI:
        raise ConfigError(f"{where} names the method {named!r}, and --norm={cfg['norm']} makes the run another norm's: "
                          f"label it with --method=NAME too")
    claimed = claimed_norm(named, [*NORMS, "vanilla"])
    claimed = norm_label(claimed, cfg["arch"]) if claimed in NORMS else claimed
    if claimed not in (None, own):
        raise ConfigError(f"method {named!r} ({where}) is a label of {claimed!r}, but the run's norm is {cfg['norm']!r} "
                          f"({own!r}): name the method after its norm, or leave it unset to follow the norm")
    return named


def own_alpha(cfg, sources):
    """A squashing norm's alpha_0 left to None is the norm's own (its class's alpha_default), resolved here
    once, so a run's settings say what it trains with and --norm=softsign on a DyT config takes Softsign's."""
    from dyt import NORMS
    own = getattr(NORMS.get(cfg["norm"]), "alpha_default", None)
    if cfg["alpha_init"] is None and own is not None:
        cfg["alpha_init"] = float(own)
        sources["alpha_init"] = f"{cfg['norm']}'s own alpha_0"
    if cfg["freeze_alpha"] and cfg["alpha_init"] is None and own is None:
        raise ConfigError(f"freeze_alpha=True: norm {cfg['norm']!r} has no alpha to freeze; use it with dyt or derf")


def read_settings(argv):
    """A run's settings from config files and --key=value arguments, in the order given, with method and
    out_dir filled in when left to None: (settings, sources, changes). sources says where each value set
    came from (a file, the command line, or what it follows from); changes are the command line's
    overrides that change the run (not RUN_KEYS, LABEL_KEYS or the seed), as (key, value, the config's
    value) in the order given: they name the run's folder (settings.name_suffix) and its label, and
    report.py finds the plain run an ablation of the baseline norm is compared with by them."""
    sources = {}
    cfg = configure(DEFAULTS, argv, sources)
    files = [a for a in argv if not a.startswith("--")]
    from_files = configure(DEFAULTS, files)
    given = list(dict.fromkeys(a[2:].partition("=")[0] for a in argv if a.startswith("--")))
    changes = [(k, cfg[k], from_files[k]) for k in given
               if k not in (*RUN_KEYS, *LABEL_KEYS, "seed") and cfg[k] != from_files[k]]
    cfg["method"] = method_of(cfg, sources)
    sources.setdefault("method", "its norm's label")
    own_alpha(cfg, sources)
    if cfg["out_dir"] is None:
        seed_given = "seed" in given and cfg["seed"] != from_files["seed"]
        cfg["out_dir"] = default_out_dir(files, changes, seed_given, cfg["seed"])
        sources["out_dir"] = "the config's path" + (" and the overrides" if changes or seed_given else "")
    return cfg, sources, changes


def setting_lines(cfg, sources):
    """'  key = value   (where from)' for every value a file or the command line set, or the run derived;
    '=' marks a value equal to its default."""
    return [f"{'=' if cfg[k] == DEFAULTS.get(k) else ' '} {k} = {cfg[k]!r}".ljust(44) + f"  {sources[k]}"
            for k in cfg if k in sources]


def resolved_lines(cfg):
    """What a run of these settings decides when it starts, on this machine: the vocabulary (from the
    prepared dataset), the model's size, device, dtype and compile."""
    from types import SimpleNamespace

    import data
    from settings import resolve_system
    out, run = [], SimpleNamespace(**cfg)
    needed = ("image_size", "channels", "num_classes") if run.arch == "vit" else ("vocab_size",)
    if any(getattr(run, k) is None for k in needed):
        try:
            meta = data.load_meta(run.data_dir, run.dataset)
            found = {"vocab_size": data.padded_vocab(meta)} if run.arch != "vit" else \
                {"image_size": meta["image_size"], "channels": meta["channels"], "num_classes": meta["classes"]}
            for k in needed:
                if getattr(run, k) is None:
                    setattr(run, k, found[k])
                    out.append(f"  {k} = {found[k]}".ljust(44) + f"  {run.dataset}'s")
        except (data.DataError, KeyError) as e:
            out.append(f"  {', '.join(needed)}: the dataset's, once prepared ({e})")
    if all(getattr(run, k) is not None for k in needed):
        import torch

        from model import build_model
        with torch.device("meta"):
            n = build_model(model_config(run)).num_params()
        counted = "" if run.arch == "vit" else ", tied embedding once, no position table"
        out.append(f"  (the model: {n / 1e6:.2f}M parameters{counted})")
    system = [k for k in ("device", "dtype", "compile") if cfg[k] is None]
    resolve_system(run)
    out += [f"  {k} = {getattr(run, k)!r}".ljust(44) + "  this machine" for k in system]
    return out


def show(argv):
    """The config view: everything the arguments set and where from, then what the run resolves."""
    sources = {}
    cfg = configure(DEFAULTS, argv, sources)
    set_here = set(sources)
    print(f"what {' '.join(argv) or 'no config'} sets ('=' marks a value equal to the default):")
    print("\n".join(setting_lines(cfg, sources)), flush=True)
    cfg, sources, _ = read_settings(argv)
    derived = {k: cfg[k] for k in ("method", "out_dir", "alpha_init") if k not in set_here and k in sources}
    print("what the run resolves:")
    print("\n".join(setting_lines(derived, sources) + resolved_lines(cfg)))
    print(f"({sum(k not in sources for k in cfg)} other settings keep their defaults: python train.py --help)")


if __name__ == "__main__":
    run_cli(show, sys.argv[1:], also=(ValueError,), doc=__doc__, settings=help_settings())
