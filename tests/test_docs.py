"""Every number of README.md and docs/ is written by docs.py from run folders, and a page's tables are
exactly what the command writes."""

import os
import re

from conftest import REPO, run
from docs import BLOCK
from test_report import make_run

import report
from runs import comparisons, group, load_runs


def page_of(tmp_path, study):
    page = tmp_path / "page.md"
    page.write_text("# A page\n\nProse without numbers.\n\n"
                    f"<!-- docs.py summary {study} micro -->\n<!-- /docs.py -->\n\nMore prose.\n\n"
                    f"<!-- docs.py arms best_val_loss {study} micro -->\nstale\n<!-- /docs.py -->\n\n"
                    f"<!-- docs.py learned {study} micro -->\n<!-- /docs.py -->\n\n"
                    f"<!-- docs.py time {study} micro 2 -->\n<!-- /docs.py -->\n")
    return page


def test_a_pages_tables_are_what_the_command_writes_from_its_study_folder(tmp_path):
    study = tmp_path / "study"
    for seed in (1, 2, 3):
        for budget, tokens in (("8k", 8000), ("1m", 1_000_000)):
            make_run(study, ("vanilla", "micro", budget), seed, 3.6 + seed / 50, best=2.8, unigram=(3.2, 3.4),
                     train_tokens=tokens, n_params=0.82e6)
            make_run(study, ("dyt", "micro", budget), seed, 3.0 + seed / 40, best=2.9, saturation=0.6, unigram=(3.2, 3.4),
                     train_tokens=tokens, n_params=0.82e6)
    make_run(study, ("dyt_alpha1", "micro", "8k"), 1, 3.3, study="plateau", train_tokens=8000)  # another study's
    page = page_of(tmp_path, study)
    run("docs.py", page)
    text = page.read_text()
    blocks = {m.group(2).split()[0]: m.group(3) for m in BLOCK.finditer(text)}
    runs, _ = load_runs(str(study))
    cells = group(runs)[0]
    assert blocks["arms"] == "\n".join(report.arms_table(comparisons(cells), "best_val_loss")) + "\n"  # report.md's
    summary = blocks["summary"].splitlines()
    assert summary[0].startswith("| budget | T/P | LayerNorm, final | DyT, final |") and len(summary) == 4
    assert summary[2].startswith("| 8k | 0.0098 | 3.640 ± 0.020 | 3.050 ± 0.025 | -16.2 (")
    assert "| micro | 8k | vanilla | 3.200 / 3.400 |" in blocks["learned"]
    # 12 runs of 60, 120 and 180 s (seeds 1, 2, 3): 24 minutes one after another, 12 two at once
    assert blocks["time"].splitlines()[2] == "| 12 | 120 (60, 180) | 24 min | 12 min |"
    assert text.startswith("# A page\n\nProse without numbers.") and "stale" not in text
    # --check finds nothing to change; a number typed into a block by hand is named
    assert run("docs.py", "--check", page).returncode == 0
    page.write_text(text.replace("3.640 ± 0.020", "3.600 ± 0.020"))
    p = run("docs.py", "--check", page, expect_ok=False)
    assert p.returncode == 1 and p.stdout.strip().endswith(f"summary {study} micro differs from its runs")
    run("docs.py", page)
    assert page.read_text() == text


def test_every_block_of_the_readme_and_docs_names_a_kind_and_a_folder():
    kinds = {"summary", "arms", "learned", "heuristic", "rank", "collapse", "plateau", "entropy", "vit", "diagnostics",
             "agreement", "published", "time", "figure", "claims", "convert", "precision"}
    pages = [os.path.join(REPO, "README.md")] + [os.path.join(REPO, "docs", f) for f in os.listdir(os.path.join(REPO, "docs"))
                                                  if f.endswith(".md")]
    found = 0
    for page in pages:
        text = open(page).read()
        assert text.count("<!-- docs.py ") == text.count("<!-- /docs.py -->"), page
        for m in BLOCK.finditer(text):
            kind, *args = m.group(2).split()
            assert kind in kinds and args[1 if kind in ("arms", "published") else 0].startswith("out/"), (page, m.group(2))
            found += 1
        # outside the blocks, a page states no measured number: no loss to three decimals, no ± and no
        # percentage (settings such as alpha_0 = 0.5 or std 0.02 are not measurements)
        prose = BLOCK.sub("", text)
        prose = re.sub(r"```.*?```", "", prose, flags=re.S)  # commands, and what they printed
        prose = re.sub(r"arXiv \d{4}\.\d{4,5}", "", prose)
        typed = re.findall(r"(?<![\w.])(\d+(?:\.\d+)?%|\d+\.\d{3,})(?![\w.])|±", prose)
        assert not typed, (page, typed[:5])
    assert found >= 10


def test_a_printed_number_comes_out_again_only_to_the_digits_it_was_printed_with():
    from docs import printed_again
    assert printed_again("0.007", "0.0073") and printed_again("+3.8", "+3.8") and printed_again("2.5168", "2.5168")
    assert not printed_again("0.007", "0.0078") and not printed_again("3.625", "3.626") and not printed_again("-17.2", "17.2")
