"""The "Adding a model" page (docs/user_guide/adding_a_model.rst), run as written.

Its code blocks build a network, a classifier around it, pass scikit-learn's estimator checks,
score it subject-wise and add it to the benchmark; run in order in one namespace, they must
print a leave-one-subject-out score and a benchmark table with the new model beside the
baselines.
"""

import contextlib
import io
import re
import sys
import types
from pathlib import Path

import torch

from skemotion.benchmark import REGISTRY

PAGE = Path(__file__).resolve().parents[1] / "docs" / "user_guide" / "adding_a_model.rst"


def _code_blocks() -> list[str]:
    text = PAGE.read_text(encoding="utf-8")
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", text)
    return ["\n".join(line[4:] for line in block.splitlines()) for block in blocks]


def test_the_page_has_the_four_steps():
    blocks = _code_blocks()
    assert len(blocks) == 4
    assert "class LogVarNet(nn.Module)" in blocks[0]
    assert "class LogVarClassifier(DeepClassifierBase)" in blocks[1]
    assert "check_estimator(" in blocks[2]
    assert "register_model(" in blocks[3] and "run_benchmark(" in blocks[3]


def test_the_page_builds_a_working_classifier_and_benchmarks_it():
    torch.set_num_threads(1)
    # a real module, as the user's own file would be: the estimator checks pickle the class
    module = types.ModuleType("adding_a_model")
    sys.modules[module.__name__] = module
    namespace = module.__dict__
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            for code in _code_blocks():
                exec(compile(code, str(PAGE), "exec"), namespace)
    finally:
        REGISTRY.pop("logvar", None)
        sys.modules.pop(module.__name__, None)
    printed = out.getvalue()
    score = float(re.search(r"leave-one-subject-out: (\d\.\d+)", printed).group(1))
    assert score > 1 / 3 + 0.1  # the synthetic corpus: 3 balanced classes
    result = namespace["result"]
    assert {"majority", "de_lr", "logvar"} <= set(result.summary.index)
    assert any(line.startswith("logvar:") and "vs de_lr" in line for line in result.verdicts)
    assert re.search(r"^logvar\s+0\.\d{3} \+- ", printed, flags=re.M)
    # the classifier is the package's kind of estimator: fitted through the shared runtime
    clf = namespace["clf"]
    assert clf.get_params()["lr_schedule"] == "cosine"
