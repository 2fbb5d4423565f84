"""Sphinx configuration of the sklearn-msfl documentation.

Built by ``make docs`` with warnings as errors, offline: no intersphinx inventories and
no remote resources, so that CI can build it without network access.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

import sklearn_msfl

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "sphinxext"))  # gallery_order
CLI_COMMANDS = ("extract", "train", "evaluate", "predict", "explain")

project = "sklearn-msfl"
author = "the sklearn-msfl developers"
copyright = "the sklearn-msfl developers"  # no year: the build stays reproducible
release = sklearn_msfl.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "gen_modules/backreferences/*"]
root_doc = "index"
default_role = "literal"
pygments_style = "sphinx"

# -- API reference: autosummary + numpydoc -------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"  # numpydoc's Parameters sections say it better
autodoc_member_order = "groupwise"
numpydoc_show_class_members = False  # the class template lists the members
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# -- Example gallery -----------------------------------------------------------------
# The plot_*.py scripts run on the synthetic corpus, except plot_language_overlap.py,
# which needs the real corpora (../shared/corpora, present where the docs are built) and
# their IS10 features cached in benchmarks/.cache (about 3 minutes on two cores then).
# plot_shared_features.py trains several models (minutes) and saves its figures to
# files, so it is shown without being run; demo.py is a command-line script (shown, not
# run) and real_corpora.py needs the real corpora.
sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_(?!shared_features)\w+\.py$",
    "ignore_pattern": r"(__init__|real_corpora)\.py$",
    "within_subsection_order": "gallery_order.ExampleOrder",
    "doc_module": ("sklearn_msfl",),
    "prefer_full_module": {r"sklearn_msfl\."},
    "backreferences_dir": "gen_modules/backreferences",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "abort_on_example_error": True,
    "remove_config_comments": True,
    "show_memory": False,
    "write_computation_times": False,  # no sg_execution_times.rst left in the sources
    "show_signature": False,
    "download_all_examples": False,
    "default_thumb_file": None,
    "min_reported_time": 0,
    "capture_repr": ("_repr_html_", "__repr__"),
}

# -- HTML ------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-msfl {release}"
html_theme_options = {
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
    "show_prev_next": False,
}
html_show_sourcelink = True
html_last_updated_fmt = None  # no build date: reproducible output
html_copy_source = False


def _resolve_package_alias(app, env, node, contnode):
    """Link the lazy package exports to the module that documents them.

    Docstrings and pages write ``sklearn_msfl.MultitaskSERClassifier`` (or, under
    ``currentmodule:: sklearn_msfl``, ``MultitaskSERClassifier.fit``); the API
    reference documents it as ``sklearn_msfl.msfl.MultitaskSERClassifier``.
    """
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    in_package = (node.get("py:module") or "").startswith("sklearn_msfl")
    if target.startswith("sklearn_msfl."):
        target = target[len("sklearn_msfl."):]
    elif not in_package:
        return None
    name, _, attribute = target.partition(".")
    module = sklearn_msfl._PUBLIC.get(name)
    if module is None:
        return None
    node["reftarget"] = f"sklearn_msfl.{module}.{target}"
    domain = env.get_domain("py")
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], node["reftarget"], node, contnode
    )


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    # scikit-learn generates set_{fit,score,split,...}_request on every estimator and
    # splitter; their docstrings point into scikit-learn's own glossary.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def _write_cli_help(app):
    """Write ``msfl [COMMAND] --help`` to gen_modules/cli/ for the command-line page."""
    from sklearn_msfl.cli import main

    folder = DOCS / "gen_modules" / "cli"
    folder.mkdir(parents=True, exist_ok=True)
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal: fix it for a stable page
    try:
        for command in ("",) + CLI_COMMANDS:
            text = io.StringIO()
            with contextlib.redirect_stdout(text), contextlib.suppress(SystemExit):
                main([command, "--help"] if command else ["--help"])
            (folder / f"{command or 'msfl'}.txt").write_text(text.getvalue(), encoding="utf-8")
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns


def setup(app):
    app.connect("missing-reference", _resolve_package_alias)
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
    app.connect("builder-inited", _write_cli_help)
