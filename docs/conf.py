"""Sphinx configuration of the kmeans_quant documentation site.

Build offline, from the repository root::

    python -m pip install ".[docs]"
    python -m sphinx -W -b html docs docs/_build/html

The built site needs no network to be read either: MathJax is copied into it
from the ``sphinx-mathjax-offline`` package. The API reference comes from
the docstrings (autodoc + numpydoc), one page per module; the gallery from
the scripts in ``docs/examples`` (sphinx-gallery runs them and keeps their
figures); the tutorial, the chapters and the notebooks are MyST pages, and
myst-nb executes the notebooks at every build, each cell under a timeout.
``_ext/sitetools.py`` links inline names to the API, fits wide figures to
the page, adds search keywords and the notebooks' downloads.
"""

from __future__ import annotations

import sys
from pathlib import Path

import kmeans_quant

# The site's own extension lives beside this file (Sphinx's usual place).
sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "kmeans_quant"
author = "kmeans_quant developers"
copyright = "kmeans_quant developers"  # noqa: A001 (Sphinx's name)
version = release = kmeans_quant.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # serves MathJax from the built site: no network
    "numpydoc",
    "myst_nb",
    "sphinx_gallery.gen_gallery",
    "sitetools",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "_ext",
    "**/.ipynb_checkpoints",
    "benchmarks.md",  # benchmark reports, read on GitHub beside their data
    "quality.md",
    "icons.md",
    "bench/**",
    "make_figures/**",
    "examples/**",  # the gallery's sources; sphinx-gallery writes auto_examples/
    "auto_examples/*.ipynb",  # sphinx-gallery's notebook downloads, not pages
    "auto_examples/*.py",
    "auto_examples/*.zip",
]

# --- API reference --------------------------------------------------------
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc's Parameters sections already give the types
autosummary_generate = False  # the API page lists its entries itself
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()  # no strict docstring validation
numpydoc_xref_param_type = False

# --- MyST pages and notebooks ----------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
# Every build runs the notebooks, so their figures are on the pages. A cell
# that takes longer than the timeout fails the build instead of hanging it;
# cells that must raise as shipped (the exercise stubs) carry the
# "raises-exception" tag.
nb_execution_mode = "force"
nb_execution_timeout = 180  # seconds per cell; each takes a few
nb_execution_raise_on_error = True
nb_execution_show_tb = True
# The slider cells' widgets need a kernel; their output is removed from the
# pages (the "remove-output" tag) and no widget script is loaded from the web.
nb_ipywidgets_js: dict[str, dict[str, str]] = {}
suppress_warnings = ["myst.header"]  # pages start at "#", sections may skip levels

# --- gallery ----------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "show_memory": False,
    "min_reported_time": 1e9,  # no timings on the pages: they rot
    "write_computation_times": False,
}

# No text snippets under the search results: they are fetched page by page,
# which a browser refuses for a site opened from disk (file://).
html_show_search_summary = False
html_theme = "alabaster"
html_static_path: list[str] = []
html_theme_options = {
    "description": "Colour quantization with a from-scratch K-Means",
    "page_width": "1180px",  # room for the figures: a 900 px text column
    "sidebar_width": "220px",
    "body_max_width": "none",
}

# --- sitetools (docs/_ext/sitetools.py) ---------------------------------------
site_text_width = 900  # wider images are fitted to the column and link to full size
# Search terms ranked first (as index entries) for the sections that explain them.
site_search_keywords = {
    "k-means++": [
        ("tutorial", "3. Starting well: k-means++"),
        ("api/engine", "Seeding: k-means++"),
    ],
    "centroid": [
        ("tutorial", "2. The two steps, in two dimensions"),
        ("api/engine", "The two steps"),
    ],
}
site_exercise = {
    "notebook": "01_from_scratch.ipynb",
    "zip": "kmeans_from_scratch.zip",
    "files": ["01_from_scratch.ipynb", "checks.py", "solutions.py"],
}
