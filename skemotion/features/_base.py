"""Shared plumbing of the feature transformers: tags, validation, stateless fit."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .._validation import check_is_fitted, check_signal_X
from ._backend import is_torch


class SignalTransformerMixin(TransformerMixin, BaseEstimator):
    """Base of the transformers reading ``(n_windows, n_channels, n_times)`` windows.

    ``fit`` validates X (a 2-D X is single-channel windows ``(n_windows, n_times)``) and records
    ``n_features_in_`` and ``n_channels_``; transformers that need nothing more from the data
    are stateless after that. ``_transform`` receives a float32/float64 3-D array (or tensor)
    and whether the input was 2-D, so that 2-D in gives 2-D (or flattened) out.
    """

    _torch_ok = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = False
        return tags

    def _validate(self, X, *, reset: bool):
        if not reset:
            check_is_fitted(self)
        ndim = getattr(X, "ndim", None)
        if ndim is None:
            try:
                ndim = np.asarray(X).ndim
            except (TypeError, ValueError):  # ragged: check_signal_X names the problem
                ndim = None
        two_d = ndim == 2
        X3 = check_signal_X(
            self,
            X,
            reset=reset,
            dtype=[np.float32, np.float64],
            check_times=False,
            torch_ok=self._torch_ok,
        )
        if is_torch(X3):
            import torch

            if X3.is_complex() or not (X3.is_floating_point() and X3.dtype.itemsize >= 4):
                if X3.is_complex():
                    raise ValueError(f"{type(self).__name__}: Complex data not supported.")
                X3 = X3.to(torch.float64)
            if X3.numel() == 0:
                raise ValueError(f"{type(self).__name__}: X is empty (shape {tuple(X.shape)}).")
            if not bool(torch.isfinite(X3).all()):
                raise ValueError(f"{type(self).__name__}: argument X contains NaN or infinity.")
            if reset:
                self.n_features_in_ = int(X.shape[1])
            elif X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"{type(self).__name__}: X has {X.shape[1]} features, but the transformer "
                    f"was fitted with {self.n_features_in_}."
                )
        if reset:
            self.n_channels_ = int(X3.shape[1])
            self._fitted_2d = two_d
        return X3, two_d

    def fit(self, X, y=None):
        """Validate X and record its number of channels (nothing is learned).

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
            Signal windows; a 2-D X holds single-channel windows.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        self._validate_params()
        check_params_values(self)
        self._validate(X, reset=True)
        self._check_params()
        return self

    def _check_params(self):
        """Checks of parameter combinations beyond ``_parameter_constraints`` (run in fit)."""


def check_params_values(estimator) -> None:
    """What ``_parameter_constraints`` lets through but no parameter means: a bool where a
    number is expected (``True`` is an ``int`` to Python), and NaN or infinity, alone or inside
    a list or tuple. Every value is checked the same way whether it is a scalar or an element.
    """
    name = type(estimator).__name__
    constraints = getattr(estimator, "_parameter_constraints", {})
    for param, value in estimator.get_params(deep=False).items():
        allowed = constraints.get(param, [])
        items = value if isinstance(value, list | tuple) else [value]
        for v in items:
            if isinstance(v, bool | np.bool_):
                if "boolean" in allowed and v is value:
                    continue
                raise ValueError(
                    f"{name}: argument {param} must be a number, not a bool; got {value!r}."
                )
            if isinstance(v, Real) and not np.isfinite(v):
                raise ValueError(f"{name}: argument {param} must be finite; got {value!r}.")


def feature_names(estimator, input_features, suffixes):
    """Output names ``<channel>_<suffix>`` (or ``<suffix>`` for a 2-D, single-channel fit).

    ``input_features`` are the channel names of a 3-D X (``n_features_in_`` of them); None uses
    ``feature_names_in_`` when fitted on a DataFrame, else ``x0, x1, ...``.
    """
    check_is_fitted(estimator)
    n = estimator.n_features_in_
    names_in = getattr(estimator, "feature_names_in_", None)
    if input_features is None:
        input_features = names_in if names_in is not None else [f"x{i}" for i in range(n)]
    else:
        input_features = np.asarray(input_features, dtype=object)
        if names_in is not None and not np.array_equal(names_in, input_features):
            raise ValueError("input_features is not equal to feature_names_in_")
        if len(input_features) != n:
            raise ValueError(
                f"input_features should have length equal to number of features ({n}), got "
                f"{len(input_features)}"
            )
    suffixes = [str(s) for s in suffixes]
    if estimator._fitted_2d:
        return np.asarray(suffixes, dtype=object)
    return np.asarray([f"{c}_{s}" for c in input_features for s in suffixes], dtype=object)
