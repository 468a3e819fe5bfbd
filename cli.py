"""
What every entry point shares: the mistakes a user can make, said in one line, and --help.

A mistake in what the user gave (a config, a path, a dataset, a run folder) is a UserError: the
script prints `error: ...` on stderr and exits with code 2. A file that cannot be written (a full
disk) is a WriteError, exit code 74. `--help` (or -h) prints the script's docstring and, for the
scripts that take --key=value, every setting with its default and the comment beside it where it
is defined.
"""

import re
import sys


class UserError(ValueError):
    """A mistake in what the user gave: told in one line on stderr, exit code 2 (see run_cli)."""
    exit_code = 2


class ConfigError(UserError):
    pass


class WriteError(UserError):
    """A file that could not be written (no space, a file-size limit, no permission): which, why, and what
    to do; the previous version of the file is intact (every file is written to a temporary name first)."""
    exit_code = 74  # EX_IOERR

    def __init__(self, path, why, hint="make room (or fix the folder) and run the same command again"):
        self.path, self.why = path, why
        super().__init__(f"could not write {path} ({why}): the previous version of it, if any, is intact; {hint}")


def run_cli(main, argv, also=(), doc=None, settings=None):
    """Run an entry point's main(argv). With -h or --help, print `doc` and the `settings` (a list of
    (name, default, meaning)) instead. A UserError (or one of `also`) becomes `error: ...` and its exit code."""
    if doc is not None and any(a in ("-h", "--help") for a in argv):
        print(doc.strip() + "\n")
        if settings:
            print(describe(settings))
        return 0
    try:
        return main(argv)
    except (UserError, *also) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(getattr(e, "exit_code", 2))


def describe(settings):
    """'  --name=default    meaning' for every setting, as --help prints them."""
    width = max(len(f"--{name}={default!r}") for name, default, _ in settings) + 2
    lines = ["settings (--key=value; config files set the same keys):"]
    for name, default, meaning in settings:
        lines.append(f"  {f'--{name}={default!r}':{width}s}{meaning}".rstrip())
    return "\n".join(lines)


# `name = value  # meaning`, `name: type = value  # meaning` and `"name": value,  # meaning`, with the
# comment lines right below (indented past the name) continuing the meaning
_SETTING = re.compile(r'^(\s*)(?:"(\w+)"\s*:|(\w+)\s*(?::[^=#]+)?=)[^#]*?(?:#\s*(.*))?$')
_MORE = re.compile(r"^(\s+)#\s*(.*)$")


def comments(path):
    """{name: the comment beside its definition} for the settings a Python file defines one to a line."""
    notes, last, indent = {}, None, 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            more = _MORE.match(line)
            if more and last and len(more.group(1)) > indent:
                notes[last] = (notes[last] + " " + more.group(2)).strip()
                continue
            m = _SETTING.match(line)
            last = None
            if m and not line.lstrip().startswith("#") and (m.group(2) or m.group(3)) not in notes:
                last, indent = m.group(2) or m.group(3), len(m.group(1))  # the first definition is the setting
                notes[last] = (m.group(4) or "").strip()
    return notes
