"""SST-EmotionNet as a scikit-learn classifier on raw EEG windows.

The classifier builds both input streams of :class:`~skemotion.models.SSTEmotionNet` itself
from raw windows ``(n_windows, n_channels, n_times)``, batched and once per ``fit`` /
``predict`` call: the differential entropy of each frequency band and the window averaged over
``temporal_depth`` equal parts, both placed on one interpolated image of the scalp.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch

from .._montages import MONTAGES, check_unique_channels
from .._training import inference_device
from .._validation import Interval, StrOptions, check_is_fitted
from ..features._backend import check_bands
from ..features.functional import differential_entropy, grid_weights
from ..models.sstemotionnet import SSTEmotionNet
from ._base import DeepClassifierBase

__all__ = ["SSTEmotionNetClassifier"]


# --- stream preparation: pure, batched functions ------------------------------------------


def _segment_matrix(n_times: int, n_segments: int) -> np.ndarray:
    """Area-averaging resampling matrix ``(n_times, n_segments)``.

    Column ``k`` averages the piecewise-constant signal (sample ``t`` held over ``[t, t+1)``)
    over ``[k * T / d, (k + 1) * T / d)``: whole blocks of ``T / d`` samples when ``d``
    divides ``T``, fractional samples at the edges otherwise (and plain upsampling by
    repetition when ``T < d``). Every column sums to 1.
    """
    edges = np.arange(n_segments + 1) * (n_times / n_segments)
    t = np.arange(n_times)[:, None]
    overlap = np.minimum(t + 1, edges[None, 1:]) - np.maximum(t, edges[None, :-1])
    return np.clip(overlap, 0.0, None) * (n_segments / n_times)


def _segment_means(X: np.ndarray, n_segments: int) -> np.ndarray:
    """``(n, C, T)`` -> ``(n, C, n_segments)``: the mean of each of ``n_segments`` equal parts."""
    M = _segment_matrix(X.shape[-1], n_segments).astype(X.dtype)
    return X @ M


def _band_de(X: np.ndarray, sfreq: float, bands) -> np.ndarray:
    """Differential entropy per band ``(n, C, n_bands)`` (:func:`differential_entropy`)."""
    return differential_entropy(X, sfreq, bands)


def _to_maps(values: np.ndarray, weights: np.ndarray, grid_shape) -> np.ndarray:
    """Per-channel values ``(n, C, F)`` to electrode maps ``(n, 1, H, W, F)``.

    ``weights`` ``(H * W, C)`` is the linear channel-to-pixel map of :func:`grid_weights`
    (interpolation included), applied to the whole batch with one matrix product.
    """
    h, w = grid_shape
    W = weights.astype(values.dtype, copy=False)
    maps = np.matmul(W, values)  # (n, H*W, F)
    return maps.reshape(values.shape[0], 1, h, w, values.shape[-1])


def _map_weights(ch_names, grid_size: int, interpolation: str):
    """Pixel weights ``(H * W, C)`` and ``(H, W)`` of the interpolated electrode map."""
    return grid_weights(list(ch_names), f"{grid_size}x{grid_size}", interpolation)


def _safe_scale(std):
    """Standard deviation(s) usable as divisors: 1 where zero or not finite."""
    std = np.asarray(std, dtype=np.float64)
    return np.where(np.isfinite(std) & (std > 0), std, 1.0)


class _MapsBatch:
    """Both input streams from raw windows, on the training device (used with ``augment``).

    With augmentation the training batches carry (augmented) raw windows: this computes, per
    batch and in torch, what :meth:`SSTEmotionNetClassifier._prepare` computes once with
    numpy (band DE and segment means, standardised with the fitted statistics, on the scalp
    image). Prepared maps (a dict) pass through unchanged.
    """

    def __init__(self, sfreq, bands, depth, weights, shape, s_mean, s_scale, t_mean, t_scale):
        self.sfreq = sfreq
        self.bands = bands
        self.depth = depth
        self.weights = weights
        self.shape = shape
        self.stats = (s_mean, s_scale, t_mean, t_scale)

    def _maps(self, values):
        h, w = self.shape
        W = torch.as_tensor(self.weights, dtype=values.dtype, device=values.device)
        return torch.matmul(W, values).reshape(values.shape[0], 1, h, w, values.shape[-1])

    def __call__(self, x, training=False):
        if not isinstance(x, torch.Tensor):
            return x
        x = x.float()
        s_mean, s_scale, t_mean, t_scale = self.stats
        de = differential_entropy(x, self.sfreq, self.bands)  # (B, C, n_bands)
        de = (de - torch.as_tensor(s_mean, dtype=de.dtype, device=de.device)) / torch.as_tensor(
            s_scale, dtype=de.dtype, device=de.device
        )
        M = torch.as_tensor(_segment_matrix(x.shape[-1], self.depth), dtype=x.dtype)
        temporal = (torch.matmul(x, M.to(x.device)) - t_mean) / t_scale  # (B, C, depth)
        present = (x != 0).any(dim=-1, keepdim=True).to(x.dtype)  # (B, C, 1): not zeroed
        return {
            "spectral": self._maps(de * present),
            "temporal": self._maps(temporal * present),
        }


# --- the estimator -----------------------------------------------------------------------


class SSTEmotionNetClassifier(DeepClassifierBase):
    """SST-EmotionNet (Jia et al. 2020) on raw EEG windows, as a scikit-learn classifier.

    A two-stream attention 3-D DenseNet (:class:`~skemotion.models.SSTEmotionNet`) reading
    the scalp as an image: the *spectral* stream sees the differential entropy (DE) of each
    frequency band, the *temporal* stream the signal itself, both on the same interpolated
    electrode map. The classifier takes raw windows and builds both streams itself, so it
    works in a plain Pipeline and under ``cross_val_score``:

    - spectral stream ``(n, 1, H, W, n_bands)``: the DE of each band
      (:func:`skemotion.features.functional.differential_entropy`, FFT method) of every
      channel, standardised per band with the mean and standard deviation of the training
      windows, then placed on a ``grid_size x grid_size`` image of the azimuthal-equidistant
      projection of the 10-10 positions
      (:func:`skemotion.features.functional.grid_weights`) and interpolated between
      electrodes (zero outside their convex hull);
    - temporal stream ``(n, 1, H, W, temporal_depth)``: each channel averaged over
      ``temporal_depth`` equal parts of the window (an anti-aliased downsampling),
      standardised with one mean and one scale learnt on the training windows, on the same
      image. The signal is used as it is (as in the paper): band-pass filter windows that
      carry DC offsets or drifts first (:class:`~skemotion.features.BandpassFilter`).

    Both are computed for the whole batch with a few matrix products, once per ``fit`` or
    ``predict`` call (never per window or per epoch), from fitted state only.

    Parameters
    ----------
    ch_names : list of str, {"seed62", "deap32", "emotiv14"} or None, default=None
        Electrode names in the order of X's channel axis (10-20/10-10 names,
        case-insensitive, T3/T4/T5/T6 accepted), or the name of a built-in montage. None:
        the channel names of X when X is ``mne.Epochs`` or a skemotion dataset, an error at
        ``fit`` for an array. Unknown names raise an error naming them; names that disagree
        with those X carries are an error.
    sfreq : float or None, default=None
        Sampling frequency of X in Hz; None takes the rate of X when X is ``mne.Epochs`` or a
        skemotion dataset, else the montage's rate when ``ch_names`` is a montage name (200 Hz
        for seed62, 128 Hz for deap32 and emotiv14).
    grid_size : int, default=16
        Height and width of the electrode maps (32 in the paper; 16 is plenty for 14-32
        electrodes and 3-4 times cheaper).
    interpolation : {"cubic", "linear", "none"}, default="cubic"
        How channel values fill the map: Clough-Tocher cubic or linear interpolation over
        the electrodes' convex hull, or ``"none"`` (each value in its electrode's pixel,
        needed for fewer than 3 electrodes).
    bands : dict, sequence of (low, high) or None, default=None
        Frequency bands of the spectral stream in Hz; None means delta 1-4, theta 4-8, alpha
        8-14, beta 14-31 and gamma 31-50 Hz (the paper's five bands).
    temporal_depth : int, default=25
        Depth of the temporal maps (the paper's 25): number of equal parts each window is
        averaged over (windows shorter than that are upsampled by repetition).
    spectral_growth : int, default=4
        Growth rate of the spectral stream (12 in the paper).
    spectral_layers : int or tuple of int, default=2
        Dense layers per block of the spectral stream (2 in the paper).
    spectral_compression : float, default=0.5
        Fraction of maps kept by the spectral stream's transitions (0.5 in the paper).
    temporal_growth : int, default=4
        Growth rate of the temporal stream (24 in the paper).
    temporal_layers : int or tuple of int, default=3
        Dense layers per block of the temporal stream (3 in the paper).
    temporal_compression : float, default=1.0
        Fraction of maps kept by the temporal stream's transitions (1.0 in the paper).
    n_blocks : int, default=3
        Dense blocks per stream (3 in the paper).
    hidden_size : int, default=50
        Units of the fusion layer (50 in the paper).
    dropout : float, default=0.5
        Dropout after the fusion layer (0.5 in the paper).
    attention : bool, default=True
        Use the spatial and band/time attention (False: the ablation without it).
    lr : float, default=3e-3
        Adam learning rate (1e-4 in the paper, over 50 epochs of a much larger training set).
        Chosen with ``lr_schedule`` for cross-subject use on a development corpus by
        ``benchmarks/recipes.py`` (1e-3 without a schedule before). The training parameters
        shared by every deep classifier are described briefly here and in full in
        :class:`~skemotion.classifiers.DeepClassifierBase`.
    max_epochs : int, default=15
        Longer training overfits the training subjects at this data size; with many more
        windows (or ``early_stopping=True`` and subject groups) raise it.
    batch_size : int, default=32
        Mini-batch size of training and inference.
    optimizer : {"adam", "adamw", "sgd"}, default="adam"
        Optimizer.
    weight_decay : float, default=0.0
        Weight decay (L2 for Adam and SGD, decoupled for AdamW).
    lr_schedule : {"cosine"} or None, default="cosine"
        None keeps ``lr`` constant; ``"cosine"`` anneals it towards 0 over ``max_epochs``.
    early_stopping : bool or "refit", default=False
        Stop when the loss on held-out *groups* given to ``fit`` stops improving and restore the
        best epoch; ``"refit"`` then trains again on every window for that many epochs.
    validation_fraction : float, default=0.2
        Fraction of the groups held out when ``early_stopping`` is on.
    patience : int, default=30
        Epochs without improvement of the validation loss before stopping.
    min_epochs : int or None, default=None
        With ``early_stopping``, no stop before this epoch; None means the classifier's default
        ``max_epochs``.
    augment : list or None, default=None
        Augmentations of :mod:`skemotion.augment` applied, in order, to every training batch.
    subject_adversarial : float, default=0.0
        Weight of the subject-adversarial loss, the subjects being the ``groups`` given to
        ``fit`` (0: off).
    adapt_bn : {False, "batch", "subject"}, default=False
        Batch-norm statistics adapted at prediction to the windows predicted (``"batch"``) or to
        each subject of the ``groups`` given to ``predict`` (``"subject"``).
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ``"cuda:1"`` ...
    precision : {"32", "bf16", "16-mixed"}, default="32"
        Training and inference precision (``"16-mixed"`` is meant for CUDA).
    num_workers : int, default=0
        DataLoader worker processes (0: batches are loaded in the main process).
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and augmentation; with an int, ``fit``
        is deterministic on CPU.
    callbacks : list or None, default=None
        Extra skorch callbacks (deep-copied in ``fit``).
    verbose : int, default=0
        0 silent, 1 a progress bar over epochs, 2 also skorch's per-epoch table.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The fitted skorch net (``net_.module_`` is the
        :class:`~skemotion.models.SSTEmotionNet`, ``net_.history`` the training history).
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_channels_ : int
        Number of channels seen in fit.
    n_times_ : int
        Window length seen in fit.
    n_features_in_ : int
        Size of X's second axis in fit (channels; time samples for 2-D X).
    input_shape_ : tuple of int
        Per-window shape of the validated X, ``(n_channels, n_times)``.
    best_epoch_ : int or None
        With ``early_stopping``, the best epoch judged on the validation groups (the
        number of epochs of the final training with ``"refit"``); None without it.
    ch_names_ : list of str
        The electrode names used (from ``ch_names`` or the montage).
    sfreq_ : float
        The sampling frequency used.
    grid_weights_ : ndarray of shape (grid_size * grid_size, n_channels)
        Linear map from channel values to map pixels (interpolation included).
    grid_mask_ : ndarray of shape (grid_size, grid_size), dtype bool
        Pixels inside the electrodes' hull (the others are always zero); use it to mask
        the spatial attention maps when plotting them.
    spectral_mean_ : ndarray of shape (n_bands,)
        Mean DE of each band over the training windows and channels.
    spectral_scale_ : ndarray of shape (n_bands,)
        Standard deviation of the DE of each band over the training windows and channels.
    temporal_mean_ : float
        Mean of the temporal stream's values (equal-part means) over the training windows.
    temporal_scale_ : float
        Their standard deviation.

    See Also
    --------
    skemotion.models.SSTEmotionNet : The network, its layers and the canonical configuration.
    skemotion.features.DifferentialEntropy : The band features of the spectral stream.
    skemotion.features.ElectrodeGrid : The same electrode maps as a transformer.
    skemotion.classifiers.EEGNetClassifier : The reference deep baseline.

    Notes
    -----
    **What it is.** SST-EmotionNet (Jia et al., ACM Multimedia 2020) treats EEG as a stack of
    scalp images: along frequency (DE of 5 bands, the spatial-spectral stream) and along time
    (the raw samples, the spatial-temporal stream). Each stream is a 3-D DenseNet whose dense
    layers factorise a 3-D convolution into a (3, 3, 1) spatial and a (1, 1, 3) band/time
    convolution after a 1x1x1 bottleneck; after each transition an attention module weights
    the feature maps with a spatial map and a band (or time) profile, both sigmoid gates
    computed in parallel from the mean feature map. The two streams are pooled, concatenated,
    passed through a 50-unit linear layer with dropout and classified. The paper reports
    96.02 +- 2.17 % on SEED (3 classes) and about 84.9 % on SEED-IV (4 classes).

    **Canonical configuration and these defaults.** The paper's network is
    ``SSTEmotionNetClassifier(ch_names="seed62", grid_size=32, temporal_depth=25,
    spectral_growth=12, temporal_growth=24, lr=1e-4, batch_size=64, max_epochs=50)`` (519,213
    parameters for 3 classes). The defaults here are smaller so that CPU training is
    practical and so that a few hundred training windows do not simply get memorised: a
    16x16 map and growth rates of 4 (25,183 parameters for 3 classes; same layers, blocks and
    compressions as the paper). On the default benchmark's synthetic corpus (Emotiv, 14
    channels, 6 subjects, leave-one-subject-out) larger networks fitted the training subjects
    perfectly and did worse on the held-out one (growth 6/12: about 0.35-0.42 balanced
    accuracy on two folds, against 0.48-0.62 for growth 4). Cost of one training epoch of
    300 windows (the benchmark's training fold), measured with one thread on a 2-core Intel
    Xeon shared with other jobs (load average 5 to 9, so the numbers are pessimistic and
    noisy): about 1.5-3.5 s with these defaults (21.6 s per 15-epoch fold in the recorded
    benchmark), about 27-47 s with the canonical network (two threads on the loaded machine
    were slower still). On a GPU the canonical network is the natural choice.

    **Preparation.** The paper's DE comes from band-pass filtered signals, placed on the
    literature's 9x9 grid and resized to 32x32 with bicubic interpolation (the official
    repository's ``preprocess.py``, which also takes its 25 temporal samples at evenly
    spaced indices of the window, without averaging). Here DE is computed from the FFT
    (ideal band-pass, see :func:`~skemotion.features.functional.band_variance`), the map
    interpolates the real 10-10 positions, the temporal samples are equal-part means (no
    aliasing of the fast rhythms into the 25 samples), and both streams are standardised with
    training statistics (the spectral one per band, so that the map keeps its topography; the
    paper does not say whether it normalised). Pixels outside the electrodes' convex hull are
    zero in both streams.

    **Where the paper and the official code differ** (this implementation follows the code;
    see :class:`~skemotion.models.SSTEmotionNet`): the attention is applied after each
    transition with sigmoid gates in the code, before each dense block with softmax in the
    paper's figure. The code puts an L2 penalty of 1e-4 on some kernels; here
    ``weight_decay`` applies to all parameters (0 by default).

    **Protocol.** The paper trains one model per subject and session (subject-dependent:
    first 9 trials for training, last 6 for testing) and selected epochs on the test trials;
    skemotion's benchmark is leave-one-subject-out on unseen subjects, with no model
    selection on the test subject, a much harder protocol: its numbers are not comparable
    with the paper's. On the default synthetic benchmark (Emotiv, 6 subjects, LOSO) these
    defaults reach 0.458 +- 0.085 balanced accuracy (chance 0.333), below EEGNet (0.625) and
    the DE + logistic regression baseline (0.661): the network fits its training subjects
    (0.96) but transfers less well to a new one (``benchmarks/RESULTS.md``).

    **Attention maps.** :meth:`attention_maps` returns, for each window, the spatial and
    band/time weights of both streams after each transition. After the first transition the
    spatial maps are ``grid_size // 2`` wide and the spectral stream's band axis has
    ``n_bands // 2`` entries (the 5 bands pooled in pairs after the (1, 1, 3) convolutions
    mixed neighbouring bands), so the band profile is coarse by construction.

    References
    ----------
    .. [1] Jia, Z., Lin, Y., Cai, X., Chen, H., Gou, H., & Wang, J. (2020). SST-EmotionNet:
       Spatial-Spectral-Temporal based Attention 3D Dense Network for EEG Emotion
       Recognition. In Proceedings of the 28th ACM International Conference on Multimedia
       (MM '20), pp. 2909-2917. https://doi.org/10.1145/3394171.3413724
    .. [2] Official code (Keras): https://github.com/ziyujia/SST-EmotionNet
    .. [3] Duan, R.-N., Zhu, J.-Y., & Lu, B.-L. (2013). Differential entropy feature for
       EEG-based emotion classification. 6th International IEEE/EMBS Conference on Neural
       Engineering (NER), pp. 81-84.

    Examples
    --------
    >>> from skemotion.datasets import make_eeg_emotion
    >>> from skemotion.classifiers import SSTEmotionNetClassifier
    >>> data = make_eeg_emotion("emotiv14", n_subjects=2, n_windows_per_trial=4, random_state=0)
    >>> clf = SSTEmotionNetClassifier(
    ...     "emotiv14", grid_size=8, spectral_growth=2, temporal_growth=2, max_epochs=1,
    ...     random_state=0,
    ... ).fit(data.X, data.y)
    >>> clf.predict_proba(data.X[:3]).shape
    (3, 3)
    >>> maps = clf.attention_maps(data.X[:3])
    >>> [a.shape for a in maps["spectral_spatial"]], [a.shape for a in maps["spectral_band"]]
    ([(3, 4, 4), (3, 2, 2)], [(3, 2), (3, 1)])
    """

    _parameter_constraints = {
        **DeepClassifierBase._parameter_constraints,
        "ch_names": [list, tuple, np.ndarray, StrOptions(set(MONTAGES)), None],
        "sfreq": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "grid_size": [Interval(numbers.Integral, 2, None, closed="left")],
        "interpolation": [StrOptions({"none", "linear", "cubic"})],
        "bands": [dict, list, tuple, None],
        "temporal_depth": [Interval(numbers.Integral, 1, None, closed="left")],
        "spectral_growth": [Interval(numbers.Integral, 1, None, closed="left")],
        "spectral_layers": [Interval(numbers.Integral, 1, None, closed="left"), tuple, list],
        "spectral_compression": [Interval(numbers.Real, 0, 1, closed="right")],
        "temporal_growth": [Interval(numbers.Integral, 1, None, closed="left")],
        "temporal_layers": [Interval(numbers.Integral, 1, None, closed="left"), tuple, list],
        "temporal_compression": [Interval(numbers.Real, 0, 1, closed="right")],
        "n_blocks": [Interval(numbers.Integral, 1, None, closed="left")],
        "hidden_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "attention": ["boolean"],
    }

    def __init__(
        self,
        ch_names=None,
        *,
        sfreq=None,
        grid_size=16,
        interpolation="cubic",
        bands=None,
        temporal_depth=25,
        spectral_growth=4,
        spectral_layers=2,
        spectral_compression=0.5,
        temporal_growth=4,
        temporal_layers=3,
        temporal_compression=1.0,
        n_blocks=3,
        hidden_size=50,
        dropout=0.5,
        attention=True,
        lr=3e-3,
        max_epochs=15,
        batch_size=32,
        optimizer="adam",
        weight_decay=0.0,
        lr_schedule="cosine",
        early_stopping=False,
        validation_fraction=0.2,
        patience=30,
        min_epochs=None,
        augment=None,
        subject_adversarial=0.0,
        adapt_bn=False,
        device="auto",
        precision="32",
        num_workers=0,
        random_state=None,
        callbacks=None,
        verbose=0,
    ):
        self.ch_names = ch_names
        self.sfreq = sfreq
        self.grid_size = grid_size
        self.interpolation = interpolation
        self.bands = bands
        self.temporal_depth = temporal_depth
        self.spectral_growth = spectral_growth
        self.spectral_layers = spectral_layers
        self.spectral_compression = spectral_compression
        self.temporal_growth = temporal_growth
        self.temporal_layers = temporal_layers
        self.temporal_compression = temporal_compression
        self.n_blocks = n_blocks
        self.hidden_size = hidden_size
        self.dropout = dropout
        self.attention = attention
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.min_epochs = min_epochs
        self.augment = augment
        self.subject_adversarial = subject_adversarial
        self.adapt_bn = adapt_bn
        self.device = device
        self.precision = precision
        self.num_workers = num_workers
        self.random_state = random_state
        self.callbacks = callbacks
        self.verbose = verbose

    # --- hooks of DeepClassifierBase -----------------------------------------------------
    def _montage(self, n_channels: int) -> tuple[list[str], float]:
        """Electrode names and sampling rate from ``ch_names`` / ``sfreq``, checked."""
        name = type(self).__name__
        montages = ", ".join(repr(m) for m in sorted(MONTAGES))
        meta = getattr(self, "_signal_meta_in", None) or {"ch_names": None, "sfreq": None}
        ch_names = self.ch_names if self.ch_names is not None else meta["ch_names"]
        if ch_names is None:
            raise ValueError(
                f"{name}: argument ch_names is None; the electrode maps need the name of every "
                f"channel of X (10-20/10-10 names such as 'Fp1', 'Cz') or a montage name "
                f"({montages})."
            )
        if isinstance(ch_names, str):
            montage = MONTAGES[ch_names]
            names, default_sfreq = list(montage["ch_names"]), float(montage["sfreq"])
        else:
            names, default_sfreq = [str(c) for c in ch_names], meta["sfreq"]
        if len(names) != n_channels:
            raise ValueError(
                f"{name}: argument ch_names holds {len(names)} names but X has {n_channels} "
                "channels."
            )
        if self.sfreq is None and meta["sfreq"] is not None:
            default_sfreq = meta["sfreq"]
        sfreq = default_sfreq if self.sfreq is None else float(self.sfreq)
        if sfreq is None:
            raise ValueError(
                f"{name}: argument sfreq is None; give the sampling frequency of X in Hz (it "
                f"defaults to the montage's only when ch_names is a montage name: {montages})."
            )
        return names, sfreq

    def _fit_state(self, X, y, extras):
        name = type(self).__name__
        names, sfreq = self._montage(X.shape[1])
        check_unique_channels(names, name)
        try:
            weights, shape = grid_weights(
                names, f"{self.grid_size}x{self.grid_size}", self.interpolation
            )
        except ValueError as exc:
            raise ValueError(f"{name}: argument ch_names: {exc}") from exc
        try:
            check_bands(self.bands, name, sfreq=sfreq)
            de = differential_entropy(X, sfreq, self.bands)  # (n, C, n_bands)
        except (ValueError, TypeError) as exc:
            if str(exc).startswith(name):
                raise
            raise ValueError(f"{name}: argument bands: {exc}") from exc
        temporal = _segment_means(X, self.temporal_depth)  # (n, C, depth)
        present = np.any(X != 0, axis=-1)  # (n, C): zeroed channels do not count
        if not present.all():
            de, temporal = de[present][None], temporal[present][None]
        return {
            "ch_names_": names,
            "sfreq_": sfreq,
            "grid_weights_": weights,
            "grid_mask_": (np.abs(weights).sum(axis=1) > 0).reshape(shape),
            "spectral_mean_": de.mean(axis=(0, 1), dtype=np.float64),
            "spectral_scale_": _safe_scale(de.std(axis=(0, 1), dtype=np.float64)),
            "temporal_mean_": float(temporal.mean(dtype=np.float64)),
            "temporal_scale_": float(_safe_scale(temporal.std(dtype=np.float64))),
        }

    def _prepare(self, X):
        shape = self.grid_mask_.shape
        de = differential_entropy(X, self.sfreq_, self.bands)  # (n, C, n_bands)
        de -= self.spectral_mean_.astype(de.dtype)
        de /= self.spectral_scale_.astype(de.dtype)
        temporal = _segment_means(X, self.temporal_depth)  # (n, C, depth)
        temporal -= np.float32(self.temporal_mean_)
        temporal /= np.float32(self.temporal_scale_)
        # a channel that is identically zero in a window (absent from its dataset, zero-padded
        # by harmonize, or dropped by ChannelDropout) is an average pixel, not the DE of a
        # zero signal (about -87, tens of standard deviations away)
        absent = ~np.any(X != 0, axis=-1)  # (n, C)
        if absent.any():
            de[absent] = 0.0
            temporal[absent] = 0.0
        return {
            "spectral": _to_maps(de.astype(np.float32, copy=False), self.grid_weights_, shape),
            "temporal": _to_maps(
                temporal.astype(np.float32, copy=False), self.grid_weights_, shape
            ),
        }

    def _training_inputs(self, X, prepared, extras):
        # with augmentation the batches carry raw windows, turned into maps on the device
        if getattr(self, "augment", None):
            return X.astype(np.float32, copy=False)
        return prepared

    def _batch_transform(self):
        if not getattr(self, "augment", None):
            return None
        return self._torch_prepare()

    def _torch_prepare(self):
        # the maps of _prepare computed in torch from raw windows (also the stage of
        # augmented training, which transforms raw windows on the device)
        return _MapsBatch(
            self.sfreq_,
            self.bands,
            self.temporal_depth,
            self.grid_weights_,
            self.grid_mask_.shape,
            self.spectral_mean_.astype(np.float32),
            self.spectral_scale_.astype(np.float32),
            np.float32(self.temporal_mean_),
            np.float32(self.temporal_scale_),
        )

    def _build_module(self, input_shape, n_classes):
        _, h, w, n_bands = input_shape["spectral"]
        n_samples = input_shape["temporal"][-1]
        try:
            return SSTEmotionNet(
                n_bands,
                n_samples,
                n_classes,
                grid_size=(h, w),
                spectral_growth=self.spectral_growth,
                spectral_layers=self.spectral_layers,
                spectral_compression=self.spectral_compression,
                temporal_growth=self.temporal_growth,
                temporal_layers=self.temporal_layers,
                temporal_compression=self.temporal_compression,
                n_blocks=self.n_blocks,
                hidden_size=self.hidden_size,
                dropout=self.dropout,
                attention=self.attention,
            )
        except ValueError as exc:
            raise ValueError(f"{type(self).__name__}: {exc}") from exc

    # --- public API ----------------------------------------------------------------------
    def attention_maps(self, X):
        """Attention weights of both streams for each window.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
            Signal windows, shaped as in ``fit``.

        Returns
        -------
        maps : dict of str to list of ndarray
            One array per transition (``n_blocks - 1`` of them), float32, every weight in
            (0, 1):

            - ``"spectral_spatial"``: ``(n_windows, h, w)`` scalp weights of the spectral
              stream, ``h = w = grid_size // 2`` after the first transition, halved again
              after each next one; nose up, the subject's right to the right (as
              ``grid_mask_``);
            - ``"spectral_band"``: ``(n_windows, d)`` weights along the band axis, ``d =
              n_bands // 2`` after the first transition (bands pooled in pairs);
            - ``"temporal_spatial"``: ``(n_windows, h, w)`` of the temporal stream (its stem
              already divides the map by 4, so ``h = grid_size // 8`` after the first
              transition);
            - ``"temporal_time"``: ``(n_windows, d)`` weights along time.

            The exact shapes are ``net_.module_.attention_shapes``. Empty lists when
            ``attention=False``.
        """
        check_is_fitted(self, "net_")
        X = self._validate_X(X)
        prepared = self._prepare(X)
        net = self.net_
        device = inference_device(self.device)
        if str(net.device) != device:  # e.g. fitted on a GPU, used on a machine without one
            net.device = device
            net.module_.to(device)
        module = net.module_
        was_training = module.training
        module.eval()
        parts = []
        try:
            with torch.no_grad():
                for start in range(0, X.shape[0], self.batch_size):
                    batch = {
                        k: torch.from_numpy(v[start : start + self.batch_size]).to(device)
                        for k, v in prepared.items()
                    }
                    _, att = module(**batch, return_attention=True)
                    parts.append(att)
        finally:
            module.train(was_training)
        return {
            key: [
                np.concatenate([p[key][i].float().cpu().numpy() for p in parts])
                for i in range(len(parts[0][key]))
            ]
            for key in parts[0]
        }
