"""
Run a grid of configs x seeds through train.py, several at once, resumably.

    python sweep.py config/*_64m_*.py --seeds 1337 42 7
    python sweep.py config/micro/*.py --seeds 1337 42 --out out/micro --max_iters=100   # overrides for every run
    python sweep.py 'config/*_*.py' --seeds 1337 42 7 --dry_run --gpu H100      # what the grid will cost
    torchrun is used when asked: --nproc 8 (processes per run)

Each run goes to <out>/<config stem><overrides>_s<seed>/, where <overrides> are the --key=value
arguments that change the run (settings.py declares which do): `config/micro/dyt_micro_8k.py --norm=softsign
--seeds 1` trains in out/dyt_micro_8k_norm=softsign_s1. A finished run (summary.json there) is
skipped, or continued when asked for more steps; an interrupted one (ckpt.pt but no summary)
resumes from its checkpoint; the rest start from scratch. A folder whose run has other settings
(its config was edited, say) is left alone and reported. A run that another process is training
(its folder's lock, see run_folder.py) is skipped, so two sweeps over one grid share it. A failed
run is reported and the sweep goes on; the exit code is the number of failed runs. Each run's
output is kept in its folder as train.log.

--jobs N runs N at once; by default as many as the machine holds: one per physical CPU core (its
hyperthreads are the run's threads), or one per --nproc GPUs. On a CPU each run gets cores / N threads: two runs that each use every core slow
each other down many times over. On GPUs each run gets --nproc devices of its own
(CUDA_VISIBLE_DEVICES), so 8 GPUs hold 8 single-GPU runs or 2 four-GPU runs. Ctrl-C or SIGTERM stops
every run; each resumes from its last checkpoint when the same command is run again.
"""

import argparse
import glob
import os
import signal
import socket
import subprocess
import sys
import time

from cli import ConfigError, run_cli
from configurator import read_settings
from naming import run_name
from run_folder import RunLocked, differences, lock_holder, read_settings_file, say_differences

HERE = os.path.dirname(os.path.abspath(__file__))


def state_of(run_dir, asked):
    """(state, why) of a run folder for the settings asked: done, resume (a checkpoint, or a finished run
    asked for more steps), held (a live process trains it), new, or other (a run of other settings:
    why names the keys, and the sweep leaves it alone)."""
    stored = read_settings_file(run_dir)
    if stored is not None:
        if asked["vocab_size"] is None:  # the dataset's, once train.py has read it: not compared
            stored, asked = ({k: v for k, v in s.items() if k != "vocab_size"} for s in (stored, asked))
        diffs = differences(stored, asked)
        if diffs:
            return "other", say_differences(diffs)
    if os.path.exists(os.path.join(run_dir, "summary.json")):
        trained = stored["max_iters"] if stored else asked["max_iters"]
        if asked["max_iters"] < trained:
            return "other", f"max_iters ({trained} there, {asked['max_iters']} asked: a run is continued, not shortened)"
        return ("resume", "continued") if asked["max_iters"] > trained else ("done", "")
    if lock_holder(run_dir):
        return "held", ""
    return ("resume", "") if os.path.exists(os.path.join(run_dir, "ckpt.pt")) else ("new", "")


def plan(configs, seeds, out):
    """(config, seed, run_dir, settings) for every run of the grid, configs in the order given; configs
    maps each config to (its settings, the overrides that change it)."""
    return [(config, seed, os.path.join(out, run_name(config, changes, seed)),
             {**settings, "seed": seed, "out_dir": os.path.join(out, run_name(config, changes, seed))})
            for config, (settings, changes) in configs.items() for seed in seeds]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(config, seed, run_dir, resume, overrides, nproc):
    launcher = [sys.executable]
    if nproc > 1:  # each torchrun of a sweep on its own port, so several can run at once
        launcher += ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
                     f"--rdzv-endpoint=127.0.0.1:{free_port()}"]
    return launcher + [os.path.join(HERE, "train.py"), config, f"--seed={seed}", f"--out_dir={run_dir}", *overrides,
                       "--init_from=resume" if resume else "--init_from=scratch"]


def expand(patterns, overrides):
    """Config paths from paths or globs (the shell usually expands them; quoted ones are expanded here),
    each read with the overrides as train.py will, and its model checked, so a typo stops the sweep
    before any run starts. Returns {path: (its settings, the overrides that change it)}."""
    import torch

    from model import Transformer, model_config
    paths = {}
    for pattern in patterns:
        found = sorted(glob.glob(pattern)) if any(c in pattern for c in "*?[") else [pattern]
        if not found:
            raise ConfigError(f"no config matches {pattern}")
        for path in found:
            settings, _, changes = read_settings([path, *overrides])
            # the whole model, built without memory, so every setting of it is checked; what the dataset
            # decides (vocabulary, image size) is known only once train.py reads it: a stand-in here
            unknown = {"vocab_size": 64, "image_size": settings.patch_size, "channels": 1, "num_classes": 2}
            with torch.device("meta"):
                Transformer(model_config(settings, **{k: v for k, v in unknown.items() if getattr(settings, k) is None}))
            paths[path] = (vars(settings), changes)
    return paths


def default_jobs(nproc):
    """As many runs as the machine holds at once: one per nproc GPUs, or one per physical CPU core (its
    hyperthreads, if any, are the run's threads). On 2 cores two runs of one thread each did 1.25-1.28x
    the runs per hour of one run of two threads (docs/performance.md)."""
    import torch
    gpus = torch.cuda.device_count()
    return max(1, gpus // nproc) if gpus else max(1, physical_cores() // nproc)


def physical_cores():
    """The physical cores this process may use (the hyperthreads of one core count once): Linux's CPU
    topology, or half the logical CPUs where it cannot be read."""
    try:
        return len({open(f"/sys/devices/system/cpu/cpu{c}/topology/thread_siblings_list").read().strip()
                    for c in os.sched_getaffinity(0)})
    except (OSError, AttributeError):  # not Linux
        return max(1, (os.cpu_count() or 2) // 2)


def slots(jobs, nproc):
    """The environment of each of the `jobs` run slots: its own GPUs, or its share of the CPU cores."""
    import torch
    # every process of every run its share of the cores, on a GPU machine too (its data and evaluation work on
    # the CPU); a thread count the user set (two sweeps side by side, say) is a ceiling, not overridden
    threads = max(1, (os.cpu_count() or 1) // (jobs * nproc))
    threads = str(min(threads, int(os.environ.get("OMP_NUM_THREADS", threads))))
    cpu = {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    gpus = torch.cuda.device_count()
    if gpus:
        if jobs * nproc > gpus:
            raise ConfigError(f"--jobs {jobs} x --nproc {nproc} needs {jobs * nproc} GPUs; this machine has {gpus}")
        # the GPUs this process was given, as CUDA names them to it (a SLURM job's "4,5,6,7"): a slot's are among
        # them, never the machine's first ones, which may be another job's
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        names = visible.split(",")[:gpus] if visible else [str(d) for d in range(gpus)]
        return [{**cpu, "CUDA_VISIBLE_DEVICES": ",".join(names[k * nproc:(k + 1) * nproc])} for k in range(jobs)]
    return [dict(cpu) for _ in range(jobs)]


def interrupt(signum, frame):
    """A SIGTERM (a scheduler's kill) ends the sweep like Ctrl-C: every run is stopped."""
    raise KeyboardInterrupt


class Sweep:
    """Runs waiting, going and ended, with the progress line and the end-of-run bookkeeping."""

    def __init__(self, runs, overrides, nproc, envs):
        self.waiting, self.going, self.free = list(runs), {}, list(envs)  # going: Popen -> (name, dir, asked, start, env)
        self.overrides, self.nproc = overrides, nproc
        self.done, self.failed, self.skipped, self.durations = 0, [], 0, []
        self.total = len(runs)

    def progress(self):
        left = len(self.waiting) + len(self.going)
        eta = ""
        if self.durations and left:
            minutes = sum(self.durations) / len(self.durations) * left / max(1, len(self.free) + len(self.going)) / 60
            eta = f", about {minutes:.0f} min left"
        return (f"{len(self.going)} going, {self.done} done, {len(self.failed)} failed, {self.skipped} skipped, "
                f"{len(self.waiting)} waiting{eta}")

    def start_next(self):
        """Start the next waiting run that needs running; False when none is left."""
        while self.waiting:
            config, seed, run_dir, asked = self.waiting.pop(0)
            name, (state, why) = os.path.basename(run_dir), state_of(run_dir, asked)  # now, not when the sweep began
            if state == "other":
                self.failed.append(name)
                print(f"{name}: NOT RUN: {run_dir} holds a run of other settings: {why}; remove it, or sweep into "
                      f"another --out", flush=True)
                continue
            if state == "done":
                self.done += 1
                print(f"{name}: done already", flush=True)
                continue
            if state == "held":
                self.skipped += 1
                print(f"{name}: skipped, process {lock_holder(run_dir)['pid']} is training it", flush=True)
                continue
            os.makedirs(run_dir, exist_ok=True)
            env = self.free.pop(0)
            with open(os.path.join(run_dir, "train.log"), "a") as log:
                proc = subprocess.Popen(command(config, seed, run_dir, state == "resume", self.overrides, self.nproc),
                                        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env})
            self.going[proc] = (name, run_dir, asked, time.time(), env)
            print(f"{name}: {'resuming' if state == 'resume' else 'running'} ({self.progress()})", flush=True)
            return True
        return False

    def reap(self):
        """Record every run that has ended, and give its slot back."""
        for proc in [p for p in self.going if p.poll() is not None]:
            name, run_dir, asked, t0, env = self.going.pop(proc)
            self.free.append(env)
            if proc.returncode == 0:
                self.done += 1
                self.durations.append(time.time() - t0)
                print(f"{name}: finished in {time.time() - t0:.0f} s ({self.progress()})", flush=True)
            elif proc.returncode == RunLocked.exit_code or state_of(run_dir, asked)[0] == "done":
                self.skipped += 1  # another sweep got there first
                print(f"{name}: skipped, another process trains or trained it ({self.progress()})", flush=True)
            else:
                self.failed.append(name)
                with open(os.path.join(run_dir, "train.log")) as log:
                    last = (log.read().strip().splitlines() or ["(no output)"])[-1]
                print(f"{name}: FAILED (exit {proc.returncode}): {last}", flush=True)

    def run(self):
        try:
            while self.waiting or self.going:
                while self.free and self.start_next():
                    pass
                time.sleep(0.2)
                self.reap()
        except KeyboardInterrupt:
            for proc in self.going:
                proc.terminate()
            for proc in self.going:
                proc.wait()
            raise
        if self.failed:
            print(f"{len(self.failed)} of {self.total} runs failed: {', '.join(sorted(self.failed))}")  # not as they ended
        return min(len(self.failed), 255)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    p.add_argument("configs", nargs="+", help="config files or globs")
    p.add_argument("--seeds", nargs="+", type=int, default=[1337])
    p.add_argument("--out", default="out", help="where the run folders go")
    p.add_argument("--nproc", type=int, default=1, help="processes per run, under torchrun when > 1")
    p.add_argument("--jobs", type=int, default=None,
                   help="runs at once, each with its share of the CPU or its own GPUs (default: one per physical "
                        "core, or per --nproc GPUs)")
    p.add_argument("--dry_run", action="store_true", help="list the runs, what is done, and what the rest will cost")
    p.add_argument("--gpu", default="H100", help="with --dry_run: the GPU to cost the grid on (a name in memory.py's table)")
    p.add_argument("--mfu", type=float, default=None, help="with --dry_run: the fraction of the GPU's bf16 peak assumed "
                                                          "(default: what memory.py expects of each way of running)")
    args, rest = p.parse_known_args(argv)
    overrides = [a for a in rest if a.startswith("--") and "=" in a]
    if len(overrides) != len(rest):
        p.error(f"unrecognised arguments: {' '.join(a for a in rest if a not in overrides)} "
                f"(overrides for train.py are --key=value)")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise ConfigError(f"--out {args.out} is a file, not a folder: name a folder for the run folders")
    if args.nproc < 1 or (args.jobs is not None and args.jobs < 1):
        p.error(f"--nproc {args.nproc}, --jobs {args.jobs}: a run needs at least one process, a sweep one job")
    configs = expand(args.configs, overrides)
    runs = plan(configs, args.seeds, args.out)

    if args.dry_run:
        from memory import cost_table
        print(cost_table([(run_dir, state_of(run_dir, asked)[0], asked) for _, _, run_dir, asked in runs],
                         args.gpu, args.mfu, args.nproc))
        return 0

    signal.signal(signal.SIGTERM, interrupt)
    envs = slots(min(args.jobs or default_jobs(args.nproc), max(1, len(runs))), args.nproc)  # no slot left idle
    each = f"{envs[0]['OMP_NUM_THREADS']} thread(s)" + (f" and {args.nproc} GPU(s)" if "CUDA_VISIBLE_DEVICES" in envs[0] else "")
    print(f"{len(runs)} run(s), {len(envs)} at once, {each} each", flush=True)
    return Sweep(runs, overrides, args.nproc, envs).run()


if __name__ == "__main__":
    try:
        # ValueError too: the model's own checks (an unknown norm, a setting a norm does not take) raise it
        sys.exit(run_cli(main, sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit("interrupted: every run was stopped; run the same command again to resume")
