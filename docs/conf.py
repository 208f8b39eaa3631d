"""Sphinx configuration of the skemotion documentation.

Build (warnings are errors)::

    make -C docs html           # the site; the gallery's examples are not executed
    make -C docs html-gallery   # the site with every example executed (several minutes)

or ``python -m sphinx -W -b html docs docs/_build/html`` (add ``-D plot_gallery=1`` to run the
examples).

Cross-references to scikit-learn, PyTorch, skorch, imbalanced-learn and MNE (intersphinx) need
their ``objects.inv`` inventories, which are never downloaded unless asked for, so that the
build works offline without a warning:

- an inventory saved as ``docs/_intersphinx/<name>-objects.inv`` is used when present (names:
  ``python``, ``numpy``, ``sklearn``, ``torch``, ``skorch``, ``imblearn``, ``mne``);
- ``SKEMOTION_DOCS_INTERSPHINX=1`` in the environment fetches the missing ones from the web.

Without either, links to those projects are left as plain text.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # the package of this checkout, even when not installed

import skemotion  # noqa: E402

project = "skemotion"
author = "skemotion developers"
copyright = "skemotion developers"
release = skemotion.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext"}
exclude_patterns = ["_build", "_intersphinx", "_templates", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]
root_doc = "index"
default_role = "literal"
nitpicky = False
# benchmarks/RESULTS.md (included on the benchmark page) starts its sections at "##"
suppress_warnings = ["myst.header"]

# --- API reference -------------------------------------------------------------------------
autosummary_generate = True
autosummary_ignore_module_all = False  # document exactly what each subpackage's __all__ lists
autosummary_imported_members = True
# Class pages (docs/_templates/autosummary/class.rst) document and list every public method,
# inherited ones included: an estimator's fit/predict often come from a skemotion base class.
# _skip_foreign_member below leaves out what scikit-learn, torch or skorch define.
autodoc_typehints = "none"  # the numpydoc sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# --- intersphinx: optional, offline by default ----------------------------------------------
_INVENTORIES = {
    "python": "https://docs.python.org/3",
    "numpy": "https://numpy.org/doc/stable",
    "sklearn": "https://scikit-learn.org/stable",
    "torch": "https://docs.pytorch.org/docs/stable",
    "skorch": "https://skorch.readthedocs.io/en/stable",
    "imblearn": "https://imbalanced-learn.org/stable",
    "mne": "https://mne.tools/stable",
}
_online = os.environ.get("SKEMOTION_DOCS_INTERSPHINX", "").strip().lower() in {"1", "true", "yes"}
intersphinx_mapping = {}
for _name, _url in _INVENTORIES.items():
    _cached = HERE / "_intersphinx" / f"{_name}-objects.inv"
    if _cached.is_file():
        intersphinx_mapping[_name] = (_url, str(_cached))
    elif _online:
        intersphinx_mapping[_name] = (_url, None)
if intersphinx_mapping:
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_timeout = 10

# --- examples gallery ----------------------------------------------------------------------
# ``plot_gallery`` (a Sphinx setting of sphinx-gallery) decides whether the examples run:
# ``-D plot_gallery=0`` builds the pages from the sources alone (make html),
# ``-D plot_gallery=1`` executes them (make html-gallery).
plot_gallery = "False"
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "abort_on_example_error": True,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "reset_modules": ("matplotlib",),
    "doc_module": ("skemotion",),
    "backreferences_dir": None,
    "show_memory": False,
}

# --- figures of the benchmark page (matplotlib's plot directive) -----------------------------
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 100)]
plot_rcparams = {"figure.figsize": (7.0, 3.4), "font.size": 9}
plot_working_directory = str(HERE)

# --- HTML ----------------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"skemotion {release}"
html_theme_options = {
    "description": "scikit-learn-compatible emotion recognition from EEG and ECG",
    "fixed_sidebar": True,
    "page_width": "1180px",
    "sidebar_width": "250px",
}
html_sidebars = {"**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]}
html_static_path: list[str] = []
html_show_sourcelink = False


# --- autodoc: document skemotion's own members only ----------------------------------------
def _skip_foreign_member(app, what, name, obj, skip, options):
    """Skip members a class inherits from scikit-learn, torch or skorch (``get_params``,
    ``set_fit_request``, ``nn.Module.apply`` ...): their pages are in those projects' docs.

    autodoc asks with ``what="class"`` (the owner's type); autosummary, when it fills the
    ``methods`` of the class template, with the member's own type (``"method"`` ...)."""
    if skip or what not in {"class", "method", "property", "attribute"}:
        return skip
    func = getattr(obj, "__func__", obj)
    if isinstance(func, property):
        func = func.fget
    module = getattr(func, "__module__", None) or ""
    if not module.startswith("skemotion"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_member)
