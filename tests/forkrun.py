"""Run a repo script as its own process, without paying for `import torch` each time.

The test suite starts scripts (train.py, sample.py, report.py, ...) a few hundred times; a fresh
interpreter spends about two seconds importing torch before the script does anything. Here one
server process imports torch, numpy and matplotlib once, and every script runs in a process forked
from it (multiprocessing's forkserver): a real process with its own exit code, stdout and stderr, as
`python script.py args` would give, whose torch was imported but never used before the fork.
"""

import atexit
import multiprocessing
import os
import runpy
import subprocess
import sys
import tempfile
import traceback

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(["torch", "numpy", "matplotlib", "forkrun"])


def _main(script, args, cwd, env, out_path, err_path):
    """In the forked process: what `python script args` does, with stdout and stderr to two files."""
    for fd, path in ((1, out_path), (2, err_path)):
        os.dup2(os.open(path, os.O_WRONLY), fd)  # also what the script's own subprocesses print
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    sys.argv = [script, *args]
    sys.path.insert(0, cwd)
    try:
        runpy.run_path(script, run_name="__main__")
        code = 0
    except SystemExit as e:  # as the interpreter exits: None is 0, a message goes to stderr with 1
        if e.code is None or isinstance(e.code, int):
            code = e.code or 0
        else:
            print(e.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()  # os._exit below skips them; train.py releases its run-folder lock in one
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run_script(script, args, cwd, timeout):
    """`python script args` in cwd with this process's environment, as a CompletedProcess."""
    with tempfile.TemporaryDirectory() as folder:
        out_path, err_path = os.path.join(folder, "out"), os.path.join(folder, "err")
        for path in (out_path, err_path):
            open(path, "w").close()
        p = _context.Process(target=_main, args=(script, list(args), cwd, dict(os.environ), out_path, err_path))
        p.start()
        p.join(timeout)
        if p.is_alive():
            p.kill()
            p.join()
            raise subprocess.TimeoutExpired([script, *args], timeout)
        with open(out_path) as out, open(err_path) as err:
            return subprocess.CompletedProcess([sys.executable, script, *args], p.exitcode, out.read(), err.read())
