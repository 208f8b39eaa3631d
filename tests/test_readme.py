"""The README's Python snippets, run as written on a small corpus.

Every snippet that fits a model prints its score; run in order in one namespace (the later
ones use the ``data`` of the first), each printed score must be clearly above chance, so that
a recipe the README recommends and that trains at chance fails the suite. The corpus is made
small (3 subjects, half-second windows, a class effect 5 times the default) by wrapping
:func:`make_eeg_emotion`; the code of the snippets is not changed. On this corpus too a
network sits at chance for its first epochs: the early-stopping defaults before
``min_epochs`` (judged from epoch 1, patience 10) restore an untrained network there (0.37)
and fail this test.
"""

import contextlib
import copy
import hashlib
import io
import re
from pathlib import Path

import numpy as np
import sklearn
import torch

import skemotion.datasets
from skemotion.classifiers import DeepClassifierBase

README = Path(__file__).resolve().parents[1] / "README.md"
CHANCE = 1 / 3  # the synthetic corpus has 3 balanced classes


def _digest(a) -> str:
    return "" if a is None else hashlib.sha1(np.ascontiguousarray(a).tobytes()).hexdigest()


def _snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def _printed_scores(text: str) -> list[float]:
    """The number each printed line ends with (one score per line)."""
    scores = []
    for line in text.splitlines():
        m = re.search(r"(-?\d+\.\d+)\s*$", line)
        assert m, f"a README snippet printed a line without a score: {line!r}"
        scores.append(float(m.group(1)))
    return scores


def test_readme_has_the_snippets_this_test_runs():
    snippets = _snippets()
    assert len(snippets) >= 3
    assert sum("early_stopping=" in s for s in snippets) == 2
    # every snippet that scores a model prints the score
    for s in snippets:
        if "cross_val_score(" in s:
            assert "print(" in s, s


def test_readme_snippets_score_above_chance(monkeypatch):
    real = skemotion.datasets.make_eeg_emotion

    def small(*args, **kwargs):
        kwargs.update(n_subjects=3, window_seconds=0.5, effect_size=5.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(skemotion.datasets, "make_eeg_emotion", small)
    # the routed early-stopping snippet makes the same fits as the one before it: a fit with
    # the same parameters on the same windows, labels and groups is taken from a memo (a
    # snippet that routed other groups would miss it and train)
    memo, fits = {}, {"trained": 0, "reused": 0}
    real_fit = DeepClassifierBase._fit

    def memo_fit(self, X, y, groups=None, **kw):
        key = (repr(sorted(self.get_params().items())), _digest(X), _digest(y), _digest(groups))
        if key in memo:
            self.__dict__.update(copy.deepcopy(memo[key]))
            fits["reused"] += 1
            return self
        real_fit(self, X, y, groups=groups, **kw)
        memo[key] = copy.deepcopy(self.__dict__)
        fits["trained"] += 1
        return self

    monkeypatch.setattr(DeepClassifierBase, "_fit", memo_fit)
    torch.set_num_threads(1)
    namespace: dict = {}
    n_scores = 0
    for code in _snippets():
        out = io.StringIO()
        with sklearn.config_context(), contextlib.redirect_stdout(out):
            exec(compile(code, str(README), "exec"), namespace)
        scores = _printed_scores(out.getvalue())
        n_scores += len(scores)
        for score in scores:
            assert score > CHANCE + 0.1, (code, out.getvalue())
    assert n_scores >= 4  # DE + LR, EEGNet, and both early-stopping recipes
    assert fits["reused"] == 3  # the routed snippet: the same 3 folds as the one before
