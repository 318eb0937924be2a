"""Sphinx configuration of the kmeans_quant documentation site.

Build offline, from the repository root::

    python -m pip install ".[docs]"
    python -m sphinx -W -b html docs docs/_build/html

The API reference comes from the docstrings (autodoc + numpydoc), the
gallery from the scripts in ``docs/examples`` (sphinx-gallery runs them and
keeps their figures), and the tutorial, internals and notebooks are MyST
pages (myst-nb renders the notebooks as committed, without executing them).
"""

from __future__ import annotations

import kmeans_quant

project = "kmeans_quant"
author = "kmeans_quant developers"
copyright = "kmeans_quant developers"  # noqa: A001 (Sphinx's name)
version = release = kmeans_quant.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = [
    "_build",
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
nb_execution_mode = "off"  # render the notebooks as committed; the tests execute them
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

html_theme = "alabaster"
html_static_path: list[str] = []
html_theme_options = {"description": "Colour quantization with a from-scratch K-Means"}
