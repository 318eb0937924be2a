"""Every measured number quoted in docs/tutorial.md and docs/pitfalls.md comes from the figure run.

The figure package (``python -m docs.make_figures``) writes the numbers it
measures to docs/figures/summary.txt. This test reads the tutorial's prose
and tables (not its code blocks, which the doctests check, nor its
formulas, links or reading list) and requires every decimal number and
every whole number of four or more digits to be one of the summary's
numbers, written with the same or fewer decimals. Small whole numbers (k,
section numbers, seeds) are parameters, not measurements, and are not
checked; a few outside constants are listed below with their source.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"

# Numbers the tutorial quotes that the figure run does not measure.
OUTSIDE = {
    "1973": "year of Bayer's paper",
    "1976": "year of CIELAB / Floyd-Steinberg",
    "1982": "year of Lloyd's and Heckbert's papers",
    "2007": "year of Arthur and Vassilvitskii's paper",
    "2020": "year of Ottosson's Oklab post",
    "2.3": "the just-noticeable ΔE76, a textbook value",
}

NUMBER = re.compile(r"(?<![\w.])(\d+\.\d+|\d{4,})(?![\w.]*\d)")


def prose(markdown: str) -> str:
    """The tutorial without code blocks, formulas, link targets and reading list."""
    text = markdown.split("\n## Further reading", 1)[0]
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$", "", text, flags=re.S)
    text = re.sub(r"\$[^$]*\$", "", text)
    return re.sub(r"\]\([^)]*\)", "]", text)


def summary_numbers(summary: str) -> tuple[set[str], list[float]]:
    tokens = set(re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]\d+)?", summary))
    return tokens, [float(t) for t in tokens]


def unmatched(markdown: str, summary: str) -> list[tuple[str, str]]:
    """(number, context) for each quoted number the summary does not hold."""
    tokens, values = summary_numbers(summary)
    text = prose(markdown)
    missing = []
    for m in NUMBER.finditer(text):
        quoted = m.group(1)
        if quoted in tokens or quoted in OUTSIDE:
            continue
        if "." in quoted:  # a summary value written with fewer decimals
            places = len(quoted.split(".")[1])
            if any(round(v, places) == float(quoted) for v in values):
                continue
        context = text[max(0, m.start() - 50) : m.end() + 20].replace("\n", " ")
        missing.append((quoted, context))
    return missing


@pytest.fixture(scope="module")
def texts() -> tuple[str, str]:
    return (DOCS / "tutorial.md").read_text(), (DOCS / "figures" / "summary.txt").read_text()


@pytest.mark.parametrize(("page", "at_least"), [("tutorial.md", 100), ("pitfalls.md", 30)])
def test_every_quoted_number_is_in_the_summary(page, at_least):
    tutorial = (DOCS / page).read_text()
    summary = (DOCS / "figures" / "summary.txt").read_text()
    assert len(NUMBER.findall(prose(tutorial))) > at_least  # the check has something to check
    missing = unmatched(tutorial, summary)
    assert not missing, "numbers quoted but not in summary.txt:\n" + "\n".join(
        f"  {n!r} in ...{c}..." for n, c in missing
    )


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("52.53 at convergence", "52.54 at convergence"),  # a stale measurement
        ("135300 pixels hold", "135301 pixels hold"),  # a miscounted one
        ("| 97.84 | 149.14 |", "| 97.84 | 149.33 |"),
    ],  # a table cell, digits swapped
)
def test_the_check_catches_a_changed_number(texts, old, new):
    tutorial, summary = texts
    assert old in tutorial
    changed = tutorial.replace(old, new, 1)
    expected = "149.33" if "|" in new else new.split()[0]
    assert [n for n, _ in unmatched(changed, summary)] == [expected]


def test_numbers_in_code_and_formulas_are_left_to_the_doctests():
    text = "A $x = 12.345$ and\n```python\n>>> 98.765\n```\n and 1.5 here"
    assert [n for n, _ in unmatched(text, "value: 1.50")] == []
    assert [n for n, _ in unmatched(text, "value: 1.6")] == ["1.5"]


@pytest.mark.slow
def test_summary_is_what_the_figure_run_writes(tmp_path):
    """The committed summary.txt is the full run's output (about 10 s)."""
    pytest.importorskip("matplotlib")
    from test_docs_figures import load_figure_package

    out = load_figure_package().main(["--out", str(tmp_path)])
    assert (out / "summary.txt").read_text() == (DOCS / "figures" / "summary.txt").read_text()
