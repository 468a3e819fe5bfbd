"""
Run a grid of configs x seeds through train.py, one run after another, resumably.

    python sweep.py config/*_64m_*.py --seeds 1337 42 7
    python sweep.py config/micro/*.py --seeds 1337 42 --out out/micro --max_iters=100   # overrides for every run
    torchrun is used when asked: --nproc 8

Each run goes to <out>/<config stem>_s<seed>/. A finished run (summary.json there) is skipped; an
interrupted one (ckpt.pt but no summary) resumes from its checkpoint; the rest start from scratch.
A failed run is reported and the sweep goes on; the exit code is the number of failed runs.
Each run's output is kept in its folder as train.log.
"""

import argparse
import glob
import os
import signal
import subprocess
import sys
import time

from configurator import ConfigError, configure, run_cli

HERE = os.path.dirname(os.path.abspath(__file__))


def plan(configs, seeds, out):
    """(config, seed, run_dir, state) for every run; state is done, resume or new."""
    runs = []
    for config in configs:
        stem = os.path.splitext(os.path.basename(config))[0]
        for seed in seeds:
            run_dir = os.path.join(out, f"{stem}_s{seed}")
            if os.path.exists(os.path.join(run_dir, "summary.json")):
                state = "done"
            elif os.path.exists(os.path.join(run_dir, "ckpt.pt")):
                state = "resume"
            else:
                state = "new"
            runs.append((config, seed, run_dir, state))
    return runs


def command(config, seed, run_dir, state, overrides, nproc):
    launcher = [sys.executable]
    if nproc > 1:
        launcher += ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
    init = ["--init_from=resume"] if state == "resume" else ["--init_from=scratch", "--overwrite=True"]
    return launcher + [os.path.join(HERE, "train.py"), config, f"--seed={seed}", f"--out_dir={run_dir}",
                       *overrides, *init]


def expand(patterns, overrides):
    """Config paths from paths or globs (the shell usually expands them; quoted ones are expanded here),
    each read with the overrides as train.py will, so a typo stops the sweep before any run starts."""
    import train  # torch is slow to import: only once the arguments have parsed
    paths = []
    for pattern in patterns:
        found = sorted(glob.glob(pattern)) if any(c in pattern for c in "*?[") else [pattern]
        if not found:
            raise ConfigError(f"no config matches {pattern}")
        for path in found:
            configure(train.DEFAULTS, [path, *overrides])
            paths.append(path)
    return paths


def interrupt(signum, frame):
    """A SIGTERM (a scheduler's kill) ends the sweep like Ctrl-C, so subprocess.run stops the child too."""
    raise KeyboardInterrupt


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    p.add_argument("configs", nargs="+", help="config files or globs")
    p.add_argument("--seeds", nargs="+", type=int, default=[1337])
    p.add_argument("--out", default="out", help="where the run folders go")
    p.add_argument("--nproc", type=int, default=1, help="processes per run, under torchrun when > 1")
    p.add_argument("--dry_run", action="store_true", help="list what would run and what is done")
    args, rest = p.parse_known_args(argv)
    overrides = [a for a in rest if a.startswith("--") and "=" in a]
    if len(overrides) != len(rest):
        p.error(f"unrecognised arguments: {' '.join(a for a in rest if a not in overrides)} "
                f"(overrides for train.py are --key=value)")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise ConfigError(f"--out {args.out} is a file, not a folder: name a folder for the run folders")
    if args.nproc < 1:
        p.error(f"--nproc {args.nproc}: a run needs at least one process")
    runs = plan(expand(args.configs, overrides), args.seeds, args.out)

    if args.dry_run:
        for _, _, run_dir, state in runs:
            print(f"{state:>6}  {run_dir}")
        print(f"{sum(s == 'done' for *_, s in runs)} of {len(runs)} runs done")
        return 0

    signal.signal(signal.SIGTERM, interrupt)
    failed = []
    for i, (config, seed, run_dir, state) in enumerate(runs, 1):
        name = os.path.basename(run_dir)
        if state == "done":
            print(f"[{i}/{len(runs)}] {name}: done already")
            continue
        os.makedirs(run_dir, exist_ok=True)
        print(f"[{i}/{len(runs)}] {name}: {'resuming' if state == 'resume' else 'running'} ...", flush=True)
        t0 = time.time()
        with open(os.path.join(run_dir, "train.log"), "a") as log:
            code = subprocess.run(command(config, seed, run_dir, state, overrides, args.nproc),
                                  stdout=log, stderr=subprocess.STDOUT).returncode
        if code == 0:
            print(f"    finished in {time.time() - t0:.0f} s")
        else:
            failed.append(name)
            with open(os.path.join(run_dir, "train.log")) as log:
                last = (log.read().strip().splitlines() or ["(no output)"])[-1]
            print(f"    FAILED (exit {code}): {last}")
    if failed:
        print(f"{len(failed)} of {len(runs)} runs failed: {', '.join(failed)}")
    return min(len(failed), 255)


if __name__ == "__main__":
    try:
        sys.exit(run_cli(main, sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit("interrupted: run the same command again to resume")
