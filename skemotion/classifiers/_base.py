"""Composition base class shared by every deep classifier of skemotion.

A deep classifier is a plain ``ClassifierMixin, BaseEstimator``: ``__init__`` stores its explicit
hyper-parameters, and ``fit`` validates the data, encodes the labels, prepares the inputs, infers
their shapes into fitted attributes and builds a skorch net (:class:`skemotion._training.
SkemotionClassifierNet`) as ``net_``, trained by the package's one training runtime
(:mod:`skemotion._training`).

The input stage
---------------
A subclass says how its inputs are prepared, through hooks that the base calls in one order:

1. ``_fit_state(X, y, extras)`` learns preprocessing state from the validated training windows
   and returns it as a dict of fitted attributes (e.g. ``{"scale_": 2.3}``); the base sets them,
   in this one place;
2. ``_prepare(X)`` turns validated windows into the network's input, batched, once per
   ``fit``/``predict`` call (never per epoch): an array, or a dict of named arrays for a
   multi-input network (its ``forward`` takes them as keyword arguments);
3. ``_training_inputs(X, prepared, extras)`` adds what only training needs (reconstruction
   targets ...); by default the prepared input itself;
4. ``_build_module(input_shape, n_classes)`` builds the network from the per-window shape of the
   prepared input (a tuple, or a dict name -> tuple);
5. ``_batch_transform()`` optionally returns a transform run on every batch on the training
   device (on-the-fly augmentation, an STFT ...).

``_fit_extras(X, fit_params)`` validates extra ``fit`` arguments (such as paired clean signals)
into the ``extras`` dict given to 1 and 3.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping
from contextlib import nullcontext

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GroupShuffleSplit
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval, StrOptions
from skorch.callbacks import EarlyStopping, LRScheduler
from torch.optim.lr_scheduler import CosineAnnealingLR
from torch.utils.data import Subset

from .._training import (
    PRECISIONS,
    SkemotionClassifierNet,
    check_precision,
    inference_device,
    isolated_rng,
    net_kwargs,
    resolve_device,
    seed_from_random_state,
    train,
)
from .._validation import check_finite_array, check_is_fitted, check_signal_X, check_signal_X_y

__all__ = ["DeepClassifierBase", "group_split"]

#: The exact calls that give early stopping its groups inside cross-validation.
EARLY_STOPPING_CALLS = (
    "cross_val_score(clf, X, y, groups=subjects, cv=LeaveOneGroupOut(), "
    'params={"groups": trials}); with metadata routing enabled, '
    'clf.set_fit_request(groups="trials") and cross_val_score(clf, X, y, '
    'cv=LeaveOneGroupOut(), params={"groups": subjects, "trials": trials})'
)


def _softmax_float(y_pred):
    """Predict non-linearity: softmax in float32 over the logits (first output if a tuple)."""
    if isinstance(y_pred, tuple):
        y_pred = y_pred[0]
    return torch.softmax(y_pred.float(), dim=-1)


def group_split(groups, fraction, seed):
    """Indices ``(train, valid)`` holding out about ``fraction`` of the groups, whole."""
    splitter = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
    return next(splitter.split(np.zeros(len(groups)), groups=groups))


class _IndexSplit:
    """skorch ``train_split`` with precomputed train / validation indices.

    The indices come from :func:`group_split`, so windows of one group (trial or subject)
    never end up on both sides of the inner validation split.
    """

    def __init__(self, train_idx, valid_idx):
        self.train_idx = train_idx
        self.valid_idx = valid_idx

    def __call__(self, dataset, y=None, **kwargs):
        return Subset(dataset, self.train_idx), Subset(dataset, self.valid_idx)


class _CrossEntropyNet(SkemotionClassifierNet):
    """Classifier net whose loss reads the logits in float32 (first output if a tuple)."""

    def get_loss(self, y_pred, y_true, X=None, training=False):
        logits = y_pred[0] if isinstance(y_pred, tuple) else y_pred
        return super().get_loss(logits.float(), y_true, X=X, training=training)


def _per_window_shape(prepared):
    if isinstance(prepared, Mapping):
        return {k: tuple(v.shape[1:]) for k, v in prepared.items()}
    return tuple(prepared.shape[1:])


class DeepClassifierBase(ClassifierMixin, BaseEstimator):
    """Base class of the deep classifiers (composition around a skorch net).

    Subclasses list their hyper-parameters explicitly in ``__init__`` (only storing them) and
    implement :meth:`_build_module`; the input-stage hooks are described in the module
    docstring. The shared hyper-parameters, which every subclass accepts, are documented here.

    Parameters
    ----------
    lr : float
        Learning rate of the optimizer.
    max_epochs : int
        Number of training epochs (upper bound with early stopping).
    batch_size : int
        Mini-batch size for training and inference.
    optimizer : {"adam", "adamw", "sgd"}
        Optimizer.
    weight_decay : float
        Weight decay (L2 for Adam/SGD, decoupled for AdamW).
    lr_schedule : {"cosine"} or None
        Learning rate over the epochs: None keeps ``lr``; ``"cosine"`` anneals it from ``lr``
        towards 0 along half a cosine over ``max_epochs`` epochs (skorch's ``LRScheduler`` with
        ``CosineAnnealingLR``, stepped once per epoch; with early stopping the schedule still
        spans ``max_epochs``). A subclass whose ``__init__`` does not take it trains at a
        constant rate.
    early_stopping : bool
        Hold out ``validation_fraction`` of the *groups* passed to ``fit`` (trials or subjects,
        never random windows) and stop when the validation loss has not improved for
        ``patience`` epochs; the best weights are restored. Inside cross-validation, give the
        groups to ``fit`` with ``cross_val_score(clf, X, y, groups=subjects,
        cv=LeaveOneGroupOut(), params={"groups": trials})``; with metadata routing enabled,
        ``clf.set_fit_request(groups="trials")`` and ``params={"groups": subjects, "trials":
        trials}``.
    validation_fraction : float
        Fraction of groups held out when ``early_stopping`` is True.
    patience : int
        Epochs without improvement before stopping.
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ``"cuda:1"`` ...
    precision : {"32", "bf16", "16-mixed"}
        Training and inference precision; ``"bf16"`` autocasts to bfloat16 (CPU or recent
        GPUs), ``"16-mixed"`` to float16 with gradient scaling (meant for CUDA; slow on CPU).
    num_workers : int
        DataLoader worker processes (0: load batches in the main process, the fastest choice
        for in-memory arrays). On CUDA, batches are pinned and copied asynchronously.
    random_state : int, RandomState instance or None
        Seeds weight initialisation, shuffling, dropout and augmentation; with an int, ``fit``
        is deterministic on CPU. Global random states are left untouched, by ``fit`` and by
        inference.
    callbacks : list of skorch callbacks or (name, callback) tuples, or None
        Extra skorch callbacks; they are deep-copied in ``fit``.
    verbose : int
        0 silent, 1 a progress bar over epochs, 2 also skorch's per-epoch table.
    """

    _parameter_constraints: dict = {
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "optimizer": [StrOptions({"adam", "adamw", "sgd"})],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "lr_schedule": [StrOptions({"cosine"}), None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "patience": [Interval(numbers.Integral, 1, None, closed="left")],
        "device": [str],
        "precision": [StrOptions(set(PRECISIONS))],
        "num_workers": [Interval(numbers.Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
        "callbacks": [list, None],
        "verbose": ["verbose"],
    }

    #: skorch net class; subclasses with a custom loss may override it.
    _net_class = _CrossEntropyNet
    #: ranks of X accepted after a 2-D X is promoted to single-channel (n, 1, T) windows.
    _input_ndims: tuple = (3,)

    # --- hooks for subclasses ------------------------------------------------------------
    def _build_module(self, input_shape, n_classes: int) -> torch.nn.Module:
        """Return a freshly initialised ``nn.Module`` mapping prepared inputs to logits."""
        raise TypeError(f"{type(self).__name__} must implement _build_module.")

    def _min_times(self) -> int:
        """Shortest window the network accepts."""
        return 1

    def _fit_extras(self, X, fit_params: dict) -> dict:
        """Validate extra ``fit`` arguments (none by default)."""
        extras = {k: v for k, v in fit_params.items() if v is not None}
        if extras:
            raise TypeError(f"{type(self).__name__}.fit got unexpected arguments {sorted(extras)}.")
        return {}

    def _fit_state(self, X, y, extras: dict) -> dict:
        """Preprocessing state learnt from the training windows, as fitted attributes."""
        return {}

    def _prepare(self, X):
        """The network's input from validated windows (an array or a dict of arrays)."""
        return X

    def _training_inputs(self, X, prepared, extras: dict):
        """What skorch trains on; by default the prepared input."""
        return prepared

    def _batch_transform(self):
        """Per-batch transform on the training device, or None."""
        return None

    def _net_kwargs(self) -> dict:
        """Extra keyword arguments for the skorch net (criterion, loss weights ...)."""
        return {}

    # --- sklearn API ---------------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.non_deterministic = False
        return tags

    def fit(self, X, y, groups=None):
        """Train the network.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
            Signal windows (a 2-D X is read as single-channel windows).
        y : array-like of shape (n_windows,)
            Class labels (any hashable labels: strings, {-1, 0, 1}, {3, 7} ...).
        groups : array-like of shape (n_windows,), default=None
            Trial (or subject) id per window, used only to take the inner validation split by
            group when ``early_stopping=True``.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        return self._fit(X, y, groups=groups)

    def _check_groups(self, groups, n):
        name = type(self).__name__
        if groups is None:
            if self.early_stopping:
                raise ValueError(
                    f"{name}: early_stopping=True needs groups (trial or subject id per window) "
                    "so that the inner validation split never separates windows of one trial: "
                    f"fit(X, y, groups=trials). Inside cross-validation: {EARLY_STOPPING_CALLS}."
                )
            return None
        groups = np.asarray(groups)
        if groups.shape != (n,):
            raise ValueError(f"{name}: argument groups must have shape ({n},); got {groups.shape}.")
        if groups.dtype.kind in "fc":
            check_finite_array(self, groups, "groups")
        return groups

    def _fit(self, X, y, groups=None, **fit_params):
        """The training logic of ``fit``; ``fit_params`` go to :meth:`_fit_extras`."""
        self._validate_params()
        name = type(self).__name__
        X, y = check_signal_X_y(self, X, y, min_times=self._min_times(), ndims=self._input_ndims)
        le = LabelEncoder()
        y_enc = le.fit_transform(y).astype(np.int64)
        if len(le.classes_) < 2:
            raise ValueError(
                f"{name}: argument y needs at least 2 classes to train a classifier; got 1 class "
                f"({le.classes_[0]!r})."
            )
        groups = self._check_groups(groups, X.shape[0])
        device = resolve_device(self, self.device)
        amp_dtype = check_precision(self, self.precision, device)
        seed = seed_from_random_state(self.random_state)

        # the input stage: fitted state in one place, inputs prepared once for all epochs
        self.classes_ = le.classes_
        self.input_shape_ = tuple(X.shape[1:])
        if X.ndim == 3:
            self.n_channels_, self.n_times_ = X.shape[1], X.shape[2]
        extras = self._fit_extras(X, fit_params)
        for attr, value in self._fit_state(X, y_enc, extras).items():
            setattr(self, attr, value)
        prepared = self._prepare(X)
        inputs = self._training_inputs(X, prepared, extras)

        train_split, n_train, callbacks = None, X.shape[0], list(self.callbacks or [])
        if self.early_stopping:
            n_groups = len(np.unique(groups))
            if n_groups < 2:
                raise ValueError(
                    f"{name}: argument groups has {n_groups} distinct value; early stopping "
                    "holds out whole groups and needs at least 2."
                )
            train_idx, valid_idx = group_split(groups, self.validation_fraction, seed)
            train_split = _IndexSplit(train_idx, valid_idx)
            n_train = len(train_idx)
            if n_train < 2:
                raise ValueError(
                    f"{name}: the group split left {n_train} training window(s); pass more "
                    "groups or a smaller validation_fraction."
                )
        kwargs = net_kwargs(
            self,
            device=device,
            amp_dtype=amp_dtype,
            seed=seed,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            optimizer=self.optimizer,
            weight_decay=self.weight_decay,
            callbacks=callbacks,
            verbose=self.verbose,
            train_split=train_split,
            n_train=n_train,
            num_workers=self.num_workers,
        )
        # a subclass written before the parameter existed trains at a constant rate
        if getattr(self, "lr_schedule", None) == "cosine":
            schedule = LRScheduler(policy=CosineAnnealingLR, T_max=self.max_epochs)
            kwargs["callbacks"] = [*(kwargs["callbacks"] or []), ("lr_scheduler", schedule)]
        if self.early_stopping:
            es = EarlyStopping(patience=self.patience, load_best=True)
            kwargs["callbacks"] = [*(kwargs["callbacks"] or []), ("early_stopping", es)]
        kwargs.update(
            criterion=torch.nn.CrossEntropyLoss,
            predict_nonlinearity=_softmax_float,
            classes=np.arange(len(self.classes_)),
            batch_transform=self._batch_transform(),
        )
        kwargs.update(self._net_kwargs())

        input_shape = _per_window_shape(prepared)
        # one random stream, seeded once, for weight initialisation and training
        with isolated_rng(seed, device) if seed is not None else nullcontext():
            try:
                module = self._build_module(input_shape, len(self.classes_))
            except (ValueError, TypeError) as exc:  # the network refuses its configuration
                if str(exc).startswith(name):
                    raise
                raise type(exc)(f"{name}: {exc}") from exc
            net = self._net_class(module, **kwargs)
            with warnings.catch_warnings():
                # skorch warns when a module instance is passed with module__ params; none here
                warnings.simplefilter("ignore", category=UserWarning)
                net = train(net, inputs, y_enc, seed=None, device=device)
        # drop the reference to the training groups held by the split
        net.train_split = None
        self.net_ = net
        return self

    def _validate_X(self, X):
        """Validate X after fit with the same rules as in fit."""
        check_is_fitted(self, "net_")
        return check_signal_X(self, X, reset=False, ndims=self._input_ndims)

    def _inference(self, prepared):
        """Run the fitted net over prepared inputs on the inference device.

        Yields the raw outputs batch by batch; the global torch RNG is left untouched
        (DataLoader iteration would otherwise draw from it).
        """
        net = self.net_
        device = inference_device(self.device)
        if str(net.device) != device:  # e.g. fitted on a GPU, loaded on a machine without one
            net.device = device
            net.module_.to(device)
        with isolated_rng(None, device):
            yield from net.forward_iter(prepared, training=False)

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
            Signal windows, shaped as in ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_windows, n_classes)
            Probabilities of the classes in the order of ``classes_``.
        """
        X = self._validate_X(X)
        prepared = self._prepare(X)
        parts = [_softmax_float(out).cpu().numpy() for out in self._inference(prepared)]
        return np.concatenate(parts, axis=0).astype(np.float64)

    def predict(self, X):
        """Predicted labels (the original labels given to ``fit``).

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
            Signal windows, shaped as in ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_windows,)
            Predicted labels.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    @property
    def history_(self):
        """skorch history of the last fit (``net_.history``)."""
        check_is_fitted(self, "net_")
        return self.net_.history
