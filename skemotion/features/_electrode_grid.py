"""ElectrodeGrid: per-channel features to 2-D electrode maps."""

from __future__ import annotations

import numpy as np

from .._montages import MONTAGES
from .._validation import StrOptions
from ._backend import is_torch
from ._base import SignalTransformerMixin
from ._grid import _grid_weights

__all__ = ["ElectrodeGrid"]


class ElectrodeGrid(SignalTransformerMixin):
    """Map per-channel features ``(n, C, F)`` to electrode images ``(n, F, H, W)``.

    Parameters
    ----------
    ch_names : list of str or {"seed62", "deap32", "emotiv14"}
        Channel names in the order of X's channel axis (case-insensitive 10-20/10-10 names),
        or the name of a built-in montage.
    grid : "9x9", "HxW" string (e.g. "32x32") or dict, default="9x9"
        ``"9x9"``: the grids of the emotion literature (SEED, DEAP and Emotiv electrodes;
        zeros where there is no electrode). ``"32x32"`` (any ``"HxW"``): the
        azimuthal-equidistant projection of the 10-10 positions scaled to the image (the
        outermost electrode on the border). A dict ``{name: (row, col)}`` of ints >= 0 gives a
        custom grid.
    interpolation : {"none", "linear", "cubic"}, default="none"
        ``"none"`` places each channel's value in its cell/pixel; ``"linear"`` and ``"cubic"``
        interpolate between electrodes (``scipy.interpolate.griddata``, Clough-Tocher for
        cubic) and leave zeros outside the electrodes' convex hull (SST-EmotionNet's maps).

    Attributes
    ----------
    weights_ : ndarray of shape (H * W, n_channels)
        Linear map from channel values to pixels (the transform is one matrix product).
    grid_shape_ : tuple of (int, int)
        ``(H, W)``.
    mask_ : ndarray of shape (H, W), dtype bool
        Pixels that receive a value (electrode cells, or the interpolated hull).
    n_features_in_ : int
        Number of channels seen in ``fit`` (``n_features`` for a 2-D X).
    n_channels_ : int
        Number of channels seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names when a 2-D X was a DataFrame.

    See Also
    --------
    DifferentialEntropy : The usual per-channel features placed on the grid.
    skemotion.features.functional.electrode_grid : The function it wraps.

    Notes
    -----
    A 2-D X is read as one channel: ``(n_windows, n_features)`` of a single electrode.

    :meth:`get_feature_names_out` names axis 1 of the output, one map per input feature: the
    ``input_features`` after a 2-D fit (the features of the single electrode), ``map0, map1,
    ...`` after a 3-D fit (``input_features`` then name the channels, which the maps merge).
    The output has four dimensions and is never put in a DataFrame:
    ``set_output(transform="pandas")`` returns it as an array.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.features import DifferentialEntropy, ElectrodeGrid
    >>> from sklearn.pipeline import make_pipeline
    >>> X = np.random.default_rng(0).standard_normal((4, 62, 400)).astype(np.float32)
    >>> pipe = make_pipeline(DifferentialEntropy(200.0), ElectrodeGrid("seed62"))
    >>> pipe.fit_transform(X).shape
    (4, 5, 9, 9)
    >>> de = DifferentialEntropy(200.0).fit_transform(X)
    >>> ElectrodeGrid("seed62", grid="32x32", interpolation="cubic").fit_transform(de).shape
    (4, 5, 32, 32)
    """

    _torch_ok = True

    _parameter_constraints: dict = {
        "ch_names": [list, tuple, np.ndarray, StrOptions(set(MONTAGES))],
        "grid": [str, dict],
        "interpolation": [StrOptions({"none", "linear", "cubic"})],
    }

    def __init__(self, ch_names, *, grid="9x9", interpolation="none"):
        self.ch_names = ch_names
        self.grid = grid
        self.interpolation = interpolation

    def _names(self):
        if isinstance(self.ch_names, str):
            return list(MONTAGES[self.ch_names]["ch_names"])
        return [str(c) for c in self.ch_names]

    def fit(self, X, y=None):
        """Check the channels against the grid and build the pixel weights.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_features) or (n_windows, n_features)
            Per-channel features.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        X3 = self._fit_checks(X)
        names = self._names()
        if X3.shape[1] != len(names):
            raise ValueError(
                f"ElectrodeGrid: X has {X3.shape[1]} channels but ch_names holds {len(names)} "
                "names."
            )
        W, shape = _grid_weights(names, self.grid, self.interpolation, "ElectrodeGrid")
        self.weights_ = W
        self.grid_shape_ = shape
        self.mask_ = (np.abs(W).sum(axis=1) > 0).reshape(shape)
        self._n_maps = int(X3.shape[2])
        return self

    def _names_out(self, names_in):
        return names_in if self._fitted_2d else [f"map{k}" for k in range(self._n_maps)]

    def transform(self, X):
        """Place the features on the grid.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_windows, n_channels, n_features) or \
(n_windows, n_features)

        Returns
        -------
        ndarray or torch.Tensor of shape (n_windows, n_features, H, W)
            Same dtype as X.
        """
        X3, _ = self._validate(X, reset=False)
        if is_torch(X3):
            import torch

            W = torch.as_tensor(self.weights_, dtype=X3.dtype, device=X3.device)
            out = torch.matmul(X3.transpose(1, 2), W.T)
        else:
            out = np.matmul(X3.transpose(0, 2, 1), self.weights_.T.astype(X3.dtype))
        return out.reshape(out.shape[0], out.shape[1], *self.grid_shape_)
