"""SSL-ECG fine-tuned: the self-supervised ECG encoder and a classification head."""

from __future__ import annotations

import copy
import numbers

import numpy as np

from .._training import seed_from_random_state
from .._validation import Interval, check_is_fitted
from ..models.sslecg import SSLECGClassifierNet
from ..ssl import SSLECGEncoder, preprocess_ecg
from ._base import DeepClassifierBase

__all__ = ["SSLECGClassifier"]

#: the input-stage parameters that must agree with a given encoder's
_STAGE = ("sfreq", "target_sfreq", "highpass")


class SSLECGClassifier(DeepClassifierBase):
    """SSL-ECG (Sarkar and Etemad 2020) fine-tuned for emotion recognition.

    The encoder of a fitted :class:`~skemotion.ssl.SSLECGEncoder` (or one pre-trained here on
    the windows passed to ``fit``, labels unused) gets a classification head, dense layers of
    ``head_units`` units, and the whole network is trained on the labelled windows
    (:class:`~skemotion.models.SSLECGClassifierNet`). ``freeze_encoder=True`` trains the head
    alone on the frozen encoder, the paper's downstream setting; with ``head_units=()`` that
    is the linear probe. The windows are resampled and high-pass filtered as for the encoder
    (:func:`~skemotion.ssl.preprocess_ecg`); apply the per-person z-score first
    (:class:`~skemotion.transfer.SubjectStandardizer` with ``percentile_range=(2.5, 97.5)``),
    as for the encoder.

    Parameters
    ----------
    encoder : SSLECGEncoder or None, default=None
        A fitted encoder whose network's encoder initialises this classifier's (its weights
        are copied; the encoder is not changed). None: ``fit`` first pre-trains an
        ``SSLECGEncoder`` on the windows it receives (self-supervised, ``y`` unused) for
        ``pretrain_epochs`` epochs with ``n_filters`` and the input stage below (fitted
        attribute ``encoder_``).
    freeze_encoder : bool, default=False
        Keep the encoder's weights fixed and train the head only (the paper's setting);
        False fine-tunes the encoder with the head.
    head_units : tuple of int, default=(512, 512)
        Hidden dense layers of the head (the paper's downstream MLP); ``()`` is a linear
        classifier on the 128-d embedding.
    dropout : float, default=0.5
        Dropout after each hidden layer of the head.
    sfreq : float, default=256.0
        Sampling frequency of the input windows in Hz. With ``encoder`` given it must equal
        the encoder's, as must ``target_sfreq`` and ``highpass``.
    target_sfreq : float or None, default=256.0
        Rate the windows are resampled to before the network (None keeps ``sfreq``).
    highpass : float or None, default=0.8
        Cut-off (Hz) of the zero-phase high-pass after resampling; None disables it.
    n_filters : tuple of 3 int, default=(32, 64, 128)
        Filters of the encoder pre-trained when ``encoder`` is None (ignored otherwise: the
        given encoder's architecture is used).
    pretrain_epochs : int, default=10
        Pre-training epochs of that encoder (ignored when ``encoder`` is given).
    lr : float, default=1e-3
        Learning rate of the optimizer. The training parameters shared by every deep classifier
        are described briefly here and in full in
        :class:`~skemotion.classifiers.DeepClassifierBase`.
    max_epochs : int, default=30
        Training epochs of the classifier (after any pre-training).
    batch_size : int, default=32
        Mini-batch size of training and inference.
    optimizer : {"adam", "adamw", "sgd"}, default="adam"
        Optimizer (the original uses Adam).
    weight_decay : float, default=1e-4
        Weight decay (the original's L2 coefficient).
    lr_schedule : {"cosine"} or None, default=None
        None keeps ``lr`` constant; ``"cosine"`` anneals it towards 0 over ``max_epochs``.
    early_stopping : bool or "refit", default=False
        Stop when the loss on held-out *groups* given to ``fit`` stops improving and restore the
        best epoch; ``"refit"`` then trains again on every window for that many epochs.
    validation_fraction : float, default=0.2
        Fraction of the groups held out when ``early_stopping`` is on.
    patience : int, default=10
        Epochs without improvement of the validation loss before stopping.
    min_epochs : int or None, default=None
        With ``early_stopping``, no stop before this epoch; None means the classifier's default
        ``max_epochs``.
    augment : list or None, default=None
        Augmentations of :mod:`skemotion.augment` applied, in order, to every training batch
        (of the resampled, filtered windows).
    subject_adversarial : float, default=0.0
        Weight of the subject-adversarial loss on the embedding, the subjects being the
        ``groups`` given to ``fit`` (0: off).
    adapt_bn : {False, "batch", "subject"}, default=False
        Batch-norm adaptation at prediction (the network has no batch norm: no effect).
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ``"cuda:1"`` ...
    precision : {"32", "bf16", "16-mixed"}, default="32"
        Training and inference precision (``"16-mixed"`` is meant for CUDA).
    num_workers : int, default=0
        DataLoader worker processes (0: batches are loaded in the main process).
    random_state : int, RandomState instance or None, default=None
        Seeds pre-training, weight initialisation, shuffling and dropout; with an int, ``fit``
        is deterministic on CPU.
    callbacks : list or None, default=None
        Extra skorch callbacks of the classifier's training (deep-copied in ``fit``).
    verbose : int, default=0
        0 silent, 1 a progress bar over epochs, 2 also skorch's per-epoch table.

    Attributes
    ----------
    net_ : skorch.NeuralNetClassifier
        The fitted skorch net (``net_.module_`` is the
        :class:`~skemotion.models.SSLECGClassifierNet`).
    encoder_ : SSLECGEncoder
        The encoder the network started from: ``encoder`` itself, or the one pre-trained in
        ``fit``.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_channels_ : int
        Number of channels (leads) seen in fit.
    n_times_ : int
        Window length seen in fit (before resampling).
    n_features_in_ : int
        Size of X's second axis in fit.
    input_shape_ : tuple of int
        Per-window shape of the validated X, ``(n_channels, n_times)``.
    best_epoch_ : int or None
        With ``early_stopping``, the best epoch judged on the validation groups; None without
        it.

    See Also
    --------
    skemotion.ssl.SSLECGEncoder : the self-supervised pre-training.
    skemotion.features.HRVFeatures : the classical ECG baseline.

    References
    ----------
    .. [1] Sarkar, P., & Etemad, A. (2020). Self-supervised ECG representation learning for
       emotion recognition. IEEE Transactions on Affective Computing.
       doi:10.1109/TAFFC.2020.3014842

    Examples
    --------
    >>> from skemotion.classifiers import SSLECGClassifier
    >>> from skemotion.datasets import make_ecg_emotion
    >>> from skemotion.ssl import SSLECGEncoder
    >>> data = make_ecg_emotion(n_subjects=2, window_seconds=4.0, random_state=0)
    >>> small = dict(n_filters=(4, 8, 16), random_state=0, device="cpu")
    >>> enc = SSLECGEncoder(sfreq=data.sfreq, head_units=8, max_epochs=1, **small)
    >>> enc = enc.fit(data.X)
    >>> clf = SSLECGClassifier(enc, sfreq=data.sfreq, head_units=(16,), max_epochs=2,
    ...                        random_state=0, device="cpu").fit(data.X, data.y)
    >>> clf.predict_proba(data.X[:3]).shape
    (3, 2)
    """

    _parameter_constraints = {
        **DeepClassifierBase._parameter_constraints,
        "encoder": [SSLECGEncoder, None],
        "freeze_encoder": ["boolean"],
        "head_units": [tuple, list],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "sfreq": [Interval(numbers.Real, 0, None, closed="neither")],
        "target_sfreq": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "highpass": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "n_filters": [tuple, list],
        "pretrain_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        encoder=None,
        *,
        freeze_encoder=False,
        head_units=(512, 512),
        dropout=0.5,
        sfreq=256.0,
        target_sfreq=256.0,
        highpass=0.8,
        n_filters=(32, 64, 128),
        pretrain_epochs=10,
        lr=1e-3,
        max_epochs=30,
        batch_size=32,
        optimizer="adam",
        weight_decay=1e-4,
        lr_schedule=None,
        early_stopping=False,
        validation_fraction=0.2,
        patience=10,
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
        self.encoder = encoder
        self.freeze_encoder = freeze_encoder
        self.head_units = head_units
        self.dropout = dropout
        self.sfreq = sfreq
        self.target_sfreq = target_sfreq
        self.highpass = highpass
        self.n_filters = n_filters
        self.pretrain_epochs = pretrain_epochs
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
    def _check_params(self) -> None:
        super()._check_params()
        name = type(self).__name__
        units = self.head_units
        if not all(isinstance(u, numbers.Integral) and not isinstance(u, bool) and u >= 1
                   for u in units):  # fmt: skip
            raise ValueError(f"{name}: argument head_units must hold integers >= 1; got {units!r}.")
        if self.encoder is not None:
            check_is_fitted(self.encoder, "module_")
            for key in _STAGE:
                mine, theirs = getattr(self, key), getattr(self.encoder, key)
                if mine != theirs:
                    raise ValueError(
                        f"{name}: argument {key}={mine!r} differs from the encoder's "
                        f"{key}={theirs!r}; the windows must reach the encoder as in its "
                        "pre-training: set them equal."
                    )
        elif len(self.n_filters) != 3:
            raise ValueError(
                f"{name}: argument n_filters needs 3 values; got {tuple(self.n_filters)!r}."
            )

    def _min_times(self) -> int:
        # the encoder's shortest input (22 samples) after resampling to target_sfreq
        rate = 1.0 if self.target_sfreq is None else self.target_sfreq / self.sfreq
        return int(np.ceil(22 / rate))

    def _fit_state(self, X, y, extras):
        if self.encoder is not None:
            return {"encoder_": self.encoder}
        seed = seed_from_random_state(self.random_state)
        encoder = SSLECGEncoder(
            sfreq=self.sfreq,
            target_sfreq=self.target_sfreq,
            highpass=self.highpass,
            n_filters=tuple(self.n_filters),
            max_epochs=self.pretrain_epochs,
            batch_size=self.batch_size,
            device=self.device,
            precision=self.precision,
            num_workers=self.num_workers,
            random_state=seed,
        )
        return {"encoder_": encoder.fit(X)}  # self-supervised: the labels are not read

    def _prepare(self, X):
        return preprocess_ecg(X, self.sfreq, target_sfreq=self.target_sfreq, highpass=self.highpass)

    def _torch_prepare(self):
        # the resampling and high-pass run in numpy (scipy): gradients cannot pass them
        steps = [
            f"{name}={getattr(self, name)!r}"
            for name in ("target_sfreq", "highpass")
            if getattr(self, name) is not None
            and not (name == "target_sfreq" and self.target_sfreq == self.sfreq)
        ]
        if steps:
            raise TypeError(
                f"{type(self).__name__} resamples and filters its windows in numpy "
                f"({', '.join(steps)}), which gradients cannot pass: to explain it, resample "
                "and filter the windows before the classifier and fit it with "
                "target_sfreq=None, highpass=None."
            )
        return None

    def _build_module(self, input_shape, n_classes):
        encoder = copy.deepcopy(self.encoder_.module_.encoder)  # never the user's weights
        if encoder.n_channels != input_shape[0]:
            raise ValueError(
                f"{type(self).__name__}: the encoder was pre-trained on {encoder.n_channels} "
                f"channel(s) but X has {input_shape[0]}."
            )
        for p in encoder.parameters():
            p.requires_grad_(True)
        return SSLECGClassifierNet(
            encoder,
            n_classes,
            head_units=tuple(self.head_units),
            dropout=self.dropout,
            freeze_encoder=self.freeze_encoder,
        )
