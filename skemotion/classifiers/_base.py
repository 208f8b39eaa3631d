"""Composition base class shared by every deep classifier of skemotion.

A deep classifier is a plain ``ClassifierMixin, BaseEstimator``: ``__init__`` stores its explicit
hyper-parameters, and ``fit`` validates the data, encodes the labels, infers the shapes into
fitted attributes and builds a skorch :class:`~skorch.NeuralNetClassifier` as ``net_``. A subclass
only says how to build its network (:meth:`DeepClassifierBase._build_module`) and, when it needs
to, how the loss or the training inputs differ (:meth:`DeepClassifierBase._net_kwargs`,
:meth:`DeepClassifierBase._fit_inputs`).
"""

from __future__ import annotations

import copy
import numbers
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GroupShuffleSplit
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback, EarlyStopping
from torch.utils.data import Subset

from .._device import PRECISIONS as _PRECISIONS
from .._device import check_precision, resolve_device
from .._validation import check_is_fitted, check_signal_X, check_signal_X_y

__all__ = ["DeepClassifierBase", "group_split"]


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


class _TqdmEpochs(Callback):
    """A tqdm progress bar over epochs showing the latest losses."""

    def __init__(self, total, desc):
        self.total = total
        self.desc = desc

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        self.bar_ = tqdm(total=self.total, desc=self.desc, leave=False, unit="epoch")

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        post = {k: f"{row[k]:.4f}" for k in ("train_loss", "valid_loss", "valid_acc") if k in row}
        self.bar_.set_postfix(post, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        self.bar_.close()

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("bar_", None)
        return state


class SkemotionNet(NeuralNetClassifier):
    """skorch net with optional autocast (bf16 / fp16 with gradient scaling).

    ``amp_dtype`` is the autocast dtype or None for float32 training.
    """

    def __init__(self, *args, amp_dtype=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.amp_dtype = amp_dtype

    def _autocast(self):
        dev_type = torch.device(self.device).type
        return torch.autocast(
            device_type=dev_type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None
        )

    def infer(self, x, **fit_params):
        with self._autocast():
            return super().infer(x, **fit_params)

    def train_step(self, batch, **fit_params):
        if self.amp_dtype != torch.float16:
            return super().train_step(batch, **fit_params)
        # float16: scale the loss so that small gradients do not underflow.
        if not hasattr(self, "grad_scaler_"):
            self.grad_scaler_ = torch.amp.GradScaler("cuda")
        self._zero_grad_optimizer()
        step = self.train_step_single(batch, **fit_params)
        self.grad_scaler_.step(self.optimizer_)
        self.grad_scaler_.update()
        return step

    def train_step_single(self, batch, **fit_params):
        if self.amp_dtype != torch.float16:
            return super().train_step_single(batch, **fit_params)
        from skorch.dataset import unpack_data

        self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        self.grad_scaler_.scale(loss).backward()
        return {"loss": loss, "y_pred": y_pred}


class DeepClassifierBase(ClassifierMixin, BaseEstimator):
    """Base class of the deep classifiers (composition around a skorch net).

    Subclasses list their hyper-parameters explicitly in ``__init__`` (only storing them) and
    implement :meth:`_build_module`. The shared hyper-parameters, which every subclass accepts, are
    documented here.

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
    early_stopping : bool
        Hold out ``validation_fraction`` of the *groups* passed to ``fit`` (trials or subjects,
        never random windows) and stop when the validation loss has not improved for
        ``patience`` epochs; the best weights are restored.
    validation_fraction : float
        Fraction of groups held out when ``early_stopping`` is True.
    patience : int
        Epochs without improvement before stopping.
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ``"cuda:1"`` ...
    precision : {"32", "bf16", "16-mixed"}
        Training and inference precision; ``"bf16"`` autocasts to bfloat16 (CPU or recent
        GPUs), ``"16-mixed"`` to float16 with gradient scaling (CUDA only).
    random_state : int, RandomState instance or None
        Seeds weight initialisation, shuffling, dropout and augmentation; with an int, ``fit``
        is deterministic on CPU. Global random states are left untouched.
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
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "patience": [Interval(numbers.Integral, 1, None, closed="left")],
        "device": [str],
        "precision": [StrOptions(set(_PRECISIONS))],
        "random_state": ["random_state"],
        "callbacks": [list, None],
        "verbose": ["verbose"],
    }

    #: skorch net class; subclasses with a custom loss may override it.
    _net_class = SkemotionNet

    # --- hooks for subclasses ------------------------------------------------------------
    def _build_module(self, n_channels: int, n_times: int, n_classes: int) -> torch.nn.Module:
        """Return a freshly initialised ``nn.Module`` mapping (B, C, T) to logits (B, K)."""
        raise TypeError(f"{type(self).__name__} must implement _build_module.")

    def _min_times(self) -> int:
        """Shortest window the network accepts."""
        return 1

    def _net_kwargs(self) -> dict:
        """Extra keyword arguments for the skorch net (criterion, callbacks ...)."""
        return {}

    def _fit_inputs(self, X: np.ndarray, y: np.ndarray, fit_params: dict):
        """Return the X passed to skorch in fit (an array, or a dict of arrays)."""
        return X

    def _predict_inputs(self, X: np.ndarray):
        """Return the X passed to skorch at predict time."""
        return X

    # --- sklearn API ---------------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.non_deterministic = False
        return tags

    def _seed(self):
        rs = self.random_state
        if rs is None:
            return None
        if isinstance(rs, numbers.Integral):
            return int(rs) % (2**32)
        # a RandomState instance: draw once (fit then advances it, as in scikit-learn)
        return int(check_random_state(rs).randint(2**31 - 1))

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
            group when ``early_stopping=True``. Route it with ``set_fit_request(groups=True)``
            under scikit-learn's metadata routing.

        Returns
        -------
        self : object
        """
        return self._fit(X, y, groups=groups)

    def _fit(self, X, y, groups=None, **fit_params):
        """The training logic of ``fit``; ``fit_params`` go to :meth:`_fit_inputs`.

        Subclasses with extra fit arguments (e.g. paired clean signals) define
        ``fit(self, X, y, groups=None, X_clean=None)`` and call ``self._fit(...)``.
        """
        self._validate_params()
        name = type(self).__name__
        X, y = check_signal_X_y(self, X, y, min_times=self._min_times())
        le = LabelEncoder()
        y_enc = le.fit_transform(y).astype(np.int64)
        if len(le.classes_) < 2:
            raise ValueError(
                f"{name}: argument y needs at least 2 classes to train a classifier; got 1 class "
                f"({le.classes_[0]!r})."
            )
        if groups is not None:
            groups = np.asarray(groups)
            if groups.shape != (X.shape[0],):
                raise ValueError(
                    f"{name}: argument groups must have shape ({X.shape[0]},); got {groups.shape}."
                )
        if self.early_stopping and groups is None:
            raise ValueError(
                f"{name}: early_stopping=True needs groups (trial or subject id per window) so "
                "that the inner validation split never separates windows of one trial; pass "
                "fit(X, y, groups=trials), or route them with set_fit_request(groups=True)."
            )
        self.classes_ = le.classes_
        _, self.n_channels_, self.n_times_ = X.shape
        device = resolve_device(self, self.device)
        amp_dtype = check_precision(self, self.precision, device)
        seed = self._seed()

        X_fit = self._fit_inputs(X, y_enc, fit_params)
        n = X.shape[0]
        for cb in self.callbacks or []:
            named = isinstance(cb, tuple) and len(cb) == 2 and isinstance(cb[0], str)
            if not isinstance(cb[1] if named else cb, Callback):
                raise TypeError(
                    f"{name}: argument callbacks must hold skorch callbacks or (name, callback) "
                    f"tuples; got {cb!r}."
                )
        callbacks = copy.deepcopy(self.callbacks) if self.callbacks else []
        train_split = None
        n_train = n
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
            callbacks.append(
                ("early_stopping", EarlyStopping(patience=self.patience, load_best=True))
            )
        if self.verbose:
            callbacks.append(("progress", _TqdmEpochs(self.max_epochs, name)))
        optim = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
        kwargs = dict(
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=optim[self.optimizer],
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=train_split,
            callbacks=callbacks or None,
            device=device,
            verbose=1 if self.verbose and self.verbose > 1 else 0,
            predict_nonlinearity=_softmax_float,
            classes=np.arange(len(self.classes_)),
            iterator_train__shuffle=True,
            # a last batch of one window would break batch normalisation
            iterator_train__drop_last=n_train > self.batch_size,
            amp_dtype=amp_dtype,
        )
        if torch.device(device).type == "cuda":
            kwargs["iterator_train__pin_memory"] = True
            kwargs["iterator_valid__pin_memory"] = True
        if seed is not None:
            kwargs["iterator_train__generator"] = torch.Generator().manual_seed(seed)
        kwargs.update(self._net_kwargs())

        devices = []
        if torch.device(device).type == "cuda":
            idx = torch.device(device).index
            devices = [idx if idx is not None else torch.cuda.current_device()]
        with torch.random.fork_rng(devices=devices, enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            module = self._build_module(self.n_channels_, self.n_times_, len(self.classes_))
            net = self._net_class(module, **kwargs)
            with warnings.catch_warnings():
                # skorch warns when a module instance is passed with module__ params; none here
                warnings.simplefilter("ignore", category=UserWarning)
                net.initialize()
            net.fit(X_fit, y_enc)
        # drop the reference to the training groups held by the split
        net.train_split = None
        self.net_ = net
        return self

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)

        Returns
        -------
        proba : ndarray of shape (n_windows, n_classes)
        """
        check_is_fitted(self, "net_")
        X = check_signal_X(self, X, reset=False)
        proba = self.net_.predict_proba(self._predict_inputs(X))
        return proba.astype(np.float64)

    def predict(self, X):
        """Predicted labels (the original labels given to ``fit``).

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)

        Returns
        -------
        y_pred : ndarray of shape (n_windows,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    @property
    def history_(self):
        """skorch history of the last fit (``net_.history``)."""
        check_is_fitted(self, "net_")
        return self.net_.history
