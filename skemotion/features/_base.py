"""Shared plumbing of the transformers of windows: tags, validation, stateless fit, output names
and output containers (the feature transformers, :mod:`skemotion.transfer` and the per-person
normalisation of :mod:`skemotion.ssl` all build on it)."""

from __future__ import annotations

import functools
from numbers import Real

import numpy as np
from sklearn import get_config
from sklearn.base import BaseEstimator, TransformerMixin

from .._validation import check_is_fitted, check_signal_X
from ._backend import is_torch

_CONTAINERS = ("default", "pandas", "polars")


def _wrap_output(method):
    """``transform``/``fit_transform`` returning :meth:`SignalTransformerMixin._to_container`."""

    @functools.wraps(method)
    def wrapped(self, X, *args, **kwargs):
        return self._to_container(method(self, X, *args, **kwargs), X)

    return wrapped


class SignalTransformerMixin(TransformerMixin, BaseEstimator):
    """Base of the transformers reading ``(n_windows, n_channels, n_times)`` windows.

    ``fit`` validates X (a 2-D X is single-channel windows ``(n_windows, n_times)``) and records
    ``n_features_in_`` and ``n_channels_``; transformers that need nothing more from the data
    are stateless after that. ``_validate`` returns a float32/float64 3-D array (or tensor) and
    whether the input was 2-D, so that 2-D in gives 2-D (or flattened) out.

    Output contract, shared by every subclass: :meth:`get_feature_names_out` honours
    ``input_features`` as scikit-learn does (checked against ``feature_names_in_`` and
    ``n_features_in_``), and :meth:`set_output` (or ``sklearn.set_config(transform_output=...)``)
    puts a 2-D numpy output in a DataFrame whose columns are :meth:`get_feature_names_out`; an
    output with more than two dimensions (windows, spectrograms, electrode maps), which no
    DataFrame can hold, and a torch tensor are returned unchanged. Subclasses name their output
    features in ``_names_out``; the default, one output per input feature, is scikit-learn's
    ``OneToOneFeatureMixin`` for the transformers that keep the shape of X.
    """

    _torch_ok = False

    def __init_subclass__(cls, **kwargs):
        # scikit-learn's own wrapping would put every output, windows included, in a DataFrame
        super().__init_subclass__(auto_wrap_output_keys=None, **kwargs)
        for name in ("transform", "fit_transform"):
            if name in cls.__dict__:
                setattr(cls, name, _wrap_output(cls.__dict__[name]))

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
        self._fit_checks(X)
        return self

    def _fit_checks(self, X):
        """The checks of ``fit``: parameters, then X; returns the validated 3-D X."""
        self._validate_params()
        check_params_values(self)
        X3, _ = self._validate(X, reset=True)
        self._check_params()
        return X3

    def _check_params(self):
        """Checks of parameter combinations beyond ``_parameter_constraints`` (run in fit)."""

    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Names of the input features: the channels of a 3-D X, the columns of a 2-D X
            (``n_features_in_`` of them, equal to ``feature_names_in_`` when fitted on a
            DataFrame). None uses ``feature_names_in_`` when it exists, else the channel names
            of the ``mne.Epochs`` or skemotion dataset seen in fit, else ``ch0, ch1, ...`` for
            a 3-D X and ``x0, x1, ...`` for a 2-D X.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The columns of a 2-D output (see the class description for the other shapes).
        """
        check_is_fitted(self)
        return np.asarray(self._names_out(self._input_names(input_features)), dtype=object)

    def _input_names(self, input_features) -> list[str]:
        name = type(self).__name__
        n = self.n_features_in_
        names_in = getattr(self, "feature_names_in_", None)
        if input_features is None:
            if names_in is not None:
                return list(names_in)
            meta = getattr(self, "_signal_meta_in", None)  # fitted on Epochs or a dataset
            if meta is not None and meta["ch_names"] is not None and not self._fitted_2d:
                return list(meta["ch_names"])
            prefix = "x" if self._fitted_2d else "ch"
            return [f"{prefix}{i}" for i in range(n)]
        input_features = np.asarray(input_features, dtype=object)
        if names_in is not None and not np.array_equal(names_in, input_features):
            raise ValueError(
                f"{name}: argument input_features is not equal to feature_names_in_ "
                f"{list(names_in)}; got {list(input_features)}."
            )
        if input_features.ndim != 1 or len(input_features) != n:
            what = "columns" if self._fitted_2d else "channels"
            raise ValueError(
                f"{name}: argument input_features should have length equal to number of "
                f"features ({n}, the {what} of the X seen in fit); got "
                f"{input_features.tolist()}."
            )
        return [str(f) for f in input_features]

    def _names_out(self, names_in: list[str]) -> list[str]:
        """Output names from the checked input names: one output per input by default."""
        return names_in

    def _per_channel_names(self, names_in: list[str], features) -> list[str]:
        """``<channel>_<feature>``, channel-major; the bare features after a 2-D fit."""
        features = [str(f) for f in features]
        if self._fitted_2d:
            return features
        return [f"{c}_{f}" for c in names_in for f in features]

    def set_output(self, *, transform=None):
        """Set the container of the output of ``transform`` and ``fit_transform``.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"}, default=None
            ``"pandas"`` or ``"polars"``: a 2-D output becomes a DataFrame with the columns
            of :meth:`get_feature_names_out` (and the index of a pandas X); an output with
            more than two dimensions is returned unchanged. ``"default"``: the arrays as
            computed. None leaves the configuration unchanged (the global
            ``sklearn.set_config(transform_output=...)`` applies until one is set).

        Returns
        -------
        self : object
            The transformer.
        """
        if transform is None:
            return self
        if transform not in _CONTAINERS:
            raise ValueError(
                f"{type(self).__name__}: argument transform must be one of {list(_CONTAINERS)} "
                f"or None; got {transform!r}."
            )
        # the attribute of scikit-learn's set_output, which clone() copies
        self._sklearn_output_config = {
            **getattr(self, "_sklearn_output_config", {}),
            "transform": transform,
        }
        return self

    def _to_container(self, out, X):
        container = getattr(self, "_sklearn_output_config", {}).get("transform")
        if container is None:
            container = get_config()["transform_output"]
        if container == "default" or not isinstance(out, np.ndarray) or out.ndim != 2:
            return out
        columns = self.get_feature_names_out()
        if container == "pandas":
            import pandas as pd

            index = X.index if isinstance(X, pd.DataFrame | pd.Series) else None
            return pd.DataFrame(out, index=index, columns=columns, copy=False)
        try:
            import polars as pl
        except ImportError as exc:
            raise ImportError(
                f"{type(self).__name__}: transform output 'polars' needs polars installed."
            ) from exc
        return pl.DataFrame(out, schema=columns.tolist(), orient="row")


def like_input(out, two_d: bool):
    """Drop the channel axis of a single-channel output when X was 2-D."""
    return out[:, 0] if two_d else out


class WindowsToWindows(SignalTransformerMixin):
    """Transformers that return windows of the shape of X (filters, artifacts).

    Subclasses implement ``_transform_3d(X3)`` on the validated 3-D windows.
    """

    def transform(self, X):
        """Transform every window and channel.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
            Signal windows with the channels seen in fit (any length).

        Returns
        -------
        X_out : ndarray of the shape and float dtype of X
            A torch tensor X (where accepted) gives a tensor on its device.
        """
        X3, two_d = self._validate(X, reset=False)
        return like_input(self._transform_3d(X3), two_d)


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
