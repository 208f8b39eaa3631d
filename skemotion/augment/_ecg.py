"""Signal transformations of SSL-ECG (Sarkar & Etemad, 2020), batched and vectorised.

Every function takes a batch of windows, ``(n_windows, n_times)`` or
``(n_windows, n_channels, n_times)``, and returns a new array of the same shape and floating
dtype; the input is never modified. The same transformation (same random draw) is applied to
all channels of a window; different windows get independent draws. Randomness comes from the
``random_state`` argument only (``None``, an int, a :class:`numpy.random.Generator` or a
:class:`numpy.random.RandomState`), never from numpy's global state.

The defaults are the parameters of the original implementation (github.com/pritamqu/SSL-ECG):
noise at 15 dB SNR, scaling by 1.1, 20 permutation segments, 9 time-warp pieces stretched by
1.05 or squeezed by 1/1.05.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "add_noise_snr",
    "scale",
    "negate",
    "time_reverse",
    "permute_segments",
    "time_warp",
    "ECG_TRANSFORMS",
    "make_pretext_batch",
]


def _as_generator(random_state) -> np.random.Generator:
    """Return a numpy Generator from None, an int, a Generator or a RandomState."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    if random_state is None or isinstance(random_state, numbers.Integral):
        return np.random.default_rng(random_state)
    raise TypeError(
        "random_state must be None, an int, a numpy Generator or a RandomState; "
        f"got {type(random_state).__name__}."
    )


def _check_batch(X, name: str) -> tuple[np.ndarray, bool]:
    """Return X as a float (n, C, T) array (a view when possible) and whether it was 2-D."""
    X = np.asarray(X)
    if X.ndim not in (2, 3):
        raise ValueError(
            f"{name}: X must be 2-D (n_windows, n_times) or 3-D (n_windows, n_channels, "
            f"n_times); got an array with shape {X.shape}."
        )
    if not np.issubdtype(X.dtype, np.floating):
        X = X.astype(np.float64)
    two_d = X.ndim == 2
    return (X[:, np.newaxis, :] if two_d else X), two_d


def _restore(X3: np.ndarray, two_d: bool) -> np.ndarray:
    return X3[:, 0, :] if two_d else X3


def add_noise_snr(X, snr_db: float = 15.0, *, random_state=None) -> np.ndarray:
    """Add white Gaussian noise at a given signal-to-noise ratio.

    The noise variance of each window and channel is ``mean(x**2) / 10**(snr_db / 10)``, so the
    ratio of signal power to noise power is ``snr_db`` in standard decibels
    (``10 * log10(P_signal / P_noise)``), as in the original implementation.

    Parameters
    ----------
    X : ndarray of shape (n_windows, n_times) or (n_windows, n_channels, n_times)
        Signal windows.
    snr_db : float, default=15.0
        Signal-to-noise ratio in dB.
    random_state : None, int, Generator or RandomState, default=None
        Source of the noise.

    Returns
    -------
    X_noisy : ndarray of the same shape as X

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.augment import add_noise_snr
    >>> X = np.sin(np.linspace(0, 20, 1000))[None, :]
    >>> noise = add_noise_snr(X, 10.0, random_state=0) - X
    >>> round(10 * np.log10(np.mean(X**2) / np.mean(noise**2)))
    10
    """
    X3, two_d = _check_batch(X, "add_noise_snr")
    rng = _as_generator(random_state)
    power = np.mean(np.square(X3, dtype=np.float64), axis=-1, keepdims=True)
    std = np.sqrt(power / 10.0 ** (snr_db / 10.0))
    noise = rng.standard_normal(X3.shape) * std
    return _restore((X3 + noise).astype(X3.dtype, copy=False), two_d)


def scale(X, factor: float = 1.1) -> np.ndarray:
    """Multiply every window by ``factor`` (1.1 in the original).

    Parameters
    ----------
    X : ndarray of shape (n_windows, n_times) or (n_windows, n_channels, n_times)
        Signal windows.
    factor : float, default=1.1
        Scaling factor.

    Returns
    -------
    X_scaled : ndarray of the same shape as X

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.augment import scale
    >>> scale(np.array([[1.0, -2.0]]), 2.0)
    array([[ 2., -4.]])
    """
    X3, two_d = _check_batch(X, "scale")
    return _restore(X3 * X3.dtype.type(factor), two_d)


def negate(X) -> np.ndarray:
    """Flip the sign of every window (vertical flip).

    Parameters
    ----------
    X : ndarray of shape (n_windows, n_times) or (n_windows, n_channels, n_times)
        Signal windows.

    Returns
    -------
    X_negated : ndarray of the same shape as X

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.augment import negate
    >>> negate(np.array([[1.0, -2.0]]))
    array([[-1.,  2.]])
    """
    X3, two_d = _check_batch(X, "negate")
    return _restore(-X3, two_d)


def time_reverse(X) -> np.ndarray:
    """Reverse every window in time (horizontal flip); applying it twice is the identity.

    Parameters
    ----------
    X : ndarray of shape (n_windows, n_times) or (n_windows, n_channels, n_times)
        Signal windows.

    Returns
    -------
    X_reversed : ndarray of the same shape as X

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.augment import time_reverse
    >>> time_reverse(np.array([[1.0, 2.0, 3.0]]))
    array([[3., 2., 1.]])
    """
    X3, two_d = _check_batch(X, "time_reverse")
    return _restore(X3[..., ::-1].copy(), two_d)


def _gather_time(X3: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``out[i, c, t] = X3[i, c, idx[i, t]]`` for idx of shape (n, T_out)."""
    return np.take_along_axis(X3, idx[:, np.newaxis, :], axis=-1)


def permute_segments(X, n_segments: int = 20, *, random_state=None) -> np.ndarray:
    """Cut every window into segments and shuffle their order.

    The window of ``T`` samples is cut into pieces of ``T // n_segments`` samples; when this does
    not divide ``T``, the shorter remainder is one more piece that takes part in the shuffle (as
    in the original implementation). Every window gets its own random order. The multiset of
    samples of each window is preserved.

    Parameters
    ----------
    X : ndarray of shape (n_windows, n_times) or (n_windows, n_channels, n_times)
    n_segments : int, default=20
        Number of segments (20 segments of 128 samples for a 10 s window at 256 Hz).
    random_state : None, int, Generator or RandomState, default=None

    Returns
    -------
    X_permuted : ndarray of the same shape as X

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.augment import permute_segments
    >>> X = np.arange(8.0)[None, :]
    >>> out = permute_segments(X, 4, random_state=0)
    >>> sorted(out[0].reshape(4, 2).tolist()) == X[0].reshape(4, 2).tolist()
    True
    """
    X3, two_d = _check_batch(X, "permute_segments")
    n, _, T = X3.shape
    if not 1 <= n_segments <= T:
        raise ValueError(
            f"permute_segments: n_segments must be in [1, n_times={T}]; got {n_segments}."
        )
    rng = _as_generator(random_state)
    seg = T // n_segments
    n_full = T // seg
    lengths = np.full(n_full, seg)
    if T - n_full * seg:
        lengths = np.append(lengths, T - n_full * seg)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    order = np.argsort(rng.random((n, lengths.size)), axis=1)  # a random permutation per row
    len_perm = lengths[order]  # (n, P)
    out_start = np.cumsum(len_perm, axis=1) - len_perm
    # every output sample t of piece k reads source sample t + (start_src - start_out)
    offset = np.repeat((starts[order] - out_start).ravel(), len_perm.ravel()).reshape(n, T)
    idx = np.arange(T)[np.newaxis, :] + offset
    return _restore(_gather_time(X3, idx), two_d)


def time_warp(
    X,
    n_pieces: int = 9,
    stretch_factor: float = 1.05,
    squeeze_factor: float | None = None,
    *,
    random_state=None,
) -> np.ndarray:
    """Stretch half of the pieces of each window and squeeze the others, then crop.

    As in the original: the window is cut into ``n_pieces`` pieces of ``T // n_pieces``
    samples; ``ceil(n_pieces / 2)`` random pieces are stretched by ``stretch_factor`` and the
    others squeezed by ``squeeze_factor`` (linear interpolation, half-sample-centred grid like
    OpenCV's ``INTER_LINEAR``); the pieces are concatenated in order and a random ``T``-sample
    crop is taken. Every window gets its own random draw. The last ``T - n_pieces * (T //
    n_pieces)`` samples (fewer than ``n_pieces``; the original drops them) are appended
    unwarped, so that with the default factors the warped signal always fills the window.

    Parameters
    ----------
    X : ndarray of shape (n_windows, n_times) or (n_windows, n_channels, n_times)
    n_pieces : int, default=9
    stretch_factor : float, default=1.05
    squeeze_factor : float or None, default=None
        ``None`` means ``1 / stretch_factor``.
    random_state : None, int, Generator or RandomState, default=None

    Returns
    -------
    X_warped : ndarray of the same shape as X

    Raises
    ------
    ValueError
        If the warped signal would be shorter than the window (the factors or the window are
        too small to fill it).

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.augment import time_warp
    >>> X = np.sin(np.linspace(0, 6 * np.pi, 2560))[None, None, :]
    >>> time_warp(X, random_state=0).shape
    (1, 1, 2560)
    """
    X3, two_d = _check_batch(X, "time_warp")
    n, _, T = X3.shape
    if squeeze_factor is None:
        squeeze_factor = 1.0 / stretch_factor
    seg = T // n_pieces if n_pieces >= 1 else 0
    if seg < 1:
        raise ValueError(f"time_warp: n_pieces must be in [1, n_times={T}]; got {n_pieces}.")
    len_st = int(np.ceil(seg * stretch_factor))
    len_sq = int(np.ceil(seg * squeeze_factor))
    n_st = int(np.ceil(n_pieces / 2))
    rem = T - n_pieces * seg  # tail shorter than a piece, appended unwarped
    total = n_st * len_st + (n_pieces - n_st) * len_sq + rem
    if total < T:
        raise ValueError(
            f"time_warp: the warped signal has {total} samples, fewer than the window's {T}; "
            "use a larger stretch_factor or fewer pieces."
        )
    rng = _as_generator(random_state)
    stretched = np.argsort(rng.random((n, n_pieces)), axis=1) < n_st  # (n, P) random half
    # output and source lengths of the n_pieces pieces and of the tail (piece index n_pieces)
    out_len = np.concatenate([np.where(stretched, len_st, len_sq), np.full((n, 1), rem)], axis=1)
    src_len = np.append(np.full(n_pieces, seg), rem)
    piece = np.repeat(np.tile(np.arange(n_pieces + 1), n), out_len.ravel()).reshape(n, total)
    out_start = np.cumsum(out_len, axis=1) - out_len
    local = np.arange(total)[np.newaxis, :] - np.take_along_axis(out_start, piece, axis=1)
    n_src = src_len[piece]
    ratio = n_src / np.take_along_axis(out_len, piece, axis=1)
    src = np.clip((local + 0.5) * ratio - 0.5, 0.0, n_src - 1)  # OpenCV INTER_LINEAR grid
    i0 = np.floor(src).astype(np.intp)
    i1 = np.minimum(i0 + 1, n_src - 1)
    frac = (src - i0).astype(X3.dtype)
    # random crop of T samples out of `total`
    crop = rng.integers(0, total - T + 1, size=n)
    sel = crop[:, np.newaxis] + np.arange(T)[np.newaxis, :]
    base = piece * seg
    i0 = np.take_along_axis(base + i0, sel, axis=1)
    i1 = np.take_along_axis(base + i1, sel, axis=1)
    frac = np.take_along_axis(frac, sel, axis=1)[:, np.newaxis, :]
    out = _gather_time(X3, i0) * (1 - frac) + _gather_time(X3, i1) * frac
    return _restore(out.astype(X3.dtype, copy=False), two_d)


#: Names of the seven versions of a signal in the SSL-ECG pretext task, in label order.
ECG_TRANSFORMS = (
    "original",
    "noise",
    "scale",
    "negate",
    "time_reverse",
    "permute",
    "time_warp",
)


def make_pretext_batch(
    X,
    *,
    snr_db: float = 15.0,
    scale_factor: float = 1.1,
    n_segments: int = 20,
    n_pieces: int = 9,
    stretch_factor: float = 1.05,
    random_state=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Stack every window in its seven versions (original + six transformations).

    Parameters
    ----------
    X : ndarray of shape (n_windows, n_times) or (n_windows, n_channels, n_times)
    snr_db, scale_factor, n_segments, n_pieces, stretch_factor
        Parameters of :func:`add_noise_snr`, :func:`scale`, :func:`permute_segments` and
        :func:`time_warp` (the original values by default).
    random_state : None, int, Generator or RandomState, default=None

    Returns
    -------
    X_all : ndarray of shape (7 * n_windows, ...)
        Version ``k`` of window ``i`` is row ``k * n_windows + i``; the versions follow
        :data:`ECG_TRANSFORMS`.
    labels : ndarray of shape (7 * n_windows,)
        Index of the version (0 = original) of each row.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.augment import make_pretext_batch
    >>> X = np.random.default_rng(0).normal(size=(2, 1, 2560))
    >>> X_all, labels = make_pretext_batch(X, random_state=0)
    >>> X_all.shape, labels.tolist()
    ((14, 1, 2560), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6])
    """
    rng = _as_generator(random_state)
    X3, two_d = _check_batch(X, "make_pretext_batch")
    versions = [
        X3,
        add_noise_snr(X3, snr_db, random_state=rng),
        scale(X3, scale_factor),
        negate(X3),
        time_reverse(X3),
        permute_segments(X3, n_segments, random_state=rng),
        time_warp(X3, n_pieces, stretch_factor, random_state=rng),
    ]
    X_all = np.concatenate(versions, axis=0)
    labels = np.repeat(np.arange(len(versions)), X3.shape[0])
    return _restore(X_all, two_d), labels
