"""Fixed-length windows of a multichannel signal.

Pure functions, shared by every loader: a window is ``window_seconds`` long and consecutive
windows start ``window_seconds * (1 - overlap)`` apart. Windows never run past the end of the
signal (a trailing remainder shorter than a window is dropped).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._validation import check_sfreq


def window_params(
    sfreq: float, window_seconds: float, overlap: float, *, where: str = "windows"
) -> tuple[int, int]:
    """Return ``(window_length, step)`` in samples.

    Parameters
    ----------
    sfreq : float
        Sampling frequency in Hz.
    window_seconds : float
        Window length in seconds (> 0).
    overlap : float
        Fraction of a window shared by two consecutive windows, in ``[0, 1)``.
    where : str
        Name used in error messages (e.g. ``"load_deap"``).

    Returns
    -------
    window_length : int
        ``round(window_seconds * sfreq)``.
    step : int
        ``round(window_length * (1 - overlap))``, at least 1.
    """
    if isinstance(window_seconds, bool) or not isinstance(window_seconds, int | float | np.number):
        raise ValueError(
            f"{where}: window_seconds must be a positive number; got {window_seconds!r}."
        )
    if not np.isfinite(window_seconds) or window_seconds <= 0:
        raise ValueError(
            f"{where}: window_seconds must be a positive number; got {window_seconds!r}."
        )
    if isinstance(overlap, bool) or not isinstance(overlap, int | float | np.number):
        raise ValueError(f"{where}: overlap must be a fraction in [0, 1); got {overlap!r}.")
    if not (0 <= overlap < 1):
        raise ValueError(f"{where}: overlap must be a fraction in [0, 1); got {overlap!r}.")
    length = int(round(window_seconds * sfreq))
    if length < 1:
        raise ValueError(
            f"{where}: window_seconds={window_seconds!r} is shorter than one sample at {sfreq} Hz."
        )
    step = max(1, int(round(length * (1 - overlap))))
    return length, step


def n_windows(n_samples: int, length: int, step: int) -> int:
    """Number of whole windows of ``length`` samples, ``step`` apart, in ``n_samples``."""
    if n_samples < length:
        return 0
    return (n_samples - length) // step + 1


def sliding_windows(
    data: np.ndarray, sfreq: float, window_seconds: float, overlap: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a (n_channels, n_times) signal into windows, without copying.

    Parameters
    ----------
    data : ndarray of shape (n_channels, n_samples)
        The signal, channels first.
    sfreq : float
        Sampling frequency in Hz.
    window_seconds : float
        Window length in seconds.
    overlap : float, default=0.0
        Fraction of a window shared by consecutive windows, in ``[0, 1)``.

    Returns
    -------
    windows : ndarray of shape (n_windows, n_channels, window_length)
        A read-only strided view of ``data`` (no copy).
    starts : ndarray of shape (n_windows,)
        Start time of each window in seconds from the beginning of ``data``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(20.0).reshape(2, 10)
    >>> w, starts = sliding_windows(x, sfreq=2.0, window_seconds=2.0, overlap=0.5)
    >>> w.shape, starts.tolist()
    ((4, 2, 4), [0.0, 1.0, 2.0, 3.0])
    >>> np.shares_memory(w, x)
    True
    """
    data = np.asarray(data)
    if data.ndim != 2:
        raise ValueError(
            f"sliding_windows: argument data must be 2-D (n_channels, n_samples); got shape "
            f"{data.shape}."
        )
    sfreq = check_sfreq("sliding_windows", sfreq)
    length, step = window_params(sfreq, window_seconds, overlap, where="sliding_windows")
    n = n_windows(data.shape[1], length, step)
    if n == 0:
        return (
            np.empty((0, data.shape[0], length), dtype=data.dtype),
            np.empty(0, dtype=float),
        )
    # (n_channels, n_all_windows, length) -> keep every step-th -> (n_windows, n_channels, length)
    views = sliding_window_view(data, length, axis=1)[:, ::step][:, :n]
    starts = np.arange(n) * step / float(sfreq)
    return views.transpose(1, 0, 2), starts
