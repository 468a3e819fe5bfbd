"""
Write the numbers of README.md and docs/: every table there sits between two markers and is written
here from run folders (report.py's tables, cut to a page's cells), never typed by hand.

    python docs.py                 # rewrite every generated block of README.md and docs/*.md, and their figures
    python docs.py --check         # change nothing; exit 1 naming every block that differs from its runs
    python docs.py docs/entropy.md # one page
    python docs.py --from out/vit_precision docs/vit.md   # only the blocks written from that folder

A block is written from the folder it names:

    <!-- docs.py arms final_val_loss out/micro micro -->
    ... (what docs.py writes) ...
    <!-- /docs.py -->

Kinds: summary FOLDER SCALE (the main table: each budget, vanilla and DyT, final and best), arms MEASURE
FOLDER SCALE, learned FOLDER SCALE, heuristic FOLDER SCALE, rank FOLDER SCALE, collapse FOLDER (every run
with a squashing norm), plateau FOLDER, entropy FOLDER, vit FOLDER, precision FOLDER (the ViT's 2 x 2),
convert FOLDER (a trained model's norms converted), diagnostics FOLDER (plateau.py's),
agreement FOLDER FOLDER (the runs two folders share, evaluation by evaluation), published COMMIT FOLDER
SCALE (the main table as README.md printed it at a commit, against the folder's), time FOLDER SCALE JOBS
[STUDY [LABELS]] (how long the runs of a study, regime unless named, of the comma-separated labels if given,
took, and the study at JOBS runs at once), claims FOLDER [ENTROPY_FOLDER] (the ledger of docs/claims.md),
and figure FOLDER/FILE NAME (a figure report.py drew, copied into docs/ as NAME). SCALE keeps the cells
of one config scale ("micro").
"""

import json
import os
import re
import shutil
import sys

import claims
import report
import studies
from runs import comparisons, group, load_runs
from atomic import atomic_open
from cli import ConfigError, run_cli
from stats import mean_std
from tables import delta, flags, fmt

HERE = os.path.dirname(os.path.abspath(__file__))
BLOCK = re.compile(r"(<!-- docs\.py (.+?) -->\n)(.*?)(<!-- /docs\.py -->)", re.S)


def pages():
    """README.md and every page of docs/."""
    docs = os.path.join(HERE, "docs")
    return [os.path.join(HERE, "README.md")] + sorted(os.path.join(docs, f) for f in os.listdir(docs) if f.endswith(".md"))


def located(path):
    """The repo path of a run folder or file a block names; one line if it is not there yet."""
    full = os.path.join(HERE, path)
    if not os.path.exists(full):
        raise ConfigError(f"{path} is not there: run the command the page names beside the block first")
    return full


def study(folder, scale=None):
    """The runs of a folder (runs.load_runs), those of one config scale if given, their regime cells, and every
    arm of them with its baseline (runs.comparisons)."""
    runs = [r for r in load_runs(located(folder))[0] if scale is None or r["config"].get("scale") == scale]
    cells = group(runs)[0]
    return runs, cells, comparisons(cells)


def summary_table(folder, scale):
    """The main grid in a few lines: per budget, vanilla and DyT at the final step and the best checkpoint."""
    lines = ["| budget | T/P | LayerNorm, final | DyT, final | Δ% final (p) | LayerNorm, best | DyT, best | Δ% best (p) |",
             "|---|---|---|---|---|---|---|---|"]
    for (_, _, budget), cell_rows in study(folder, scale)[2].items():
        van, dyt = next(((base, runs) for arm, runs, _, base, _ in cell_rows if arm == "dyt" and base), (None, None))
        if not (van and dyt):
            continue
        cols = []
        for measure in ("final_val_loss", "best_val_loss"):
            d, p = delta(van, dyt, measure)
            cols += [mean_std([r[measure] for r in van]), mean_std([r[measure] for r in dyt]) + flags(dyt),
                     f"{d:+.1f} ({fmt(p, '#.2g')})"]
        tp = sum(r["T_over_P"] for r in van + dyt) / len(van + dyt)
        lines.append(f"| {budget} | {tp:.2g} | " + " | ".join(cols) + " |")
    return lines


def agreement_table(first, second):
    """The runs two folders share, evaluation by evaluation: how many logged losses are bit-identical, and
    the largest difference otherwise."""
    a, b = ({r["name"]: r for r in study(folder)[0]} for folder in (first, second))
    lines = ["| run | evaluations | losses bit-identical | largest difference |", "|---|---|---|---|"]
    for name in sorted(set(a) & set(b)):
        pairs = [(x[k], y[k]) for x, y in zip(a[name]["log"], b[name]["log"]) for k in ("val_loss", "train_loss")]
        same = sum(x == y for x, y in pairs)
        lines.append(f"| {name} | {len(a[name]['log'])} | {same} of {len(pairs)} | {max(abs(x - y) for x, y in pairs):.2g} |")
    return lines


def diagnostics_table(folder):
    """plateau.py's records at every 100th step: per config, the loss, the median |s(x)| and saturation of the
    first and the last norm site, the output std of the last, and the mean gradient norm of the blocks."""
    with open(located(os.path.join(folder, "diagnostics.json"))) as f:
        results = json.load(f)
    lines = ["| config | step | loss | first site: median abs s(x), saturation | last site: median abs s(x), "
             "saturation, output std | block gradient norm (mean) |", "|---|---|---|---|---|---|"]
    for name, records in results.items():
        for r in records:
            if r["step"] % 100:
                continue
            sites = list(r["sites"].values())
            first, last = sites[0], sites[-1]
            blocks = [g for k, g in r["grad_norm"].items() if k != "embedding"]
            lines.append(f"| {name} | {r['step']} | {r['loss']:.2f} | {first['median']:.3g}, {fmt(first['saturation'], '.2f')} "
                         f"| {last['median']:.3g}, {fmt(last['saturation'], '.2f')}, {last['out_std']:.2g} "
                         f"| {sum(blocks) / len(blocks):.1e} |")
    return lines


def printed_again(then, now):
    """Whether a number printed then comes out again now, to the digits printed then (p values are printed
    to two significant digits now: 0.0073 where 0.007 was printed)."""
    return float(then) == round(float(now), len(then.partition(".")[2]))


def published_table(commit, folder, scale):
    """The main table as README.md printed it at an earlier commit, against the same table from the runs
    of the folder: how many of its printed numbers come out again, to the digits printed then."""
    import subprocess
    try:
        old = subprocess.run(["git", "show", f"{commit}:README.md"], cwd=HERE, capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        raise ConfigError(f"README.md at commit {commit} cannot be read: is this a clone with its history?") from None
    now = {line.split("|")[1].strip(): line for line in summary_table(folder, scale)[2:]}
    lines = ["| budget | printed then | now | numbers that come out again, to the digits printed then |",
             "|---|---|---|---|"]
    for line in old.splitlines():
        cells = [c.strip() for c in line.split("|")[1:-1]]
        if len(cells) == 8 and cells[0].lower() in now:
            numbers = re.findall(r"[-+]?\d+\.\d+", " ".join(cells[2:]).replace("−", "-"))
            mine = re.findall(r"[-+]?\d+\.\d+", " ".join(now[cells[0].lower()].split("|")[3:]))
            same = sum(map(printed_again, numbers, mine))
            lines.append(f"| {cells[0]} | {' / '.join(numbers[:2])} | {' / '.join(mine[:2])} | {same} of {len(numbers)} |")
    return lines


def time_table(folder, scale, jobs, study_name="regime", labels=None):
    """How long the runs of one study took (the regime study unless told: a folder may hold several; of the
    labels given, comma-separated, if any), as their summaries timed them (training and evaluation, not
    starting Python), and so how long the study takes with `jobs` runs at once."""
    wanted = labels.split(",") if labels else None  # a label, or arch/label: llama/dyt is a Llama's DyT alone
    runs = [r for r in study(folder, scale)[0] if r["config"].get("study") == study_name and (wanted is None or
            r["label"] in wanted or f"{r['config'].get('arch', 'gpt')}/{r['label']}" in wanted)]
    if not runs:
        raise ConfigError(f"{folder} holds no finished run of {labels or study_name}: run the command beside the block first")
    seconds = sorted(r["elapsed_s"] for r in runs)
    median = seconds[len(seconds) // 2]
    return ["| runs | seconds a run: median (least, most) | all runs, one after another | at " + jobs + " at once |",
            "|---|---|---|---|",
            f"| {len(runs)} | {median:.0f} ({seconds[0]:.0f}, {seconds[-1]:.0f}) | {sum(seconds) / 60:.0f} min "
            f"| {sum(seconds) / 60 / int(jobs):.0f} min |"]


def block(kind, args, page):
    """The lines of one generated block."""
    if kind == "summary":
        return summary_table(*args)
    if kind == "agreement":
        return agreement_table(*args)
    if kind == "diagnostics":
        return diagnostics_table(*args)
    if kind == "published":
        return published_table(*args)
    if kind == "time":
        return time_table(*args)
    if kind == "claims":
        return claims.ledger(located(args[0]), *(located(a) for a in args[1:]))
    if kind == "figure":
        source, name = args
        shutil.copyfile(located(source), os.path.join(HERE, "docs", name))
        link = os.path.relpath(os.path.join(HERE, "docs", name), os.path.dirname(page))
        return [f"![{os.path.splitext(name)[0].replace('_', ' ')}]({link})"]
    if kind == "arms":
        measure, folder, *scale = args
        return report.arms_table(study(folder, *scale)[2], measure)
    sections = {"learned": lambda runs, cells, rows: report.learned_section(cells),
                "heuristic": lambda runs, cells, rows: report.heuristic_section(rows)[0],
                "rank": lambda runs, cells, rows: report.rank_section(rows),
                "collapse": lambda runs, cells, rows: report.separation_table(runs),
                "plateau": lambda runs, cells, rows: studies.plateau_section(runs),
                "entropy": lambda runs, cells, rows: studies.entropy_section(runs),
                "vit": lambda runs, cells, rows: studies.vit_section(runs),
                "convert": lambda runs, cells, rows: studies.convert_section(runs),
                "precision": lambda runs, cells, rows: studies.precision_section(runs)}
    if kind not in sections:
        raise ConfigError(f"{page}: unknown docs.py block kind {kind!r}: see python docs.py --help")
    return [line for line in sections[kind](*study(*args)) if not line.startswith("## ")]  # report.md's heading


def regenerate(page, check, folder=None):
    """The page with every block written anew (those written from `folder` alone, if given: a study that
    trained again leaves the page's other blocks as their own folders wrote them); the names of the blocks
    that changed."""
    with open(page, encoding="utf-8") as f:
        text = f.read()
    changed = []

    def write(m):
        kind, *args = m.group(2).split()
        if folder and not any(a == folder or a.startswith(folder + "/") for a in args):
            return m.group(0)
        if kind == "figure" and check:  # a figure is copied, not compared
            return m.group(0)
        new = m.group(1) + "\n".join(block(kind, args, page)).strip("\n") + "\n" + m.group(4)
        if new != m.group(0):
            changed.append(m.group(2))
        return new

    text = BLOCK.sub(write, text)
    if changed and not check:
        with atomic_open(page) as f:
            f.write(text)
    return changed


def main(argv):
    check = "--check" in argv
    folder = None
    if "--from" in argv:
        at = argv.index("--from")
        if at + 1 == len(argv):
            raise ConfigError("--from needs a folder: python docs.py --from out/vit_precision [PAGE.md ...]")
        folder, argv = argv[at + 1].rstrip("/"), argv[:at] + argv[at + 2:]
    chosen = [a for a in argv if a != "--check"]
    for page in chosen:
        if not os.path.isfile(page) or not page.endswith(".md"):
            raise ConfigError(f"{page} is not a markdown page: usage: python docs.py [--check] [PAGE.md ...]")
    stale = [(page, name) for page in chosen or pages() for name in regenerate(page, check, folder)]
    for page, name in stale:
        print(f"{os.path.relpath(page)}: {name} {'differs from its runs' if check else 'rewritten'}")
    return 1 if stale and check else 0


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:], doc=__doc__))
