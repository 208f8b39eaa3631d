"""Composition base class shared by every deep classifier of skemotion.

A deep classifier is a plain ``ClassifierMixin, BaseEstimator``: ``__init__`` stores its explicit
hyper-parameters, and ``fit`` validates the data, encodes the labels, prepares the inputs, infers
their shapes into fitted attributes and builds a skorch net (:class:`skemotion._training.
SkemotionClassifierNet`) as ``net_``, trained by the package's one training path
(:func:`skemotion._training.fit_net`). The documentation page "Adding a model" walks through a
complete subclass.

Writing a subclass
------------------
``__init__`` takes, keyword-only after the architecture, every shared parameter documented in
:class:`DeepClassifierBase` (``lr``, ``max_epochs``, ``batch_size``, ``optimizer``,
``weight_decay``, ``lr_schedule``, ``early_stopping``, ``validation_fraction``, ``patience``,
``min_epochs``, ``augment``, ``subject_adversarial``, ``adapt_bn``, ``device``, ``precision``,
``num_workers``, ``random_state``, ``callbacks``, ``verbose``) and only stores them;
``_parameter_constraints`` extends ``DeepClassifierBase._parameter_constraints`` with one entry
per architecture parameter (scikit-learn's declarative validation, run first in ``fit``).

The hooks (protected API: names, arguments and return values are kept stable)
------------------------------------------------------------------------------
``fit`` calls them in this order; only :meth:`~DeepClassifierBase._build_module` is required.

0. ``_check_params()``: checks across parameters (or inside one) that the constraints cannot
   express; raise ``ValueError`` naming the estimator and the argument. Runs before any data
   is read. Call ``super()._check_params()``.
1. ``_min_times() -> int``: the shortest window (samples) the network accepts; shorter windows
   are refused with a clear error before anything is built.
2. ``_fit_extras(X, fit_params) -> dict``: validates extra ``fit`` keyword arguments (such as
   paired clean signals) into the ``extras`` dict given to 3 and 5; by default any extra
   argument is a ``TypeError``.
3. ``_fit_state(X, y, extras) -> dict``: preprocessing state learnt from the validated training
   windows ``X`` (float32, ``(n, C, T)``) and encoded labels ``y`` (int64, ``0..K-1``),
   returned as a dict of fitted attributes (e.g. ``{"scale_": 2.3}``); the base sets them, in
   this one place, before 4.
4. ``_prepare(X)``: turns validated windows into the network's input, batched, once per
   ``fit``/``predict`` call (never per epoch): an array, or a dict of named arrays for a
   multi-input network (its ``forward`` takes them as keyword arguments). Also called by
   ``predict``, with the state of 3.
5. ``_training_inputs(X, prepared, extras)``: what skorch trains on (adds reconstruction
   targets ...); by default the prepared input itself.
6. ``_build_module(input_shape, n_classes) -> torch.nn.Module``: a freshly initialised network
   mapping a batch of prepared inputs to logits ``(batch, n_classes)`` (or to a dict holding
   them, with ``_net_kwargs`` giving the criterion that reads it). ``input_shape`` is the
   per-window shape of the prepared input (a tuple, or a dict name -> tuple).
7. ``_batch_transform()``: optionally a callable ``f(x, training) -> x`` run on every batch
   once it is on the training device (training, validation and inference); a stochastic one
   defines ``reset(seed)``.
8. ``_net_kwargs() -> dict``: extra arguments of the skorch net (a criterion, loss weights,
   ``_net_class`` for a custom loss).
9. ``_augmenter(transforms, inputs)``: where the ``augment`` transforms act when the prepared
   input is not the signal windows themselves.

The random-number contract: ``_build_module`` and everything in training draw from one torch
stream seeded once from ``random_state`` (:func:`~skemotion._training.fit_net`), so a hook must
draw its randomness from torch's global generator (or a generator seeded from it, as
``reset(seed)`` receives), never from an unseeded source; the caller's global random states
are restored afterwards. ``fit`` with an int ``random_state`` is then deterministic on CPU.

The precision contract: the network runs under autocast (``"bf16"``, ``"16-mixed"``), so
``forward`` must not force float32 or float16 itself; losses are computed in float32 from the
outputs; with ``"16-mixed"`` the gradients are scaled, and callbacks (``on_grad_computed``)
see them unscaled. Returned probabilities are float32 whatever the precision.
"""

from __future__ import annotations

import copy
import inspect
import numbers
from collections.abc import Mapping

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GroupShuffleSplit
from sklearn.preprocessing import LabelEncoder
from skorch.callbacks import EarlyStopping
from torch.utils.data import Subset

from .._training import (
    SUBJECT_KEY,
    TRAINING_CONSTRAINTS,
    X_KEY,
    BatchAugmentation,
    BatchAugmenter,
    MixedTargets,
    SkemotionClassifierNet,
    SubjectAdversary,
    adapted_batch_norm,
    check_precision,
    fit_net,
    inference_device,
    isolated_rng,
    resolve_device,
    seed_from_random_state,
    unfitted_on_error,
)
from .._validation import (
    Interval,
    Options,
    StrOptions,
    check_ids,
    check_is_fitted,
    check_signal_X,
    check_signal_X_y,
    row_blocks,
)

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


class _WarmEarlyStopping(EarlyStopping):
    """skorch's ``EarlyStopping`` that neither stops nor records a best epoch before
    ``min_epochs`` epochs are done (the first epoch it judges is epoch ``min_epochs``)."""

    def __init__(self, min_epochs=1, **kwargs):
        super().__init__(**kwargs)
        self.min_epochs = min_epochs

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) < self.min_epochs:
            return
        super().on_epoch_end(net, **kwargs)


class _CrossEntropyNet(SkemotionClassifierNet):
    """Classifier net whose loss reads the logits in float32 (first output if a tuple).

    The loss is the cross-entropy of the classes (the mixed cross-entropy for a mixup batch,
    :class:`~skemotion._training.MixedTargets`) plus, while training with
    ``subject_adversarial``, the weighted subject-adversarial term.
    """

    def class_loss(self, y_pred, y_true, X=None, training=False):
        """Cross-entropy of the class logits (mixed for mixup targets)."""
        logits = (y_pred[0] if isinstance(y_pred, tuple) else y_pred).float()
        if isinstance(y_true, MixedTargets):
            return y_true.loss(logits)
        return super().get_loss(logits, y_true, X=X, training=training)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = self.class_loss(y_pred, y_true, X=X, training=training)
        adversarial = self.adversarial_loss(training)
        return loss if adversarial is None else loss + adversarial


class PerWindow:
    """A per-window function of windows that stay on disk, computed when a batch reads them.

    A deep classifier whose network input is computed from the windows (a scaling, a
    spectrogram) prepares it this way for a memory-mapped ``X`` (a window cache), so that
    training and prediction read their batches from the file instead of holding the prepared
    input of every window in memory. ``fn`` maps windows ``(k, ...)`` to inputs ``(k, ...)``
    one window at a time exactly as on a whole array (the classifiers check this: their
    results from the memory map and from memory are identical).
    """

    def __init__(self, X, fn):
        self.X = X
        self.fn = fn
        first = fn(X[:1])
        self.shape = (len(X), *first.shape[1:])
        self.dtype = first.dtype
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, idx):
        if isinstance(idx, int | np.integer):
            return self.fn(self.X[int(idx) : int(idx) + 1])[0]
        return self.fn(self.X[idx])


def is_memory_map(X) -> bool:
    """Whether X is (a view of) a file's memory map, such as a window cache's ``X``."""
    return isinstance(X, np.memmap) and X.filename is not None


def chunked_std(X: np.ndarray) -> float:
    """Standard deviation of every value of X in float64: ``np.std`` up to 256 MiB of X, above
    that two passes over blocks of windows (no float64 copy of a large or memory-mapped X).
    The choice depends on the size only, so an array and its memory map give the same value."""
    if X.nbytes <= 1 << 28:
        return float(np.std(X, dtype=np.float64))
    blocks = row_blocks(X, 1 << 22)
    mean = sum(float(X[b].sum(dtype=np.float64)) for b in blocks) / X.size
    sq = sum(float(np.square(X[b].astype(np.float64) - mean).sum()) for b in blocks)
    return float(np.sqrt(sq / X.size))


def _take(prepared, idx):
    """Windows ``idx`` of prepared inputs (an array or a dict of arrays)."""
    if isinstance(prepared, Mapping):
        return {k: v[idx] for k, v in prepared.items()}
    return prepared[idx]


def _unique_in_order(values) -> list:
    """Distinct values in order of first appearance."""
    _, first = np.unique(values, return_index=True)
    return [values[i] for i in np.sort(first)]


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
        spans ``max_epochs``).
    early_stopping : bool or "refit"
        Hold out ``validation_fraction`` of the *groups* passed to ``fit`` (trials or subjects,
        never random windows) and, from epoch ``min_epochs`` on, stop when the validation loss
        has not improved for ``patience`` epochs; the weights of the best epoch at or after
        ``min_epochs`` are restored (its number is ``best_epoch_``). ``"refit"`` then trains
        the network again from the same seed on *every* window for ``best_epoch_`` epochs: the
        validation groups only choose the number of epochs (about twice the training time;
        on small corpora the held-out fifth of the trials is what costs accuracy, see
        ``benchmarks/RESULTS.md``, "Early stopping"). Inside cross-validation, give the
        groups to ``fit`` with ``cross_val_score(clf, X, y, groups=subjects,
        cv=LeaveOneGroupOut(), params={"groups": trials})``; with metadata routing enabled,
        ``clf.set_fit_request(groups="trials")`` and ``params={"groups": subjects, "trials":
        trials}``.
    validation_fraction : float
        Fraction of groups held out when ``early_stopping`` is True.
    patience : int
        Epochs without improvement before stopping.
    min_epochs : int or None
        With ``early_stopping``: no stop, and no restored checkpoint, before this epoch.
        None means the classifier's default training budget (its default ``max_epochs``: 60
        for EEGNet), so that early stopping only ever *extends* the budget chosen on the
        development corpus. Without it, early stopping on these corpora stopped at epoch 11
        and restored epoch 1, an untrained network: deep models sit at chance for their first
        ~15 epochs while the validation loss of a few held-out trials drifts up
        (``benchmarks/RESULTS.md``, "Early stopping").
    augment : list of augmentations or None
        Label-preserving transforms of :mod:`skemotion.augment` (:class:`~skemotion.augment.
        TimeShift`, :class:`~skemotion.augment.AmplitudeScale`, :class:`~skemotion.augment.
        ChannelDropout`, :class:`~skemotion.augment.BandNoise`, :class:`~skemotion.augment.
        FrequencyShift`, :class:`~skemotion.augment.Mixup`) applied in order to every training
        batch on the training device, with random draws seeded from ``random_state``. They
        transform the signal windows (before a network's own input stage, such as an STFT or
        electrode maps); validation batches and inference are never augmented. With
        :class:`~skemotion.augment.Mixup` the loss is the mixed cross-entropy.
    subject_adversarial : float
        Weight of the subject-adversarial loss (0 turns it off; training is then exactly as
        without the option). A subject discriminator (a 64-unit MLP) reads the network's
        embedding (the input of its classifier head) through a gradient-reversal layer and
        learns to tell the training subjects apart, while the network learns features that
        fool it (domain-adversarial training, Ganin et al., JMLR 2016, with subjects as
        domains): the training loss is ``CE(classes) + subject_adversarial * CE(subjects)``
        and the gradient reaching the network from the second term is reversed and scaled by
        ``2 / (1 + exp(-10 p)) - 1``, ``p`` the fraction of the ``max_epochs`` optimiser steps
        done (:func:`~skemotion._training.grl_weight`; recorded per batch in the history as
        ``grl_weight``, the discriminator's loss as ``train_subject_loss``). The subject of
        every window is the ``groups`` given to ``fit``: ``fit(X, y, groups=subjects)``, or
        ``cross_val_score(clf, X, y, groups=subjects, cv=LeaveOneGroupOut(), params={"groups":
        subjects})``. The discriminator sees only the training subjects (with
        ``early_stopping``, not the held-out ones: there ``groups`` also chooses the
        validation split) and is dropped at the end of ``fit``.
    adapt_bn : {False, "batch", "subject"}
        Batch-norm adaptation at prediction (AdaBN, Li et al., Pattern Recognition 2018):
        ``"batch"`` recomputes every batch-norm layer's statistics on all the windows being
        predicted, ``"subject"`` on the windows of each subject separately, the subjects being
        the ``groups`` given to ``predict``/``predict_proba`` (with metadata routing,
        ``clf.set_predict_request(groups=True)``; without groups all windows form one
        subject; a subject with one window keeps the fitted statistics). The statistics are a
        cumulative average over batches of ``batch_size`` windows. Label-free but
        *transductive*, like :class:`~skemotion.transfer.EuclideanAlignment`: a window's
        prediction depends on the other windows predicted with it, so predict a held-out
        subject's windows together (in leave-one-subject-out cross-validation each test fold
        is one subject, which is what ``"batch"`` then adapts to). The fitted estimator is not
        changed: the fitted statistics are restored after every call.
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
        **TRAINING_CONSTRAINTS,
        "early_stopping": ["boolean", StrOptions({"refit"})],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "patience": [Interval(numbers.Integral, 1, None, closed="left")],
        "min_epochs": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "augment": [list, None],
        "subject_adversarial": [Interval(numbers.Real, 0, None, closed="left")],
        "adapt_bn": [StrOptions({"batch", "subject"}), Options(bool, {False})],
    }

    # predict-time groups (adapt_bn="subject") are not requested by default: a Pipeline that
    # routes groups to its aligners then predicts as before; clf.set_predict_request(groups=True)
    # asks for them
    __metadata_request__predict = {"groups": False}
    __metadata_request__predict_proba = {"groups": False}

    #: skorch net class; subclasses with a custom loss may override it.
    _net_class = _CrossEntropyNet
    #: ranks of X accepted after a 2-D X is promoted to single-channel (n, 1, T) windows.
    _input_ndims: tuple = (3,)

    # --- hooks for subclasses ------------------------------------------------------------
    def _build_module(self, input_shape, n_classes: int) -> torch.nn.Module:
        """Return a freshly initialised ``nn.Module`` mapping prepared inputs to logits.

        ``input_shape`` is the per-window shape of the prepared input (a tuple, or a dict
        name -> tuple for a dict input); ``n_classes`` the number of classes. Called inside
        the seeded random stream of ``fit``: the initialisation follows ``random_state``.
        Required.
        """
        raise TypeError(f"{type(self).__name__} must implement _build_module.")

    def _min_times(self) -> int:
        """Shortest window (samples) the network accepts; 1 by default."""
        return 1

    def _fit_extras(self, X, fit_params: dict) -> dict:
        """Validate extra ``fit`` arguments (none by default)."""
        extras = {k: v for k, v in fit_params.items() if v is not None}
        if extras:
            raise TypeError(f"{type(self).__name__}.fit got unexpected arguments {sorted(extras)}.")
        return {}

    def _fit_state(self, X, y, extras: dict) -> dict:
        """Preprocessing state learnt from the training windows, as fitted attributes.

        ``X`` are the validated windows, ``y`` the encoded labels (int64, ``0..K-1``),
        ``extras`` what :meth:`_fit_extras` returned. Returns ``{name_: value}``; none by
        default.
        """
        return {}

    def _prepare(self, X):
        """The network's input from validated windows (an array or a dict of arrays).

        Called once per ``fit`` and per ``predict``/``predict_proba`` call, after the fitted
        state is set; the windows themselves by default.
        """
        return X

    def _torch_prepare(self):
        """:meth:`_prepare` as a torch function of raw windows ``(B, C, T)`` that gradients go
        through (gradient explanations, :func:`skemotion.inspection.attribute`), or None when
        the network reads the windows themselves. A subclass overriding ``_prepare`` (with
        numpy) overrides this too, or its model cannot be explained by gradients."""
        if type(self)._prepare is not DeepClassifierBase._prepare:
            raise TypeError(
                f"{type(self).__name__} prepares its network input in numpy (_prepare) and "
                "has no torch version of it (_torch_prepare): gradients cannot reach the "
                "windows."
            )
        return None

    def _training_inputs(self, X, prepared, extras: dict):
        """What skorch trains on (the prepared input plus training-only targets); by default
        the prepared input."""
        return prepared

    def _batch_transform(self):
        """Per-batch transform ``f(x, training) -> x`` on the training device, or None.

        A stochastic transform defines ``reset(seed)``, called at the start of training with
        a seed drawn from the seeded stream.
        """
        return None

    def _net_kwargs(self) -> dict:
        """Extra keyword arguments for the skorch net (criterion, loss weights ...); they
        override the shared ones."""
        return {}

    def _augmenter(self, transforms, inputs) -> BatchAugmenter:
        """The augmentation of training batches; by default of the prepared windows.

        ``inputs`` are the training inputs (to check that they are signal windows). A
        subclass whose network reads something else from raw windows says where the signal
        is (and what to recompute from it) here.
        """
        if isinstance(inputs, Mapping) or np.ndim(inputs) != 3:
            shape = _per_window_shape(inputs)
            raise ValueError(
                f"{type(self).__name__}: argument augment transforms signal windows "
                f"(n_windows, n_channels, n_times); the network's input here has per-window "
                f"shape {shape}."
            )
        return BatchAugmenter(transforms)

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
            if self._adversarial_weight() > 0:
                raise ValueError(
                    f"{name}: subject_adversarial={self.subject_adversarial} needs the subject "
                    "of every window: fit(X, y, groups=subjects). Inside cross-validation: "
                    "cross_val_score(clf, X, y, groups=subjects, cv=LeaveOneGroupOut(), "
                    'params={"groups": subjects}); with metadata routing enabled, '
                    "clf.set_fit_request(groups=True)."
                )
            if self.early_stopping:
                raise ValueError(
                    f"{name}: early_stopping=True needs groups (trial or subject id per window) "
                    "so that the inner validation split never separates windows of one trial: "
                    f"fit(X, y, groups=trials). Inside cross-validation: {EARLY_STOPPING_CALLS}."
                )
            return None
        return check_ids(self, groups, n, "groups", "trial or subject id")

    def _min_epochs(self) -> int:
        """``min_epochs``, None resolved to the class's default ``max_epochs``."""
        value = getattr(self, "min_epochs", None)
        if value is None:
            default = inspect.signature(type(self).__init__).parameters.get("max_epochs")
            value = default.default if default is not None else 1
        return int(value)

    def _adversarial_weight(self) -> float:
        return float(getattr(self, "subject_adversarial", 0.0) or 0.0)

    def _check_params(self) -> None:
        """Checks across parameters, or inside one, that ``_parameter_constraints`` cannot say.

        Run by ``fit`` right after the constraints and before any data is looked at; raises a
        ``ValueError`` (or ``TypeError``) naming the estimator and the argument. The base
        checks ``augment``; a subclass extends it with ``super()._check_params()``.
        """
        name = type(self).__name__
        augment = getattr(self, "augment", None) or []
        for t in augment:
            if not isinstance(t, BatchAugmentation):
                raise TypeError(
                    f"{name}: argument augment must be a list of skemotion.augment transforms "
                    "(TimeShift, AmplitudeScale, ChannelDropout, BandNoise, FrequencyShift, "
                    f"Mixup); got {t!r}."
                )
            try:
                t.check()
            except ValueError as exc:
                raise ValueError(f"{name}: argument augment: {exc}") from None
        if sum(type(t).__name__ == "Mixup" for t in augment) > 1:
            raise ValueError(f"{name}: argument augment holds Mixup twice.")

    def _subject_codes(self, groups, train_idx, n):
        """Subject code per window (-1 outside the training part) and the number of subjects."""
        name = type(self).__name__
        train_idx = np.arange(n) if train_idx is None else train_idx
        train_groups = groups[train_idx]
        subjects, codes_train = np.unique(train_groups, return_inverse=True)
        if len(subjects) < 2:
            raise ValueError(
                f"{name}: subject_adversarial needs windows of at least 2 training subjects "
                f"in groups; got {len(subjects)}."
            )
        codes = np.full(n, -1, dtype=np.int64)
        codes[train_idx] = codes_train
        return codes, len(subjects)

    def _fit(self, X, y, groups=None, **fit_params):
        """The training logic of ``fit``; ``fit_params`` go to :meth:`_fit_extras`.

        A fit that fails leaves the estimator unfitted (:func:`unfitted_on_error`).
        """
        with unfitted_on_error(self):
            return self._fit_unchecked(X, y, groups=groups, **fit_params)

    def _fit_unchecked(self, X, y, groups=None, **fit_params):
        self._validate_params()
        self._check_params()
        # the user's augmentations, copied: their state never leaks back
        transforms = copy.deepcopy(list(self.augment)) if getattr(self, "augment", None) else None
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

        split = None
        if self.early_stopping:
            n_groups = len(np.unique(groups))
            if n_groups < 2:
                raise ValueError(
                    f"{name}: argument groups has {n_groups} distinct value; early stopping "
                    "holds out whole groups and needs at least 2."
                )
            split = group_split(groups, self.validation_fraction, seed)
            if len(split[0]) < 2:
                raise ValueError(
                    f"{name}: the group split left {len(split[0])} training window(s); pass "
                    "more groups or a smaller validation_fraction."
                )
        setup = dict(
            inputs=inputs,
            y=y_enc,
            input_shape=_per_window_shape(prepared),
            groups=groups,
            seed=seed,
            device=device,
            amp_dtype=amp_dtype,
            transforms=transforms,
        )
        net, es = self._train_net(**setup, split=split, epochs=self.max_epochs)
        self.best_epoch_ = None
        if es is not None:
            # the best epoch judged on the validation groups (the last one if none was judged)
            self.best_epoch_ = int(es.best_epoch_ or len(net.history))
            if self.early_stopping == "refit":  # the same training, on every window
                net, _ = self._train_net(**setup, split=None, epochs=self.best_epoch_)
        # drop the reference to the training groups held by the split
        net.train_split = None
        self.net_ = net
        return self

    def _train_net(
        self, *, inputs, y, input_shape, groups, seed, device, amp_dtype, transforms, split, epochs
    ):
        """Build and train the net for ``epochs`` epochs; returns it and its early stopping.

        ``split`` is ``(train_idx, valid_idx)`` for early stopping on held-out groups, or None
        (every window trains). The learning-rate schedule always spans ``max_epochs``, so that
        a refit for fewer epochs follows the rates of the run it repeats.
        """
        name = type(self).__name__
        n = len(y)
        extra = []
        if split is not None:
            extra.append(
                (
                    "early_stopping",
                    _WarmEarlyStopping(
                        min_epochs=min(self._min_epochs(), epochs),
                        patience=self.patience,
                        load_best=True,
                    ),
                )
            )
        net_params = dict(
            criterion=torch.nn.CrossEntropyLoss,
            predict_nonlinearity=_softmax_float,
            classes=np.arange(len(self.classes_)),
            batch_transform=self._batch_transform(),
        )
        net_params.update(self._net_kwargs())
        if transforms is not None:
            net_params["augmenter"] = self._augmenter(transforms, inputs)
        adversarial = self._adversarial_weight()
        if adversarial > 0:
            codes, n_subjects = self._subject_codes(groups, None if split is None else split[0], n)
            if isinstance(inputs, Mapping):
                inputs = {**inputs, SUBJECT_KEY: codes}
            else:
                inputs = {X_KEY: inputs, SUBJECT_KEY: codes}
            net_params["subject_adversarial"] = adversarial

        def build():
            try:
                module = self._build_module(input_shape, len(self.classes_))
            except (ValueError, TypeError) as exc:  # the network refuses its configuration
                if str(exc).startswith(name):
                    raise
                raise type(exc)(f"{name}: {exc}") from exc
            if adversarial > 0:  # built after the network: its initialisation is unchanged
                module = SubjectAdversary(module, n_subjects)
            return module

        net = fit_net(
            self,
            self._net_class,
            build,
            inputs,
            y,
            device=device,
            amp_dtype=amp_dtype,
            seed=seed,
            max_epochs=epochs,
            train_split=None if split is None else _IndexSplit(*split),
            n_train=n if split is None else len(split[0]),
            callbacks=extra,
            **net_params,
        )
        if adversarial > 0:  # the discriminator exists only while training
            net.module_ = net.module_.unwrap()
            net.initialize_optimizer()
            net.__dict__.pop("batch_subjects_", None)
        es = dict(net.callbacks_)["early_stopping"] if split is not None else None
        return net, es

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

    def _adapt_statistics(self, prepared, n: int) -> None:
        """Accumulate batch-norm statistics over ``prepared`` (inside adapted_batch_norm)."""
        net = self.net_
        net.module_.eval()
        for m in net.module_.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.train()
        bounds = list(range(0, n, self.batch_size)) + [n]
        if len(bounds) > 2 and bounds[-1] - bounds[-2] == 1:  # no one-window batch
            del bounds[-2]
        with torch.no_grad(), isolated_rng(None, str(net.device)):
            for start, stop in zip(bounds[:-1], bounds[1:]):
                net.infer(_take(prepared, slice(start, stop)))

    def _probabilities(self, prepared, n: int) -> np.ndarray:
        parts = [_softmax_float(out).cpu().numpy() for out in self._inference(prepared)]
        return np.concatenate(parts, axis=0).astype(np.float64)

    def _check_predict_groups(self, groups, n):
        if groups is None:
            return None
        return check_ids(self, groups, n, "groups", "subject id")

    def predict_proba(self, X, groups=None):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
            Signal windows, shaped as in ``fit``.
        groups : array-like of shape (n_windows,), default=None
            Subject id per window, used only with ``adapt_bn="subject"`` (batch-norm
            statistics adapted to each subject's windows).

        Returns
        -------
        proba : ndarray of shape (n_windows, n_classes)
            Probabilities of the classes in the order of ``classes_``.
        """
        X = self._validate_X(X)
        n = X.shape[0]
        groups = self._check_predict_groups(groups, n)
        prepared = self._prepare(X)
        adapt = getattr(self, "adapt_bn", False)
        if not adapt:
            return self._probabilities(prepared, n)
        # the device move of _inference, before the statistics are adapted
        net, device = self.net_, inference_device(self.device)
        if str(net.device) != device:
            net.device = device
            net.module_.to(device)
        if adapt == "batch" or groups is None:
            parts = [np.arange(n)]
        else:
            parts = [np.flatnonzero(groups == g) for g in _unique_in_order(groups)]
        proba = None
        for idx in parts:
            sub = _take(prepared, idx)
            if len(idx) < 2:  # one window: no statistics to adapt to
                out = self._probabilities(sub, len(idx))
            else:
                with adapted_batch_norm(net.module_):
                    self._adapt_statistics(sub, len(idx))
                    out = self._probabilities(sub, len(idx))
            if proba is None:
                proba = np.empty((n, out.shape[1]), dtype=np.float64)
            proba[idx] = out
        return proba

    def predict(self, X, groups=None):
        """Predicted labels (the original labels given to ``fit``).

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
            Signal windows, shaped as in ``fit``.
        groups : array-like of shape (n_windows,), default=None
            Subject id per window, used only with ``adapt_bn="subject"``.

        Returns
        -------
        y_pred : ndarray of shape (n_windows,)
            Predicted labels.
        """
        proba = self.predict_proba(X, groups=groups)
        return self.classes_[np.argmax(proba, axis=1)]

    @property
    def history_(self):
        """skorch history of the last fit (``net_.history``)."""
        check_is_fitted(self, "net_")
        return self.net_.history
