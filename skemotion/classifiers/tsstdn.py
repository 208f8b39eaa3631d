"""TS-STDN as a scikit-learn classifier trained to be robust to muscle (EMG) artifact."""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np
import torch
from skorch.callbacks import PassthroughScoring
from skorch.utils import to_tensor

from .._training import BatchAugmenter
from .._validation import (
    DEPRECATED,
    Interval,
    StrOptions,
    check_signal_X,
    deprecated_constraint,
    renamed_parameters,
)
from ..features._emg import check_snr_range
from ..features.functional import emg_contamination
from ..models.tsstdn import TSSTDN, tsstdn_spectral
from ._base import DeepClassifierBase, PerWindow, _CrossEntropyNet, chunked_std, is_memory_map

__all__ = ["TSSTDNClassifier"]

_RECON_TERMS = ("train_ce", "train_recon_t", "train_recon_s")


class _TSSTDNInput:
    """Per-batch transform of TS-STDN: the network input of a training or validation batch.

    In fit a batch is a dict: ``{"X_clean", "S_clean"}`` (the input is then ``clean`` with EMG
    added at an SNR drawn uniformly per window while training, or ``clean`` at validation and
    when ``snr_db`` is None), or ``{"X", "X_clean", "S_clean"}`` for user-given noisy/clean
    pairs. At predict time a batch is the tensor of windows and passes through.

    The generator is re-seeded once per fit by the net (from the seeded torch generator), so
    every epoch sees fresh noise and a fit with an integer ``random_state`` is reproducible.
    """

    def __init__(self, sfreq, snr_db):
        self.sfreq = sfreq
        self.snr_db = snr_db
        self.rng = None

    def reset(self, seed):
        self.rng = np.random.default_rng(seed)

    def __call__(self, x, training):
        if not isinstance(x, Mapping):
            return x
        if "X" in x:
            return x["X"]
        if self.snr_db is None or not training:
            return x["X_clean"]
        low, high = self.snr_db
        snr = self.rng.uniform(low, high, size=x["X_clean"].shape[0])
        return emg_contamination(x["X_clean"], self.sfreq, snr, rng=self.rng)


class _SpectralTarget:
    """The spectral reconstruction target of an augmented training batch, on its device."""

    def __init__(self, n_fft):
        self.n_fft = n_fft

    def __call__(self, batch):
        batch["S_clean"] = tsstdn_spectral(batch["X_clean"], self.n_fft)
        return batch


class _TSSTDNNet(_CrossEntropyNet):
    """skorch net of TS-STDN: CE plus the two reconstruction losses."""

    def __init__(self, *args, lambda_t=1.0, lambda_s=1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.lambda_t = lambda_t
        self.lambda_s = lambda_s

    def get_default_callbacks(self):
        return [
            *super().get_default_callbacks(),
            *((name, PassthroughScoring(name=name, on_train=True)) for name in _RECON_TERMS),
        ]

    def get_loss(self, y_pred, y_true, X=None, training=False):
        logits, rec_t, rec_s = y_pred
        ce = self.class_loss(logits, y_true, X=X, training=training)
        adversarial = self.adversarial_loss(training)
        if not isinstance(X, Mapping) or "X_clean" not in X:
            return ce if adversarial is None else ce + adversarial
        clean = to_tensor(X["X_clean"], device=self.device)
        spec = to_tensor(X["S_clean"], device=self.device)
        loss_t = torch.nn.functional.mse_loss(rec_t.float(), clean)
        loss_s = torch.nn.functional.mse_loss(rec_s.float(), spec)
        if training:
            for name, value in zip(_RECON_TERMS, (ce, loss_t, loss_s)):
                self.history.record_batch(name, value.item())
        loss = ce + self.lambda_t * loss_t + self.lambda_s * loss_s
        return loss if adversarial is None else loss + adversarial


class TSSTDNClassifier(DeepClassifierBase):
    """TS-STDN (Liu et al. 2023) as a scikit-learn classifier robust to EMG artifact.

    Two-stream spectral-temporal denoising network (:class:`~skemotion.models.TSSTDN`): two
    U-Nets reconstruct the clean signal in the time and in the spectral domain while a
    classifier reads their bottlenecks. The training loss is

        ``CE(logits, y) + lambda_t * MSE(temporal_recon, clean)
        + lambda_s * MSE(spectral_recon, spectral(clean))``.

    ``fit(X, y)`` treats X as clean and, with ``noise="emg"``, contaminates every training
    batch on the fly with muscle artifact (:func:`skemotion.features.functional.
    emg_contamination`) at an SNR drawn per window from ``noise_snr_db``: each epoch sees fresh
    noise, drawn from ``random_state``, and the estimator works in a plain Pipeline.
    ``fit(X, y, X_clean=X_clean)`` instead trains on given noisy/clean pairs (X noisy); under
    metadata routing request it with ``set_fit_request(X_clean=True)``. Nothing is corrupted
    at predict time. Windows are divided by one global scale learnt in fit (``scale_``) so
    that the reconstruction losses do not depend on the units of the signal.

    The architecture defaults are the paper's canonical configuration (D=4,
    lstm_hidden=16 (the paper's d), Fs=Ft=16, dropout 0.5, STFT of 1 s). The paper gives no
    optimiser settings; the defaults here (Adam, lr 3e-3 with cosine annealing, 30 epochs,
    batch 64) train in minutes on a CPU, are likely shorter than the original runs, and were
    chosen among pre-declared recipes on a development corpus (``benchmarks/recipes.py``,
    ``benchmarks/RESULTS.md``).

    Parameters
    ----------
    D : int, default=4
        Depth multiplier of the depthwise spatial convolutions.
    lstm_hidden : int, default=16
        LSTM embedding and hidden size (the paper's ``d``).
    Fs : int, default=16
        Filters of the spectral stream's feature convolution.
    Ft : int, default=16
        Filters of the temporal stream's feature convolution.
    dropout : float, default=0.5
        Dropout rate of the classifier branches.
    n_fft : int or None, default=None
        STFT length of the spectral stream; None means one second (``round(sfreq)``, 200 at
        200 Hz as in the paper). Capped at the window length.
    sfreq : float, default=200.0
        Sampling frequency of X in Hz (used to generate the EMG and for ``n_fft=None``).
    lambda_t : float, default=1.0
        Weight of the temporal reconstruction loss.
    lambda_s : float, default=1.0
        Weight of the spectral reconstruction loss.
    noise : {"emg"} or None, default="emg"
        On-the-fly contamination of the training batches when fit is called without
        ``X_clean``; None trains on X as it is (the reconstruction targets are then X
        itself).
    noise_snr_db : float or (float, float), default=(-10.0, 10.0)
        SNR in dB (``10 log10(P_signal / P_noise)`` per contaminated channel) of the training
        contamination: one value, or a range sampled uniformly per window. The paper trained
        at about -7 dB (its ``snr=-8`` in an exp-based scale, see
        :func:`skemotion.features.functional.snr_db_from_exp_snr`).
    lr : float, default=3e-3
        Learning rate of the optimizer. The training parameters shared by every deep classifier
        are described briefly here and in full in
        :class:`~skemotion.classifiers.DeepClassifierBase`.
    max_epochs : int, default=30
        Number of training epochs (an upper bound with early stopping).
    batch_size : int, default=64
        Mini-batch size of training and inference.
    optimizer : {"adam", "adamw", "sgd"}, default="adam"
        Optimizer.
    weight_decay : float, default=0.0
        Weight decay (L2 for Adam and SGD, decoupled for AdamW).
    lr_schedule : {"cosine"} or None, default="cosine"
        The training defaults (lr 3e-3 annealed along a cosine over 30 epochs) were chosen for
        cross-subject use on a development corpus by ``benchmarks/recipes.py`` (lr 1e-3 without a
        schedule before).
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
        Seeds weight initialisation, shuffling, dropout, augmentation and the training
        contamination; with an int, ``fit`` is deterministic on CPU.
    callbacks : list or None, default=None
        Extra skorch callbacks (deep-copied in ``fit``).
    verbose : int, default=0
        0 silent, 1 a progress bar over epochs, 2 also skorch's per-epoch table.
    d : int, deprecated
        Old name of ``lstm_hidden`` (renamed in 0.1, removed in 0.2).

    Attributes
    ----------
    net_ : skorch.NeuralNetClassifier
        The fitted skorch net (``net_.module_`` is the :class:`~skemotion.models.TSSTDN`).
        ``net_.history`` holds, per epoch, ``train_loss`` (the total) and its terms
        ``train_ce``, ``train_recon_t`` and ``train_recon_s``.
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
    scale_ : float
        Standard deviation of the clean training windows; the network sees ``X / scale_``.

    Notes
    -----
    Training budget: the reconstruction losses make TS-STDN learn its features faster than a
    plain classifier: 20-30 epochs of batch 32-64 on a few hundred windows are enough on the
    synthetic corpus (``benchmarks/RESULTS.md``: 0.95 balanced accuracy on held-out subjects
    at effect size 2 after 20 epochs; 0.57 on the default benchmark at effect size 1). With
    ``noise="emg"`` every epoch sees fresh contamination, so the epochs also set how much
    artifact the network has seen.

    See Also
    --------
    skemotion.models.TSSTDN : the network.
    skemotion.features.EMGContamination : the same contamination as a transformer.
    skemotion.classifiers.EEGNetClassifier : the reference baseline.

    References
    ----------
    .. [1] Liu, X., Jiang, W.-B., Zheng, W.-L., & Lu, B.-L. (2023). Two-Stream
       Spectral-Temporal Denoising Network for End-to-End Robust EEG-Based Emotion
       Recognition. ICONIP 2023, LNCS 14449, pp. 186-197.

    Examples
    --------
    >>> from skemotion.datasets import make_eeg_emotion
    >>> from skemotion.classifiers import TSSTDNClassifier
    >>> data = make_eeg_emotion(montage="emotiv14", n_subjects=2, random_state=0)
    >>> clf = TSSTDNClassifier(sfreq=data.sfreq, max_epochs=1, random_state=0)
    >>> clf = clf.fit(data.X, data.y)
    >>> clf.predict_proba(data.X[:3]).shape
    (3, 3)
    >>> clf.denoise(data.X[:3]).shape
    (3, 14, 256)
    """

    _parameter_constraints = {
        **DeepClassifierBase._parameter_constraints,
        "D": [Interval(numbers.Integral, 1, None, closed="left")],
        "lstm_hidden": [Interval(numbers.Integral, 1, None, closed="left")],
        "Fs": [Interval(numbers.Integral, 1, None, closed="left")],
        "Ft": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "n_fft": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "sfreq": [Interval(numbers.Real, 0, None, closed="neither")],
        "lambda_t": [Interval(numbers.Real, 0, None, closed="left")],
        "lambda_s": [Interval(numbers.Real, 0, None, closed="left")],
        "noise": [StrOptions({"emg"}), None],
        "noise_snr_db": [numbers.Real, tuple, list],
        "d": deprecated_constraint(Interval(numbers.Integral, 1, None, closed="left")),
    }

    def __init__(
        self,
        D=4,
        *,
        lstm_hidden=16,
        Fs=16,
        Ft=16,
        dropout=0.5,
        n_fft=None,
        sfreq=200.0,
        lambda_t=1.0,
        lambda_s=1.0,
        noise="emg",
        noise_snr_db=(-10.0, 10.0),
        lr=3e-3,
        max_epochs=30,
        batch_size=64,
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
        d=DEPRECATED,
    ):
        self.D = D
        self.lstm_hidden = lstm_hidden
        self.Fs = Fs
        self.Ft = Ft
        self.dropout = dropout
        self.n_fft = n_fft
        self.sfreq = sfreq
        self.lambda_t = lambda_t
        self.lambda_s = lambda_s
        self.noise = noise
        self.noise_snr_db = noise_snr_db
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
        self.d = d

    # --- hooks of DeepClassifierBase -----------------------------------------------------
    _net_class = _TSSTDNNet

    def _build_module(self, input_shape, n_classes):
        n_channels, n_times = input_shape
        return TSSTDN(
            n_channels,
            n_times,
            n_classes,
            D=self.D,
            lstm_hidden=self._lstm_hidden,
            Fs=self.Fs,
            Ft=self.Ft,
            n_fft=self._n_fft(),
            dropout=self.dropout,
        )

    def _n_fft(self) -> int:
        """STFT length asked of the network (one second of signal by default)."""
        return self.n_fft if self.n_fft is not None else max(1, round(self.sfreq))

    def _check_params(self):
        super()._check_params()
        self._lstm_hidden = renamed_parameters(self, {"d": "lstm_hidden"})["lstm_hidden"]
        if self.noise == "emg":
            self._snr_range()

    def _snr_range(self) -> tuple[float, float]:
        return check_snr_range(self.noise_snr_db, type(self).__name__, arg="noise_snr_db")

    def _fit_extras(self, X, fit_params):
        X_clean = fit_params.pop("X_clean", None)
        super()._fit_extras(X, fit_params)
        if X_clean is None:
            return {}
        if np.shape(X_clean)[:1] != X.shape[:1]:
            raise ValueError(
                f"{type(self).__name__}: argument X_clean must have one window per window of X "
                f"({X.shape[0]}); got {np.shape(X_clean)[:1]}."
            )
        return {"X_clean": check_signal_X(self, X_clean, reset=False, arg="X_clean")}

    def _fit_state(self, X, y, extras):
        clean = extras.get("X_clean", X)
        scale = chunked_std(clean)
        return {"scale_": scale if np.isfinite(scale) and scale > 0 else 1.0}

    def _prepare(self, X):
        scale = self.scale_

        def scaled(x):
            return (x / scale).astype(np.float32, copy=False)

        # a memory-mapped X (window cache) is scaled batch by batch, never copied whole
        return PerWindow(X, scaled) if is_memory_map(X) else scaled(X)

    def _torch_prepare(self):
        scale = float(self.scale_)
        return lambda x: x / scale

    def _training_inputs(self, X, prepared, extras):
        if "X_clean" in extras:
            inputs = {"X": prepared, "X_clean": self._prepare(extras["X_clean"])}
        else:
            inputs = {"X_clean": prepared}
        # the spectral reconstruction target is fixed: computed once here, not every batch
        # (the network uses min(n_fft, n_times), as TSSTDN does)
        n_fft = min(self._n_fft(), X.shape[-1])

        def spectral(x):
            with torch.no_grad():
                return tsstdn_spectral(torch.from_numpy(np.ascontiguousarray(x)), n_fft).numpy()

        clean = inputs["X_clean"]
        inputs["S_clean"] = (
            PerWindow(clean, spectral) if isinstance(clean, PerWindow) else (spectral(clean))
        )
        return inputs

    def _batch_transform(self):
        # with user-given pairs the batches carry "X" and are not corrupted
        snr = self._snr_range() if self.noise == "emg" else None
        return _TSSTDNInput(float(self.sfreq), snr)

    def _net_kwargs(self):
        return dict(lambda_t=self.lambda_t, lambda_s=self.lambda_s)

    def _augmenter(self, transforms, inputs):
        # the clean windows (and the user's noisy ones, with the same draw) are augmented; the
        # spectral reconstruction target is recomputed from the augmented clean windows
        n_fft = min(self._n_fft(), inputs["X_clean"].shape[-1])
        return BatchAugmenter(transforms, keys=("X", "X_clean"), derive=_SpectralTarget(n_fft))

    # --- public API ----------------------------------------------------------------------
    def fit(self, X, y, groups=None, X_clean=None):
        """Train the network (denoising and classification).

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
            Training windows: clean ones (contaminated on the fly when ``noise="emg"``), or
            the noisy half of noisy/clean pairs when ``X_clean`` is given.
        y : array-like of shape (n_windows,)
            Class labels.
        groups : array-like of shape (n_windows,), default=None
            Trial (or subject) id per window, for the inner validation split of
            ``early_stopping``.
        X_clean : array-like of the shape of X, default=None
            Clean versions of the windows of X (the reconstruction targets); no on-the-fly
            contamination then.

        Returns
        -------
        self : object
        """
        return self._fit(X, y, groups=groups, X_clean=X_clean)

    def denoise(self, X):
        """Temporal reconstruction of the windows: the denoised EEG, in the units of X.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)

        Returns
        -------
        X_denoised : ndarray of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
            Same shape as X, float32.
        """
        two_d = np.ndim(X) == 2
        X3 = self._validate_X(X)
        parts = [out[1].float().cpu().numpy() for out in self._inference(self._prepare(X3))]
        rec = np.concatenate(parts, axis=0) * np.float32(self.scale_)
        return rec[:, 0] if two_d else rec
