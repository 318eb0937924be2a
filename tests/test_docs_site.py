"""The documentation site builds offline with no warnings, and holds what a learner needs.

The site is built once per session (the ``docs_site`` fixture in conftest.py,
with the README's command); tests/test_docs_browser.py opens the same site in
a real browser. Everything here reads the built files.
"""

from __future__ import annotations

import html
import importlib
import json
import pkgutil
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import kmeans_quant

pytestmark = pytest.mark.slow

NOTEBOOKS = ("01_from_scratch", "02_compress_a_photo", "03_choosing_k")


def public_modules() -> dict[str, object]:
    """Every module of the package that declares an API (``__all__``), by short name."""
    found = {}
    for info in pkgutil.iter_modules(kmeans_quant.__path__):
        if info.name.startswith("_") or info.name in ("conftest", "__main__"):
            continue
        module = importlib.import_module(f"kmeans_quant.{info.name}")
        if hasattr(module, "__all__"):
            found[info.name] = module
    return found


def lookup(dotted: str):
    """The object a documented dotted name stands for, or None."""
    parts = dotted.split(".")
    obj = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], start=1):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            try:
                obj = importlib.import_module(".".join(parts[: i + 1]))
            except ImportError:
                return None
    return obj


def pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.parts)


def test_every_page_is_built(docs_site):
    for page in (
        "index",
        "tutorial",
        "internals",
        "scaling",
        "api/index",
        *(f"notebooks/{nb}" for nb in NOTEBOOKS),
        "auto_examples/index",
        "auto_examples/plot_quantize",
    ):
        assert (docs_site / f"{page}.html").is_file(), f"{page}.html was not built"
    # The gallery ran its scripts and kept their figures.
    assert len(list((docs_site / "_images").glob("sphx_glr_plot_*_001.png"))) >= 4


def test_each_public_module_has_its_own_api_page(docs_site):
    modules = public_modules()
    assert {"engine", "quality", "image", "naive", "dask", "cli"} <= set(modules)
    for name in modules:
        page = docs_site / "api" / f"{name}.html"
        assert page.is_file(), f"no API page for kmeans_quant.{name}"
        assert f'id="module-kmeans_quant.{name}"' in page.read_text(), page.name


def test_api_reference_documents_every_public_callable(docs_site):
    anchors: set[str] = set()
    examples = 0
    for page in (docs_site / "api").glob("*.html"):
        text = page.read_text()
        anchors |= set(re.findall(r'<dt class="sig sig-object py" id="([^"]+)"', text))
        examples += text.count(">Examples<")
    documented = {id(obj) for obj in map(lookup, anchors) if obj is not None}
    missing = [
        f"kmeans_quant.{name}.{attr}"
        for name, module in public_modules().items()
        for attr in module.__all__
        if callable(getattr(module, attr)) and id(getattr(module, attr)) not in documented
    ]
    missing += [
        f"kmeans_quant.{attr}"
        for attr in kmeans_quant.__all__
        if id(getattr(kmeans_quant, attr)) not in documented
    ]
    assert not missing, f"not in the API reference: {missing}"
    # The QualityTooLow exception a learner meets is there under its own name.
    assert "kmeans_quant.quality.QualityTooLow" in anchors
    # Their examples come along (numpydoc renders the Examples section).
    assert examples >= 20


def test_inline_names_in_the_tutorial_link_to_the_api(docs_site):
    text = (docs_site / "tutorial.html").read_text()
    linked_code = re.findall(
        r'<a class="reference internal" href="([^"]+)"[^>]*><code[^>]*>(.*?)</code>', text, re.S
    )
    links = {html.unescape(re.sub(r"<[^>]+>", "", code)): href for href, code in linked_code}
    for name, anchor in (
        ("kmeans_plusplus", "api/engine.html#kmeans_quant.kmeans_plusplus"),
        ("kmeans_steps", "api/engine.html#kmeans_quant.kmeans_steps"),
        ("quantize", "api/image.html#kmeans_quant.quantize"),
        ("naive.kmeans", "api/naive.html#kmeans_quant.naive.kmeans"),
        ("extract_palette", "api/image.html#kmeans_quant.extract_palette"),
    ):
        assert links.get(name) == anchor, f"{name!r} links to {links.get(name)!r}"
    # A parameter name is not a link.
    assert "tol" not in links and "k" not in links


def test_notebook_pages_show_their_outputs(docs_site):
    choosing = (docs_site / "notebooks" / "03_choosing_k.html").read_text()
    assert "dB per doubling of k" in choosing
    assert choosing.count('<img alt="_images/') + choosing.count('src="../_images/') >= 2
    compress = (docs_site / "notebooks" / "02_compress_a_photo.html").read_text()
    assert "compression factor 6.00" in compress
    assert compress.count('src="../_images/') >= 2
    exercise = (docs_site / "notebooks" / "01_from_scratch.html").read_text()
    # As shipped: the stubs' errors under the checks, the engine's run drawn.
    assert "exercise 1: write assign(X, C)" in exercise
    assert "updates; inertia:" in exercise
    assert exercise.count('src="../_images/') >= 1
    for name in NOTEBOOKS:
        page = (docs_site / "notebooks" / f"{name}.html").read_text()
        # A slider needs a kernel: no widget, and no widget script fetched from the web.
        assert "widget-view" not in page and "embed-amd" not in page, name


def test_the_exercise_downloads_with_its_checks(docs_site):
    page = (docs_site / "notebooks" / "01_from_scratch.html").read_text()
    href = re.search(r'href="([^"]*kmeans_from_scratch\.zip)"', page).group(1)
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "python -m jupyter lab 01_from_scratch.ipynb" in text
    bundle = (docs_site / "notebooks" / href).resolve()
    with zipfile.ZipFile(bundle) as z:
        names = set(z.namelist())
        assert names == {
            "kmeans_from_scratch/01_from_scratch.ipynb",
            "kmeans_from_scratch/checks.py",
            "kmeans_from_scratch/solutions.py",
        }
        source = Path(__file__).resolve().parents[1] / "docs" / "notebooks"
        assert z.read("kmeans_from_scratch/checks.py") == (source / "checks.py").read_bytes()
    for name in NOTEBOOKS[1:]:
        page = (docs_site / "notebooks" / f"{name}.html").read_text()
        href = re.search(rf'href="([^"]*{name}\.ipynb)"', page).group(1)
        assert (docs_site / "notebooks" / href).resolve().is_file(), href


def test_the_site_needs_no_network(docs_site):
    # MathJax is served from the site itself; no page loads a script, style or
    # font from elsewhere.
    assert (docs_site / "_static" / "mathjax" / "tex-chtml.js").is_file()
    remote = re.compile(r'<(?:script|link|img)\b[^>]*(?:src|href)="(https?:)?//', re.I)
    for page in pages(docs_site):
        text = page.read_text()
        assert not remote.search(text), f"{page.relative_to(docs_site)} loads from the web"
    tutorial = (docs_site / "tutorial.html").read_text()
    assert 'src="_static/mathjax/tex-chtml.js' in tutorial


def test_internal_links_and_anchors_resolve(docs_site):
    ids: dict[Path, set[str]] = {}

    def anchors_of(path: Path) -> set[str]:
        if path not in ids:
            ids[path] = set(re.findall(r'\sid="([^"]+)"', path.read_text()))
        return ids[path]

    broken = []
    n_links = 0
    for page in pages(docs_site):
        for href in re.findall(r'<a\b[^>]*\shref="([^"]+)"', page.read_text()):
            parts = urlsplit(html.unescape(href))
            if parts.scheme or parts.netloc or href.startswith("mailto:"):
                continue
            n_links += 1
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not target.exists():
                broken.append(f"{page.relative_to(docs_site)} -> {href}")
            elif parts.fragment and target.suffix == ".html":
                if unquote(parts.fragment) not in anchors_of(target):
                    broken.append(f"{page.relative_to(docs_site)} -> {href} (no such anchor)")
    assert n_links > 1000
    assert not broken, "broken links:\n" + "\n".join(broken[:40])


def test_search_index_knows_the_words_learners_type(docs_site):
    text = (docs_site / "searchindex.js").read_text()
    index = json.loads(text[text.index("(") + 1 : text.rindex(")")])
    assert "centroid" in index["terms"]
    docnames = index["docnames"]
    for term, docs in (
        ("k-means++", {"tutorial", "api/engine"}),
        ("centroid", {"tutorial", "api/engine"}),
    ):
        entries = index["indexentries"][term]
        assert {docnames[e[0]] for e in entries} == docs, term
        assert all(e[2] for e in entries), f"{term}: entries should be main entries"
