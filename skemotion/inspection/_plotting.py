"""Figures of per-channel and per-channel-and-band values (importances, attributions).

matplotlib (the ``plot`` extra) and MNE (the ``mne`` extra) are imported when a function is
called. The functions draw into the given axes or a new figure and return the figure; they
never call ``plt.show()``.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_finite_array
from ._utils import check_ch_names, require

__all__ = ["plot_topomap", "plot_band_channel"]


def _default_montage(mne) -> str:
    """MNE's template 10-05 montage: ``colin27_1005`` (``standard_1005`` before MNE 1.13)."""
    builtin = mne.channels.get_builtin_montages()
    return "colin27_1005" if "colin27_1005" in builtin else "standard_1005"


def _new_axes(plt, axes, figsize):
    if axes is None:
        fig, axes = plt.subplots(figsize=figsize)
        return fig, axes
    return axes.figure, axes


def plot_topomap(
    values,
    ch_names,
    *,
    axes=None,
    montage=None,
    cmap="RdBu_r",
    vlim=(None, None),
    show_names: bool = False,
    sensors: bool = True,
    contours: int = 6,
    colorbar: bool = True,
    title: str | None = None,
):
    """Draw one value per channel on the scalp (a topographic map).

    Electrode positions come from a standard template montage of MNE (10-05 names, matched
    case-insensitively: ``"FP1"`` is ``Fp1``), and :func:`mne.viz.plot_topomap` interpolates
    the values between them.

    Parameters
    ----------
    values : array-like of shape (n_channels,)
        One value per channel, e.g. ``channel_importance(...).importances_mean`` or
        :func:`summarize_channels` of attributions.
    ch_names : sequence of str
        Channel names, in the order of ``values``.
    axes : matplotlib Axes or None, default=None
        Where to draw; None makes a new figure.
    montage : str, mne.channels.DigMontage or None, default=None
        Electrode positions: a built-in MNE montage name (``"colin27_1020"``,
        ``"biosemi64"`` ...) or a ``DigMontage``; None means MNE's 10-05 template
        (``"colin27_1005"``, formerly ``"standard_1005"``). Every channel must have a position
        there.
    cmap : str or matplotlib colormap, default="RdBu_r"
        Colormap.
    vlim : (float or None, float or None), default=(None, None)
        Colour limits; None lets MNE choose (symmetric around 0 for values of both signs).
    show_names : bool, default=False
        Write the channel names at the electrodes.
    sensors : bool, default=True
        Mark the electrodes.
    contours : int, default=6
        Number of contour lines (0: none).
    colorbar : bool, default=True
        Add a colour bar next to the map.
    title : str or None, default=None
        Title of the axes.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure drawn into (``axes.figure`` when ``axes`` was given).

    Raises
    ------
    ImportError
        When matplotlib (the ``plot`` extra) or MNE (the ``mne`` extra) is not installed.

    See Also
    --------
    plot_band_channel : a channel x band heat map.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.inspection import plot_topomap
    >>> names = ["Fp1", "Fp2", "C3", "Cz", "C4", "O1", "O2"]
    >>> fig = plot_topomap(np.arange(7.0), names, show_names=True)
    >>> len(fig.axes)  # the map and its colour bar
    2
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)
    """
    func = "plot_topomap"
    require("matplotlib", func)
    plt = require("matplotlib.pyplot", func)
    mne = require("mne", func)
    v = check_finite_array(func, values, "values", ndim=1)
    names = check_ch_names(func, ch_names, v.shape[0])
    if len({n.lower() for n in names}) != len(names):
        raise ValueError(f"{func}: argument ch_names holds duplicate names: {names}.")
    if montage is None:
        montage = _default_montage(mne)
    if isinstance(montage, str):
        try:
            montage = mne.channels.make_standard_montage(montage)
        except ValueError as exc:
            raise ValueError(f"{func}: argument montage: {exc}") from exc
    info = mne.create_info(names, sfreq=1.0, ch_types="eeg")
    try:
        info.set_montage(montage, match_case=False, on_missing="raise")
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"{func}: argument ch_names: some channels have no position in the montage: {exc}"
        ) from exc
    fig, axes = _new_axes(plt, axes, (4.0, 4.0))
    image, _ = mne.viz.plot_topomap(
        v,
        info,
        axes=axes,
        show=False,
        cmap=cmap,
        vlim=vlim,
        names=names if show_names else None,
        sensors=sensors,
        contours=contours,
    )
    if colorbar:
        fig.colorbar(image, ax=axes, shrink=0.7)
    if title is not None:
        axes.set_title(title)
    return fig


def plot_band_channel(
    importances,
    ch_names,
    band_names,
    *,
    axes=None,
    cmap="viridis",
    colorbar: bool = True,
    title: str | None = None,
):
    """Draw a band x channel heat map (bands as rows, channels as columns).

    Parameters
    ----------
    importances : array-like of shape (n_channels, n_bands)
        One value per channel and band, e.g. ``channel_importance(..., by="band")
        .importances_mean`` or :func:`summarize_bands` of attributions.
    ch_names : sequence of str
        Channel names (columns).
    band_names : sequence of str
        Band names (rows).
    axes : matplotlib Axes or None, default=None
        Where to draw; None makes a new figure.
    cmap : str or matplotlib colormap, default="viridis"
        Colormap.
    colorbar : bool, default=True
        Add a colour bar.
    title : str or None, default=None
        Title of the axes.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure drawn into (``axes.figure`` when ``axes`` was given).

    Raises
    ------
    ImportError
        When matplotlib (the ``plot`` extra) is not installed.

    See Also
    --------
    plot_topomap : one value per channel on the scalp.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.inspection import plot_band_channel
    >>> fig = plot_band_channel(np.ones((3, 2)), ["C3", "Cz", "C4"], ["alpha", "beta"])
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['alpha', 'beta']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)
    """
    func = "plot_band_channel"
    require("matplotlib", func)
    plt = require("matplotlib.pyplot", func)
    values = check_finite_array(func, importances, "importances", ndim=2)
    n_channels, n_bands = values.shape
    names = check_ch_names(func, ch_names, n_channels)
    if isinstance(band_names, str):
        raise ValueError(
            f"{func}: argument band_names must be a sequence of names; got {band_names!r}."
        )
    bands = [str(b) for b in band_names]
    if len(bands) != n_bands:
        raise ValueError(
            f"{func}: argument band_names holds {len(bands)} names but importances has "
            f"{n_bands} bands (shape {values.shape}: channels x bands)."
        )
    fig, axes = _new_axes(plt, axes, (max(4.0, 0.35 * n_channels + 1.5), 0.4 * n_bands + 1.5))
    image = axes.imshow(values.T, aspect="auto", cmap=cmap, interpolation="nearest")
    axes.set_xticks(np.arange(n_channels), labels=names, rotation=90)
    axes.set_yticks(np.arange(n_bands), labels=bands)
    axes.set_xlabel("channel")
    axes.set_ylabel("band")
    if colorbar:
        fig.colorbar(image, ax=axes)
    if title is not None:
        axes.set_title(title)
    return fig
