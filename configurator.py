"""
nanoGPT's configurator, as a function that refuses what it does not understand.

    python train.py config/dyt_64m_1m.py --batch_size=32 --compile=False
    python configurator.py config/dyt_64m_1m.py      # the values that differ from train.py's defaults, and their files

Each argument is either a config file (plain Python assignments, run in order) or --key=value.
Every key must already exist among the defaults; its value must have the default's type (an int
may stand for a float; a default of None takes any plain value). A mistake raises ConfigError
naming the key and the closest valid ones.
"""

import ast
import difflib
import os
import sys
import traceback

PLAIN_TYPES = (bool, int, float, str, type(None))


class UserError(ValueError):
    """A mistake in what the user gave (a config, a path, a dataset, a run folder): every entry point
    says it in one line on stderr and exits with code 2 (see run_cli)."""
    exit_code = 2


class ConfigError(UserError):
    pass


def run_cli(main, argv, also=()):
    """Run an entry point's main(argv); a UserError (or one of `also`) becomes `error: ...` and exit 2
    (or the error's own exit_code)."""
    try:
        return main(argv)
    except (UserError, *also) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(getattr(e, "exit_code", 2))


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
            config[key] = _check(key, _parse_value(text), defaults, "the command line")
            sources[key] = "the command line"
        elif arg.endswith(".py"):
            origins = {}
            for key, value in read_config_file(arg, origins).items():
                config[key] = _check(key, value, defaults, arg)
                sources[key] = origins.get(key, arg)
        else:
            raise ConfigError(f"argument {arg!r} is neither a config file (.py) nor --key=value")
    return config


def changes(config, defaults, sources):
    """'key = value   (where it was set)' for every value that differs from its default."""
    return [f"{key} = {value!r}".ljust(40) + f"  ({sources.get(key, '?')})"
            for key, value in config.items() if value != defaults.get(key)]


if __name__ == "__main__":
    # python configurator.py config/x.py [--key=value ...]: what a run of it would change, and where from
    import train
    def show(argv):
        sources = {}
        print("\n".join(changes(configure(train.DEFAULTS, argv, sources), train.DEFAULTS, sources)))
    run_cli(show, sys.argv[1:])
