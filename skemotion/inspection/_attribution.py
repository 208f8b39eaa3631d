"""Gradient attributions of the deep classifiers with respect to the raw signal windows.

The attribution is taken through the classifier's whole input stage, so that it is a map over
the windows the user gave, ``(n_windows, n_channels, n_times)``, whatever the network reads:

- :class:`~skemotion.classifiers.EEGNetClassifier` reads the windows themselves;
- :class:`~skemotion.classifiers.TSSTDNClassifier` reads ``X / scale_``;
- :class:`~skemotion.classifiers.GRUXNetClassifier` reads standardised log-STFT images,
  computed in torch (:func:`_gruxnet_images`, the classifier's ``spectrogram`` with autograd);
- :class:`~skemotion.classifiers.SSTEmotionNetClassifier` reads electrode maps of band
  differential entropy and segment means; its ``_prepare`` computes them with numpy, and the
  torch version it trains with under ``augment`` (``_MapsBatch``) computes the same maps
  differentiably.

Any other subclass of :class:`~skemotion.classifiers.DeepClassifierBase` is attributed when its
input stage is the windows themselves plus an optional torch ``_batch_transform``, and refused
with a clear error otherwise. Before attributing, the differentiable stage is checked against
the classifier's own ``predict_proba`` on the first windows.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack

import numpy as np

from .._validation import check_finite_array, check_sfreq
from ..features._backend import check_bands
from ._utils import check_positive_int, check_windows, require

__all__ = ["attribute", "summarize_channels", "summarize_bands"]

_NAME = "attribute"
_METHODS = ("integrated_gradients", "saliency")
#: largest difference of probabilities tolerated between the differentiable input stage and
#: the classifier's own predict_proba (float32 rounding is about 1e-6)
_STAGE_TOLERANCE = 1e-4
_CHECK_WINDOWS = 8


# --- the estimator and its input stage ----------------------------------------------------


def _deep_classifier(estimator, X):
    """``(classifier, X seen by it)``: the estimator itself, or the last step of a Pipeline
    with the preceding steps' ``transform`` applied (samplers, which act in fit only, are
    skipped, as a Pipeline does at prediction)."""
    from ..classifiers import DeepClassifierBase

    if isinstance(estimator, DeepClassifierBase):
        return estimator, X
    steps = getattr(estimator, "steps", None)
    if steps and isinstance(steps[-1][1], DeepClassifierBase):
        Xt = X
        for _, step in steps[:-1]:
            if step is None or (isinstance(step, str) and step == "passthrough"):
                continue
            if hasattr(step, "fit_resample"):
                continue
            Xt = step.transform(Xt)
        return steps[-1][1], Xt
    raise TypeError(
        f"{_NAME}: argument estimator must be a fitted deep classifier of skemotion.classifiers "
        "(EEGNetClassifier, TSSTDNClassifier, GRUXNetClassifier, SSTEmotionNetClassifier) or a "
        f"Pipeline ending with one; got {type(estimator).__name__}. For any other estimator use "
        "channel_importance (permutation importance)."
    )


def _identity(x):
    return x


def _input_stage(clf):
    """A torch function from raw windows to the network's input (a tensor or a dict of
    tensors) that gradients go through: the classifier's ``_torch_prepare`` hook, then its
    ``_batch_transform``; or a ``TypeError`` saying why there is none."""
    try:
        prepare = clf._torch_prepare() or _identity
    except TypeError as exc:
        raise TypeError(
            f"{_NAME}: {exc} Use channel_importance (permutation importance) for this model."
        ) from None
    batch_transform = clf._batch_transform()
    if batch_transform is None:
        return prepare

    def stage(x):
        return batch_transform(prepare(x), training=False)

    return stage


def _logits_function(module, stage):
    """``f(raw windows) -> logits`` in float32 (the first output of a multi-output network)."""

    def forward(x):
        inputs = stage(x)
        out = module(**inputs) if isinstance(inputs, Mapping) else module(inputs)
        if isinstance(out, tuple):
            out = out[0]
        return out.float()

    return forward


def _check_stage(clf, forward, X, module):
    """The differentiable stage gives the classifier's own probabilities on a few windows."""
    import torch

    if getattr(clf, "adapt_bn", False) or str(getattr(clf, "precision", "32")) != "32":
        return  # predict_proba adapts batch norm / runs in reduced precision: not comparable
    X0 = X[:_CHECK_WINDOWS]
    expected = clf.predict_proba(X0)  # may move the network to the inference device
    module.eval()
    device = next(module.parameters()).device
    with torch.no_grad():
        got = torch.softmax(forward(torch.tensor(X0, device=device)), dim=-1).cpu().numpy()
    diff = float(np.max(np.abs(got - expected)))
    if not diff <= _STAGE_TOLERANCE:
        raise RuntimeError(
            f"{_NAME}: the differentiable input stage of {type(clf).__name__} does not "
            f"reproduce its predict_proba (largest difference {diff:.3g}); its attributions "
            "would not explain its predictions. The classifier's input stage has changed "
            "without skemotion.inspection: please report this."
        )


# --- arguments ---------------------------------------------------------------------------


def _target_indices(clf, target, n):
    """Class indices per window from ``target`` (labels of ``classes_``), or None."""
    if target is None:
        return None
    classes = list(clf.classes_)
    lookup = {c: i for i, c in enumerate(classes)}
    labels = [target] * n if np.ndim(target) == 0 else list(np.asarray(target, dtype=object))
    if len(labels) != n:
        raise ValueError(
            f"{_NAME}: argument target must be one label of classes_ or one per window ({n}); "
            f"got {len(labels)} labels."
        )
    try:
        unknown = [t for t in labels if t not in lookup]
    except TypeError as exc:  # unhashable labels
        raise ValueError(f"{_NAME}: argument target holds unhashable labels: {exc}") from exc
    if unknown:
        raise ValueError(
            f"{_NAME}: argument target holds labels that are not classes of the classifier "
            f"{classes}: {sorted(set(map(repr, unknown)))}."
        )
    return np.array([lookup[t] for t in labels], dtype=np.int64)


def _baseline(baseline, X, method):
    """The baseline windows, broadcast to X's shape (zeros by default)."""
    if method == "saliency":
        if baseline is not None:
            raise ValueError(
                f"{_NAME}: argument baseline is used by method='integrated_gradients' only; "
                "leave it None with method='saliency'."
            )
        return None
    if baseline is None:
        return np.zeros_like(X)
    b = check_finite_array(_NAME, baseline, "baseline", dtype=np.float32)
    try:
        return np.broadcast_to(b, X.shape)
    except ValueError:
        raise ValueError(
            f"{_NAME}: argument baseline of shape {b.shape} does not broadcast to the windows' "
            f"shape {X.shape}; give a number, one window {X.shape[1:]} or one per window."
        ) from None


def attribute(
    estimator,
    X,
    *,
    method: str = "integrated_gradients",
    target=None,
    baseline=None,
    n_steps: int = 32,
    batch_size: int | None = None,
) -> np.ndarray:
    """Gradient attribution of a deep classifier's prediction to every sample of the windows.

    Integrated gradients (Sundararajan et al. 2017) or saliency (the gradient's magnitude,
    Simonyan et al. 2014) of the target class's logit, computed with captum through the
    classifier's whole input stage, so that the attribution is a map over the *raw* windows
    ``(n_windows, n_channels, n_times)`` even when the network reads spectrograms or electrode
    maps.

    Parameters
    ----------
    estimator : deep classifier or Pipeline
        A fitted classifier of :mod:`skemotion.classifiers`, or a fitted Pipeline whose last
        step is one: the preceding steps' ``transform`` is applied to X first (without
        metadata; samplers are skipped, as at prediction) and the attribution is with respect
        to the last step's input.
    X : array-like of shape (n_windows, n_channels, n_times)
        Windows to explain (shaped as the classifier's ``fit`` input). Not modified.
    method : {"integrated_gradients", "saliency"}, default="integrated_gradients"
        ``"integrated_gradients"``: the gradient averaged along the straight path from
        ``baseline`` to each window, times ``window - baseline`` (``n_steps`` Gauss-Legendre
        points); the attributions of a window sum to ``logit(window) - logit(baseline)``.
        ``"saliency"``: the absolute gradient of the logit at the window.
    target : label, array-like of shape (n_windows,) or None, default=None
        Class whose logit is explained, as a label of ``classes_`` (one for every window, or
        one per window); None explains each window's predicted class.
    baseline : float, array-like or None, default=None
        Reference input of integrated gradients: a number, one window ``(n_channels,
        n_times)`` or one per window; None means zeros (a flat signal). Not used by saliency.
    n_steps : int, default=32
        Integration points of integrated gradients.
    batch_size : int or None, default=None
        Windows per forward/backward pass (integrated gradients evaluates ``n_steps`` points
        per window, ``batch_size`` at a time); None means the classifier's ``batch_size``.

    Returns
    -------
    attributions : ndarray of shape (n_windows, n_channels, n_times)
        float32, the shape of X (after the pipeline's preceding steps): positive values push
        towards the target class.

    Raises
    ------
    ImportError
        When captum (the ``explain`` extra) is not installed.
    TypeError
        When the estimator is not a deep classifier (or a Pipeline ending with one), or its
        input stage cannot be differentiated.

    See Also
    --------
    summarize_channels : mean absolute attribution per channel.
    summarize_bands : attribution power per channel and frequency band.
    channel_importance : model-agnostic permutation importance.

    Notes
    -----
    The network runs in evaluation mode (no dropout, batch-norm running statistics) and in
    float32, on the device its weights are on; ``adapt_bn`` is not applied. What each
    classifier's attribution goes through:

    - :class:`~skemotion.classifiers.EEGNetClassifier`: the network reads the windows.
    - :class:`~skemotion.classifiers.TSSTDNClassifier`: ``X / scale_``, then the network
      (its classification output).
    - :class:`~skemotion.classifiers.GRUXNetClassifier`: the standardised log-STFT images,
      computed in torch (the classifier's own stage takes the magnitude with numpy on the
      CPU); a classifier fitted on precomputed spectrograms is attributed with respect to
      those images ``(n_windows, n_channels, n_freqs, n_frames)``.
    - :class:`~skemotion.classifiers.SSTEmotionNetClassifier`: the band differential entropy
      and segment means on the electrode maps, computed in torch as the classifier does when
      it trains with ``augment`` (its ``_prepare`` uses numpy). A channel that is zero in a
      window contributes nothing: the maps leave it out.

    The differentiable stage is checked against the classifier's ``predict_proba`` on the
    first windows (without ``adapt_bn``, at ``precision="32"``); a mismatch raises a
    ``RuntimeError`` rather than returning attributions of another function. Any other
    :class:`~skemotion.classifiers.DeepClassifierBase` subclass is supported when its network
    reads the windows (with an optional torch ``_batch_transform``); one that prepares its
    input with numpy in ``_prepare`` is refused with a ``TypeError``.

    References
    ----------
    .. [1] Sundararajan, M., Taly, A., & Yan, Q. (2017). Axiomatic attribution for deep
       networks. ICML 2017.
    .. [2] Simonyan, K., Vedaldi, A., & Zisserman, A. (2014). Deep inside convolutional
       networks: visualising image classification models and saliency maps. ICLR workshop.

    Examples
    --------
    >>> from skemotion.classifiers import EEGNetClassifier
    >>> from skemotion.datasets import make_eeg_emotion
    >>> from skemotion.inspection import attribute, summarize_channels
    >>> data = make_eeg_emotion("emotiv14", n_subjects=2, n_windows_per_trial=2, random_state=0)
    >>> clf = EEGNetClassifier(F1=4, F2=8, max_epochs=1, random_state=0).fit(data.X, data.y)
    >>> attr = attribute(clf, data.X[:4], n_steps=4)
    >>> attr.shape
    (4, 14, 256)
    >>> summarize_channels(attr).shape
    (14,)
    """
    if method not in _METHODS:
        raise ValueError(
            f"{_NAME}: argument method must be one of {list(_METHODS)}; got {method!r}."
        )
    n_steps = check_positive_int(_NAME, n_steps, "n_steps")
    attr_module = require("captum.attr", _NAME)
    import torch
    from sklearn.exceptions import NotFittedError

    from .._validation import check_is_fitted

    clf, Xt = _deep_classifier(estimator, X)
    try:
        check_is_fitted(clf, "net_")
    except NotFittedError as exc:
        raise NotFittedError(f"{_NAME}: argument estimator: {exc}") from exc
    shape = np.shape(Xt)
    try:
        Xv = clf._validate_X(Xt)
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{_NAME}: {exc}") from exc
    Xv = np.ascontiguousarray(Xv, dtype=np.float32)
    n = Xv.shape[0]
    batch_size = clf.batch_size if batch_size is None else batch_size
    batch_size = check_positive_int(_NAME, batch_size, "batch_size")
    targets = _target_indices(clf, target, n)
    base = _baseline(baseline, Xv, method)

    stage = _input_stage(clf)
    module = clf.net_.module_
    forward = _logits_function(module, stage)
    out = np.empty(Xv.shape, dtype=np.float32)
    was_training = module.training
    module.eval()
    try:
        with ExitStack() as stack:
            stack.enter_context(torch.enable_grad())
            _check_stage(clf, forward, Xv, module)
            device = next(module.parameters()).device
            if device.type == "cuda":  # cuDNN's RNN backward refuses evaluation mode
                stack.enter_context(torch.backends.cudnn.flags(enabled=False))
            if method == "integrated_gradients":
                explainer = attr_module.IntegratedGradients(forward)
            else:
                explainer = attr_module.Saliency(forward)
            for start in range(0, n, batch_size):
                stop = min(start + batch_size, n)
                xb = torch.tensor(Xv[start:stop], device=device)
                if targets is None:
                    with torch.no_grad():
                        tb = forward(xb).argmax(dim=-1)
                else:
                    tb = torch.as_tensor(targets[start:stop], device=device)
                if method == "integrated_gradients":
                    bb = torch.tensor(np.array(base[start:stop]), device=device)
                    a = explainer.attribute(
                        xb,
                        baselines=bb,
                        target=tb,
                        n_steps=n_steps,
                        internal_batch_size=batch_size,
                    )
                else:
                    a = explainer.attribute(xb.requires_grad_(), target=tb, abs=True)
                out[start:stop] = a.detach().float().cpu().numpy()
    finally:
        module.train(was_training)
    return out.reshape(shape) if np.prod(shape) == out.size else out


# --- summaries ---------------------------------------------------------------------------


def summarize_channels(attributions) -> np.ndarray:
    """Mean absolute attribution of each channel, over windows and time samples.

    Parameters
    ----------
    attributions : array-like of shape (n_windows, n_channels, n_times)
        Attributions, e.g. from :func:`attribute`.

    Returns
    -------
    importance : ndarray of shape (n_channels,)
        ``mean(|attributions|)`` over windows and time, float64.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.inspection import summarize_channels
    >>> attr = np.zeros((2, 3, 4))
    >>> attr[:, 1] = -1.0
    >>> summarize_channels(attr)
    array([0., 1., 0.])
    """
    A = check_windows("summarize_channels", attributions, finite=True, arg="attributions")
    return np.abs(A).mean(axis=(0, 2), dtype=np.float64)


def summarize_bands(attributions, sfreq: float, bands=None) -> np.ndarray:
    """Power of the attributions in each frequency band, per channel.

    Each window's attribution time course of each channel is split into bands by FFT (the
    ideal band-pass of :func:`skemotion.features.functional.band_variance`: the bins ``low <=
    f < high``, Parseval's theorem) and its variance in each band is averaged over the
    windows. It tells in which rhythms the evidence the model used lies; meaningful for
    signed attributions (integrated gradients), less so for saliency's absolute values.

    Parameters
    ----------
    attributions : array-like of shape (n_windows, n_channels, n_times)
        Attributions, e.g. from :func:`attribute`.
    sfreq : float
        Sampling frequency of the windows in Hz.
    bands : dict or sequence of (low, high), default=None
        Frequency bands in Hz; None means delta 1-4, theta 4-8, alpha 8-14, beta 14-31 and
        gamma 31-50 Hz.

    Returns
    -------
    power : ndarray of shape (n_channels, n_bands)
        Mean band power of the attributions, float64.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.inspection import summarize_bands
    >>> t = np.arange(256) / 128.0
    >>> attr = np.zeros((1, 2, 256))
    >>> attr[0, 1] = np.sin(2 * np.pi * 20.0 * t)  # channel 1, beta
    >>> summarize_bands(attr, 128.0).round(2)
    array([[0. , 0. , 0. , 0. , 0. ],
           [0. , 0. , 0. , 0.5, 0. ]])
    """
    from ..features.functional import band_variance

    func = "summarize_bands"
    A = check_windows(func, attributions, finite=True, arg="attributions")
    sfreq = check_sfreq(func, sfreq)
    _, edges = check_bands(bands, func, sfreq=sfreq)
    A = A.astype(np.float64, copy=False)
    return band_variance(A, sfreq, [tuple(e) for e in edges]).mean(axis=0)
