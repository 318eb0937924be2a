"""What the documentation site adds to the pages it builds from the sources.

The Markdown pages (tutorial, chapters, notebooks) are also read as plain
files on a code host, so they stay free of Sphinx markup; this extension
does at build time what the markup would do:

* **API links.** An inline code name such as ``quantize``, ``naive.kmeans``
  or ``kmeans(..., relax=a)`` that names a public function, class or module
  of ``kmeans_quant`` links to its entry in the API reference. References
  written in docstrings under another public name of the same object (say
  ``kmeans_quant.engine.kmeans`` for ``kmeans_quant.kmeans``) resolve too.
* **Figures.** An image wider than the text column is shown at the column's
  width and links to itself at full size.
* **Search keywords.** ``site_search_keywords`` in ``conf.py`` adds index
  entries (which Sphinx's search ranks first) at named sections, so that a
  search for "k-means++" lands on the section that explains it.
* **Notebook downloads.** Each notebook page starts with a note on running it
  in Jupyter and a link to download it; the exercise comes as a zip with its
  ``checks.py`` (and ``solutions.py``), written into the built site.
"""

from __future__ import annotations

import importlib
import inspect
import re
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.images import get_image_size

PACKAGE = "kmeans_quant"

# An inline name, optionally called: ``kmeans_steps``, ``naive.kmeans``,
# ``quantize(img, k)``. Keyword fragments (``dither="none"``) do not match.
_NAME = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:\(.*\))?$", re.S)


# --- public names and the entries that document them -------------------------


def _lookup(dotted: str) -> Any:
    """The object a dotted path names (modules imported as needed), or None."""
    parts = dotted.split(".")
    if parts[0] != PACKAGE or any(p.startswith("_") for p in parts):
        return None
    obj: Any = importlib.import_module(PACKAGE)
    for i, part in enumerate(parts[1:], start=1):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            try:
                obj = importlib.import_module(".".join(parts[: i + 1]))
            except ImportError:
                return None
    return obj


def _linkable(obj: Any) -> bool:
    """Functions, classes and modules of the package: objects with one identity."""
    if isinstance(obj, ModuleType):
        return obj.__name__.startswith(PACKAGE)
    if inspect.isfunction(obj) or inspect.isclass(obj):
        return getattr(obj, "__module__", "").startswith(PACKAGE)
    return False


# Filled on first use once every page is read; emptied when the pages change.
_DOCUMENTED: dict[int, str] = {}


def _forget_documented(app: Sphinx, env) -> None:
    _DOCUMENTED.clear()


def _documented(env) -> dict[int, str]:
    """id(object) -> the name under which the API reference documents it."""
    if _DOCUMENTED:
        return _DOCUMENTED
    found = _DOCUMENTED
    for name, entry in sorted(env.get_domain("py").objects.items()):
        if entry.aliased:
            continue
        obj = _lookup(name)
        if obj is not None and _linkable(obj):
            # The shortest public name wins: kmeans_quant.kmeans over engine.kmeans.
            known = found.get(id(obj))
            if known is None or len(name) < len(known):
                found[id(obj)] = name
    return found


def _target_for(text: str, env, *, modules: bool) -> tuple[str, str] | None:
    """(documented name, role) for an inline name, or None if it names nothing public."""
    m = _NAME.match(text.strip())
    if not m:
        return None
    name = m.group(1)
    candidates = [name] if name.startswith(PACKAGE + ".") or name == PACKAGE else []
    candidates.append(f"{PACKAGE}.{name}")
    for dotted in candidates:
        obj = _lookup(dotted)
        if obj is None or not _linkable(obj):
            continue
        if isinstance(obj, ModuleType) and not (modules or dotted == name):
            continue  # a bare ``image`` or ``io`` is a word, not the module
        documented = _documented(env).get(id(obj))
        if documented is not None:
            role = "mod" if isinstance(obj, ModuleType) else "obj"
            return documented, role
    return None


class LinkInlineNames(SphinxPostTransform):
    """Inline code naming a public object becomes a link to its API entry."""

    default_priority = 5  # before the references are resolved (10)

    def run(self, **kwargs: Any) -> None:
        if self.env.docname.startswith("api/"):
            return  # autodoc links the API pages itself
        for node in list(self.document.findall(nodes.literal)):
            if isinstance(node.parent, (nodes.reference, addnodes.pending_xref)):
                continue
            if isinstance(node.parent, nodes.literal_block):
                continue
            found = _target_for(node.astext(), self.env, modules=False)
            if found is None:
                continue
            target, role = found
            xref = addnodes.pending_xref(
                "",
                refdomain="py",
                reftype=role,
                reftarget=target,
                refexplicit=True,
                refwarn=False,
                refdoc=self.env.docname,
            )
            node.replace_self(xref)
            xref.append(node)


def resolve_public_alias(app: Sphinx, env, node, contnode):
    """A Python reference not found under its own name, tried under its documented one."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"]
    module = node.get("py:module") or ""
    for name in (target, f"{module}.{target}" if module else None):
        if not name:
            continue
        obj = _lookup(name)
        if obj is None or not _linkable(obj):
            continue
        documented = _documented(env).get(id(obj))
        if documented is None or documented == target:
            continue
        domain = env.get_domain("py")
        role = "mod" if isinstance(obj, ModuleType) else "obj"
        return domain.resolve_xref(
            env, node["refdoc"], app.builder, role, documented, node, contnode
        )
    if "." not in target:
        # A bare name documented once, under a module the page did not name.
        domain = env.get_domain("py")
        found = [n for n in domain.objects if n.startswith(PACKAGE) and n.endswith("." + target)]
        if len(found) == 1:
            return domain.resolve_xref(
                env, node["refdoc"], app.builder, "obj", found[0], node, contnode
            )
    return None


# --- figures ----------------------------------------------------------------


def fit_wide_images(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Images wider than the text column: drawn at its width, linked to full size.

    By now every image URI is relative to the source folder (or absolute, for
    the notebooks' outputs).
    """
    column = app.config.site_text_width
    for node in doctree.findall(nodes.image):
        if any(key in node for key in ("width", "height", "scale")):
            continue
        uri = node["uri"]
        if "://" in uri or uri.startswith("data:"):
            continue
        path = Path(app.srcdir, uri)
        size = get_image_size(path) if path.is_file() else None
        if size is not None and size[0] > column:
            # Sphinx links a resized image to its full-size file.
            node["width"] = "100%"


# --- search keywords ----------------------------------------------------------


class AddSearchKeywords(SphinxTransform):
    """Index entries for ``site_search_keywords``, at the start of the named sections."""

    default_priority = 210

    def apply(self, **kwargs: Any) -> None:
        wanted = [
            (term, title)
            for term, places in self.config.site_search_keywords.items()
            for docname, title in places
            if docname == self.env.docname
        ]
        for term, title in wanted:
            section = next(
                (s for s in self.document.findall(nodes.section) if s[0].astext().strip() == title),
                None,
            )
            if section is None:
                raise ValueError(
                    f"site_search_keywords: no section titled {title!r} in {self.env.docname}"
                )
            target_id = nodes.make_id(f"index-{term}")
            target = nodes.target("", "", ids=[target_id])
            index = addnodes.index(entries=[("single", term, target_id, "main", None)])
            section.insert(1, target)
            section.insert(1, index)


# --- notebook pages -----------------------------------------------------------


def _note(*children: nodes.Node) -> nodes.note:
    return nodes.note("", nodes.paragraph("", "", *children))


def _code(text: str) -> nodes.literal:
    return nodes.literal(text, text)


def exercise_bundle(app: Sphinx) -> None:
    """Write the exercise zip (notebook, checks, solutions) into the built site."""
    source = Path(app.srcdir, "notebooks")
    spec = app.config.site_exercise
    out = Path(app.outdir, "_downloads", "exercise", spec["zip"])
    out.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(spec["zip"]).stem
    tmp = out.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name in spec["files"]:
            # A fixed date: the same sources give the same bytes.
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, (source / name).read_bytes())
    tmp.replace(out)


class NotebookHeader(SphinxTransform):
    """A note under the title of each notebook page: how to run it, and the download."""

    default_priority = 211

    def apply(self, **kwargs: Any) -> None:
        docname = self.env.docname
        if not docname.startswith("notebooks/"):
            return
        path = self.env.doc2path(docname)
        if Path(path).suffix != ".ipynb":
            return
        up = "../" * docname.count("/")
        spec = self.config.site_exercise
        name = Path(path).name
        if name == spec["notebook"]:
            href = f"{up}_downloads/exercise/{spec['zip']}"
            folder = Path(spec["zip"]).stem
            link = nodes.reference("", spec["zip"], refuri=href)
            note = _note(
                nodes.Text("Do this exercise in Jupyter: download "),
                link,
                nodes.Text(
                    " (this notebook, checks.py that checks your answers, and "
                    "solutions.py for afterwards), unzip it, and run "
                ),
                _code(f"cd {folder} && python -m jupyter lab {name}"),
                nodes.Text(
                    " (or jupyter notebook). It needs kmeans_quant, matplotlib and Jupyter: "
                ),
                _code("python -m pip install jupyterlab"),
                nodes.Text(
                    " next to kmeans_quant's [docs] extra. Below, the outputs are those of "
                    "the notebook as shipped: each check shows the exercise's "
                    "NotImplementedError until you write it."
                ),
            )
        else:
            href = f"{up}_downloads/notebooks/{name}"
            link = nodes.reference("", name, refuri=href)
            note = _note(
                nodes.Text("Run it yourself in Jupyter: download "),
                link,
                nodes.Text(" and run "),
                _code(f"python -m jupyter lab {name}"),
                nodes.Text(
                    " in its folder (with kmeans_quant, matplotlib and Jupyter installed). "
                    "The outputs below were computed when this site was built."
                ),
            )
        section = next(iter(self.document.findall(nodes.section)), None)
        if section is None:
            return
        section.insert(1, note)


def notebook_copies(app: Sphinx, exception: Exception | None) -> None:
    """The notebooks themselves, for the download links of their pages."""
    if exception is not None:
        return
    out = Path(app.outdir, "_downloads", "notebooks")
    out.mkdir(parents=True, exist_ok=True)
    for nb in sorted(Path(app.srcdir, "notebooks").glob("*.ipynb")):
        (out / nb.name).write_bytes(nb.read_bytes())


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("site_text_width", 900, "env", types=(int,))
    app.add_config_value("site_search_keywords", {}, "env", types=(dict,))
    app.add_config_value("site_exercise", {}, "env", types=(dict,))
    app.add_post_transform(LinkInlineNames)
    app.add_transform(AddSearchKeywords)
    app.add_transform(NotebookHeader)
    app.connect("env-updated", _forget_documented)
    app.connect("missing-reference", resolve_public_alias)
    app.connect("doctree-resolved", fit_wide_images)
    app.connect("builder-inited", exercise_bundle)
    app.connect("build-finished", notebook_copies)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
