"""EEGNet as a scikit-learn classifier."""

from __future__ import annotations

import numbers

from .._validation import Interval
from ..models.eegnet import EEGNet
from ._base import DeepClassifierBase

__all__ = ["EEGNetClassifier"]


class EEGNetClassifier(DeepClassifierBase):
    """EEGNet (Lawhern et al. 2018) trained through skorch, as a scikit-learn classifier.

    The reference deep baseline of skemotion: every other model is compared against it.

    Parameters
    ----------
    F1 : int, default=8
        Number of temporal filters.
    D : int, default=2
        Spatial filters per temporal filter.
    F2 : int, default=16
        Pointwise filters.
    kernel_length : int, default=64
        Temporal kernel length in samples (half the sampling rate in the paper).
    dropout : float, default=0.25
        Dropout rate (the paper's cross-subject value).
    lr : float, default=1e-3
        Learning rate of the optimizer. The training parameters shared by every deep classifier
        are described briefly here and in full in
        :class:`~skemotion.classifiers.DeepClassifierBase`.
    max_epochs : int, default=60
        Small windows sets need many epochs: with a few hundred windows, 60 epochs of batch 32
        are about 500 optimiser steps (the paper trains up to 500 epochs with early stopping).
    batch_size : int, default=32
        Mini-batch size of training and inference.
    optimizer : {"adam", "adamw", "sgd"}, default="adam"
        Optimizer.
    weight_decay : float, default=0.0
        Weight decay (L2 for Adam and SGD, decoupled for AdamW).
    lr_schedule : {"cosine"} or None, default=None
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
    net_ : skorch.NeuralNetClassifier
        The fitted skorch net (``net_.module_`` is the :class:`~skemotion.models.EEGNet`,
        ``net_.history`` the training history).
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

    See Also
    --------
    skemotion.models.EEGNet : the network.

    Notes
    -----
    Training budget: EEGNet learns slowly from a few hundred windows. On the default synthetic
    benchmark (emotiv14, 6 subjects, about 300 training windows per fold) it needs its default
    of about 500 optimiser steps (60 epochs of batch 32, 7-15 s per fold on 2 CPU cores) to
    reach 0.63 balanced accuracy; at 10-15 epochs it stays at chance (0.32-0.37), see
    ``benchmarks/RESULTS.md``. Scale ``max_epochs`` so that ``max_epochs * n_windows /
    batch_size`` stays near 500 or more, or use ``early_stopping=True`` with a larger
    ``max_epochs`` and groups.

    Examples
    --------
    >>> from skemotion.datasets import make_eeg_emotion
    >>> from skemotion.classifiers import EEGNetClassifier
    >>> data = make_eeg_emotion(montage="emotiv14", n_subjects=2, random_state=0)
    >>> clf = EEGNetClassifier(max_epochs=2, random_state=0).fit(data.X, data.y)
    >>> clf.predict_proba(data.X[:3]).shape
    (3, 3)
    """

    _parameter_constraints = {
        **DeepClassifierBase._parameter_constraints,
        "F1": [Interval(numbers.Integral, 1, None, closed="left")],
        "D": [Interval(numbers.Integral, 1, None, closed="left")],
        "F2": [Interval(numbers.Integral, 1, None, closed="left")],
        "kernel_length": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        F1=8,
        *,
        D=2,
        F2=16,
        kernel_length=64,
        dropout=0.25,
        lr=1e-3,
        max_epochs=60,
        batch_size=32,
        optimizer="adam",
        weight_decay=0.0,
        lr_schedule=None,
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
        self.F1 = F1
        self.D = D
        self.F2 = F2
        self.kernel_length = kernel_length
        self.dropout = dropout
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

    def _build_module(self, input_shape, n_classes):
        n_channels, n_times = input_shape
        return EEGNet(
            n_channels,
            n_times,
            n_classes,
            F1=self.F1,
            D=self.D,
            F2=self.F2,
            kernel_length=self.kernel_length,
            dropout=self.dropout,
        )
