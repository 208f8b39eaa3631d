"""Which channels, bands and samples a fitted model relies on.

Following :mod:`sklearn.inspection`: :func:`channel_importance` is permutation importance for
any fitted estimator or pipeline on signal windows ``(n_windows, n_channels, n_times)``, by
channel or by channel and frequency band; :func:`attribute` gives gradient attributions
(integrated gradients, saliency) of the deep classifiers of :mod:`skemotion.classifiers` with
respect to the raw windows, and :func:`summarize_channels` / :func:`summarize_bands` reduce
them. :func:`plot_topomap` and :func:`plot_band_channel` draw the results.

Nothing here imports captum, MNE or matplotlib until it is called: :func:`attribute` needs the
``explain`` extra (captum), the plots the ``plot`` and ``mne`` extras.
"""

from ._attribution import attribute, summarize_bands, summarize_channels
from ._permutation import channel_importance
from ._plotting import plot_band_channel, plot_topomap

__all__ = [
    "attribute",
    "channel_importance",
    "plot_band_channel",
    "plot_topomap",
    "summarize_bands",
    "summarize_channels",
]
