"""The one training runtime of skemotion: every network of the package trains through it.

skorch runs the epoch loop; this module adds what every deep estimator of the package needs
around it, once:

- seeding with an isolated random state (:func:`isolated_rng`: the global torch RNG is left
  untouched by ``fit`` and by inference);
- device choice (:func:`resolve_device`, :func:`inference_device`) and precision
  (:func:`check_precision`): ``"32"``, ``"bf16"`` autocast, or ``"16-mixed"`` autocast with
  gradient scaling that keeps skorch's callback contract (``on_grad_computed`` callbacks such
  as ``GradientNormClipping`` see *unscaled* gradients; steps with overflowing gradients are
  skipped, as :class:`torch.amp.GradScaler` does);
- DataLoader settings (pinned memory and non-blocking copies on CUDA, ``num_workers``, a
  seeded shuffling generator, no one-window last batch);
- an optional per-batch transform run on the training device (:class:`SkemotionNet`'s
  ``batch_transform``: on-the-fly noise, an STFT ...);
- cross-subject training options, once for every network: label-preserving augmentation of
  the training batches on the device (``augmenter``, :class:`BatchAugmenter`), and
  subject-adversarial training (:class:`SubjectAdversary`: a subject discriminator reads the
  network's embedding through a gradient-reversal layer, :func:`grl_weight`), and batch-norm
  statistics adapted to the windows being predicted (:func:`adapted_batch_norm`);
- a progress bar, and skorch's history;
- failure handling: a non-finite training loss stops training with
  :class:`TrainingDivergedError` naming the estimator and the epoch, and Ctrl-C stops the call
  with ``KeyboardInterrupt`` (skorch would otherwise return a half-trained model as if training
  had finished).

:class:`SkemotionNet` is the one net class (:class:`SkemotionClassifierNet` for classifiers);
an estimator trains it through :func:`fit_net` (the shared training parameters read by
:func:`net_kwargs`, the learning-rate schedule, extra callbacks, :func:`train`).
"""

from __future__ import annotations

import copy
import numbers
import signal
import threading
import warnings
from collections.abc import Mapping
from contextlib import contextmanager, nullcontext

import numpy as np
import torch
from sklearn.utils import check_random_state
from skorch import NeuralNet, NeuralNetClassifier
from skorch.callbacks import Callback, LRScheduler
from torch.optim.lr_scheduler import CosineAnnealingLR, ReduceLROnPlateau, StepLR

from ._validation import Interval, StrOptions

__all__ = [
    "PRECISIONS",
    "TRAINING_CONSTRAINTS",
    "BatchAugmentation",
    "BatchAugmenter",
    "GradientReversal",
    "SubjectAdversary",
    "adapted_batch_norm",
    "grl_weight",
    "ProgressBar",
    "SkemotionClassifierNet",
    "SkemotionNet",
    "TrainingDivergedError",
    "check_callbacks",
    "check_finite_state",
    "check_precision",
    "inference_device",
    "isolated_rng",
    "OptimizerLRScheduler",
    "fit_net",
    "lr_schedule_callbacks",
    "net_kwargs",
    "resolve_device",
    "seed_from_random_state",
    "train",
    "unfitted_on_error",
    "watch_sigint",
]

PRECISIONS = ("32", "bf16", "16-mixed")
_OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}

#: ``_parameter_constraints`` of the training parameters every estimator trained by
#: :func:`fit_net` shares (same names, same meanings); an estimator may narrow one (ESC-GAN's
#: batches of at least 2) or extend ``lr_schedule`` (SSL-ECG's ``"step"``)
TRAINING_CONSTRAINTS = {
    "lr": [Interval(numbers.Real, 0, None, closed="neither")],
    "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
    "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
    "optimizer": [StrOptions(set(_OPTIMIZERS))],
    "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
    "lr_schedule": [StrOptions({"cosine"}), None],
    "device": [str],
    "precision": [StrOptions(set(PRECISIONS))],
    "num_workers": [Interval(numbers.Integral, 0, None, closed="left")],
    "random_state": ["random_state"],
    "callbacks": [list, None],
    "verbose": ["verbose"],
}


_DIVERGED_HINT = "Likely cause: a learning rate too high for this network "


class TrainingDivergedError(FloatingPointError):
    """The training loss became NaN or infinite."""


# --- device, precision, seeds -------------------------------------------------------------
def resolve_device(estimator, device) -> str:
    """Validate ``device`` and return a concrete one (``"auto"``: CUDA when available).

    Raises a ``ValueError`` naming the estimator for an unknown device string, for CUDA asked
    on a machine without it, and for a CUDA index that does not exist.
    """
    name = type(estimator).__name__
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"{name}: argument device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got {device!r}."
        ) from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"{name}: argument device={device!r} asks for CUDA, but no CUDA device is "
                "available here; use device='auto' or 'cpu'."
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"{name}: argument device={device!r}: only {torch.cuda.device_count()} CUDA "
                "device(s) here."
            )
    elif dev.type != "cpu":
        raise ValueError(
            f"{name}: argument device must be 'auto', 'cpu' or 'cuda[:N]'; got {device!r}."
        )
    return str(dev)


def check_precision(estimator, precision: str, device: str) -> torch.dtype | None:
    """Validate ``precision`` for ``device``; return the autocast dtype (None for fp32).

    ``"16-mixed"`` (float16 autocast with gradient scaling) is meant for CUDA; it also runs on
    CPU, where it is slow and mainly useful to check a configuration without a GPU.
    """
    name = type(estimator).__name__
    if precision == "32":
        return None
    dev_type = torch.device(device).type
    if precision == "bf16":
        if dev_type == "cuda" and not torch.cuda.is_bf16_supported():
            raise ValueError(
                f"{name}: argument precision='bf16' is not supported by this CUDA device; "
                "use precision='16-mixed' or '32'."
            )
        return torch.bfloat16
    if precision == "16-mixed":
        return torch.float16
    raise ValueError(f"{name}: argument precision must be one of {PRECISIONS}; got {precision!r}.")


def inference_device(device) -> str:
    """Device for inference with a fitted model: the requested one where it exists, else CPU.

    A model fitted on a GPU (``device="cuda"``) must still transform or predict on a machine
    without one after unpickling.
    """
    if device != "cpu" and torch.cuda.is_available():
        return "cuda" if device == "auto" else str(torch.device(device))
    return "cpu"


def seed_from_random_state(random_state) -> int | None:
    """An integer seed for torch from a scikit-learn ``random_state`` (None stays None).

    An int is used as it is (modulo 2**32); a ``RandomState`` instance is drawn from once, so
    that repeated fits with the same instance differ, as in scikit-learn.
    """
    if random_state is None:
        return None
    if isinstance(random_state, numbers.Integral):
        return int(random_state) % (2**32)
    return int(check_random_state(random_state).randint(2**31 - 1))


@contextmanager
def isolated_rng(seed: int | None, device: str = "cpu"):
    """Run a block with its own torch random state; the global one is untouched afterwards.

    The CPU generator (and the generator of ``device`` when it is a CUDA device) is saved,
    seeded with ``seed`` when it is not None, and restored at the end of the block.
    """
    devices = []
    dev = torch.device(device)
    if dev.type == "cuda":
        devices = [dev.index if dev.index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=devices):
        if seed is not None:
            torch.manual_seed(seed)
        yield


# --- callbacks -----------------------------------------------------------------------------
class ProgressBar(Callback):
    """A tqdm progress bar over epochs showing the latest losses."""

    def __init__(self, total, desc):
        self.total = total
        self.desc = desc

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        self.bar_ = tqdm(total=self.total, desc=self.desc, leave=False, unit="epoch")

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        keys = ("train_loss", "valid_loss", "valid_acc")
        post = {k: f"{row[k]:.4f}" for k in keys if k in row}
        self.bar_.set_postfix(post, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        self.close()

    def close(self):
        bar = self.__dict__.pop("bar_", None)
        if bar is not None:
            bar.close()

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("bar_", None)
        return state


def check_callbacks(estimator, callbacks) -> list:
    """Validate user callbacks and return a deep copy (the user's objects are not modified)."""
    name = type(estimator).__name__
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(
            f"{name}: argument callbacks must be a list of skorch callbacks or (name, callback) "
            f"tuples; got {type(callbacks).__name__}."
        )
    for cb in callbacks:
        named = isinstance(cb, tuple) and len(cb) == 2 and isinstance(cb[0], str)
        if not isinstance(cb[1] if named else cb, Callback):
            raise TypeError(
                f"{name}: argument callbacks must hold skorch callbacks or (name, callback) "
                f"tuples; got {cb!r}."
            )
    return copy.deepcopy(list(callbacks))


# --- the net ---------------------------------------------------------------------------------
class _ScaleGrad(torch.autograd.Function):
    """Identity in the forward pass; multiplies the incoming gradient by ``scale``.

    Applied to the network's outputs while training in float16, it scales every parameter
    gradient (the loss depends on the parameters only through the outputs) without changing
    the loss value that skorch records.
    """

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale, None


def _map_tensors(fn, obj):
    if isinstance(obj, torch.Tensor):
        return fn(obj)
    if isinstance(obj, Mapping):
        return {k: _map_tensors(fn, v) for k, v in obj.items()}
    if isinstance(obj, (tuple, list)):
        return type(obj)(_map_tensors(fn, v) for v in obj)
    return obj


class SkemotionNet(NeuralNet):
    """The skorch net every network of skemotion trains with.

    Parameters (beyond skorch's)
    ----------------------------
    amp_dtype : torch.dtype or None
        Autocast dtype (``torch.bfloat16``, ``torch.float16``) or None for float32.
        ``torch.float16`` adds gradient scaling.
    batch_transform : callable or None
        ``f(x, training) -> x`` applied to every batch once it is on the device (training,
        validation and inference); ``x`` is a tensor or a dict of tensors. A stochastic
        transform may define ``reset(seed)``, called at the start of training with a seed drawn
        from torch's (seeded) generator.
    estimator_name : str
        Name used in error messages.
    augmenter : BatchAugmenter or None
        Augmentation of every *training* batch (after it is moved to the device, before the
        batch transform); never run on validation or inference batches. Re-seeded at the start
        of training from torch's (seeded) generator.
    subject_adversarial : float
        Weight of the subject-adversarial loss (0: off). With a weight, ``module`` is a
        :class:`SubjectAdversary` and the training batches are dicts carrying the subject
        code of every window under ``SUBJECT_KEY``; the training loss becomes
        ``loss + weight * CE(discriminator(GradientReversal(embedding, grl_weight(p))),
        subject)`` with ``p`` the fraction of the ``max_epochs`` optimiser steps done.
    """

    def __init__(
        self,
        *args,
        amp_dtype=None,
        batch_transform=None,
        estimator_name="",
        augmenter=None,
        subject_adversarial=0.0,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.amp_dtype = amp_dtype
        self.batch_transform = batch_transform
        self.estimator_name = estimator_name
        self.augmenter = augmenter
        self.subject_adversarial = subject_adversarial

    # precision -------------------------------------------------------------------------
    def autocast(self):
        """Autocast context of the net's precision (a no-op context in float32)."""
        return torch.autocast(
            device_type=torch.device(self.device).type,
            dtype=self.amp_dtype or torch.float32,
            enabled=self.amp_dtype is not None,
        )

    def _grad_scaler(self):
        """The GradScaler of float16 training (created on first use), else None."""
        if self.amp_dtype != torch.float16:
            return None
        scaler = getattr(self, "grad_scaler_", None)
        if scaler is None:
            scaler = torch.amp.GradScaler(torch.device(self.device).type)
            scaler.scale(torch.zeros((), device=self.device))  # initialise its scale tensor
            self.grad_scaler_ = scaler
        return scaler

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        self.grad_scaler_ = None
        if self.batch_transform is not None:
            # drawn even when the transform is deterministic, so that the rest of training
            # does not depend on whether it is
            seed = int(torch.randint(0, 2**31 - 1, ()))
            reset = getattr(self.batch_transform, "reset", None)
            if reset is not None:
                reset(seed)
        if self.augmenter is not None:
            self.augmenter.reset(int(torch.randint(0, 2**31 - 1, ())), self.device)
        self.adversary_step_ = 0
        self.train_batches_ = None

    def notify(self, method_name, **cb_kwargs):
        scaler = self._grad_scaler() if method_name == "on_grad_computed" else None
        if scaler is not None:
            scaler.unscale_(self.optimizer_)  # callbacks see the true gradients
        super().notify(method_name, **cb_kwargs)
        if scaler is not None:
            params = [p for p in self.module_.parameters() if p.grad is not None]
            finite = torch.stack([torch.isfinite(p.grad).all() for p in params]).all()
            if not bool(finite):
                for p in params:  # skip this step, as GradScaler.step does
                    p.grad = None

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        super().on_batch_end(net, batch=batch, training=training, **kwargs)
        if training:
            self.adversary_step_ = getattr(self, "adversary_step_", 0) + 1
        scaler = getattr(self, "grad_scaler_", None) if training else None
        if scaler is not None:
            scaler.update()

    # data --------------------------------------------------------------------------------
    def _to_device(self, x):
        dev = torch.device(self.device)
        non_blocking = dev.type == "cuda"
        if isinstance(x, np.ndarray):
            x = torch.from_numpy(x)
        return _map_tensors(lambda t: t.to(dev, non_blocking=non_blocking), x)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if training and iterator is not None:
            self.train_batches_ = len(iterator)  # for the progress of the adversarial ramp
        return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)

    def infer(self, x, **fit_params):
        if isinstance(x, Mapping):
            x = {k: (torch.from_numpy(v) if isinstance(v, np.ndarray) else v) for k, v in x.items()}
            if any(k in x for k in _RESERVED):  # a training batch of the adversarial net
                self.batch_subjects_ = tuple(x.pop(k, None) for k in _RESERVED)
            if set(x) == {X_KEY}:
                x = x[X_KEY]
        x = self._to_device(x)
        training = self.module_.training
        if self.batch_transform is not None:
            x = self.batch_transform(x, training=training)
        with self.autocast():
            y = super().infer(x, **fit_params)
        scaler = self._grad_scaler() if training else None
        if scaler is not None and torch.is_grad_enabled():
            scale = scaler.get_scale()
            y = _map_tensors(lambda t: _ScaleGrad.apply(t, scale) if t.requires_grad else t, y)
        return y

    # cross-subject training --------------------------------------------------------------
    def adversarial_loss(self, training: bool):
        """The weighted subject-adversarial term of the current training batch, or None.

        Reads the embedding the :class:`SubjectAdversary` kept in the last forward pass and the
        subject codes of the batch, and records ``train_subject_loss`` and ``grl_weight`` in
        the batch history.
        """
        if not training or not self.subject_adversarial:
            return None
        adversary = self.module_
        subjects, partners, lam = getattr(self, "batch_subjects_", (None, None, None))
        z = adversary.embedding_
        if subjects is None or z is None:
            return None
        total = self.max_epochs * (self.train_batches_ or 1)
        weight = grl_weight(min(1.0, self.adversary_step_ / total))
        logits = adversary.discriminator(GradientReversal.apply(z.float(), weight))
        subjects = subjects.to(logits.device)
        if partners is None:
            loss = torch.nn.functional.cross_entropy(logits, subjects)
        else:
            loss = _mixed_ce(logits, subjects, partners.to(logits.device), lam)
        self.history.record_batch("train_subject_loss", float(loss.detach()))
        self.history.record_batch("grl_weight", weight)
        return self.subject_adversarial * loss

    # failures ----------------------------------------------------------------------------
    def train_step(self, batch, **fit_params):
        if self.augmenter is not None:
            Xi, yi = batch
            Xi, yi = self._to_device(Xi), self._to_device(yi)
            batch = self.augmenter(Xi, yi)
        step = super().train_step(batch, **fit_params)
        self.check_finite_loss(step["loss"])
        return step

    def check_finite_loss(self, loss, which: str = "training") -> None:
        """Raise :class:`TrainingDivergedError` naming the estimator, the epoch and the batch
        when ``loss`` (of the current training batch) is not finite."""
        if bool(torch.isfinite(loss.detach()).all()):
            return
        epoch = len(self.history)
        n_batch = len(self.history[-1]["batches"]) if epoch else 1  # current one included
        raise TrainingDivergedError(
            f"{self.estimator_name or type(self).__name__}: training diverged at epoch {epoch}, "
            f"batch {n_batch}: the {which} loss is {float(loss.detach())}. {_DIVERGED_HINT}"
            f"(lr={getattr(self, 'lr', None)}) or inputs on a very large scale; lower lr, "
            "standardise X, or clip gradients."
        )


class SkemotionClassifierNet(SkemotionNet, NeuralNetClassifier):
    """:class:`SkemotionNet` for classifiers (skorch's classification conveniences)."""


# --- cross-subject training: augmentation, subject-adversarial training, AdaBN ---------------
#: reserved keys of a training batch dict (never passed to the network)
X_KEY = "__x__"
SUBJECT_KEY = "__subject__"
PARTNER_KEY = "__subject_partner__"
MIX_KEY = "__mix_weight__"
_RESERVED = (SUBJECT_KEY, PARTNER_KEY, MIX_KEY)


class AugmentationRandom:
    """The random streams of one fit's augmentation.

    ``numpy`` (a :class:`numpy.random.Generator`) draws the per-window parameters (shifts,
    factors, masks, mixup weights), ``torch`` (a :class:`torch.Generator` on the training
    device) draws noise tensors. Both are seeded once per fit from the estimator's seeded
    stream.

    Parameters
    ----------
    seed : int
        Seed of both streams.
    device : str or torch.device, default="cpu"
        Device of the torch generator.
    """

    def __init__(self, seed: int, device="cpu"):
        self.numpy = np.random.default_rng(seed)
        self.torch = torch.Generator(device=device).manual_seed(int(seed))


def _mixed_ce(logits, y, y_other, lam):
    ce = torch.nn.functional.cross_entropy
    lam = lam.to(device=logits.device, dtype=logits.dtype)
    a = ce(logits, y, reduction="none")
    b = ce(logits, y_other, reduction="none")
    return (lam * a + (1 - lam) * b).mean()


class MixedTargets:
    """Labels of a mixup batch: window ``i`` is ``lam[i]`` of class ``y[i]`` and
    ``1 - lam[i]`` of class ``y_other[i]`` (``y[perm[i]]``).

    The loss of a batch with these targets is
    ``mean_i(lam[i] * CE(logits[i], y[i]) + (1 - lam[i]) * CE(logits[i], y_other[i]))``
    (:meth:`loss`). Slicing keeps the pairing (micro-batches of gradient accumulation).

    Parameters
    ----------
    y, y_other : Tensor of int of shape (batch,)
        The two labels of every window.
    lam : Tensor of shape (batch,)
        Weight of ``y`` in each window.
    perm : Tensor of int of shape (batch,) or None
        The partner of each window in the batch (``y_other = y[perm]``), when known.
    """

    def __init__(self, y, y_other, lam, perm=None):
        self.y = y
        self.y_other = y_other
        self.lam = lam
        self.perm = perm

    def __len__(self):
        return len(self.y)

    def __getitem__(self, sl):
        return MixedTargets(self.y[sl], self.y_other[sl], self.lam[sl])

    def loss(self, logits: torch.Tensor) -> torch.Tensor:
        """Mixed cross-entropy of ``logits`` against these targets.

        Parameters
        ----------
        logits : Tensor of shape (batch, n_classes)

        Returns
        -------
        Tensor
            The mean over the windows, a scalar.
        """
        return _mixed_ce(logits, self.y, self.y_other, self.lam)


def check_batch(x, name):
    """Raise a ``ValueError`` naming ``name`` unless ``x`` is a tensor of windows."""
    if not isinstance(x, torch.Tensor) or x.dim() < 3:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(
            f"{name}: expects a tensor of windows (batch, ..., n_channels, n_times); got {shape}."
        )


class BatchAugmentation:
    """Base of the augmentations a deep classifier's ``augment`` parameter takes.

    A subclass implements ``_apply(x, y, applied, rng) -> (x, y)`` (``applied``: a boolean
    array, which windows to transform) and, for its own settings, ``_check_settings()``.
    Calling an instance draws which windows are transformed (each with probability ``p``)
    from ``rng.numpy`` and applies the transform; instances only hold their settings, so one
    instance may serve several estimators.

    Parameters
    ----------
    p : float, default=0.5
        Probability that a window of a batch is transformed.

    Examples
    --------
    >>> import torch
    >>> from skemotion._training import AugmentationRandom, BatchAugmentation
    >>> class Negate(BatchAugmentation):
    ...     def _apply(self, x, y, applied, rng):
    ...         sign = 1.0 - 2.0 * torch.as_tensor(applied, dtype=x.dtype)
    ...         return x * sign[:, None, None], y
    >>> out, _ = Negate(p=1.0)(torch.ones(2, 1, 3), torch.tensor([0, 1]), AugmentationRandom(0))
    >>> out[:, 0, 0]
    tensor([-1., -1.])
    """

    def __init__(self, p=0.5):
        self.p = p

    def check(self):
        """Validate the settings; raises ``ValueError`` naming the class and the argument."""
        p = self.p
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: argument p must be in [0, 1]; got {p!r}.")
        self._check_settings()

    def _check_settings(self):
        """Validate the subclass's own settings (none here)."""

    def __call__(self, x: torch.Tensor, y, rng: AugmentationRandom):
        check_batch(x, type(self).__name__)
        applied = rng.numpy.random(x.shape[0]) < self.p
        return self._apply(x, y, applied, rng)

    def _apply(self, x, y, applied, rng):
        raise TypeError(f"{type(self).__name__} must implement _apply.")

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other):
        return type(self) is type(other) and vars(self) == vars(other)

    __hash__ = object.__hash__


class BatchAugmenter:
    """Applies a list of augmentations to the signal of a training batch, on its device.

    Parameters
    ----------
    transforms : list of callables
        ``t(x, y, rng) -> (x, y)`` (the classes of :mod:`skemotion.augment`), in order.
    keys : tuple of str
        When the batch is a dict: the entries holding signal windows, transformed together
        (stacked on a new axis 1, so that a noisy/clean pair gets the same draw).
    derive : callable or None
        ``f(batch_dict) -> batch_dict`` run after the transforms (a reconstruction target
        computed from the augmented signal ...).
    """

    def __init__(self, transforms, keys=(X_KEY,), derive=None):
        self.transforms = list(transforms)
        self.keys = tuple(keys)
        self.derive = derive
        self.rng = None

    def reset(self, seed: int, device) -> None:
        self.rng = AugmentationRandom(seed, torch.device(device))

    def __call__(self, x, y):
        batch = dict(x) if isinstance(x, Mapping) else None
        keys = [k for k in self.keys if k in batch] if batch is not None else []
        if batch is None:
            sig = x
        elif len(keys) == 1:
            sig = batch[keys[0]]
        else:
            sig = torch.stack([batch[k] for k in keys], dim=1)
        for transform in self.transforms:
            sig, y = transform(sig, y, self.rng)
        if batch is None:
            return sig, y
        if len(keys) == 1:
            batch[keys[0]] = sig
        else:
            batch.update({k: sig[:, i] for i, k in enumerate(keys)})
        if isinstance(y, MixedTargets) and SUBJECT_KEY in batch:
            # the subject labels are mixed as the class labels are
            batch[PARTNER_KEY] = batch[SUBJECT_KEY][y.perm]
            batch[MIX_KEY] = y.lam
        if self.derive is not None:
            batch = self.derive(batch)
        return batch, y


def grl_weight(progress: float) -> float:
    """Weight of the gradient-reversal layer after ``progress`` (in [0, 1]) of training.

    ``2 / (1 + exp(-10 * progress)) - 1`` (Ganin et al., JMLR 2016): 0 at the start, so the
    discriminator learns before the features are pushed, rising to about 1 (0.9999 at the end).
    """
    return 2.0 / (1.0 + np.exp(-10.0 * progress)) - 1.0


class GradientReversal(torch.autograd.Function):
    """Identity in the forward pass; multiplies the gradient by ``-weight`` in the backward."""

    @staticmethod
    def forward(ctx, x, weight):
        ctx.weight = float(weight)
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.weight * grad, None


def _in_features(module) -> int:
    if isinstance(module, torch.nn.Linear):
        return module.in_features
    if isinstance(module, torch.nn.Sequential) and len(module):
        return _in_features(module[0])
    raise TypeError(
        f"the embedding module must be a Linear layer or a Sequential starting with one; got "
        f"{type(module).__name__}."
    )


class SubjectAdversary(torch.nn.Module):
    """A network and a subject discriminator reading its embedding (training only).

    The network declares where its embedding is with the class attribute
    ``embedding_module``: the name of the sub-module whose *input* is the embedding (the
    classifier head). A forward pre-hook keeps that input as :attr:`embedding_` on every
    forward pass; the net's loss feeds it to :attr:`discriminator` through
    :class:`GradientReversal`. :meth:`unwrap` removes the hook and returns the network alone.

    Parameters
    ----------
    network : nn.Module
    n_subjects : int
        Number of training subjects (the discriminator's classes).
    hidden : int, default=64
        Width of the discriminator's hidden layer.
    """

    def __init__(self, network, n_subjects: int, hidden: int = 64):
        super().__init__()
        name = getattr(network, "embedding_module", None)
        if name is None:
            raise TypeError(
                f"{type(network).__name__} does not declare embedding_module (the sub-module "
                "whose input is the embedding), needed for subject-adversarial training."
            )
        target = network.get_submodule(name)
        self.network = network
        self.discriminator = torch.nn.Sequential(
            torch.nn.Linear(_in_features(target), hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(hidden, n_subjects),
        )
        self.embedding_ = None
        self._handle = target.register_forward_pre_hook(self._capture)

    def _capture(self, module, args):
        self.embedding_ = args[0]

    def forward(self, *args, **kwargs):
        return self.network(*args, **kwargs)

    def unwrap(self):
        """Remove the hook; return the network (the discriminator is dropped)."""
        self._handle.remove()
        self.embedding_ = None
        return self.network

    def __getstate__(self):  # deep copies of the net during training (skorch callbacks)
        state = self.__dict__.copy()
        state["embedding_"] = None
        return state


def _batch_norms(module):
    return [m for m in module.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


@contextmanager
def adapted_batch_norm(module):
    """Let the batch-norm layers of ``module`` learn fresh statistics inside the block.

    On entry every batch-norm layer's running statistics are reset and set to a cumulative
    average (``momentum=None``), and the layers are put in training mode (the rest of the
    module stays as it is, e.g. dropout off in eval mode): forward passes in the block then
    accumulate the statistics of the windows they see. On exit the fitted statistics, the
    momentum and the mode are restored exactly, whatever happened in the block.
    """
    saved = [
        (m, m.momentum, m.training, {k: b.clone() for k, b in m.named_buffers(recurse=False)})
        for m in _batch_norms(module)
    ]
    try:
        for m, *_ in saved:
            m.reset_running_stats()
            m.momentum = None
            m.train()
        yield [m for m, *_ in saved]
    finally:
        for m, momentum, training, buffers in saved:
            with torch.no_grad():
                for k, b in m.named_buffers(recurse=False):
                    b.copy_(buffers[k])
            m.momentum = momentum
            m.train(training)


# --- building and training --------------------------------------------------------------


_REQUIRED = object()


def _shared(estimator, settings, name, default=_REQUIRED):
    """A shared training parameter: from ``settings`` (resolved by the estimator, e.g. from a
    deprecated name) or the estimator's attribute of that name."""
    if settings and name in settings:
        return settings[name]
    value = getattr(estimator, name, default)
    if value is _REQUIRED:
        raise TypeError(
            f"{type(estimator).__name__} does not declare the shared training parameter "
            f"{name!r}: every estimator trained by skemotion._training.fit_net takes it in "
            "__init__."
        )
    return value


def net_kwargs(
    estimator,
    *,
    device: str,
    amp_dtype,
    seed: int | None,
    max_epochs: int | None = None,
    train_split=None,
    n_train: int | None = None,
    settings: dict | None = None,
) -> dict:
    """The skorch arguments every net of the package shares, from the estimator's shared
    training parameters.

    Read from the estimator (or ``settings``, which takes precedence): ``lr``,
    ``batch_size``, ``optimizer``, ``weight_decay``, ``callbacks`` (validated and
    deep-copied here; a progress bar is added when ``verbose``), ``verbose`` and
    ``num_workers``; ``max_epochs`` unless given. ``n_train`` (training windows) decides
    whether the last incomplete batch is dropped: a last batch of one window would break batch
    normalisation.
    """
    batch_size = _shared(estimator, settings, "batch_size")
    epochs = max_epochs if max_epochs is not None else _shared(estimator, settings, "max_epochs")
    verbose = _shared(estimator, settings, "verbose")
    num_workers = _shared(estimator, settings, "num_workers")
    callbacks = check_callbacks(estimator, _shared(estimator, settings, "callbacks"))
    if verbose:
        callbacks.append(("progress", ProgressBar(epochs, type(estimator).__name__)))
    kwargs = dict(
        optimizer=_OPTIMIZERS[_shared(estimator, settings, "optimizer")],
        optimizer__weight_decay=_shared(estimator, settings, "weight_decay"),
        lr=_shared(estimator, settings, "lr"),
        max_epochs=epochs,
        batch_size=batch_size,
        train_split=train_split,
        callbacks=callbacks,
        device=device,
        verbose=1 if verbose and verbose > 1 else 0,
        iterator_train__shuffle=True,
        iterator_train__drop_last=n_train is not None and n_train > batch_size,
        iterator_train__num_workers=num_workers,
        iterator_valid__num_workers=num_workers,
        amp_dtype=amp_dtype,
        estimator_name=type(estimator).__name__,
    )
    if torch.device(device).type == "cuda":
        kwargs["iterator_train__pin_memory"] = True
        kwargs["iterator_valid__pin_memory"] = True
    if seed is not None:
        kwargs["iterator_train__generator"] = torch.Generator().manual_seed(seed)
    return kwargs


class OptimizerLRScheduler(LRScheduler):
    """skorch's :class:`~skorch.callbacks.LRScheduler` for the optimizer held in
    ``net.<optimizer_attr>`` (skorch's own schedules only ``net.optimizer_``): a net with two
    optimizers (a GAN's generator and discriminator) schedules both."""

    def __init__(self, policy, optimizer_attr="optimizer_", **kwargs):
        super().__init__(policy, **kwargs)
        self.optimizer_attr = optimizer_attr

    @property
    def kwargs(self):
        kwargs = dict(super().kwargs)
        kwargs.pop("optimizer_attr", None)
        return kwargs

    def _get_scheduler(self, net, policy, **scheduler_kwargs):
        if policy is not ReduceLROnPlateau and "last_epoch" not in scheduler_kwargs:
            scheduler_kwargs["last_epoch"] = len(net.history) - 1
        return policy(getattr(net, self.optimizer_attr), **scheduler_kwargs)


def lr_schedule_callbacks(estimator, settings=None, optimizers=("optimizer_",)) -> list:
    """The callbacks of the estimator's ``lr_schedule`` (one per optimizer of the net).

    - ``None``: a constant rate, no callback;
    - ``"cosine"``: cosine annealing from ``lr`` towards 0 over ``max_epochs`` epochs (the
      schedule spans ``max_epochs`` even when a refit trains fewer epochs);
    - ``"step"``: the rate is multiplied by ``lr_gamma`` every ``lr_step_size`` optimiser
      steps (batches).
    """
    schedule = _shared(estimator, settings, "lr_schedule")
    if schedule is None:
        return []
    if schedule == "cosine":
        policy = dict(policy=CosineAnnealingLR, T_max=_shared(estimator, settings, "max_epochs"))
    elif schedule == "step":
        policy = dict(
            policy=StepLR,
            step_size=_shared(estimator, settings, "lr_step_size"),
            gamma=_shared(estimator, settings, "lr_gamma"),
            step_every="batch",
        )
    else:  # the parameter constraints let nothing else through
        raise ValueError(
            f"{type(estimator).__name__}: argument lr_schedule must be None, 'cosine' or "
            f"'step'; got {schedule!r}."
        )
    callbacks = [("lr_scheduler", LRScheduler(**policy))]
    for attr in optimizers[1:]:
        name = f"lr_scheduler_{attr.rstrip('_')}"
        callbacks.append((name, OptimizerLRScheduler(optimizer_attr=attr, **policy)))
    return callbacks


def fit_net(
    estimator,
    net_class,
    module,
    X,
    y,
    *,
    device: str,
    amp_dtype,
    seed: int | None,
    max_epochs: int | None = None,
    train_split=None,
    n_train: int | None = None,
    callbacks=(),
    settings: dict | None = None,
    optimizers=("optimizer_",),
    **net_params,
):
    """The one path from an estimator to a trained skorch net.

    Builds ``net_class`` with the shared arguments of :func:`net_kwargs`, the callbacks of the
    estimator's ``lr_schedule`` (:func:`lr_schedule_callbacks`), then the extra ``callbacks``
    of the caller (e.g. early stopping), then ``net_params`` (which override the shared
    arguments), and trains it on ``X, y`` with :func:`train`.

    ``module`` is a ``torch.nn.Module`` class, which skorch initialises with the
    ``module__`` arguments of ``net_params``, or a function without arguments returning a
    module instance. Either way the network is initialised, and trained, in one random stream
    seeded once with ``seed`` (the global torch RNG is left untouched); with ``seed=None``
    torch's global generator is used, as scikit-learn does with ``random_state=None``.
    ``optimizers`` names the net's optimizer attributes that the learning-rate schedule steps.
    Returns the fitted net.
    """
    kwargs = net_kwargs(
        estimator,
        device=device,
        amp_dtype=amp_dtype,
        seed=seed,
        max_epochs=max_epochs,
        train_split=train_split,
        n_train=n_train,
        settings=settings,
    )
    kwargs["callbacks"] = [
        *kwargs["callbacks"],
        *lr_schedule_callbacks(estimator, settings, optimizers),
        *callbacks,
    ] or None
    kwargs.update(net_params)
    with isolated_rng(seed, device) if seed is not None else nullcontext():
        if not (isinstance(module, type) and issubclass(module, torch.nn.Module)):
            module = module()
        net = net_class(module, **kwargs)
        with warnings.catch_warnings():
            # skorch warns when a module instance is passed with module__ params; none here
            warnings.simplefilter("ignore", category=UserWarning)
            return train(net, X, y, seed=None, device=device)


@contextmanager
def unfitted_on_error(estimator):
    """Leave ``estimator`` unfitted when the block raises: a failed (or interrupted) ``fit``
    removes every fitted attribute (public names ending in ``_``), those of an earlier
    successful fit included, so that ``check_is_fitted`` raises instead of passing on a stale
    or half-built model."""
    try:
        yield
    except BaseException:
        for attr in [k for k in vars(estimator) if k.endswith("_") and not k.startswith("_")]:
            delattr(estimator, attr)
        raise


def _close_progress(net):
    for _, cb in getattr(net, "callbacks_", []):
        if isinstance(cb, ProgressBar):
            cb.close()


@contextmanager
def watch_sigint():
    """Record whether a real Ctrl-C (SIGINT) arrives during the block.

    skorch ends training quietly on ``KeyboardInterrupt``, which its own callbacks also raise to
    stop early (``EarlyStopping``); a real interrupt is told apart by this handler, which marks
    it and then behaves as the handler it replaces. SIGTERM is watched the same way when the
    program handles it in Python (the ``skemotion`` command turns it into an interrupt).
    Signals reach only the main thread, so elsewhere (a worker thread) nothing is installed and
    nothing can be missed.
    """
    state = {"hit": False}
    if threading.current_thread() is not threading.main_thread():
        yield state
        return
    installed = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)
        if sig == signal.SIGINT and (previous is None or previous is signal.SIG_IGN):
            continue
        if sig == signal.SIGTERM and not callable(previous):
            continue

        def handler(signum, frame, previous=previous):
            state["hit"] = True
            if callable(previous):
                previous(signum, frame)
            raise KeyboardInterrupt

        installed[sig] = previous
        signal.signal(sig, handler)
    try:
        yield state
    finally:
        for sig, previous in installed.items():
            signal.signal(sig, previous)


def train(net, X, y, *, seed: int | None, device: str, **fit_params):
    """Initialise and fit ``net`` with an isolated random state; return the fitted net.

    With ``seed=None`` torch's global generator is used (and advanced), as scikit-learn does
    with ``random_state=None``. Ctrl-C stops the call: skorch ends the epoch loop and runs its
    end-of-training callbacks, then ``KeyboardInterrupt`` is raised (skorch alone would return
    a half-trained model as if training had finished).
    """
    rng = isolated_rng(seed, device) if seed is not None else nullcontext()
    try:
        with rng, watch_sigint() as sigint:
            net.initialize()
            net.fit(X, y, **fit_params)
    except BaseException:
        _close_progress(net)
        raise
    if sigint["hit"]:
        _close_progress(net)
        raise KeyboardInterrupt(
            f"{net.estimator_name}: training interrupted at epoch {len(net.history)}."
        )
    check_finite_state(net)
    return net


def check_finite_state(net) -> None:
    """Raise :class:`TrainingDivergedError` when a trained parameter or buffer is not finite.

    The loss is checked before every update; this catches the update of the last step (and a
    callback that restored broken weights), which would otherwise return a model predicting
    NaN.
    """
    for mod_name in getattr(net, "_modules", ["module"]):
        module = getattr(net, f"{mod_name}_", None)
        if not isinstance(module, torch.nn.Module):
            continue
        for kind, items in (("parameter", module.named_parameters()),
                            ("buffer", module.named_buffers())):  # fmt: skip
            for pname, tensor in items:
                if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                    raise TrainingDivergedError(
                        f"{net.estimator_name or type(net).__name__}: training diverged on its "
                        f"last optimisation step (epoch {len(net.history)}): the {kind} "
                        f"{pname!r} is not finite. {_DIVERGED_HINT}"
                        f"(lr={getattr(net, 'lr', None)}) or inputs on a very large scale; "
                        "lower lr, standardise X, or clip gradients."
                    )
