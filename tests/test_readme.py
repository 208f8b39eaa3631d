"""The README's Python snippets, run as written on a small corpus.

Every snippet that fits a model prints its score; run in order in one namespace (the later
ones use the ``data`` of the first), each printed score must be clearly above chance, so that
a recipe the README recommends and that trains at chance fails the suite. The corpus is made
small (3 subjects, 4 windows per trial) by wrapping :func:`make_eeg_emotion`; the code of the
snippets is not changed.
"""

import contextlib
import io
import re
from pathlib import Path

import sklearn
import torch

import skemotion.datasets

README = Path(__file__).resolve().parents[1] / "README.md"
CHANCE = 1 / 3  # the synthetic corpus has 3 balanced classes


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
        kwargs.update(n_subjects=3, n_windows_per_trial=4)
        return real(*args, **kwargs)

    monkeypatch.setattr(skemotion.datasets, "make_eeg_emotion", small)
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
