"""GRU-XNet as a scikit-learn classifier: STFT images computed per batch on the device."""

from __future__ import annotations

import numbers

import numpy as np
import torch
from skorch.callbacks import GradientNormClipping
from torch.utils.data import Subset, WeightedRandomSampler

from .._validation import Interval
from ..features.functional import stft_spectrogram
from ..models.gruxnet import GRUXNet
from ._base import DeepClassifierBase, _CrossEntropyNet

__all__ = ["GRUXNetClassifier"]

_STATS_WINDOWS = 256  # windows (evenly spaced) used to learn the spectrogram's mean and scale
_STATS_CHUNK = 32


class _SpectrogramBatch:
    """Per-batch input stage of GRU-XNet, run on the training device.

    Raw windows ``(B, C, T)`` become standardised log-STFT images ``(B, C, F, T')`` on the
    fixed grid; a channel that is identically zero in a window (absent from its dataset,
    zero-padded by :func:`skemotion.datasets.harmonize`) gets an all-zero image. Precomputed
    images ``(B, C, F, T')`` pass through unchanged.
    """

    def __init__(self, *, sfreq, n_fft, hop_length, fmin, fmax, shape, scale, mean, std):
        self.sfreq = sfreq
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.fmin = fmin
        self.fmax = fmax
        self.shape = shape
        self.scale = scale
        self.mean = mean
        self.std = std

    def spectrogram(self, x: torch.Tensor, output_shape=None) -> torch.Tensor:
        """log |STFT| of ``x / scale``, (B, C, F, T'), on x's device."""
        return stft_spectrogram(
            x.float() / self.scale,
            self.sfreq,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            window="hann",
            fmin=self.fmin,
            fmax=self.fmax,
            log=True,
            output_shape=output_shape,
        )

    def __call__(self, x, training=False):
        if x.dim() != 3:
            return x
        present = (x != 0).any(dim=-1)  # (B, C): False for zero-padded channels
        S = self.spectrogram(x, self.shape)
        S = (S - self.mean) / self.std
        return S * present[:, :, None, None].to(S.dtype)


def _dataset_labels(dataset) -> np.ndarray:
    """Labels of a skorch Dataset, or of a Subset of one (the early-stopping split)."""
    if isinstance(dataset, Subset):
        return _dataset_labels(dataset.dataset)[np.asarray(dataset.indices)]
    y = dataset.y
    return y.cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)


class _GRUXNetNet(_CrossEntropyNet):
    """skorch net of GRU-XNet: the original training recipe as options.

    - ``accumulate_grad_batches=k``: every optimizer step sees ``k * batch_size`` windows,
      taken as one batch from the loader and run forward and backward as ``k`` micro-batches of
      ``batch_size`` (gradients accumulate, weighted by micro-batch size), so memory is that of
      one micro-batch and BatchNorm sees ``batch_size`` windows, as in plain gradient
      accumulation; gradient clipping, float16 loss scaling and the divergence check apply to
      the accumulated step.
    - ``balanced_sampling``: the training loader draws windows with replacement, each with
      probability proportional to 1 / (count of its class), through a
      ``WeightedRandomSampler`` driven by the loader's seeded generator.
    - ``gradient_clip`` adds skorch's ``GradientNormClipping`` (the cosine schedule is the
      base's ``lr_schedule``).
    """

    def __init__(
        self,
        *args,
        gradient_clip=None,
        accumulate_grad_batches=1,
        balanced_sampling=False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.gradient_clip = gradient_clip
        self.accumulate_grad_batches = accumulate_grad_batches
        self.balanced_sampling = balanced_sampling

    def get_default_callbacks(self):
        callbacks = list(super().get_default_callbacks())
        if self.gradient_clip is not None:
            callbacks.append(("gradient_clip", GradientNormClipping(self.gradient_clip)))
        return callbacks

    def get_iterator(self, dataset, training=False):
        if not training:
            return super().get_iterator(dataset, training=training)
        kwargs = self.get_params_for("iterator_train")
        size = kwargs.get("batch_size", self.batch_size) * self.accumulate_grad_batches
        kwargs["batch_size"] = size
        # the base drops an incomplete last batch (a one-window batch breaks BatchNorm) when
        # there is more than one batch; the same rule with the accumulated batch size
        kwargs["drop_last"] = bool(kwargs.get("drop_last", False)) and len(dataset) > size
        if self.balanced_sampling:
            y = _dataset_labels(dataset)
            counts = np.bincount(y)
            weights = torch.as_tensor(1.0 / counts[y], dtype=torch.double)
            kwargs.pop("shuffle", None)
            kwargs["sampler"] = WeightedRandomSampler(
                weights, num_samples=len(y), replacement=True, generator=kwargs.get("generator")
            )
        return self.iterator_train(dataset, **kwargs)

    def train_step_single(self, batch, **fit_params):
        k = self.accumulate_grad_batches
        if k == 1:
            return super().train_step_single(batch, **fit_params)
        self._set_training(True)
        Xi, yi = batch
        n = len(yi)
        sizes = [self.batch_size] * (n // self.batch_size)
        if n % self.batch_size:
            sizes.append(n % self.batch_size)
        if len(sizes) > 1 and sizes[-1] == 1:  # no one-window micro-batch (BatchNorm)
            sizes[-2:] = [sizes[-2] + 1]
        total, preds, start = 0.0, [], 0
        for size in sizes:
            sl = slice(start, start + size)
            start += size
            xs = {key: v[sl] for key, v in Xi.items()} if isinstance(Xi, dict) else Xi[sl]
            y_pred = self.infer(xs, **fit_params)
            loss = self.get_loss(y_pred, yi[sl], X=xs, training=True) * (size / n)
            loss.backward()
            total = total + loss.detach()
            preds.append(y_pred.detach())
        return {"loss": total, "y_pred": torch.cat(preds)}


class GRUXNetClassifier(DeepClassifierBase):
    """GRU-XNet (CBSAtt with a BiGRU) as a scikit-learn classifier.

    ``fit`` and ``predict`` take raw EEG windows ``(n_windows, n_channels, n_times)``; every
    batch is turned into per-channel STFT images on the training device, so the images of a
    whole data set (62 x 129 x 126 floats per window at the canonical size, 4 MB) are never
    held in memory. Precomputed images ``(n_windows, n_channels, n_freqs, n_frames)`` (e.g.
    from :class:`~skemotion.features.STFTSpectrogram`) are accepted as well and used as they
    are.

    The input stage on raw windows: divide by ``scale_`` (the standard deviation of the
    training windows); STFT magnitude with a periodic Hann window of ``n_fft`` samples, hop
    ``hop_length``, zero padding of ``n_fft // 2`` at both ends (``scipy.signal.stft``'s
    scaling); keep the bins in ``[fmin, fmax]``; ``log(|Z| + 1e-8)``; resize to
    ``stft_shape`` by order-1 interpolation (``scipy.ndimage.zoom(order=1)``), as the original
    does so that datasets of different rates and window lengths share one shape; standardise
    with ``spec_mean_`` and ``spec_std_`` (learnt in fit); and set the image of a channel that
    is identically zero in a window to zero (a channel missing from its dataset, zero-padded
    by :func:`skemotion.datasets.harmonize`: the network then sees the average spectrum
    value there).

    **Default and canonical configurations.** The network
    (:class:`~skemotion.models.GRUXNet`) of the original has 104,049,922 parameters with 62
    channels: ``GRUXNetClassifier(feature_pooling=None, filters=(32, 64, 128),
    gru_hidden=128, head_units=(256, 128), stft_shape=(129, 126))``, 97.6 M of them in the
    BiGRU's input weights: 416 MB of weights, 1.2 GB more for gradients and Adam's state.
    ``feature_pooling=1`` averages every channel CNN's frequency axis before the BiGRU: at the
    original width and grid that is 12.6 M parameters with 62 channels (3.4 M with 14), but
    the per-channel CNNs, the same in both, take most of the compute (on a CPU the canonical
    network costs 1.15x the pooled one per epoch with 14 channels and 1.8x with 62), and one
    window still takes 0.7-0.9 s to classify on one CPU core. The default here is the small
    network: ``feature_pooling=1``, filters (8, 16, 32), GRU hidden 32, head (64, 32), on a
    32 x 32 grid: 0.80 M parameters with 62 channels, about 11 ms to classify one window of
    62 x 400 on one core, and about 70 s per 20-epoch fold of the default benchmark (300
    windows of 14 channels) on a CPU (``benchmarks/RESULTS.md``). On a GPU, the original
    width and grid are the configuration to try first.

    The original recipe (Adam 1e-3, weight decay 1e-4, cosine annealing over 30 epochs,
    batch 32 x 4 accumulation, gradient clipping 1.0, mixed precision, class-weighted
    sampling, early stopping with patience 10) is
    ``GRUXNetClassifier(feature_pooling=None, max_epochs=30, lr_schedule="cosine",
    accumulate_grad_batches=4, balanced_sampling=True, precision="16-mixed",
    early_stopping=True, patience=10, min_epochs=1)`` with
    ``fit(X, y, groups=trials)``; the defaults keep its weight
    decay and clipping, train 20 epochs at a constant rate, and leave accumulation, balanced
    sampling, mixed precision and early stopping off. Its STFT settings
    per dataset were ``n_fft`` 256 / hop 128 for DEAP (128 Hz), 128 / 64 for GAMEEMO
    (128 Hz), 400 / 200 for SEED-IV (200 Hz): 2 s segments (1 s for GAMEEMO), whereas the
    default here is 1 s (``n_fft=None``) for the shorter windows of window-wise training.

    For cross-dataset training, :func:`skemotion.datasets.harmonize` resamples and aligns
    DEAP-, GAMEEMO- and SEED-IV-shaped data into one set. For SEED-IV binary labels use
    ``load_seed_iv(..., target="binary")``: neutral, sad and fear -> 0, happy -> 1 (the public
    GRU-XNet code puts sad in the positive class, a mistake not reproduced here).

    Parameters
    ----------
    feature_pooling : int or None, default=1
        Frequency bins of every channel CNN's output kept for the BiGRU (average pooling);
        None keeps all ``stft_shape[0] // 8`` (the original, 104 M parameters at 62 channels).
    filters : tuple of 3 int, default=(8, 16, 32)
        Filters of the three blocks of every channel CNN ((32, 64, 128) in the original).
    gru_hidden : int, default=32
        BiGRU units per direction (128 in the original).
    gru_layers : int, default=2
        BiGRU layers.
    n_heads : int, default=4
        Self-attention heads (must divide ``2 * gru_hidden``).
    head_units : tuple of int, default=(64, 32)
        Hidden layers of the classification head ((256, 128) in the original).
    dropout : float, default=0.5
        Dropout rate (after the CNNs, between GRU layers, attention and head).
    sfreq : float, default=128.0
        Sampling frequency of X in Hz (raw windows).
    n_fft : int or None, default=None
        STFT segment length in samples; None means one second (``round(sfreq)``). Capped at
        the window length.
    hop_length : int or None, default=None
        Step between segments; None means ``n_fft // 2``.
    fmin, fmax : float, default=0.5, 50.0
        Frequency band kept (Hz); ``fmax=None`` keeps up to Nyquist.
    stft_shape : (int, int), default=(32, 32)
        Grid (frequency bins, frames) every image is resized to; both >= 8 ((129, 126) in the
        original).
    lr : float, default=1e-3
        Learning rate of the optimizer. The training parameters shared by every deep classifier
        are described briefly here and in full in
        :class:`~skemotion.classifiers.DeepClassifierBase`.
    max_epochs : int, default=20
        Number of training epochs (an upper bound with early stopping).
    batch_size : int, default=32
        Mini-batch size of training and inference.
    optimizer : {"adam", "adamw", "sgd"}, default="adam"
        Optimizer.
    weight_decay : float, default=1e-4
        Weight decay (L2 for Adam and SGD, decoupled for AdamW).
    lr_schedule : {"cosine"} or None, default=None
        ``"cosine"``: cosine annealing of the learning rate over ``max_epochs`` (stepped every
        epoch), the original recipe. The defaults (constant lr, 20 epochs) were chosen for
        cross-subject use on a development corpus by ``benchmarks/recipes.py``, where the cosine
        schedule lost 0.07 balanced accuracy at 20 epochs.
    gradient_clip : float or None, default=1.0
        Clip the gradient norm to this value (None: no clipping).
    accumulate_grad_batches : int, default=1
        Micro-batches of ``batch_size`` windows per optimizer step (4 in the original).
    balanced_sampling : bool, default=False
        Draw training windows with probabilities inversely proportional to their class
        frequency (with replacement, seeded by ``random_state``).
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
    net_ : skorch.NeuralNetClassifier
        The fitted skorch net (``net_.module_`` is the :class:`~skemotion.models.GRUXNet`).
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    input_shape_ : tuple of int
        Shape of one window of X in fit: ``(n_channels, n_times)`` or ``(n_channels, n_freqs,
        n_frames)``.
    best_epoch_ : int or None
        With ``early_stopping``, the best epoch judged on the validation groups (the
        number of epochs of the final training with ``"refit"``); None without it.
    n_channels_ : int
        Number of channels seen in fit (raw windows).
    n_times_ : int
        Window length seen in fit (raw windows).
    n_features_in_ : int
        Size of X's second axis in fit.
    n_fft_ : int or None
        STFT segment length used (None for precomputed images).
    hop_length_ : int or None
        STFT hop used (None for precomputed images).
    scale_ : float or None
        Standard deviation of the training windows; the STFT sees ``X / scale_``.
    spec_mean_, spec_std_ : float or None
        Mean and standard deviation of the log-STFT values of the training windows (of
        channels that are not zero-padded; up to 256 evenly spaced windows), used to
        standardise the images.

    See Also
    --------
    skemotion.models.GRUXNet : the network.
    skemotion.datasets.harmonize : cross-dataset training data.
    skemotion.features.STFTSpectrogram : the same STFT as a transformer.

    Notes
    -----
    Training budget: on the CPU (2 shared cores), either full-size network (original width
    and grid) costs 1.3-1.5 s per training window and epoch with 14 channels and 5-10 s with
    62 (7.5-58 min per epoch of 360 windows): train it on a GPU. The default configuration
    trains in 35-70 s per fold for 20 epochs on 300 windows and reaches 0.71 balanced
    accuracy on held-out subjects of the default synthetic benchmark (3 classes, chance 0.33;
    DE + logistic regression 0.66, EEGNet 0.63), 0.82 behind band-pass + Euclidean alignment
    (:class:`~skemotion.transfer.EuclideanAlignment`; DE + LR 0.78 with it), and 0.59 when a
    whole dataset is held out (with the earlier cosine schedule; ``benchmarks/RESULTS.md``).

    References
    ----------
    .. [1] Zhou, ... (2025). CBSAtt: a CNN-BiLSTM network with multi-head self-attention for
       EEG emotion recognition. Signal, Image and Video Processing, 19(14).
       doi:10.1007/s11760-025-04708-1. GRU-XNet code:
       github.com/Overproness/GRU-XNet_EEG_Emotion_Recognition.

    Examples
    --------
    >>> from skemotion.datasets import make_eeg_emotion
    >>> from skemotion.classifiers import GRUXNetClassifier
    >>> data = make_eeg_emotion("emotiv14", n_subjects=2, n_classes=2, random_state=0)
    >>> clf = GRUXNetClassifier(filters=(4, 4, 8), gru_hidden=16, head_units=(16,),
    ...                         stft_shape=(16, 16), sfreq=data.sfreq, max_epochs=1,
    ...                         random_state=0)
    >>> clf = clf.fit(data.X, data.y)
    >>> clf.predict_proba(data.X[:3]).shape
    (3, 2)
    """

    _parameter_constraints = {
        **DeepClassifierBase._parameter_constraints,
        "feature_pooling": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "filters": [tuple, list],
        "gru_hidden": [Interval(numbers.Integral, 1, None, closed="left")],
        "gru_layers": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_heads": [Interval(numbers.Integral, 1, None, closed="left")],
        "head_units": [tuple, list],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "sfreq": [Interval(numbers.Real, 0, None, closed="neither")],
        "n_fft": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "hop_length": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "fmin": [Interval(numbers.Real, 0, None, closed="left")],
        "fmax": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "stft_shape": [tuple, list],
        "gradient_clip": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "accumulate_grad_batches": [Interval(numbers.Integral, 1, None, closed="left")],
        "balanced_sampling": ["boolean"],
    }

    _input_ndims = (3, 4)
    _net_class = _GRUXNetNet

    def __init__(
        self,
        feature_pooling=1,
        *,
        filters=(8, 16, 32),
        gru_hidden=32,
        gru_layers=2,
        n_heads=4,
        head_units=(64, 32),
        dropout=0.5,
        sfreq=128.0,
        n_fft=None,
        hop_length=None,
        fmin=0.5,
        fmax=50.0,
        stft_shape=(32, 32),
        lr=1e-3,
        max_epochs=20,
        batch_size=32,
        optimizer="adam",
        weight_decay=1e-4,
        lr_schedule=None,
        gradient_clip=1.0,
        accumulate_grad_batches=1,
        balanced_sampling=False,
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
        self.feature_pooling = feature_pooling
        self.filters = filters
        self.gru_hidden = gru_hidden
        self.gru_layers = gru_layers
        self.n_heads = n_heads
        self.head_units = head_units
        self.dropout = dropout
        self.sfreq = sfreq
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.fmin = fmin
        self.fmax = fmax
        self.stft_shape = stft_shape
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.gradient_clip = gradient_clip
        self.accumulate_grad_batches = accumulate_grad_batches
        self.balanced_sampling = balanced_sampling
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # an STFT magnitude is the same for x and -x: scikit-learn's 2-feature blobs, read as
        # 2-sample windows, cannot reach its 0.83 training accuracy from |STFT| (a smooth
        # classifier of |x1|, |x2| gets about 0.65); this is the tag scikit-learn provides
        tags.classifier_tags.poor_score = True
        return tags

    # --- STFT settings ---------------------------------------------------------------------
    def _stft_params(self, n_times: int) -> tuple[int, int]:
        n_fft = self.n_fft if self.n_fft is not None else max(1, round(self.sfreq))
        n_fft = min(n_fft, n_times)
        hop = self.hop_length if self.hop_length is not None else max(1, n_fft // 2)
        return n_fft, hop

    def _has_bins(self, n_fft: int) -> bool:
        freqs = np.fft.rfftfreq(n_fft, 1.0 / self.sfreq)
        hi = freqs[-1] if self.fmax is None else self.fmax
        return bool(np.any((freqs >= self.fmin - 1e-9) & (freqs <= hi + 1e-9)))

    def _check_params(self):
        super()._check_params()
        name = type(self).__name__
        shape = self.stft_shape
        if not (
            isinstance(shape, tuple | list)
            and len(shape) == 2
            and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in shape)
            and min(shape) >= 8
        ):
            raise ValueError(
                f"{name}: argument stft_shape must be two integers >= 8 (frequency bins, "
                f"frames; three 2x2 poolings follow); got {shape!r}."
            )
        if self.fmax is not None and self.fmax <= self.fmin:
            raise ValueError(
                f"{name}: argument fmax must be greater than fmin={self.fmin}; got {self.fmax!r}."
            )

    def _min_times(self) -> int:
        # the shortest window whose STFT has a bin in [fmin, fmax]
        full = self.n_fft if self.n_fft is not None else max(1, round(self.sfreq))
        for n in range(1, full + 1):
            if self._has_bins(min(n, full)):
                return n
        raise ValueError(
            f"{type(self).__name__}: no STFT bin lies between fmin={self.fmin} and "
            f"fmax={self.fmax} Hz with n_fft={full} at sfreq={self.sfreq} Hz; widen the band "
            "or raise n_fft."
        )

    # --- hooks of DeepClassifierBase -------------------------------------------------------
    def _fit_state(self, X, y, extras):
        name = type(self).__name__
        if X.ndim == 4:
            if min(X.shape[2:]) < 8:
                raise ValueError(
                    f"{name}: precomputed spectrograms X of shape (n, n_channels, n_freqs, "
                    f"n_frames) need n_freqs >= 8 and n_frames >= 8 (three 2x2 poolings); got "
                    f"{X.shape}."
                )
            return dict(n_fft_=None, hop_length_=None, scale_=None, spec_mean_=None, spec_std_=None)
        n_fft, hop = self._stft_params(X.shape[-1])
        scale = _std(X)
        scale = scale if np.isfinite(scale) and scale > 0 else 1.0
        stage = self._stage(n_fft, hop, scale, 0.0, 1.0)
        mean, std = _spectrogram_stats(stage, X)
        return dict(n_fft_=n_fft, hop_length_=hop, scale_=scale, spec_mean_=mean, spec_std_=std)

    def _stage(self, n_fft, hop, scale, mean, std):
        return _SpectrogramBatch(
            sfreq=float(self.sfreq),
            n_fft=n_fft,
            hop_length=hop,
            fmin=float(self.fmin),
            fmax=None if self.fmax is None else float(self.fmax),
            shape=tuple(int(v) for v in self.stft_shape),
            scale=scale,
            mean=mean,
            std=std,
        )

    def _batch_transform(self):
        # also for precomputed images (it passes them through): training then draws the same
        # random numbers as from raw windows, and the same images give the same network
        return self._stage(
            self.n_fft_, self.hop_length_, self.scale_, self.spec_mean_, self.spec_std_
        )

    def _build_module(self, input_shape, n_classes):
        if len(input_shape) == 2:  # raw windows: images on the fixed grid
            n_chans, (n_freqs, n_frames) = input_shape[0], self.stft_shape
        else:
            n_chans, n_freqs, n_frames = input_shape
        try:
            return GRUXNet(
                n_chans,
                int(n_freqs),
                int(n_frames),
                n_classes,
                filters=tuple(self.filters),
                gru_hidden=self.gru_hidden,
                gru_layers=self.gru_layers,
                n_heads=self.n_heads,
                head_units=tuple(self.head_units),
                dropout=self.dropout,
                feature_pooling=self.feature_pooling,
            )
        except ValueError as exc:
            raise ValueError(str(exc).replace("GRUXNet:", f"{type(self).__name__}:", 1)) from None

    def _net_kwargs(self):
        return dict(
            gradient_clip=self.gradient_clip,
            accumulate_grad_batches=self.accumulate_grad_batches,
            balanced_sampling=self.balanced_sampling,
        )

    # --- public API ------------------------------------------------------------------------
    def spectrogram(self, X):
        """The network's input images for raw windows, as the fitted estimator computes them.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times)
            Raw windows, shaped as in fit.

        Returns
        -------
        images : ndarray of shape (n_windows, n_channels, stft_shape[0], stft_shape[1])
            Standardised log-STFT images, float32.
        """
        X = self._validate_X(X)
        if X.ndim != 3 or self.n_fft_ is None:
            raise ValueError(
                f"{type(self).__name__}.spectrogram needs an estimator fitted on raw windows "
                f"and raw windows X; got X of shape {X.shape}."
            )
        stage = self._batch_transform()
        with torch.no_grad():
            out = [
                stage(torch.from_numpy(np.ascontiguousarray(X[i : i + 64]))).numpy()
                for i in range(0, X.shape[0], 64)
            ]
        return np.concatenate(out)


def _std(X: np.ndarray) -> float:
    """Standard deviation of all values of X, in float64, without a float64 copy of X."""
    n = X.size
    total = sq = 0.0
    step = max(1, (1 << 22) // max(1, X[0].size))
    for i in range(0, X.shape[0], step):
        part = X[i : i + step].astype(np.float64)
        total += part.sum()
        sq += np.square(part).sum()
    mean = total / n
    return float(np.sqrt(max(sq / n - mean * mean, 0.0)))


def _spectrogram_stats(stage: _SpectrogramBatch, X: np.ndarray) -> tuple[float, float]:
    """Mean and std of the log-STFT values (native grid) of up to 256 evenly spaced windows,
    channels that are identically zero left out."""
    n = X.shape[0]
    idx = np.unique(np.linspace(0, n - 1, min(n, _STATS_WINDOWS)).round().astype(int))
    total = sq = count = 0.0
    with torch.no_grad():
        for i in range(0, idx.size, _STATS_CHUNK):
            x = torch.from_numpy(np.ascontiguousarray(X[idx[i : i + _STATS_CHUNK]]))
            present = (x != 0).any(dim=-1)  # (b, C)
            S = stage.spectrogram(x).double()  # (b, C, F, T')
            vals = S[present]  # (k, F, T')
            total += float(vals.sum())
            sq += float(vals.square().sum())
            count += vals.numel()
    if count == 0:
        return 0.0, 1.0
    mean = total / count
    std = float(np.sqrt(max(sq / count - mean * mean, 0.0)))
    return float(mean), std if std > 1e-6 else 1.0
