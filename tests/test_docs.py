"""Documentation checks.

- Every public class and function (the names in the ``__all__`` of skemotion's public
  subpackages) passes numpydoc's validation for the sections users rely on: a summary,
  Parameters that match the signature, Returns, Examples, no unknown section; so do their
  public methods (``fit``, ``transform``, ``forward`` ...). Every constructor parameter of
  a public class has a description.
- Every fitted attribute of an estimator (a public attribute ending in ``_``) is documented
  under "Attributes": found by fitting the class's tiny instances of the estimator-check
  registry, and by reading the ``self.<name>_ = ...`` assignments in the class's source.
- The API reference covers every public subpackage; gallery examples name in their docstring
  only the classes they use, and save their figures next to themselves when there is no
  display.
- The site builds offline, with warnings as errors, without executing the gallery; every
  public class page documents and lists its public methods, inherited ones included.

The checks are read from the package itself, so a new class is checked as soon as it is
exported.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import re
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")
from numpydoc.docscrape import ClassDoc  # noqa: E402

import skemotion  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

#: numpydoc checks enforced on public classes and functions
OBJECT_CHECKS = {
    "GL08": "no docstring",
    "GL06": "unknown section (it would not render)",
    "SS01": "no summary",
    "PR01": "parameter of the signature not documented",
    "PR02": "documented parameter not in the signature",
    "RT01": "no Returns section",
    "YD01": "no Yields section",
    "EX01": "no Examples section",
}
#: numpydoc checks enforced on public methods
METHOD_CHECKS = {k: OBJECT_CHECKS[k] for k in ("GL08", "GL06", "PR01", "PR02", "RT01", "YD01")}


def _public_modules():
    names = [n for n in skemotion.__all__ if n != "__version__"]
    return [f"skemotion.{n}" for n in names] + ["skemotion.features.functional"]


def _public_objects():
    objects = []
    for modname in _public_modules():
        module = importlib.import_module(modname)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                objects.append((f"{modname}.{name}", obj))
    return objects


PUBLIC = _public_objects()
CLASSES = [(path, obj) for path, obj in PUBLIC if inspect.isclass(obj)]


def _is_base(cls) -> bool:
    """A base class documented for subclass authors: no constructor of its own."""
    return "__init__" not in vars(cls) and not any(
        "__init__" in vars(k) for k in cls.__mro__[1:] if k.__module__.startswith("skemotion")
    )


def _own_methods(cls):
    """Public methods a class defines or inherits from skemotion (not from sklearn/torch)."""
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        attr = inspect.getattr_static(cls, name)
        func = getattr(attr, "__func__", attr)
        if not inspect.isfunction(func):
            continue
        if not (getattr(func, "__module__", "") or "").startswith("skemotion"):
            continue
        yield name


def _errors(path, checks):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpydoc's own UserWarnings duplicate GL06
        result = numpydoc_validate.validate(path)
    return [f"{code} ({checks[code]}): {msg}" for code, msg in result["errors"] if code in checks]


@pytest.mark.parametrize(("path", "obj"), PUBLIC, ids=[p for p, _ in PUBLIC])
def test_numpydoc_public_object(path, obj):
    checks = dict(OBJECT_CHECKS)
    if inspect.isclass(obj) and _is_base(obj):
        # documents the shared parameters of its subclasses; examples live in the subclasses
        checks.pop("PR02")
        checks.pop("EX01")
    errors = _errors(path, checks)
    if inspect.isclass(obj):
        for name in _own_methods(obj):
            errors += [f"{name}: {e}" for e in _errors(f"{path}.{name}", METHOD_CHECKS)]
    assert not errors, f"{path}:\n  " + "\n  ".join(errors)


def _parameter_descriptions(cls) -> dict[str, str]:
    """Description of every name of the class's numpydoc Parameters section."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = ClassDoc(cls)
    described = {}
    for param in doc["Parameters"]:
        text = " ".join(line.strip() for line in param.desc).strip()
        for name in param.name.split(","):  # "fmin, fmax : float"
            described[name.strip().lstrip("*")] = text
    return described


def _init_parameters(cls) -> list[str]:
    """Named parameters of ``cls.__init__`` (not ``self``, ``*args``, ``**kwargs``)."""
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    params = inspect.signature(cls.__init__).parameters.values()
    return [p.name for p in params if p.name != "self" and p.kind not in variadic]


@pytest.mark.parametrize(("path", "cls"), CLASSES, ids=[p for p, _ in CLASSES])
def test_every_init_parameter_described(path, cls):
    """Every constructor parameter has a description, not only a name and a type (the
    training parameters a deep classifier shares with its base included)."""
    described = _parameter_descriptions(cls)
    empty = [name for name in _init_parameters(cls) if not described.get(name)]
    assert not empty, f"{path}: parameters without a description in 'Parameters': {empty}"


def _documented_attributes(cls) -> set[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = ClassDoc(cls)
    names = set()
    for param in doc["Attributes"]:
        names.update(n.strip() for n in param.name.split(","))
    return names


def _assigned_fitted_attributes(cls) -> set[str]:
    """Names ``x_`` assigned as ``self.x_`` in the source of the class and its skemotion bases."""
    names = set()
    for klass in cls.__mro__:
        if not klass.__module__.startswith("skemotion"):
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
                targets = [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if (
                        isinstance(sub, ast.Attribute)
                        and isinstance(sub.value, ast.Name)
                        and sub.value.id == "self"
                        and _is_fitted_name(sub.attr)
                    ):
                        names.add(sub.attr)
    return names


def _is_fitted_name(name: str) -> bool:
    return name.endswith("_") and not name.startswith("_") and not name.endswith("__")


def _fitted_registry_instances(cls):
    """The class's tiny instances of ``tests/test_common.py``'s registry, fitted on a small
    numeric data set (2-D: single-channel windows). The Examples sections themselves run once,
    in the doctest run of the suite (``--doctest-modules``), not again here."""
    from sklearn.base import clone
    from sklearn.datasets import make_blobs
    from test_common import REGISTRY

    X, y = make_blobs(n_samples=30, centers=3, n_features=16, random_state=0)
    X = (X - X.min()).astype(np.float32)
    fitted = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for est in REGISTRY[cls][0]:
            est = clone(est)
            if hasattr(est, "fit_resample"):
                est.fit_resample(X, y)
            else:
                est.fit(X, y)
            fitted.append(est)
    return fitted


# bases are checked through their subclasses, whose sources include the bases' assignments
ESTIMATORS = [
    (path, cls)
    for path, cls in CLASSES
    if hasattr(cls, "fit") and hasattr(cls, "get_params") and not _is_base(cls)
]


@pytest.mark.parametrize(("path", "cls"), ESTIMATORS, ids=[p for p, _ in ESTIMATORS])
def test_fitted_attributes_documented(path, cls):
    documented = _documented_attributes(cls)
    expected = _assigned_fitted_attributes(cls)
    examples = "\n".join(ClassDoc(cls)["Examples"])
    assert f"{cls.__name__}(" in examples, f"{path}: the Examples section should use the class"
    for est in _fitted_registry_instances(cls):
        expected |= {k for k in vars(est) if _is_fitted_name(k)}
    missing = sorted(expected - documented)
    assert not missing, f"{path}: fitted attributes missing from 'Attributes': {missing}"


def test_api_reference_lists_every_public_subpackage():
    api = (ROOT / "docs" / "api.rst").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\s+(skemotion[\w.]*)\s*$", api, flags=re.M))
    assert set(_public_modules()) <= listed, set(_public_modules()) - listed


EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_docstring_matches_code(path):
    """A gallery script has a titled docstring, and every CamelCase name it quotes in double
    backquotes (an estimator, a splitter) appears in its code."""
    source = path.read_text(encoding="utf-8")
    module = ast.parse(source)
    doc = ast.get_docstring(module)
    assert doc, f"{path.name}: no docstring"
    lines = doc.splitlines()
    assert len(lines) > 2 and set(lines[1]) == {"="}, f"{path.name}: no '====' title"
    body = "\n".join(source.splitlines()[module.body[0].end_lineno :])
    quoted = set(re.findall(r"``([A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*)(?:\(\))?``", doc))
    for name in sorted(quoted):
        pattern = rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])"
        assert re.search(pattern, body, flags=re.I), (
            f"{path.name}: the docstring names ``{name}``, the code does not use it"
        )


FIGURE_FACTORIES = {"figure", "subplots", "subplot_mosaic"}


def _calls(nodes, attr=None, name=None):
    """Calls ``plt.<attr>(...)`` or ``<name>(...)`` in ``nodes``."""
    found = []
    for node in nodes:
        for sub in ast.walk(node):
            if not isinstance(sub, ast.Call):
                continue
            func = sub.func
            if attr and isinstance(func, ast.Attribute) and func.attr in attr:
                if isinstance(func.value, ast.Name) and func.value.id == "plt":
                    found.append(sub)
            if name and isinstance(func, ast.Name) and func.id == name:
                found.append(sub)
    return found


def _figure_suffixes(path) -> tuple[ast.FunctionDef | None, list[str], list[str]]:
    """An example's ``show_figure`` helper, the suffix of each of its calls, and the problems
    found: a figure never handed to the helper, a bare ``plt.show()``, a repeated suffix."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    helper = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "show_figure"),
        None,
    )
    script = [n for n in tree.body if n is not helper]
    n_figures = len(_calls(script, attr=FIGURE_FACTORIES))
    shows = _calls(script, name="show_figure")
    problems = []
    if _calls(script, attr={"show"}):
        problems.append("plt.show() outside show_figure: nothing is saved without a display")
    if n_figures and helper is None:
        problems.append("draws figures but defines no show_figure")
    if len(shows) < n_figures:
        problems.append(f"{n_figures} figures, {len(shows)} show_figure calls")
    suffixes = []
    for call in shows:
        args = call.args[1:] or [kw.value for kw in call.keywords if kw.arg == "suffix"]
        suffixes.append(ast.literal_eval(args[0]) if args else "")
    if len(set(suffixes)) < len(suffixes):
        problems.append(f"figures saved under the same name: suffixes {suffixes}")
    return helper, suffixes, problems


# Runs each example's show_figure (with the names it uses: matplotlib, plt, Path) on a copy of
# the example: without a display, as a script (figure saved next to it), as sphinx-gallery runs
# it (no __file__: nothing saved, plt.show() left to the gallery's own capture), and with a
# display (plt.show(), nothing saved).
_SHOW_FIGURE_DRIVER = """
import json, sys, types
from pathlib import Path
import matplotlib
import matplotlib.pyplot as plt

shown = []
plt.show = lambda *a, **k: shown.append(1)
display = types.SimpleNamespace(get_backend=lambda: "QtAgg")
for script, helper, suffixes in json.loads(Path(sys.argv[1]).read_text()):
    for mode, mpl, ns in [
        ("script", matplotlib, {"__file__": script}),
        ("gallery", matplotlib, {}),
        ("display", display, {"__file__": script}),
    ]:
        ns.update(matplotlib=mpl, plt=plt, Path=Path, __name__="__main__")
        exec(compile(helper, script, "exec"), ns)
        for suffix in suffixes:
            n_shown = len(shown)
            ns["show_figure"](plt.figure(), suffix)
            plt.close("all")
            print(json.dumps([mode, script, suffix, len(shown) - n_shown]))
"""


def test_examples_save_figures_without_display(tmp_path):
    """Without a display (a non-interactive backend such as Agg), every gallery script saves
    each figure it draws next to itself and prints where: every figure goes through the
    script's ``show_figure`` (no bare ``plt.show()``), which saves ``<script><suffix>.png``
    when run as a script under Agg, and saves nothing under sphinx-gallery or with a display.
    The helpers run on a copy of each script; the examples themselves take minutes."""
    pytest.importorskip("matplotlib")
    import json

    jobs, problems = [], []
    for path in EXAMPLES:
        helper, suffixes, found = _figure_suffixes(path)
        problems += [f"{path.name}: {p}" for p in found]
        if helper is not None and suffixes:
            copy = tmp_path / "examples" / path.name
            copy.parent.mkdir(exist_ok=True)
            shutil.copy(path, copy)
            jobs.append([str(copy), ast.unparse(helper), suffixes])
    assert not problems, "\n".join(problems)
    assert jobs, "no example draws a figure"
    (tmp_path / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    (tmp_path / "driver.py").write_text(_SHOW_FIGURE_DRIVER, encoding="utf-8")
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("DISPLAY", None)
    res = subprocess.run(
        [sys.executable, str(tmp_path / "driver.py"), str(tmp_path / "jobs.json")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr[-4000:]
    records = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("[")]
    n_figures = sum(len(suffixes) for _, _, suffixes in jobs)
    assert len(records) == 3 * n_figures, res.stdout[-4000:]
    expected = set()
    for script, _, suffixes in jobs:
        for suffix in suffixes:
            png = Path(script).with_name(f"{Path(script).stem}{suffix}.png")
            expected.add(png)
            assert png.is_file() and png.stat().st_size > 0, f"{png.name} not saved"
            assert str(png) in res.stdout, f"where {png.name} was saved is not printed"
    saved = set((tmp_path / "examples").glob("*.png"))
    assert saved == expected, saved ^ expected  # nothing saved under the gallery or a display
    for mode, script, suffix, n_shown in records:
        # plt.show() only where the figure is not saved
        assert n_shown == (mode != "script"), (mode, Path(script).name, suffix)


def test_docs_build_offline(tmp_path):
    """``sphinx-build -W`` on a copy of docs/ succeeds without executing the gallery and
    without network (any connection attempt goes to a closed local port and would warn)."""
    pytest.importorskip("sphinx")
    pytest.importorskip("sphinx_gallery")
    pytest.importorskip("matplotlib")
    shutil.copytree(
        ROOT / "docs",
        tmp_path / "docs",
        ignore=shutil.ignore_patterns("_build", "generated", "auto_examples", "_intersphinx"),
    )
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / "benchmarks").mkdir()
    shutil.copy(ROOT / "benchmarks" / "RESULTS.md", tmp_path / "benchmarks" / "RESULTS.md")
    env = {k: v for k, v in os.environ.items() if k not in {"SKEMOTION_DOCS_INTERSPHINX"}}
    closed = "http://127.0.0.1:9"
    env.update(
        http_proxy=closed,
        https_proxy=closed,
        HTTP_PROXY=closed,
        HTTPS_PROXY=closed,
        no_proxy="",
        NO_PROXY="",
        OMP_NUM_THREADS="1",
        MPLBACKEND="Agg",
    )
    cmd = [
        sys.executable,
        "-m",
        "sphinx",
        "-b",
        "html",
        "-W",
        "--keep-going",
        "-q",
        "-D",
        "plot_gallery=0",
        "-d",
        str(tmp_path / "doctrees"),
        str(tmp_path / "docs"),
        str(tmp_path / "html"),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-6000:]
    html = tmp_path / "html"
    for page in (
        "index.html",
        "getting_started.html",
        "user_guide/early_stopping.html",
        "models/eegnet.html",
        "benchmarks.html",
        "auto_examples/index.html",
        "auto_examples/plot_leakage.html",
        "generated/skemotion.classifiers.EEGNetClassifier.html",
    ):
        assert (html / page).is_file(), page
    # every figure of the benchmark page was drawn from RESULTS.md
    n_plots = (ROOT / "docs" / "benchmarks.rst").read_text(encoding="utf-8").count(".. plot::")
    bench = (html / "benchmarks.html").read_text(encoding="utf-8")
    assert n_plots >= 4 and bench.count("<img") >= n_plots
    # every public class page documents its public methods, those inherited from skemotion's
    # base classes included (EEGNetClassifier.fit comes from DeepClassifierBase), and lists
    # them in a "Methods" table; what scikit-learn or torch define is left to their docs
    missing = []
    for path, cls in CLASSES:
        page = (html / "generated" / f"{path}.html").read_text(encoding="utf-8")
        table = page.partition('<p class="rubric">Methods</p>')[2].partition("</table>")[0]
        for name in _own_methods(cls):
            target = f"{path}.{name}"
            if f'id="{target}"' not in page or f'href="#{target}"' not in table:
                missing.append(target)
    assert not missing, f"methods missing from their class page or its Methods table: {missing}"
    eegnet = (html / "generated" / "skemotion.classifiers.EEGNetClassifier.html").read_text(
        encoding="utf-8"
    )
    assert 'id="skemotion.classifiers.EEGNetClassifier.fit"' in eegnet
    assert "EEGNetClassifier.get_params" not in eegnet  # scikit-learn's
