"""ONNX export of the fitted deep classifiers, checked for parity with ``predict_proba``.

:func:`export_onnx` writes an ONNX model that maps raw signal windows ``(batch, n_channels,
n_times)`` (float32, any batch size) to the class probabilities of the fitted estimator: its
torch input stage, its network and the softmax, in one graph. Before anything is written, ONNX
Runtime runs the model on probe windows and its probabilities are compared with the estimator's
own ``predict_proba``; a model that differs is never written.

:func:`load_onnx` runs such a file with ONNX Runtime alone (no torch, no skemotion estimator):
the labels and shapes travel in the model's ``metadata_props``.

What exports (checked in ``tests/test_export.py``, batches of 1 and 17): every deep
classifier, from raw windows, its input stage inside the graph:

- :class:`~skemotion.classifiers.EEGNetClassifier` (the network reads the windows).
- :class:`~skemotion.classifiers.TSSTDNClassifier` (input scaling, the spectral stream's
  STFT features and both U-Nets in the graph).
- :class:`~skemotion.classifiers.GRUXNetClassifier` (input scaling, the log-STFT images on
  the fixed grid, their standardisation and the zeroing of absent channels in the graph).
- :class:`~skemotion.classifiers.SSTEmotionNetClassifier` (its electrode maps computed in the
  graph).
- :class:`~skemotion.classifiers.SSLECGClassifier` fitted with ``target_sfreq=None`` and
  ``highpass=None`` (windows resampled and filtered before it); its numpy resampling and
  high-pass cannot be in a graph: with them, only ``include_preprocessing=False`` exports
  (the network on ``clf._prepare(X)``), and the default is refused with that way out.

With ``include_preprocessing=False`` the graph is the network alone, on the network's own
input (``clf._prepare(X)`` then ``clf._batch_transform()``: GRU-XNet's images, SST's
``"spectral"`` and ``"temporal"`` maps).

Two details of the conversion matter for these models and are handled here: the graph is
written without the ``onnxscript`` optimizer (its constant folding drops the ``+ 1e-8`` of
``log(|STFT| + 1e-8)`` as if it were zero, which turns the exact zeros of the TS-STDN
features and of GRU-XNet's absent channels into ``-inf``), and TS-STDN's U-Nets are traced
through an equivalent functional formulation of their time convolutions
(``torch.compiler.is_compiling()``), not their training kernels.

What is refused: estimators with ``adapt_bn`` (transductive), with ``precision`` other than
``"32"`` (``ValueError``), and :class:`~sklearn.pipeline.Pipeline` objects (``TypeError``:
export the classifier, run the preceding steps in numpy).

Any other failure of the exporter, or a model that fails in ONNX Runtime or differs from
``predict_proba`` by more than ``PARITY_ATOL``, is a ``ValueError`` too, and nothing is written.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections.abc import Mapping

import numpy as np

__all__ = ["OnnxClassifier", "export_onnx", "load_onnx"]

#: Largest absolute difference tolerated between ONNX Runtime and ``predict_proba``.
PARITY_ATOL = 1e-5

_EXTRA_HINT = "install the extra: pip install 'skemotion[onnx]'"


def _import_onnx():
    """``(onnx, onnxruntime)``, or an ImportError naming the ``onnx`` extra."""
    try:
        import onnx
        import onnxruntime
    except ImportError as exc:
        raise ImportError(
            f"skemotion.export needs onnx and onnxruntime ({exc}); {_EXTRA_HINT}."
        ) from exc
    return onnx, onnxruntime


def _import_onnxruntime():
    try:
        import onnxruntime
    except ImportError as exc:
        raise ImportError(
            f"skemotion.export.load_onnx needs onnxruntime ({exc}); {_EXTRA_HINT}."
        ) from exc
    return onnxruntime


def _REWRITE_RULES():
    """The exact rewrites applied after constant folding (none matches a value by tolerance).

    The exporter gives a convolution without bias (``bias=False``) a bias input that ONNX
    Runtime rejects; these rules remove it.
    """
    from onnxscript.rewriter.rules import common

    return [
        common.remove_optional_bias_from_conv_rule,
        common.remove_optional_bias_from_conv_transpose_rule,
        common.remove_optional_bias_from_gemm_rule,
    ]


def _session(ort, model):
    """An ONNX Runtime CPU session that reports errors only.

    The unoptimised graphs of :func:`export_onnx` hold ``CastLike`` nodes that ONNX Runtime
    cannot constant-fold; it says so in a warning per node, which is noise for the user.
    """
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _check_estimator(estimator, include_preprocessing):
    """The refusals that need no export: type, fitted state, transductive or low precision."""
    from sklearn.pipeline import Pipeline

    from .classifiers import DeepClassifierBase

    name = type(estimator).__name__
    if isinstance(estimator, Pipeline):
        raise TypeError(
            "export_onnx: a Pipeline is not exported; export its final deep classifier "
            "(export_onnx(pipe[-1], path)) and run the preceding steps "
            f"({', '.join(n for n, _ in _pipe_steps(estimator)[:-1])}) in numpy before the "
            "ONNX model."
        )
    if not isinstance(estimator, DeepClassifierBase):
        raise TypeError(
            f"export_onnx exports the deep classifiers of skemotion.classifiers; got {name}."
        )
    from ._validation import check_is_fitted

    check_is_fitted(estimator, "net_")
    if getattr(estimator, "adapt_bn", False):
        raise ValueError(
            f"export_onnx: {name} has adapt_bn={estimator.adapt_bn!r}: its predictions depend "
            "on the other windows predicted with them (batch-norm statistics adapted at "
            "prediction), which a fixed ONNX graph cannot reproduce; set adapt_bn=False."
        )
    if getattr(estimator, "precision", "32") != "32":
        raise ValueError(
            f"export_onnx: {name} predicts under precision={estimator.precision!r} autocast; "
            "the ONNX graph runs in float32 and would differ; set_params(precision='32') "
            "before predicting and exporting."
        )
    n_dims = len(getattr(estimator, "input_shape_", ()))
    if include_preprocessing:
        if n_dims != 2:
            raise ValueError(
                f"export_onnx: {name} was fitted on inputs of per-window shape "
                f"{estimator.input_shape_}, not raw windows (n_channels, n_times); export it "
                "with include_preprocessing=False."
            )


def _pipe_steps(pipe):
    """The ``(name, step)`` pairs of a Pipeline."""
    return list(pipe.steps)


def _summary(exc) -> str:
    """The one line that says why the exporter failed (its messages are long)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    for i, line in enumerate(lines[:-1]):
        if line.startswith("## Exception summary"):
            return lines[i + 1]
    return lines[0] if lines else type(exc).__name__


def _graph_module(estimator, include_preprocessing, input_names):
    """The torch module exported: input stage (optional), network, softmax of the logits."""
    import torch

    prepare = None
    if include_preprocessing:
        try:
            prepare = estimator._torch_prepare()
        except TypeError as exc:  # an input stage in numpy: not in a graph either
            raise ValueError(
                f"export_onnx: {type(estimator).__name__}'s input stage cannot be exported "
                f"({exc}); export the network alone with include_preprocessing=False and run "
                "the input stage (clf._prepare) before the ONNX model."
            ) from None
    transform = estimator._batch_transform() if include_preprocessing else None

    class _Probabilities(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.network = estimator.net_.module_

        def forward(self, *inputs):
            if len(inputs) == 1:
                x = inputs[0]
            else:  # a multi-input network fed its prepared inputs
                x = dict(zip(input_names, inputs))
            if prepare is not None:
                x = prepare(x)
            if transform is not None:
                x = transform(x, False)
            out = self.network(**x) if isinstance(x, Mapping) else self.network(x)
            if isinstance(out, tuple):  # e.g. (logits, reconstructions)
                out = out[0]
            return torch.softmax(out.float(), dim=-1)

    return _Probabilities().eval()


def _network_inputs(estimator, X, include_preprocessing):
    """The graph's inputs for raw windows ``X``: the windows, or the network's input."""
    import torch

    if include_preprocessing:
        return {"windows": X}
    prepared = estimator._prepare(X)
    transform = estimator._batch_transform()
    if transform is not None:
        if isinstance(prepared, Mapping):
            prepared = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in prepared.items()}
        else:
            prepared = torch.from_numpy(np.ascontiguousarray(prepared))
        with torch.no_grad():
            prepared = transform(prepared, False)
    if not isinstance(prepared, Mapping):
        prepared = {"inputs": prepared}
    return {
        k: (v.numpy() if hasattr(v, "numpy") else np.asarray(v)).astype(np.float32)
        for k, v in prepared.items()
    }


def _metadata(estimator, include_preprocessing, input_names):
    from . import __version__

    classes = np.asarray(estimator.classes_)
    meta = {
        "skemotion_version": __version__,
        "estimator": type(estimator).__name__,
        "classes_": json.dumps(classes.tolist()),
        "classes_dtype": classes.dtype.str,
        "include_preprocessing": str(bool(include_preprocessing)),
        "input_names": json.dumps(list(input_names)),
        "output_name": "probabilities",
    }
    if getattr(estimator, "n_channels_", None) is not None:
        meta["n_channels"] = str(int(estimator.n_channels_))
        meta["n_times"] = str(int(estimator.n_times_))
    sfreq = getattr(estimator, "sfreq_", getattr(estimator, "sfreq", None))
    if sfreq is not None:
        meta["sfreq"] = repr(float(sfreq))
    ch_names = getattr(estimator, "ch_names_", getattr(estimator, "ch_names", None))
    if ch_names is not None and not isinstance(ch_names, str):
        meta["ch_names"] = json.dumps([str(c) for c in ch_names])
    return meta


def _probe_windows(estimator, n, seed):
    shape = tuple(estimator.input_shape_)
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, *shape)).astype(np.float32)


def export_onnx(estimator, path, *, include_preprocessing=True, opset=None):
    """Write a fitted deep classifier as an ONNX model of its class probabilities.

    The model maps raw windows ``(batch, n_channels, n_times)`` (input ``"windows"``,
    float32, dynamic batch axis) to ``predict_proba`` (output ``"probabilities"``, float32,
    columns in the order of ``classes_``), through the estimator's torch input stage
    (``_torch_prepare``, ``_batch_transform``), its network and the softmax. It is exported
    with ``torch.onnx.export(..., dynamo=True)``, then run by ONNX Runtime on probe windows
    (batches of 1 and 3) and compared with ``estimator.predict_proba``: if the largest
    absolute difference exceeds ``PARITY_ATOL`` (1e-5) nothing is written and a
    ``ValueError`` says so. The labels, shapes, sampling rate and skemotion version are
    written into the model's ``metadata_props`` (read back by :func:`load_onnx`).

    Parameters
    ----------
    estimator : fitted deep classifier of :mod:`skemotion.classifiers`
        Any of the four deep classifiers (see the module docstring). A Pipeline is refused:
        export its last step and run the preceding ones in numpy.
    path : str or path-like
        File to write (replaced only once the model passed the parity check).
    include_preprocessing : bool, default=True
        True: the input is the raw windows. False: the input is the network's own input,
        what the estimator computes from the windows before its network (``_prepare``, then
        ``_batch_transform``, e.g. GRU-XNet's images): input ``"inputs"``, or one input per
        stream for a two-stream network (SST-EmotionNet: ``"spectral"`` and
        ``"temporal"``, the arrays of ``clf._prepare(X)``).
    opset : int or None, default=None
        ONNX opset version; None lets the torch exporter choose.

    Returns
    -------
    max_abs_diff : float
        Largest absolute difference between ONNX Runtime and ``predict_proba`` on the probe
        windows.

    Raises
    ------
    ImportError
        When onnx, onnxruntime or onnxscript is missing (the ``onnx`` extra).
    TypeError
        For a Pipeline or an estimator that is not a deep classifier.
    ValueError
        When the exporter fails (the message names the estimator and the exporter's reason),
        for ``adapt_bn`` or reduced ``precision``, and when the exported model would differ
        from ``predict_proba``.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> from skemotion.classifiers import EEGNetClassifier
    >>> from skemotion.export import export_onnx, load_onnx
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((8, 4, 64)).astype(np.float32)
    >>> y = np.array(["low", "high"] * 4)
    >>> clf = EEGNetClassifier(F1=2, D=1, F2=2, kernel_length=8, max_epochs=1,
    ...                        random_state=0, device="cpu").fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "eegnet.onnx")
    >>> diff = export_onnx(clf, path)
    >>> diff < 1e-5
    True
    >>> model = load_onnx(path)
    >>> model.classes_
    array(['high', 'low'], dtype='<U4')
    >>> np.allclose(model.predict_proba(X), clf.predict_proba(X), atol=1e-5)
    True
    """
    onnx, ort = _import_onnx()
    try:
        import onnxscript  # the dynamo exporter needs it
        import onnxscript.optimizer
        import onnxscript.rewriter
    except ImportError as exc:
        raise ImportError(f"skemotion.export needs onnxscript ({exc}); {_EXTRA_HINT}.") from exc
    import torch

    _check_estimator(estimator, include_preprocessing)
    name = type(estimator).__name__
    probe = _probe_windows(estimator, 3, 0)
    feeds = _network_inputs(estimator, probe, include_preprocessing)
    input_names = list(feeds)
    module = _graph_module(estimator, include_preprocessing, input_names)
    args = tuple(torch.from_numpy(np.ascontiguousarray(v)) for v in feeds.values())
    batch = torch.export.Dim("batch")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's deprecation and tracing notes
            # torch.export first, with the batch axis required dynamic: torch.onnx.export's
            # own capture turns an axis it fails to keep dynamic into a static one
            exported = torch.export.export(
                module, args, dynamic_shapes=(tuple({0: batch} for _ in args),), strict=False
            )
            program = torch.onnx.export(
                exported,
                args,
                input_names=input_names,
                output_names=["probabilities"],
                opset_version=opset,
                dynamo=True,
                verbose=False,
                optimize=False,
            )
    except Exception as exc:  # the exporter's failures carry long traces
        first = _summary(exc)
        raise ValueError(
            f"export_onnx: {name} could not be exported to ONNX "
            f"({'input stage and ' if include_preprocessing else ''}network, with a "
            f"dynamic batch axis): {type(exc).__name__}: {first}"
        ) from exc
    # constant folding only: the rewrite rules of onnxscript's full optimizer treat a scalar
    # constant within 1e-8 of zero as zero and drop "x + 1e-8" (its add_0 rule), the
    # log(|STFT| + 1e-8) of TS-STDN and GRU-XNet
    onnxscript.optimizer.fold_constants(program.model)
    onnxscript.rewriter.rewrite(program.model, pattern_rewrite_rules=_REWRITE_RULES())
    onnxscript.optimizer.remove_unused_nodes(program.model)
    model = program.model_proto
    for key, value in _metadata(estimator, include_preprocessing, input_names).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value

    # parity with predict_proba, in ONNX Runtime, before anything is written
    session = _session(ort, model.SerializeToString())
    diff = 0.0
    for n, seed in ((1, 1), (3, 2)):
        X = _probe_windows(estimator, n, seed)
        try:
            got = session.run(None, _network_inputs(estimator, X, include_preprocessing))[0]
        except Exception as exc:
            raise ValueError(
                f"export_onnx: {name}: the exported model fails in ONNX Runtime on a batch of "
                f"{n} window(s) (the exporter fixed a shape that should vary): "
                f"{str(exc).strip().splitlines()[0]}"
            ) from exc
        diff = max(diff, float(np.max(np.abs(got - estimator.predict_proba(X)))))
    if not diff <= PARITY_ATOL:
        raise ValueError(
            f"export_onnx: {name}: the exported model's probabilities differ from "
            f"predict_proba by {diff:.3g} (> {PARITY_ATOL}); nothing was written."
        )
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=folder)
    os.close(fd)
    try:
        onnx.save(model, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return diff


class OnnxClassifier:
    """An exported classifier run by ONNX Runtime (returned by :func:`load_onnx`).

    Needs only numpy and onnxruntime.

    Parameters
    ----------
    session : onnxruntime.InferenceSession
        The session that runs a model written by :func:`export_onnx`.
    metadata : dict of str to str
        The model's ``metadata_props`` (at least ``classes_``, ``classes_dtype`` and
        ``input_names``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Labels, in the order of the probability columns.
    metadata : dict of str to str
        The model's ``metadata_props`` (``n_channels``, ``n_times``, ``sfreq``,
        ``skemotion_version``, ``estimator`` ...).
    session : onnxruntime.InferenceSession
        The session that runs the model.
    input_names : list of str
        The model's inputs (``["windows"]`` for raw windows).
    n_channels_, n_times_ : int or None
        Channels and samples of the raw windows the model takes (None for a model exported
        with ``include_preprocessing=False``).
    sfreq_ : float or None
        Sampling rate the estimator was fitted at, when it knew it.
    ch_names_ : list of str or None
        Channel names the estimator was fitted with, when it knew them.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from skemotion.classifiers import EEGNetClassifier
    >>> from skemotion.export import OnnxClassifier, export_onnx
    >>> X = np.random.default_rng(0).standard_normal((8, 4, 64)).astype(np.float32)
    >>> clf = EEGNetClassifier(F1=2, D=1, F2=2, kernel_length=8, max_epochs=1,
    ...                        random_state=0, device="cpu").fit(X, [0, 1] * 4)
    >>> path = os.path.join(tempfile.mkdtemp(), "eegnet.onnx")
    >>> _ = export_onnx(clf, path)
    >>> session = ort.InferenceSession(path)
    >>> model = OnnxClassifier(session, session.get_modelmeta().custom_metadata_map)
    >>> model.classes_
    array([0, 1])
    >>> model.predict_proba(X).shape
    (8, 2)
    """

    def __init__(self, session, metadata):
        self.session = session
        self.metadata = dict(metadata)
        self.classes_ = np.asarray(
            json.loads(metadata["classes_"]), dtype=np.dtype(metadata["classes_dtype"])
        )
        self.input_names = json.loads(metadata["input_names"])
        # what the model was fitted on, read like an estimator's (skemotion.stream.model_input)
        raw = self.metadata.get("include_preprocessing", "True") == "True"
        self.n_channels_ = int(metadata["n_channels"]) if raw and "n_channels" in metadata else None
        self.n_times_ = int(metadata["n_times"]) if raw and "n_times" in metadata else None
        self.sfreq_ = float(metadata["sfreq"]) if "sfreq" in metadata else None
        names = metadata.get("ch_names")
        self.ch_names_ = None if names is None else json.loads(names)

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times), or dict
            Raw windows (or, for a model exported with ``include_preprocessing=False``, the
            network's input; a dict of arrays for a multi-input network).

        Returns
        -------
        proba : ndarray of shape (n_windows, n_classes)
            Probabilities, float32.
        """
        if isinstance(X, Mapping):
            feeds = {k: np.ascontiguousarray(X[k], dtype=np.float32) for k in self.input_names}
        else:
            feeds = {self.input_names[0]: np.ascontiguousarray(X, dtype=np.float32)}
        return self.session.run(None, feeds)[0]

    def predict(self, X):
        """Predicted labels.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, n_times), or dict
            As in :meth:`predict_proba`.

        Returns
        -------
        y_pred : ndarray of shape (n_windows,)
            Labels of ``classes_``.
        """
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def load_onnx(path):
    """Load a model written by :func:`export_onnx` for inference with ONNX Runtime.

    Uses only numpy and onnxruntime (neither torch nor the skemotion estimators), so that it
    can run where the classifier was not trained. The same can be done by hand::

        import json, numpy as np, onnxruntime as ort
        s = ort.InferenceSession(path)
        meta = s.get_modelmeta().custom_metadata_map
        classes = np.asarray(json.loads(meta["classes_"]))
        proba = s.run(None, {"windows": X.astype(np.float32)})[0]

    Parameters
    ----------
    path : str or path-like
        An ONNX file written by :func:`export_onnx`.

    Returns
    -------
    model : OnnxClassifier
        With ``predict_proba(X)``, ``predict(X)``, ``classes_`` and ``metadata``.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> from skemotion.classifiers import EEGNetClassifier
    >>> from skemotion.export import export_onnx, load_onnx
    >>> X = np.random.default_rng(0).standard_normal((8, 4, 64)).astype(np.float32)
    >>> clf = EEGNetClassifier(F1=2, D=1, F2=2, kernel_length=8, max_epochs=1,
    ...                        random_state=0, device="cpu").fit(X, [0, 1] * 4)
    >>> path = os.path.join(tempfile.mkdtemp(), "eegnet.onnx")
    >>> _ = export_onnx(clf, path)
    >>> model = load_onnx(path)
    >>> model.metadata["n_channels"], model.metadata["n_times"]
    ('4', '64')
    >>> model.predict(X).shape
    (8,)
    """
    ort = _import_onnxruntime()
    session = _session(ort, os.fspath(path))
    metadata = session.get_modelmeta().custom_metadata_map
    if "classes_" not in metadata:
        raise ValueError(
            f"load_onnx: {os.fspath(path)!r} has no classes_ in its metadata_props; it was not "
            "written by skemotion.export.export_onnx."
        )
    return OnnxClassifier(session, metadata)
