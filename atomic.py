"""
Files written whole or not at all: every file goes to a temporary name and is renamed, so a kill, or a
disk that fills, at any moment leaves the previous version whole; a write that fails is one line naming
the file (a WriteError, exit code 74).
"""

import errno
import json
import os
from contextlib import contextmanager

import torch

from cli import UserError


class WriteError(UserError):
    """A file that could not be written (no space, a file-size limit, no permission): which, why, and what
    to do; the previous version of the file is intact."""
    exit_code = 74  # EX_IOERR

    def __init__(self, path, why, hint="make room (or fix the folder) and run the same command again"):
        self.path, self.why = path, why
        super().__init__(f"could not write {path} ({why}): the previous version of it, if any, is intact; {hint}")


NO_ROOM = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)  # a full disk, a file-size limit, a quota


def cannot_write(path, error):
    """The one line for a file that could not be written (a full disk, a file-size limit, permissions).
    torch's zip writer reports a failed write as its own RuntimeError: the OSError behind it says why."""
    while not isinstance(error, OSError) and error.__context__ is not None:
        error = error.__context__
    return WriteError(path, getattr(error, "strerror", None) or str(error).splitlines()[0])


@contextmanager
def atomic_open(path, mode="w"):
    """open(path, mode) for writing, through path + '.tmp' renamed at the end: a reader sees the old
    file or the new one, never half of one. On an error the temporary file is removed, and an OSError
    (no space, a size limit) becomes a WriteError naming the file."""
    tmp = path + ".tmp"
    try:
        f = open(tmp, mode)
    except OSError as e:  # a missing or read-only folder, no permission
        raise cannot_write(path, e) from None
    try:
        with f:
            yield f
        os.replace(tmp, path)
    except OSError as e:
        if e.errno in NO_ROOM:  # other OSErrors of the body (a download that failed) are the caller's
            raise cannot_write(path, e) from None
        raise
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def atomic_save(obj, path, text=False):
    """obj as JSON (text) or as a torch checkpoint, written atomically."""
    with atomic_open(path, "w" if text else "wb") as f:
        if text:
            json.dump(obj, f, indent=2)
            f.write("\n")
        else:
            try:
                torch.save(obj, f)
            except RuntimeError as e:
                if not isinstance(e.__context__, OSError):
                    raise
                raise cannot_write(path, e) from None


def append_line(path, row):
    """One JSON line at the end of a log; a line cut by a failed write is skipped by read_log."""
    try:
        with open(path, "a") as f:
            f.write(json.dumps(row) + "\n")
    except OSError as e:
        raise cannot_write(path, e) from None
