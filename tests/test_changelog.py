"""The changelog follows Keep a Changelog, knows the current version and speaks to users."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import kmeans_quant

CHANGELOG = (Path(__file__).resolve().parents[1] / "CHANGELOG.md").read_text(encoding="utf-8")
HEADINGS = re.findall(r"^## \[([^\]]+)\](.*)$", CHANGELOG, flags=re.M)
RELEASES = [(name, rest) for name, rest in HEADINGS if name != "Unreleased"]
KINDS = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split("."))


def _section(name: str) -> str:
    return CHANGELOG.split(f"## [{name}]", 1)[1].split("\n## [", 1)[0]


def test_unreleased_if_any_comes_first():
    names = [name for name, _ in HEADINGS]
    assert "Unreleased" not in names[1:]


def test_the_current_version_is_the_newest_release():
    assert RELEASES[0][0] == kmeans_quant.__version__


def test_releases_are_newest_first_with_a_version_number():
    versions = [_version(name) for name, _ in RELEASES]
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(versions)


def test_the_newest_release_has_a_date():
    assert re.fullmatch(r" - \d{4}-\d{2}-\d{2}", RELEASES[0][1])


def test_every_section_lists_changes_under_the_standard_kinds():
    for name, _ in HEADINGS:
        body = _section(name)
        kinds = re.findall(r"^### (.+)$", body, flags=re.M)
        assert kinds and set(kinds) <= set(KINDS), (name, kinds)
        assert re.search(r"^- ", body, flags=re.M), name


def test_every_release_has_a_link():
    for name, _ in RELEASES:
        assert re.search(rf"^\[{re.escape(name)}\]: https://", CHANGELOG, flags=re.M), name


def test_no_issue_numbers_users_cannot_see():
    # Users read the changelog without the tracker: no issue or "#" numbers.
    assert not re.search(r"\bissues? \d|#\d{1,4}(?![0-9a-fA-F])", CHANGELOG, flags=re.I)


ROOT = Path(__file__).resolve().parents[1]
TEXT = (".py", ".md", ".rst", ".ipynb", ".toml", ".txt", ".cfg")


def test_no_issue_numbers_anywhere_in_the_project():
    # Not in the docs, code comments or notebooks either.
    found = []
    files = [p for p in ROOT.iterdir() if p.is_file()]
    for folder in ("kmeans_quant", "tests", "docs", "benchmarks", ".ci"):
        files += (ROOT / folder).rglob("*")
    for path in files:
        parts = path.relative_to(ROOT).parts
        if path.suffix not in TEXT or "_build" in parts or "__pycache__" in parts:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\bissues? #?\d", line, flags=re.I):
                found.append(f"{path.relative_to(ROOT)}:{n}")
    assert found == []


def test_the_package_metadata_is_ready_for_a_release():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "BSD-3-Clause" and project["license-files"] == ["LICENSE"]
    assert "BSD 3-Clause License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert {"Homepage", "Source", "Issues", "Changelog"} <= set(project["urls"])
    assert not any(c.startswith("License ::") for c in project["classifiers"])  # PEP 639
    assert project["dynamic"] == ["version"]  # read from kmeans_quant.__version__
