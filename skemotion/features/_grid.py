"""Electrode maps: per-channel features placed (and optionally interpolated) on a 2-D grid.

Two kinds of grid:

- the 9x9 grids of the emotion literature (``GRID_9X9`` in :mod:`skemotion._montages`; the
  SEED, DEAP and Emotiv grids agree wherever they share an electrode, so one merged table,
  ``GRID_9X9_MERGED``, serves all three);
- an ``H x W`` image (32x32 for SST-EmotionNet) of the azimuthal-equidistant projection of the
  electrodes' positions on an idealised spherical head, built from the 10-10 system's
  definition (10 % steps of 18 degrees on the sagittal and circumferential arcs, each row's arc
  through its three defining electrodes split into equal steps). Any 10-20/10-10 name works,
  old names too (T3/T4/T5/T6); the ESI NeuroScan cerebellar CB1/CB2 are placed below O1/O2.

The map is a linear function of the channel values, so it is precomputed as a weight matrix
``(H * W, n_channels)`` and applied to the whole batch with one matrix product.
"""

from __future__ import annotations

import functools
from numbers import Integral

import numpy as np

from .._montages import GRID_9X9_MERGED, check_unique_channels
from ._backend import as_numpy_float, from_torch, to_torch

__all__ = ["electrode_grid", "grid_weights", "electrode_positions_2d"]

_ALIASES = {"T3": "T7", "T4": "T8", "T5": "P7", "T6": "P8"}


def _canonical(name: str) -> str:
    key = str(name).strip().upper()
    return _ALIASES.get(key, key)


def _unit(theta_deg: float, phi_deg: float) -> np.ndarray:
    """Point on the unit sphere: inclination from the vertex, azimuth from the nose (to +x)."""
    t, p = np.deg2rad(theta_deg), np.deg2rad(phi_deg)
    return np.array([np.sin(t) * np.sin(p), np.sin(t) * np.cos(p), np.cos(t)])


@functools.lru_cache(maxsize=1)
def _positions_3d() -> dict[str, np.ndarray]:
    pos: dict[str, np.ndarray] = {}
    # sagittal midline: Nz (90 deg in front) ... Cz (0) ... Iz (90 deg behind), 18 deg steps
    for name, theta in [("NZ", 90), ("FPZ", 72), ("AFZ", 54), ("FZ", 36), ("FCZ", 18)]:
        pos[name] = _unit(theta, 0)
    pos["CZ"] = _unit(0, 0)
    for name, theta in [("CPZ", 18), ("PZ", 36), ("POZ", 54), ("OZ", 72), ("IZ", 90)]:
        pos[name] = _unit(theta, 180)
    # circumference at 72 deg inclination, 18 deg azimuth steps (odd numbers on the left)
    ring = ["FP", "AF", "F", "FT", "T", "TP", "P", "PO", "O"]
    for i, row in enumerate(ring, start=1):
        left, right = (f"{row}1", f"{row}2") if row in ("FP", "O") else (f"{row}7", f"{row}8")
        pos[left] = _unit(72, -18 * i)
        pos[right] = _unit(72, 18 * i)
    pos["I1"], pos["I2"] = _unit(90, -162), _unit(90, 162)
    pos["CB1"], pos["CB2"] = _unit(90, -144), _unit(90, 144)
    # rows: arc through R7 - Rz - R8 split into quarters: R1, R3, R5 (left), R2, R4, R6 (right),
    # R9 / R10 one quarter beyond the circumference
    rows = {"AF": "AF", "F": "F", "FC": "FT", "C": "T", "CP": "TP", "P": "P", "PO": "PO"}
    for row, edge in rows.items():
        mid = pos[f"{row}Z"]
        for sign in (-1, 1):
            end = pos[f"{edge}{7 if sign < 0 else 8}"]
            for k, frac in enumerate((0.25, 0.5, 0.75, 1.25)):
                if k < 3:
                    name = f"{row}{2 * k + 1 if sign < 0 else 2 * k + 2}"
                else:
                    name = f"{edge}{9 if sign < 0 else 10}"
                pos.setdefault(name, _arc_point(mid, end, frac))
    return pos


def _arc_point(a: np.ndarray, b: np.ndarray, frac: float) -> np.ndarray:
    """Point at ``frac`` of the arc from a to b on the circle through a, b and b's mirror."""
    b_mirror = b * np.array([-1.0, 1.0, 1.0])
    n = np.cross(b - a, b_mirror - a)
    n /= np.linalg.norm(n)
    c = np.dot(n, a) * n  # centre of the circle (plane through the three points)
    u, v = a - c, b - c
    radius = np.linalg.norm(u)
    angle = np.arccos(np.clip(np.dot(u, v) / (radius * np.linalg.norm(v)), -1.0, 1.0))
    w = v - np.dot(v, u) / radius**2 * u
    w *= radius / np.linalg.norm(w)
    return c + np.cos(frac * angle) * u + np.sin(frac * angle) * w


def electrode_positions_2d(ch_names) -> np.ndarray:
    """Azimuthal-equidistant 2-D positions of 10-10 electrodes (nose up, right to +x).

    Parameters
    ----------
    ch_names : sequence of str
        Electrode names (case-insensitive; T3/T4/T5/T6 are read as T7/T8/P7/P8).

    Returns
    -------
    ndarray of shape (n_channels, 2)
        ``(x, y)`` with the distance from Cz equal to the inclination in units of 90 degrees
        (the 72-degree circumference through Fpz, T7, Oz is at radius 0.8).

    Examples
    --------
    >>> from skemotion.features.functional import electrode_positions_2d
    >>> electrode_positions_2d(["Cz", "Fpz", "T8"]).round(2).tolist()
    [[0.0, 0.0], [0.0, 0.8], [0.8, 0.0]]
    """
    if len(ch_names) == 0:
        raise ValueError("electrode_positions_2d: argument ch_names is empty.")
    return _positions_2d(ch_names, "electrode_positions_2d")


def _positions_2d(ch_names, where: str) -> np.ndarray:
    table = _positions_3d()
    unknown = [c for c in ch_names if _canonical(c) not in table]
    if unknown:
        raise ValueError(
            f"{where}: unknown electrode name(s) {unknown}; expected 10-20/10-10 names such as "
            "'Fp1', 'AF3', 'FC5', 'CPz', 'PO7' (or CB1/CB2)."
        )
    p = np.stack([table[_canonical(c)] for c in ch_names])
    theta = np.arccos(np.clip(p[:, 2], -1.0, 1.0)) / (np.pi / 2)
    phi = np.arctan2(p[:, 0], p[:, 1])
    out = np.stack([theta * np.sin(phi), theta * np.cos(phi)], axis=1)
    out[np.abs(out) < 1e-12] = 0.0
    return out


def _check_grid(grid, where: str):
    """Validate ``grid`` and return a hashable key: ``"9x9"``, ``(H, W)`` or the sorted
    ``((name, (row, col)), ...)`` of a dict grid."""
    if isinstance(grid, str):
        text = grid.strip().lower()
        if text == "9x9":  # "9X9" or " 9x9" is the literature's grid too, never a projection
            return "9x9"
        parts = text.split("x")
        try:
            h, w = (int(v) for v in parts)
        except ValueError:
            h = w = 0
        if h < 2 or w < 2:
            raise ValueError(
                f"{where}: argument grid must be '9x9', an 'HxW' string with H, W >= 2 such as "
                f"'32x32', or a dict name -> (row, col); got {grid!r}."
            )
        return (h, w)
    if not isinstance(grid, dict):
        raise ValueError(
            f"{where}: argument grid must be '9x9', an 'HxW' string or a dict name -> (row, "
            f"col); got a {type(grid).__name__}."
        )
    if not grid:
        raise ValueError(
            f"{where}: argument grid is an empty dict; give each electrode's cell as "
            "{name: (row, col)}."
        )
    cells = {}
    for name, rc in grid.items():
        pair = tuple(rc) if isinstance(rc, tuple | list | np.ndarray) else (rc,)
        if not isinstance(name, str) or not (
            len(pair) == 2
            and all(
                isinstance(v, Integral) and not isinstance(v, bool | np.bool_) and v >= 0
                for v in pair
            )
        ):
            raise ValueError(
                f"{where}: argument grid must map electrode names to cells (row, col) of ints "
                f">= 0; got {name!r}: {rc!r}."
            )
        key = _canonical(name)
        if key in cells and cells[key] != (int(pair[0]), int(pair[1])):
            raise ValueError(f"{where}: argument grid gives {key!r} two cells.")
        cells[key] = (int(pair[0]), int(pair[1]))
    return tuple(sorted(cells.items()))


def _grid_coords(ch_names, grid_key, where: str):
    """``(shape, coords)``: grid shape and each channel's (row, col) as floats."""
    if grid_key == "9x9":
        table, shape, what = GRID_9X9_MERGED, (9, 9), "9x9"
    elif isinstance(grid_key[0], int | np.integer):
        shape = grid_key
        xy = _positions_2d(ch_names, where)
        radius = np.abs(xy).max() if len(xy) > 1 or np.abs(xy).max() > 0 else 1.0
        rows = (1.0 - xy[:, 1] / radius) / 2.0 * (shape[0] - 1)
        cols = (1.0 + xy[:, 0] / radius) / 2.0 * (shape[1] - 1)
        return shape, np.stack([rows, cols], axis=1)
    else:
        table = dict(grid_key)
        shape = (max(r for r, _ in table.values()) + 1, max(c for _, c in table.values()) + 1)
        what = "given"
    unknown = [c for c in ch_names if _canonical(c) not in table]
    if unknown:
        raise ValueError(
            f"{where}: channel(s) {unknown} have no cell in the {what} grid; use grid='32x32' "
            "(positions from the 10-10 system) or a dict grid."
        )
    return shape, np.array([table[_canonical(c)] for c in ch_names], dtype=float)


@functools.lru_cache(maxsize=64)
def _grid_weights_cached(ch_names: tuple, grid_key, interpolation: str, where: str):
    shape, coords = _grid_coords(list(ch_names), grid_key, where)
    n_ch = len(ch_names)
    n_pix = shape[0] * shape[1]
    if interpolation == "none":
        W = np.zeros((n_pix, n_ch))
        cells = np.rint(coords).astype(int)
        idx = cells[:, 0] * shape[1] + cells[:, 1]
        W[idx, np.arange(n_ch)] = 1.0
        W /= np.maximum(W.sum(axis=1, keepdims=True), 1.0)  # channels sharing a pixel: mean
        return W, shape
    from scipy.interpolate import griddata

    rr, cc = np.mgrid[0 : shape[0], 0 : shape[1]]
    targets = np.stack([rr.ravel(), cc.ravel()], axis=1).astype(float)
    try:
        # the map is linear in the channel values: interpolate the identity once
        W = griddata(coords, np.eye(n_ch), targets, method=interpolation, fill_value=0.0)
    except Exception as exc:  # Qhull errors: fewer than 3 channels, all on a line
        raise ValueError(
            f"{where}: interpolation={interpolation!r} needs at least 3 electrodes not on one "
            f"line; got {list(ch_names)}. Use interpolation='none'."
        ) from exc
    return W, shape


def _grid_weights(ch_names, grid, interpolation, where: str):
    if interpolation not in ("none", "linear", "cubic"):
        raise ValueError(
            f"{where}: argument interpolation must be 'none', 'linear' or 'cubic'; got "
            f"{interpolation!r}."
        )
    if len(ch_names) == 0:
        raise ValueError(f"{where}: argument ch_names is empty; give at least one electrode.")
    check_unique_channels(ch_names, where)
    key = _check_grid(grid, where)
    W, shape = _grid_weights_cached(tuple(str(c) for c in ch_names), key, interpolation, where)
    return W.copy(), shape


def grid_weights(ch_names, grid="9x9", interpolation="none"):
    """Weight matrix mapping channel values to grid pixels.

    Parameters
    ----------
    ch_names : sequence of str
        Channel names, in the order of the channel axis.
    grid : "9x9", "HxW" (e.g. "32x32") or dict name -> (row, col), default="9x9"
        Target grid (see the module documentation); the cells of a dict grid are ints >= 0
        and the grid spans rows and columns 0 to their largest values.
    interpolation : {"none", "linear", "cubic"}, default="none"
        ``"none"`` puts each channel's value in its cell (nearest pixel) and zeros elsewhere;
        ``"linear"``/``"cubic"`` interpolate (``scipy.interpolate.griddata``) over the convex
        hull of the electrodes, zeros outside it.

    Returns
    -------
    weights : ndarray of shape (H * W, n_channels)
    shape : tuple of (int, int)

    Examples
    --------
    >>> from skemotion.features.functional import grid_weights
    >>> W, shape = grid_weights(["a", "b"], {"a": (0, 0), "b": (1, 2)})
    >>> shape, W[:, 1].reshape(shape).tolist()
    ((2, 3), [[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    """
    return _grid_weights(ch_names, grid, interpolation, "grid_weights")


def electrode_grid(X, ch_names, grid="9x9", interpolation="none"):
    """Place per-channel features on an electrode grid: (n, C, F) -> (n, F, H, W).

    Parameters
    ----------
    X : ndarray or torch.Tensor of shape (n_windows, n_channels, n_features)
        Per-channel features (e.g. DE per band) or samples.
    ch_names : sequence of str
        Channel names (``n_channels`` of them).
    grid, interpolation
        See :func:`grid_weights`.

    Returns
    -------
    ndarray or torch.Tensor of shape (n_windows, n_features, H, W)
        Same dtype as X; pixels without an electrode (or outside the electrodes' hull) are 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.features.functional import electrode_grid
    >>> from skemotion._montages import DEAP32
    >>> de = np.ones((2, 32, 5), dtype=np.float32)
    >>> maps = electrode_grid(de, DEAP32)
    >>> maps.shape, int(maps[0, 0].sum())
    ((2, 5, 9, 9), 32)
    """
    W, shape = _grid_weights(ch_names, grid, interpolation, "electrode_grid")
    if X.shape[-2] != len(ch_names):
        raise ValueError(
            f"electrode_grid: argument X has {X.shape[-2]} channels but {len(ch_names)} channel "
            "names were given."
        )
    Xt, was_numpy = to_torch(X if not isinstance(X, list) else as_numpy_float(X))
    import torch

    Wt = torch.as_tensor(W, dtype=Xt.dtype, device=Xt.device)
    out = torch.matmul(Xt.transpose(-1, -2), Wt.T)  # (n, F, H*W)
    out = out.reshape(*out.shape[:-1], *shape)
    return from_torch(out, was_numpy)
