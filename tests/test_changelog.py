"""The changelog follows Keep a Changelog and knows the current version."""

from __future__ import annotations

import re
from pathlib import Path

import kmeans_quant

CHANGELOG = (Path(__file__).resolve().parents[1] / "CHANGELOG.md").read_text(encoding="utf-8")
HEADINGS = re.findall(r"^## \[([^\]]+)\]", CHANGELOG, flags=re.M)


def test_unreleased_comes_first_and_is_not_empty():
    assert HEADINGS[0] == "Unreleased"
    unreleased = CHANGELOG.split("## [Unreleased]", 1)[1].split("\n## [", 1)[0]
    assert re.search(r"^### (Added|Changed|Deprecated|Removed|Fixed|Security)$", unreleased, re.M)
    assert re.search(r"^- ", unreleased, re.M)


def test_the_current_version_is_the_newest_release():
    assert HEADINGS[1] == kmeans_quant.__version__
