"""
What every entry point shares: a mistake in what the user gave (a config, a path, a dataset, a run folder)
is a UserError, printed as `error: ...` on stderr with exit code 2 (or its own: atomic.WriteError's 74);
--help prints the script's docstring and the settings it takes, as they are declared.
"""

import sys
from dataclasses import fields

COMMAND_LINE = "the command line"  # where a --key=value setting comes from


class UserError(ValueError):
    """A mistake in what the user gave: told in one line on stderr, exit code 2 (see run_cli)."""
    exit_code = 2


class ConfigError(UserError):
    pass


def run_cli(main, argv, doc=None, settings=()):
    """Run an entry point's main(argv). With -h or --help, print `doc` and the declared `settings` (dataclasses
    of model.setting fields) instead. A UserError becomes `error: ...` and its exit code; any other exception is
    a bug (the project's, or a fork's new norm) and keeps its traceback."""
    if doc is not None and any(a in ("-h", "--help") for a in argv):
        print(doc.strip() + "\n")
        if settings:
            print(describe(*settings))
        return 0
    try:
        return main(argv)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(getattr(e, "exit_code", 2))


def describe(*declared):
    """'  --name=default    meaning' for every setting of the dataclasses, as --help prints them."""
    rows = [(f"--{f.name}={f.default!r}", f.metadata["meaning"]) for kind in declared for f in fields(kind)]
    width = max(len(flag) for flag, _ in rows) + 2
    return "\n".join(["settings (--key=value; config files set the same keys):"]
                     + [f"  {flag:{width}s}{meaning}" for flag, meaning in rows])
