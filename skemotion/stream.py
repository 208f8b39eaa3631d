"""Real-time emotion inference from a Lab Streaming Layer (LSL) stream.

:class:`StreamClassifier` reads an EEG (or ECG ...) stream through LSL, keeps the newest
samples in a ring buffer and, every hop, classifies the newest full window with a fitted
estimator's ``predict_proba``. The probabilities are published on an LSL outlet (one channel
per class, labelled with the class names, stamped with the window's last-sample timestamp),
returned to the caller, and optionally written to a CSV file.

It needs the ``stream`` extra (``pip install 'skemotion[stream]'``, which installs
``mne-lsl``).

What the model was fitted on
----------------------------
The window a model sees must match what it was trained on. :func:`model_input` reads it
from the fitted estimator; for a :class:`~sklearn.pipeline.Pipeline`, from its first step
(the one that receives the raw windows), looking through nested pipelines:

* channels: ``n_channels_``, else ``input_shape_[0]`` of a deep classifier fitted on 3-D
  windows;
* samples per window: ``n_times_``, else ``input_shape_[-1]`` (a feature transformer such as
  :class:`~skemotion.features.DifferentialEntropy` accepts any length: give
  ``window_seconds``);
* sampling rate: the ``sfreq`` parameter of the first step of the pipeline that has one
  (a spectral feature), or an ``sfreq_`` attribute;
* channel names: a ``ch_names_`` attribute, or the ``ch_names`` parameter of a step (e.g.
  :class:`~skemotion.features.ElectrodeGrid`).

Whatever the model cannot tell is given as ``ch_names=`` / ``sfreq=``; a value the model
knows and the argument contradicts is an error. Without a known rate the stream's nominal
rate is used; without known channel names the stream's channels (or ``pick``) are used in
their order, and only their number is checked.

An ONNX file written by :func:`skemotion.export.export_onnx` is read with
:func:`skemotion.export.load_onnx` (ONNX Runtime, no torch): its metadata tell the channels,
the samples per window and the rate (and the channel names when the estimator knew them).

Latency: OpenMP's worker threads (PyTorch's CPU thread pool) keep spinning for a while after
each prediction; on a machine with few cores they take the CPU from the LSL threads that
receive the samples, which can add a hundred milliseconds before a window is complete
(``benchmarks/stream_latency.py``). Set ``OMP_WAIT_POLICY=PASSIVE`` in the environment before
torch is imported (``skemotion stream`` does so when it is unset), or
``torch.set_num_threads(1)``, or run the exported ONNX model.

A stream whose rate differs from the model's is an error, unless ``resample=True``: the
window is then read at the stream's rate (``round(n_times * stream rate / model rate)``
samples, as many seconds as the model's window) and resampled to the model's rate with a
polyphase filter (:func:`scipy.signal.resample_poly`, the rate ratio as a fraction), the
newest ``n_times`` samples fed to the model.
"""

from __future__ import annotations

import csv
import os
import sys
import time
import uuid
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

__all__ = ["StreamClassifier", "StreamPrediction", "model_input"]


def _lsl():
    """The ``mne_lsl.lsl`` module, or an ImportError naming the ``stream`` extra."""
    try:
        from mne_lsl import lsl
    except ImportError as exc:
        raise ImportError(
            "skemotion.stream needs mne-lsl: pip install 'skemotion[stream]'"
        ) from exc
    return lsl


def _steps(model):
    """The estimators of ``model`` in data order, nested pipelines flattened."""
    steps = getattr(model, "steps", None)
    if steps is None:
        return [model]
    out = []
    for _, step in steps:
        if step is None or step == "passthrough":
            continue
        out.extend(_steps(step))
    return out


def model_input(model) -> dict:
    """What a fitted estimator was fitted on: channels, samples, rate and channel names.

    The rule is described in the module documentation: the first step of a pipeline tells the
    channels and samples, the first step with an ``sfreq`` parameter the rate.

    Parameters
    ----------
    model : estimator
        A fitted classifier or pipeline.

    Returns
    -------
    info : dict
        Keys ``n_channels``, ``n_times``, ``sfreq`` and ``ch_names``; ``None`` where the model
        cannot tell.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from skemotion.features import DifferentialEntropy
    >>> X = np.random.default_rng(0).standard_normal((20, 4, 256))
    >>> y = np.arange(20) % 2
    >>> model = make_pipeline(DifferentialEntropy(128.0, flatten=True), LogisticRegression())
    >>> model_input(model.fit(X, y))
    {'n_channels': 4, 'n_times': None, 'sfreq': 128.0, 'ch_names': None}
    """
    steps = _steps(model)
    first = steps[0]
    n_channels = getattr(first, "n_channels_", None)
    n_times = getattr(first, "n_times_", None)
    shape = getattr(first, "input_shape_", None)
    if shape is not None and len(shape) == 2:
        n_channels = shape[0] if n_channels is None else n_channels
        n_times = shape[1] if n_times is None else n_times
    sfreq = ch_names = None
    for step in steps:
        params = step.get_params(deep=False) if hasattr(step, "get_params") else {}
        if sfreq is None:
            value = getattr(step, "sfreq_", None)
            value = params.get("sfreq") if value is None else value
            if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
                sfreq = float(value)
        if ch_names is None:
            value = getattr(step, "ch_names_", None)
            value = params.get("ch_names") if value is None else value
            if isinstance(value, str):
                from ._montages import MONTAGES

                value = MONTAGES[value]["ch_names"] if value in MONTAGES else None
            if value is not None:
                ch_names = [str(c) for c in value]
    return {
        "n_channels": None if n_channels is None else int(n_channels),
        "n_times": None if n_times is None else int(n_times),
        "sfreq": sfreq,
        "ch_names": ch_names,
    }


@dataclass(frozen=True)
class StreamPrediction:
    """One classified window (what :meth:`StreamClassifier.iter` yields).

    Parameters
    ----------
    timestamp : float
        LSL timestamp of the window's last sample (the one published with the
        probabilities).
    proba : ndarray of shape (n_classes,)
        ``predict_proba`` of the window, in the order of ``classes``.
    classes : ndarray of shape (n_classes,)
        The model's ``classes_``.
    first_timestamp : float
        LSL timestamp of the window's first sample.
    sample : int
        Index of the window's last sample among the samples received since the stream was
        opened (0 is the first sample received).
    latency : float or None, default=None
        Seconds from the LSL timestamp of the window's last sample to the publication of its
        probabilities (``local_clock()`` once they were pushed on the outlet and written to
        the CSV file): the delay a consumer of the outlet sees, the time the samples took to
        arrive included.

    Examples
    --------
    >>> import numpy as np
    >>> pred = StreamPrediction(timestamp=12.5, proba=np.array([0.2, 0.8]),
    ...                         classes=np.array(["negative", "positive"]),
    ...                         first_timestamp=10.5, sample=255)
    >>> str(pred.label)
    'positive'
    """

    timestamp: float
    proba: np.ndarray
    classes: np.ndarray
    first_timestamp: float
    sample: int
    latency: float | None = None

    @property
    def label(self):
        """The most probable class."""
        return self.classes[int(np.argmax(self.proba))]


class StreamClassifier:
    """Classify an LSL stream window by window with a fitted estimator.

    Parameters
    ----------
    model : estimator or str or path-like
        A fitted classifier or pipeline with ``predict_proba``, the path of one saved with
        :func:`joblib.dump`, or the path of an ``.onnx`` file written by
        :func:`skemotion.export.export_onnx` (run with ONNX Runtime).
    stream_name : str, optional
        Name of the LSL stream to read. When given, ``stream_type`` is ignored.
    stream_type : str, default="EEG"
        Type of the LSL stream to read when ``stream_name`` is not given.
    window_seconds : float, optional
        Window length in seconds. Defaults to the model's own (``n_times_`` / rate); needed
        for models that accept any length (feature pipelines).
    hop_seconds : float, default=0.5
        Time between two classified windows (rounded to whole samples, at least one).
    pick : list of str, optional
        Stream channels to use, in the model's channel order. Defaults to the model's
        ``ch_names`` when it knows them, else all the stream's channels.
    ch_names : list of str, optional
        Channel names the model was fitted on, when the model cannot tell.
    sfreq : float, optional
        Sampling rate the model was fitted at, when the model cannot tell.
    resample : bool, default=False
        Accept a stream whose rate differs from the model's: every window is resampled to the
        model's rate (polyphase filter, see the module documentation). False: a rate mismatch
        is an error. Needs the model's rate (from the model or ``sfreq``).
    outlet_name : str, default="skemotion"
        Name of the LSL outlet publishing the probabilities (type ``"Emotion"``); ``None``
        publishes nothing.
    csv_path : str or path-like, optional
        CSV file receiving one row per window: ``timestamp`` and one column per class.
    timeout : float, default=10.0
        Seconds to wait for the stream to be found.
    stall_seconds : float, default=2.0
        Seconds without samples after which a message says the stream stalled; the classifier
        keeps waiting (until ``duration``, ``max_windows`` or Ctrl-C).
    log : callable, optional
        Receives the messages (one line each); default: print to standard error.

    Attributes
    ----------
    model_ : estimator
        The loaded estimator.
    classes_ : ndarray
        The model's classes, in the order of the probabilities.
    n_times_ : int
        Samples per window fed to the model.
    window_samples_ : int
        Samples per window read from the stream (``n_times_`` unless resampled).
    hop_samples_ : int
        Stream samples between two windows.
    sfreq_ : float
        The stream's sampling rate.
    resampling_ : tuple of int or None
        ``(up, down)`` of the polyphase resampling from the stream's rate to the model's
        (after :meth:`open`); None when the rates are equal.
    ch_names_ : list of str
        The stream channels fed to the model, in order (after :meth:`open`).
    model_input_ : dict
        What the model was fitted on (:func:`model_input`), completed by ``ch_names`` and
        ``sfreq``.
    stream_name_ : str
        Name of the stream read (after :meth:`open`).
    interrupted_ : bool
        Whether the last run was stopped by Ctrl-C (KeyboardInterrupt, handled: the run
        returns the windows done so far).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from skemotion.features import DifferentialEntropy
    >>> X = np.random.default_rng(0).standard_normal((20, 4, 256))
    >>> model = make_pipeline(DifferentialEntropy(128.0, flatten=True), LogisticRegression())
    >>> model = model.fit(X, np.arange(20) % 2)
    >>> clf = StreamClassifier(model, stream_name="MyEEG", window_seconds=2.0, hop_seconds=0.5)
    >>> clf.n_times_, clf.hop_samples_
    (256, 64)
    >>> for pred in clf.iter(duration=10.0):  # doctest: +SKIP
    ...     print(pred.timestamp, pred.proba)
    """

    def __init__(
        self,
        model,
        *,
        stream_name: str | None = None,
        stream_type: str | None = "EEG",
        window_seconds: float | None = None,
        hop_seconds: float = 0.5,
        pick=None,
        ch_names=None,
        sfreq: float | None = None,
        resample: bool = False,
        outlet_name: str | None = "skemotion",
        csv_path=None,
        timeout: float = 10.0,
        stall_seconds: float = 2.0,
        log=None,
    ):
        from .export import OnnxClassifier

        if isinstance(model, (str, os.PathLike)):
            if os.fspath(model).lower().endswith(".onnx"):
                from .export import load_onnx

                model = load_onnx(model)
            else:
                import joblib

                model = joblib.load(model)
        if not hasattr(model, "predict_proba"):
            raise TypeError(
                f"StreamClassifier: the model ({type(model).__name__}) has no predict_proba."
            )
        if isinstance(model, OnnxClassifier) and model.input_names != ["windows"]:
            raise ValueError(
                "StreamClassifier: the ONNX model takes the network's prepared input "
                f"{model.input_names}, not raw windows; export it with "
                "include_preprocessing=True."
            )
        if not isinstance(model, OnnxClassifier):  # an ONNX model is fitted by construction
            from sklearn.utils.validation import check_is_fitted

            check_is_fitted(model)
        if not isinstance(resample, bool):
            raise TypeError(f"StreamClassifier: resample must be True or False; got {resample!r}.")
        if stream_name is None and stream_type is None:
            raise ValueError("StreamClassifier: give stream_name or stream_type.")
        for name, value in (("hop_seconds", hop_seconds), ("timeout", timeout),
                            ("stall_seconds", stall_seconds)):  # fmt: skip
            if not value > 0:
                raise ValueError(f"StreamClassifier: {name} must be > 0; got {value!r}.")
        if window_seconds is not None and not window_seconds > 0:
            raise ValueError(
                f"StreamClassifier: window_seconds must be > 0; got {window_seconds!r}."
            )
        self.model_ = model
        self.classes_ = np.asarray(model.classes_)
        self.stream_name = stream_name
        self.stream_type = stream_type
        self.window_seconds = window_seconds
        self.hop_seconds = float(hop_seconds)
        self.pick = None if pick is None else [str(p) for p in pick]
        self.resample = resample
        self.outlet_name = outlet_name
        self.csv_path = csv_path
        self.timeout = float(timeout)
        self.stall_seconds = float(stall_seconds)
        self.log = (
            log if log is not None else (lambda line: print(line, file=sys.stderr, flush=True))
        )

        info = model_input(model)
        for name, given in (("sfreq", sfreq), ("ch_names", ch_names)):
            known = info[name]
            if given is None:
                continue
            given = float(given) if name == "sfreq" else [str(c) for c in given]
            if known is not None and known != given:
                raise ValueError(
                    f"StreamClassifier: {name}={given!r} contradicts the model, fitted with "
                    f"{name}={known!r}."
                )
            info[name] = given
        if info["ch_names"] is not None:
            if info["n_channels"] is not None and len(info["ch_names"]) != info["n_channels"]:
                raise ValueError(
                    f"StreamClassifier: ch_names holds {len(info['ch_names'])} names but the "
                    f"model was fitted on {info['n_channels']} channels."
                )
            info["n_channels"] = len(info["ch_names"])
        if self.pick is not None:
            n = info["n_channels"]
            if n is not None and len(self.pick) != n:
                raise ValueError(
                    f"StreamClassifier: pick holds {len(self.pick)} channels but the model was "
                    f"fitted on {n}."
                )
            if info["ch_names"] is not None and self.pick != info["ch_names"]:
                raise ValueError(
                    f"StreamClassifier: pick={self.pick} differs from the model's channels "
                    f"{info['ch_names']}."
                )
        if resample and info["sfreq"] is None:
            raise ValueError(
                "StreamClassifier: resample=True needs the rate the model was fitted at; the "
                "model does not tell it: give sfreq=."
            )
        self.model_input_ = info
        self.sfreq_ = info["sfreq"]
        self.resampling_ = None
        self.ch_names_ = self.stream_name_ = None
        self.interrupted_ = False
        self._sizes()
        self._inlet = self._outlet = self._csv_file = None

    def _sizes(self) -> None:
        """``n_times_``, ``window_samples_`` and ``hop_samples_`` (None while the rate is
        unknown)."""
        self.n_times_ = self.window_samples_ = self.hop_samples_ = None
        n_times, sfreq = self.model_input_["n_times"], self.model_input_["sfreq"]
        sfreq = self.sfreq_ if sfreq is None else sfreq  # the model's rate
        if sfreq is None:
            if n_times is None and self.window_seconds is None:
                raise ValueError(
                    "StreamClassifier: the model does not tell its window length; give "
                    "window_seconds."
                )
            return
        if self.window_seconds is not None:
            wanted = int(round(self.window_seconds * sfreq))
            if n_times is not None and wanted != n_times:
                raise ValueError(
                    f"StreamClassifier: window_seconds={self.window_seconds:g} is {wanted} "
                    f"samples at {sfreq:g} Hz but the model was fitted on {n_times}-sample "
                    "windows."
                )
            n_times = wanted
        if n_times is None:
            raise ValueError(
                "StreamClassifier: the model does not tell its window length; give window_seconds."
            )
        if n_times < 2:
            raise ValueError(f"StreamClassifier: windows need at least 2 samples; got {n_times}.")
        self.n_times_ = int(n_times)
        if self.sfreq_ is None:  # the stream's rate: known once opened
            return
        self.window_samples_ = self.n_times_
        if self.resampling_ is not None:
            up, down = self.resampling_
            self.window_samples_ = -(-self.n_times_ * down // up)  # ceil: as long as the model's
        self.hop_samples_ = max(1, int(round(self.hop_seconds * self.sfreq_)))

    # -- connection -------------------------------------------------------------------------

    def _describe(self) -> str:
        if self.stream_name is not None:
            return f"name {self.stream_name!r}"
        return f"type {self.stream_type!r}"

    def open(self):
        """Find and open the stream, check it against the model, open the outlet and CSV.

        Returns
        -------
        self : StreamClassifier
            Opened.

        Raises
        ------
        TimeoutError
            No stream matched within ``timeout``; the message lists the streams found.
        ValueError
            The stream's rate or channels do not match the model.
        """
        if self._inlet is not None:
            return self
        try:
            return self._open()
        except BaseException:
            self.close()
            raise

    def _open(self):
        lsl = _lsl()
        if self.stream_name is not None:
            found = lsl.resolve_streams(timeout=self.timeout, name=self.stream_name)
        else:
            found = lsl.resolve_streams(timeout=self.timeout, stype=self.stream_type)
        if not found:
            others = lsl.resolve_streams(timeout=min(1.0, self.timeout))
            listed = ", ".join(f"{s.name!r} ({s.stype}, {s.n_channels} ch, {s.sfreq:g} Hz)"
                               for s in others) or "none"  # fmt: skip
            raise TimeoutError(
                f"StreamClassifier: no LSL stream with {self._describe()} found within "
                f"{self.timeout:g} s; streams found: {listed}."
            )
        sinfo = found[0]
        if len(found) > 1:
            self.log(f"{len(found)} streams with {self._describe()}; using the one from "
                     f"{sinfo.hostname} ({sinfo.source_id or sinfo.uid})")  # fmt: skip
        self._check_stream(sinfo, resolved=True)  # before connecting: rate, channel count
        inlet = lsl.StreamInlet(sinfo, max_buffered=360, processing_flags=["clocksync"])
        try:
            inlet.open_stream(timeout=self.timeout)
            # the resolved description lacks the channel names: the inlet's has them
            index = self._check_stream(inlet.get_sinfo(timeout=self.timeout))
        except BaseException:
            inlet.close_stream()
            raise
        self._inlet, self._index = inlet, index
        if self.outlet_name is not None:
            info = lsl.StreamInfo(self.outlet_name, "Emotion", len(self.classes_), 0.0,
                                  "float64", f"skemotion-{uuid.uuid4().hex}")  # fmt: skip
            info.set_channel_names([str(c) for c in self.classes_])
            self._outlet = lsl.StreamOutlet(info)
        if self.csv_path is not None:
            self._csv_file = open(self.csv_path, "w", newline="")
            self._csv = csv.writer(self._csv_file)
            self._csv.writerow(["timestamp", *(str(c) for c in self.classes_)])
        self.stream_name_ = str(sinfo.name)
        # one prediction now, so that lazy initialisation (kernels, thread pools) does not
        # delay the first window of the stream
        self.model_.predict_proba(np.zeros((1, len(self._index), self.n_times_), dtype=np.float32))
        return self

    def _check_stream(self, sinfo, resolved: bool = False):
        """Check the stream's rate and channels; return the indices of the channels used.

        A ``resolved`` description lacks the channel names: the check by name waits for the
        full description of the opened inlet (it returns None then).
        """
        info, where = self.model_input_, f"LSL stream {sinfo.name!r}"
        if not sinfo.sfreq > 0:
            raise ValueError(f"StreamClassifier: {where} has an irregular rate; it needs a "
                             "regular one.")  # fmt: skip
        model_sfreq = info["sfreq"]
        self.resampling_ = None
        if model_sfreq is not None and abs(sinfo.sfreq - model_sfreq) > 1e-6 * model_sfreq:
            if not self.resample:
                raise ValueError(
                    f"StreamClassifier: {where} samples at {sinfo.sfreq:g} Hz but the model was "
                    f"fitted at {model_sfreq:g} Hz; pass resample=True to resample its windows."
                )
            ratio = Fraction(model_sfreq).limit_denominator(10_000) / Fraction(
                sinfo.sfreq
            ).limit_denominator(10_000)
            self.resampling_ = (ratio.numerator, ratio.denominator)
        self.sfreq_ = float(sinfo.sfreq)
        self._sizes()
        names = [str(c) for c in (sinfo.get_channel_names() or [])]
        wanted = self.pick if self.pick is not None else info["ch_names"]
        if resolved and wanted is not None:
            return None
        if wanted is not None:
            missing = [c for c in wanted if c not in names]
            if missing:
                raise ValueError(
                    f"StreamClassifier: {where} lacks the channel(s) {missing} the model needs "
                    f"{wanted}; the stream has {names}."
                )
            index = np.array([names.index(c) for c in wanted])
            self.ch_names_ = list(wanted)
        else:
            index = np.arange(sinfo.n_channels)
            self.ch_names_ = names
        n = info["n_channels"]
        if n is not None and len(index) != n:
            raise ValueError(
                f"StreamClassifier: {where} has {len(index)} channels"
                + (f" {names}" if names else "")
                + f" but the model was fitted on {n}; pass pick=[...] to select them."
            )
        return index

    def close(self) -> None:
        """Close the inlet, the outlet and the CSV file."""
        if self._inlet is not None:
            try:
                self._inlet.close_stream()
            except Exception:  # noqa: BLE001 - a lost stream cannot be closed twice
                pass
        self._inlet = self._outlet = None
        if self._csv_file is not None:
            self._csv_file.close()
            self._csv_file = None

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()

    # -- the loop ---------------------------------------------------------------------------

    def iter(self, *, max_windows: int | None = None, duration: float | None = None):
        """Yield a :class:`StreamPrediction` per hop until a limit or Ctrl-C.

        Parameters
        ----------
        max_windows : int, optional
            Stop after this many windows.
        duration : float, optional
            Stop after this many seconds.

        Yields
        ------
        prediction : StreamPrediction
            The newest window's probabilities, also published on the outlet.
        """
        if max_windows is not None and max_windows < 1:
            return
        self.interrupted_ = False
        opened_here = self._inlet is None
        self.open()
        n_ch, n_times, hop = len(self._index), self.window_samples_, self.hop_samples_
        clock = _lsl().local_clock
        chunk = max(hop, int(self.sfreq_ // 4), 1)
        cap = n_times + chunk
        buf = None
        stamps = np.zeros(cap)
        received = 0  # samples received since the stream was opened
        next_end = n_times - 1  # index of the last sample of the next window
        done = 0
        start = last_data = time.monotonic()
        stalled = False
        try:
            while True:
                now = time.monotonic()
                if duration is not None and now - start >= duration:
                    return
                try:
                    # what has arrived, without waiting (a pull of max_samples waits until that
                    # many have arrived); nothing: wait up to 50 ms for the next sample
                    data, ts = self._inlet.pull_chunk(timeout=0.0, max_samples=chunk)
                    if len(ts) == 0:
                        data, ts = self._inlet.pull_chunk(timeout=0.05, max_samples=1)
                except Exception as exc:  # noqa: BLE001 - a lost stream: wait, never a traceback
                    data, ts = np.zeros((0, n_ch)), np.zeros(0)
                    if not stalled:
                        self.log(f"stream {self.stream_name_!r}: {type(exc).__name__}: {exc}")
                    time.sleep(0.05)
                m = len(ts)
                if m == 0:
                    if not stalled and time.monotonic() - last_data > self.stall_seconds:
                        stalled = True
                        self.log(f"stream {self.stream_name_!r}: no samples for "
                                 f"{self.stall_seconds:g} s; waiting")  # fmt: skip
                    continue
                if stalled:
                    self.log(f"stream {self.stream_name_!r}: samples again; resuming")
                    stalled = False
                last_data = time.monotonic()
                data = np.asarray(data)[:, self._index]
                if data.dtype.kind != "f":  # an integer stream: classified as float64
                    data = data.astype(np.float64)
                if buf is None:
                    buf = np.zeros((cap, n_ch), dtype=data.dtype)
                pos = (received + np.arange(m)) % cap
                buf[pos], stamps[pos] = data, ts
                received += m
                ends = list(range(next_end, received, hop))
                if not ends:
                    continue
                next_end = ends[-1] + hop
                if max_windows is not None:
                    ends = ends[: max_windows - done]
                windows = np.stack([buf[np.arange(e - n_times + 1, e + 1) % cap].T for e in ends])
                proba = np.asarray(
                    self.model_.predict_proba(self._model_windows(windows)), dtype=np.float64
                )
                for e, p in zip(ends, proba):
                    stamp = float(stamps[e % cap])
                    self._publish(stamp, p)
                    pred = StreamPrediction(
                        timestamp=stamp, proba=p, classes=self.classes_,
                        first_timestamp=float(stamps[(e - n_times + 1) % cap]), sample=e,
                        latency=clock() - stamp,
                    )  # fmt: skip
                    done += 1
                    yield pred
                    if max_windows is not None and done >= max_windows:
                        return
        except KeyboardInterrupt:
            self.interrupted_ = True
            self.log(f"interrupted after {done} window(s)")
            return
        finally:
            if opened_here:
                self.close()

    def _model_windows(self, windows: np.ndarray) -> np.ndarray:
        """Stream windows ``(n, C, window_samples_)`` as the model takes them: resampled to
        its rate when ``resampling_``, the newest ``n_times_`` samples."""
        if self.resampling_ is None:
            return windows
        from scipy.signal import resample_poly

        up, down = self.resampling_
        out = resample_poly(windows, up, down, axis=-1)[..., -self.n_times_ :]
        return np.ascontiguousarray(out, dtype=windows.dtype)

    def _publish(self, timestamp: float, proba: np.ndarray) -> None:
        if self._outlet is not None:
            self._outlet.push_sample(proba, timestamp)
        if self._csv_file is not None:
            self._csv.writerow([repr(timestamp), *(repr(float(p)) for p in proba)])
            self._csv_file.flush()

    def run(self, *, max_windows: int | None = None, duration: float | None = None) -> list:
        """Classify until a limit or Ctrl-C; return the predictions.

        Parameters
        ----------
        max_windows : int, optional
            Stop after this many windows.
        duration : float, optional
            Stop after this many seconds.

        Returns
        -------
        predictions : list of StreamPrediction
            One per classified window, in order.
        """
        return list(self.iter(max_windows=max_windows, duration=duration))
