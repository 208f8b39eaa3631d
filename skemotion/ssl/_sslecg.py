"""SSLECGEncoder: self-supervised ECG representation learning as a fit/transform step."""

from __future__ import annotations

import copy
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from skorch.callbacks import PassthroughScoring
from torch.nn import functional as F

from .._training import (
    TRAINING_CONSTRAINTS,
    SkemotionNet,
    check_precision,
    fit_net,
    inference_device,
    resolve_device,
    seed_from_random_state,
    unfitted_on_error,
)
from .._validation import (
    DEPRECATED,
    Interval,
    StrOptions,
    check_input_features,
    check_is_fitted,
    check_sfreq,
    check_signal_X,
    deprecated_constraint,
    renamed_parameters,
)
from ..augment._ecg import ECG_TRANSFORMS, make_pretext_batch
from ..models.sslecg import SSLECGNet
from ._preprocessing import preprocess_ecg

__all__ = ["SSLECGEncoder"]

_TASK_WEIGHTS = (0.195, 0.195, 0.195, 0.0125, 0.0125, 0.195, 0.195)
_EVAL_MAX_WINDOWS = 2048


class _PretextBatch:
    """Per-batch transform of pre-training: every window of a batch in its seven versions.

    Version ``k`` of window ``i`` is row ``k * n + i`` (see
    :func:`skemotion.augment.make_pretext_batch`), so the labels follow from the layout. The
    transformations are numpy code: the batch goes to the CPU and back. At inference the batch
    passes through.
    """

    def __init__(self, **pretext_kwargs):
        self.pretext_kwargs = pretext_kwargs
        self.rng = None

    def reset(self, seed):
        self.rng = np.random.default_rng(seed)

    def __call__(self, x, training):
        if not training:
            return x
        xa, _ = make_pretext_batch(x.cpu().numpy(), random_state=self.rng, **self.pretext_kwargs)
        return torch.from_numpy(np.ascontiguousarray(xa)).to(x.device, non_blocking=True)


class _PretextNet(SkemotionNet):
    """Pre-training net of SSL-ECG: weighted sum of the seven heads' binary cross-entropies."""

    def __init__(self, *args, task_weights=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.task_weights = task_weights

    def get_default_callbacks(self):
        return [
            *super().get_default_callbacks(),
            ("pretext_accuracy", PassthroughScoring(name="train_pretext_accuracy", on_train=True)),
        ]

    def get_loss(self, y_pred, y_true, X=None, training=False):
        logits = y_pred.float()
        n_tasks = logits.shape[1]
        labels = torch.arange(n_tasks, device=logits.device).repeat_interleave(
            logits.shape[0] // n_tasks
        )
        target = F.one_hot(labels, n_tasks).to(logits.dtype)
        per_head = F.binary_cross_entropy_with_logits(logits, target, reduction="none").mean(0)
        weights = torch.as_tensor(self.task_weights, dtype=logits.dtype, device=logits.device)
        if training:
            acc = (logits.detach().argmax(dim=1) == labels).float().mean().item()
            self.history.record_batch("train_pretext_accuracy", acc)
        return (per_head * weights).sum()


class SSLECGEncoder(TransformerMixin, BaseEstimator):
    """Self-supervised ECG encoder of Sarkar and Etemad (2020) as a scikit-learn transformer.

    ``fit`` pre-trains :class:`~skemotion.models.SSLECGNet` on unlabelled ECG windows (``y`` is
    ignored): every batch holds each window in seven versions (the original and six
    transformations of :mod:`skemotion.augment`) and seven binary heads learn to recognise the
    version. ``transform`` returns the 128-d embeddings of the frozen encoder (global max pool of
    the last convolution block), computed in eval mode in batches. Use it in front of any
    classifier: ``make_pipeline(SSLECGEncoder(...), StandardScaler(), LogisticRegression())``.

    Parameters
    ----------
    sfreq : float, default=256.0
        Sampling frequency of the input windows in Hz.
    target_sfreq : float or None, default=256.0
        Windows are resampled to this rate before the network (256 Hz in the original;
        None keeps ``sfreq``). 10 s windows at 256 Hz (2560 samples) are the canonical input;
        any window of at least 22 samples after resampling is accepted.
    highpass : float or None, default=0.8
        Cut-off (Hz) of the zero-phase high-pass applied after resampling; None disables it.
    n_filters : tuple of 3 int, default=(32, 64, 128)
        Encoder filters per block; ``n_filters[-1]`` is the embedding size.
    head_units : int, default=128
        Width of the hidden layers of the seven heads.
    dropout : float, default=0.6
        Dropout in the heads.
    snr_db : float, default=15.0
        SNR of the noise transformation (dB).
    scale_factor : float, default=1.1
        Factor of the scaling transformation.
    n_segments : int, default=20
        Segments of the permutation transformation.
    n_pieces : int, default=9
        Pieces of the time-warping transformation.
    stretch_factor : float, default=1.05
        Stretch of time warping (squeeze is its inverse).
    task_weights : tuple of 7 float, default=(0.195, 0.195, 0.195, 0.0125, 0.0125, 0.195, 0.195)
        Weights of the seven binary cross-entropies, in the order of
        :data:`skemotion.augment.ECG_TRANSFORMS`.
    lr : float, default=1e-3
        Learning rate.
    optimizer : {"adam", "adamw", "sgd"}, default="adam"
        Optimizer (the original uses Adam).
    weight_decay : float, default=1e-4
        Weight decay on the weights (not the biases). With Adam it adds ``weight_decay * w`` to
        the gradient: the original's L2 term ``weight_decay * sum(w ** 2) / 2`` in the loss.
    lr_schedule : {"step", "cosine"} or None, default="step"
        ``"step"`` (the original): the rate is multiplied by ``lr_gamma`` every
        ``lr_step_size`` optimisation steps; ``"cosine"``: cosine annealing over
        ``max_epochs``, as for the classifiers; None: a constant rate.
    lr_gamma : float, default=0.9
        Factor of the ``"step"`` schedule.
    lr_step_size : int, default=10000
        Optimisation steps between two decays of the ``"step"`` schedule.
    max_epochs : int, default=10
        Pre-training epochs. The original trains for 100 epochs on four pooled datasets; the
        smaller default gives a usable encoder on one dataset in minutes on a CPU.
    batch_size : int, default=32
        Windows per batch; the network sees ``7 * batch_size`` signals per step (the original
        uses 128 windows). Also the batch size of ``transform``.
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:1"`` etc. The fitted
        network is kept on the CPU, so a fitted encoder pickles and loads anywhere.
    precision : {"32", "bf16", "16-mixed"}, default="32"
        Pre-training and embedding precision (bf16 autocast; float16 autocast with gradient
        scaling, meant for CUDA).
    num_workers : int, default=0
        DataLoader worker processes.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, batch order and the transformations: ``fit`` is
        deterministic on CPU for a fixed value. The global random states are left untouched.
    callbacks : list of skorch callbacks or (name, callback) tuples, or None, default=None
        Extra skorch callbacks of pre-training (deep-copied in ``fit``), e.g.
        ``GradientNormClipping``.
    verbose : int, default=0
        Show a tqdm progress bar over epochs when > 0; silent otherwise.
    drop_prob, l2, lr_decay, lr_decay_steps : deprecated
        Old names of ``dropout``, ``weight_decay``, ``lr_gamma`` and ``lr_step_size``
        (renamed in 0.1 to the names every estimator of the package uses; removed in 0.2).

    Attributes
    ----------
    module_ : SSLECGNet
        The pre-trained network (on CPU, eval mode).
    history_ : skorch.History
        Per epoch: ``epoch``, ``train_loss`` (mean weighted loss), ``train_pretext_accuracy``
        (running 7-way accuracy on the training batches, dropout on) and ``dur``.
    pretext_accuracy_ : float
        7-way accuracy of recognising the version of each window (argmax over the seven heads;
        chance is 1/7) on the training windows after pre-training (at most 2048 of them, fresh
        transformations, eval mode).
    pretext_head_accuracy_ : ndarray of shape (7,)
        Accuracy of each binary head on the same data (majority rate 6/7).
    n_channels_ : int
        Number of channels of the windows seen in fit.
    n_times_ : int
        Window length (samples, before resampling) seen in fit.
    n_features_in_ : int
        ``X.shape[1]`` as passed to fit.

    See Also
    --------
    skemotion.transfer.SubjectStandardizer : the per-person normalisation SSL-ECG applies
        first (``percentile_range=(2.5, 97.5)``).
    skemotion.features.HRVFeatures : the classical ECG baseline.

    Notes
    -----
    ``score(X)`` returns the 7-way pretext accuracy on ``X``, so that pre-training
    hyper-parameters can be tuned with ``GridSearchCV`` on unlabelled data.

    References
    ----------
    .. [1] Sarkar, P., & Etemad, A. (2020). Self-supervised ECG representation learning for
       emotion recognition. IEEE Transactions on Affective Computing.
       doi:10.1109/TAFFC.2020.3014842

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.ssl import SSLECGEncoder
    >>> X = np.random.default_rng(0).normal(size=(8, 1, 512)).astype("float32")
    >>> enc = SSLECGEncoder(n_filters=(4, 8, 16), head_units=8, max_epochs=1, random_state=0)
    >>> enc.fit_transform(X).shape
    (8, 16)
    """

    _parameter_constraints: dict = {
        "sfreq": [Interval(Real, 0, None, closed="neither")],
        "target_sfreq": [Interval(Real, 0, None, closed="neither"), None],
        "highpass": [Interval(Real, 0, None, closed="neither"), None],
        "n_filters": [tuple, list],
        "head_units": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "snr_db": [Real],
        "scale_factor": [Interval(Real, 0, None, closed="neither")],
        "n_segments": [Interval(Integral, 2, None, closed="left")],
        "n_pieces": [Interval(Integral, 1, None, closed="left")],
        "stretch_factor": [Interval(Real, 1, None, closed="left")],
        "task_weights": [tuple, list, np.ndarray],
        **TRAINING_CONSTRAINTS,
        "lr_schedule": [StrOptions({"step", "cosine"}), None],
        "lr_gamma": [Interval(Real, 0, 1, closed="right")],
        "lr_step_size": [Interval(Integral, 1, None, closed="left")],
        "drop_prob": deprecated_constraint(Interval(Real, 0, 1, closed="left")),
        "l2": deprecated_constraint(Interval(Real, 0, None, closed="left")),
        "lr_decay": deprecated_constraint(Interval(Real, 0, 1, closed="right")),
        "lr_decay_steps": deprecated_constraint(Interval(Integral, 1, None, closed="left")),
    }
    _renamed = {
        "drop_prob": "dropout",
        "l2": "weight_decay",
        "lr_decay": "lr_gamma",
        "lr_decay_steps": "lr_step_size",
    }

    def __init__(
        self,
        *,
        sfreq: float = 256.0,
        target_sfreq: float | None = 256.0,
        highpass: float | None = 0.8,
        n_filters=(32, 64, 128),
        head_units: int = 128,
        dropout: float = 0.6,
        snr_db: float = 15.0,
        scale_factor: float = 1.1,
        n_segments: int = 20,
        n_pieces: int = 9,
        stretch_factor: float = 1.05,
        task_weights=_TASK_WEIGHTS,
        lr: float = 1e-3,
        optimizer: str = "adam",
        weight_decay: float = 1e-4,
        lr_schedule: str | None = "step",
        lr_gamma: float = 0.9,
        lr_step_size: int = 10_000,
        max_epochs: int = 10,
        batch_size: int = 32,
        device: str = "auto",
        precision: str = "32",
        num_workers: int = 0,
        random_state=None,
        callbacks=None,
        verbose: int = 0,
        drop_prob=DEPRECATED,
        l2=DEPRECATED,
        lr_decay=DEPRECATED,
        lr_decay_steps=DEPRECATED,
    ):
        self.sfreq = sfreq
        self.target_sfreq = target_sfreq
        self.highpass = highpass
        self.n_filters = n_filters
        self.head_units = head_units
        self.dropout = dropout
        self.snr_db = snr_db
        self.scale_factor = scale_factor
        self.n_segments = n_segments
        self.n_pieces = n_pieces
        self.stretch_factor = stretch_factor
        self.task_weights = task_weights
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.lr_gamma = lr_gamma
        self.lr_step_size = lr_step_size
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.device = device
        self.precision = precision
        self.num_workers = num_workers
        self.random_state = random_state
        self.callbacks = callbacks
        self.verbose = verbose
        self.drop_prob = drop_prob
        self.l2 = l2
        self.lr_decay = lr_decay
        self.lr_decay_steps = lr_decay_steps

    # ------------------------------------------------------------------ helpers
    def _check_config(self):
        name = type(self).__name__
        nf = tuple(self.n_filters)
        if len(nf) != 3 or not all(isinstance(f, Integral) and f >= 1 for f in nf):
            raise ValueError(
                f"{name}: argument n_filters must be 3 positive integers; got {self.n_filters!r}."
            )
        w = np.asarray(self.task_weights, dtype=float)
        if w.shape != (len(ECG_TRANSFORMS),) or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(
                f"{name}: argument task_weights must be {len(ECG_TRANSFORMS)} non-negative "
                f"numbers (one per version {ECG_TRANSFORMS}); got {self.task_weights!r}."
            )
        check_sfreq(self, self.sfreq)
        fs = self.target_sfreq if self.target_sfreq is not None else self.sfreq
        if self.highpass is not None and not self.highpass < fs / 2:
            raise ValueError(
                f"{name}: argument highpass must lie below the Nyquist frequency {fs / 2} Hz of "
                f"the (resampled) signal; got {self.highpass!r}."
            )
        return nf, w

    def _preprocess(self, X):
        Xp = preprocess_ecg(X, self.sfreq, target_sfreq=self.target_sfreq, highpass=self.highpass)
        return Xp

    def _pretext_kwargs(self):
        return dict(
            snr_db=self.snr_db,
            scale_factor=self.scale_factor,
            n_segments=self.n_segments,
            n_pieces=self.n_pieces,
            stretch_factor=self.stretch_factor,
        )

    def _check_length(self, n_times_in, n_times):
        need = max(22, self.n_segments, self.n_pieces)  # 22: two max-pools of 8, stride 2
        seg = n_times // self.n_pieces
        n_st = -(-self.n_pieces // 2)
        warped = (
            n_st * int(np.ceil(seg * self.stretch_factor))
            + (self.n_pieces - n_st) * int(np.ceil(seg / self.stretch_factor))
            + n_times
            - self.n_pieces * seg
        )
        if n_times < need or warped < n_times:
            raise ValueError(
                f"{type(self).__name__}: argument X has windows of {n_times_in} samples "
                f"({n_times_in} feature(s) per channel), {n_times} after resampling; the "
                f"network and the transformations need at least {need} samples. Use longer "
                "windows or a higher target_sfreq."
            )

    # ------------------------------------------------------------------ API
    def fit(self, X, y=None):
        """Pre-train the encoder on unlabelled ECG windows.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
            ECG windows at ``sfreq`` (ideally person-normalised, see
            :class:`~skemotion.transfer.SubjectStandardizer`).
        y : ignored
            Not used; present for Pipeline compatibility.

        Returns
        -------
        self
        """
        with unfitted_on_error(self):
            return self._fit(X)

    def _fit(self, X):
        self._validate_params()
        settings = renamed_parameters(self, self._renamed)
        n_filters, weights = self._check_config()
        X = check_signal_X(self, X, reset=True, dtype=np.float32)
        self.n_channels_, self.n_times_ = X.shape[1], X.shape[2]
        Xp = self._preprocess(X)
        self._check_length(X.shape[2], Xp.shape[2])

        device = resolve_device(self, self.device)
        seed = seed_from_random_state(self.random_state)
        n_tasks = len(ECG_TRANSFORMS)
        net = fit_net(
            self,
            _PretextNet,
            lambda: SSLECGNet(
                n_channels=self.n_channels_,
                n_tasks=n_tasks,
                n_filters=n_filters,
                head_units=self.head_units,
                dropout=settings["dropout"],
            ),
            Xp,
            np.zeros(Xp.shape[0], dtype=np.int64),
            device=device,
            amp_dtype=check_precision(self, self.precision, device),
            seed=seed,
            n_train=Xp.shape[0],
            # the weight decay of Adam is the original's L2 term on the kernels: biases excluded
            settings=settings,
            iterator_train__drop_last=False,
            criterion=torch.nn.Identity,  # the loss is get_loss's weighted BCE
            optimizer__param_groups=[("*bias", {"weight_decay": 0.0})],
            batch_transform=_PretextBatch(**self._pretext_kwargs()),
            task_weights=tuple(float(v) for v in weights),
        )
        # the evaluation transformations: a stream of its own, derived from the seed
        eval_seed = None if seed is None else np.random.SeedSequence([seed, 1])
        self.history_ = net.history
        self.module_ = net.module_.to("cpu").eval()
        acc, head_acc = self._pretext_scores(Xp, eval_seed, torch.device(device), subsample=True)
        self.pretext_accuracy_, self.pretext_head_accuracy_ = acc, head_acc
        return self

    def _module_on(self, device):
        if device.type == "cpu":
            return self.module_
        return copy.deepcopy(self.module_).to(device)

    def _forward_batches(self, Xp, device, fn):
        module = self._module_on(device)
        module.eval()
        amp = check_precision(self, self.precision, str(device))
        outs = []
        with torch.no_grad(), torch.autocast(device.type, amp or torch.float32, amp is not None):
            for start in range(0, Xp.shape[0], max(self.batch_size, 1) * 4):
                xt = torch.from_numpy(Xp[start : start + self.batch_size * 4]).to(device)
                outs.append(fn(module, xt).float().cpu().numpy())
        return np.concatenate(outs, axis=0)

    def _pretext_scores(self, Xp, seed, device, subsample=False):
        rng = np.random.default_rng(seed)
        if subsample and Xp.shape[0] > _EVAL_MAX_WINDOWS:
            Xp = Xp[rng.choice(Xp.shape[0], _EVAL_MAX_WINDOWS, replace=False)]
        xa, labels = make_pretext_batch(Xp, random_state=rng, **self._pretext_kwargs())
        logits = self._forward_batches(np.ascontiguousarray(xa), device, lambda m, x: m(x))
        acc = float(np.mean(logits.argmax(axis=1) == labels))
        onehot = labels[:, None] == np.arange(logits.shape[1])[None, :]
        head_acc = np.mean((logits > 0) == onehot, axis=0)
        return acc, head_acc

    def transform(self, X):
        """Embed windows with the frozen encoder.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
            Windows with the channels and length of those seen in fit.

        Returns
        -------
        embeddings : ndarray of shape (n_windows, n_filters[-1]), float32
        """
        check_is_fitted(self)
        X = check_signal_X(self, X, reset=False, dtype=np.float32)
        Xp = self._preprocess(X)
        device = torch.device(inference_device(self.device))
        return self._forward_batches(Xp, device, lambda m, x: m.embed(x))

    def score(self, X, y=None):
        """7-way pretext accuracy on X (which version of each window is it; chance 1/7).

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
        y : ignored

        Returns
        -------
        accuracy : float
        """
        check_is_fitted(self)
        X = check_signal_X(self, X, reset=False, dtype=np.float32)
        Xp = self._preprocess(X)
        device = torch.device(inference_device(self.device))
        seed = check_random_state(self.random_state).randint(0, 2**31 - 1)
        return self._pretext_scores(Xp, seed, device)[0]

    def get_feature_names_out(self, input_features=None):
        """Output names ``sslecg0`` to ``sslecg127`` (one per embedding dimension).

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Names of the input features, checked as scikit-learn does (equal to
            ``feature_names_in_`` when fitted on a DataFrame, else ``n_features_in_`` of them);
            the embedding does not map input columns to outputs, so they do not enter the
            output names.

        Returns
        -------
        feature_names_out : ndarray of str objects of shape (n_filters[-1],)
        """
        check_is_fitted(self)
        check_input_features(self, input_features)
        return np.array([f"sslecg{i}" for i in range(self.module_.encoder.n_outputs)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.non_deterministic = False
        return tags
