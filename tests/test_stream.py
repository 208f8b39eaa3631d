"""skemotion.stream: real-time classification of an LSL stream on the loopback interface."""

import sys
import threading
import time
import uuid

import numpy as np
import pytest
from numpy.testing import assert_allclose

pytest.importorskip("mne_lsl")
from mne_lsl.lsl import StreamInfo, StreamInlet, StreamOutlet, local_clock, resolve_streams

from skemotion.stream import StreamClassifier, model_input

SFREQ = 128.0
N_TIMES = 256  # 2-s windows
HOP = 64  # 0.5 s


@pytest.fixture(scope="module")
def corpus():
    """A DE + logistic-regression model, its channel names and a continuous recording."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from skemotion.datasets import make_eeg_emotion
    from skemotion.features import DifferentialEntropy

    data = make_eeg_emotion("emotiv14", n_subjects=2, n_windows_per_trial=4, random_state=0)
    X = np.asarray(data.X, dtype=np.float32)
    model = make_pipeline(
        DifferentialEntropy(SFREQ, flatten=True), LogisticRegression(max_iter=1000)
    )
    model.fit(X, np.asarray(data.y))
    # the recording: windows of the corpus end to end, (n_samples, n_channels)
    recording = np.concatenate(list(X[:12]), axis=1).T.copy()
    return model, [str(c) for c in data.ch_names], recording


class Player(threading.Thread):
    """Pushes ``recording`` on an LSL outlet, ``speed`` times faster than real time, with
    timestamps ``t0 + i / sfreq``; stops pushing after ``stop_after`` samples (the outlet stays
    until ``linger`` seconds later). ``realtime=True``: as an amplifier does, each chunk is
    pushed once the time of its last sample has come (``speed`` is ignored)."""

    def __init__(self, recording, ch_names, *, sfreq=SFREQ, speed=16.0, stop_after=None,
                 linger=0.0, realtime=False):  # fmt: skip
        super().__init__(daemon=True)
        self.name_ = f"skemotion-test-{uuid.uuid4().hex}"
        info = StreamInfo(self.name_, "EEG", len(ch_names), sfreq, "float32", self.name_)
        info.set_channel_names(list(ch_names))
        self.outlet = StreamOutlet(info, chunk_size=16)
        self.recording, self.sfreq, self.speed = recording, sfreq, speed
        self.stop_after = len(recording) if stop_after is None else stop_after
        self.linger, self.realtime = linger, realtime
        self.t0 = None
        self.halt = threading.Event()

    def run(self):
        self.outlet.wait_for_consumers(timeout=10)
        self.t0 = local_clock()
        step = 16
        for i in range(0, self.stop_after, step):
            if self.halt.is_set():
                return
            chunk = self.recording[i : min(i + step, self.stop_after)]
            stamps = self.t0 + (i + np.arange(len(chunk))) / self.sfreq
            if self.realtime:
                time.sleep(max(0.0, stamps[-1] - local_clock()))
            self.outlet.push_chunk(np.ascontiguousarray(chunk), stamps)
            if not self.realtime:
                time.sleep(step / self.sfreq / self.speed)
        self.halt.wait(self.linger)
        self.outlet = None  # the stream disappears


def _offline(model, recording, player, preds):
    """The windows the streamer classified, from their timestamps, and their offline
    probabilities."""
    ends = np.array([round((p.timestamp - player.t0) * SFREQ) for p in preds])
    starts = np.array([round((p.first_timestamp - player.t0) * SFREQ) for p in preds])
    assert_allclose(ends - starts, N_TIMES - 1)
    windows = np.stack([recording[e - N_TIMES + 1 : e + 1].T for e in ends])
    return ends, model.predict_proba(windows)


def test_probabilities_match_offline_predict_proba_and_are_published(corpus, tmp_path):
    model, ch_names, recording = corpus
    player = Player(recording, ch_names)
    outlet_name = f"skemotion-out-{uuid.uuid4().hex}"
    csv_path = tmp_path / "proba.csv"
    clf = StreamClassifier(model, stream_name=player.name_, window_seconds=2.0, hop_seconds=0.5,
                           ch_names=ch_names, outlet_name=outlet_name, csv_path=csv_path,
                           timeout=5.0, log=lambda line: None)  # fmt: skip
    with clf:
        inlet = StreamInlet(resolve_streams(timeout=5.0, name=outlet_name)[0])
        inlet.open_stream(timeout=5.0)
        sinfo = inlet.get_sinfo(timeout=5.0)
        assert sinfo.get_channel_names() == [str(c) for c in model.classes_]
        assert sinfo.stype == "Emotion" and sinfo.n_channels == len(model.classes_)
        player.start()
        preds = clf.run(max_windows=8)
    player.halt.set()
    assert len(preds) == 8
    ends, offline = _offline(model, recording, player, preds)
    assert (np.diff(ends) == HOP).all()
    assert np.diff([p.sample for p in preds]).tolist() == [HOP] * 7
    streamed = np.stack([p.proba for p in preds])
    assert_allclose(streamed, offline, rtol=0, atol=1e-6)
    assert_allclose(streamed.sum(axis=1), 1.0)
    # the outlet: one sample per window, stamped with the window's last sample
    got, stamps = [], []
    deadline = time.monotonic() + 5
    while len(got) < 8 and time.monotonic() < deadline:
        data, ts = inlet.pull_chunk(timeout=0.2)
        got.extend(np.asarray(data).tolist())
        stamps.extend(ts.tolist())
    inlet.close_stream()
    assert_allclose(np.array(got), streamed, rtol=0, atol=1e-6)
    assert_allclose(stamps, [p.timestamp for p in preds], atol=1e-6)
    # the CSV: timestamp, then one column per class
    import pandas as pd

    table = pd.read_csv(csv_path)
    assert list(table.columns) == ["timestamp", *(str(c) for c in model.classes_)]
    assert_allclose(table.iloc[:, 1:].to_numpy(), streamed, rtol=0, atol=1e-12)
    assert_allclose(table["timestamp"], [p.timestamp for p in preds])


def test_pick_selects_channels_by_name(corpus):
    model, ch_names, recording = corpus
    # the stream has two extra channels, in another order
    extra = np.random.default_rng(1).standard_normal((len(recording), 2)).astype(np.float32)
    streamed_names = ["X1", *ch_names[::-1], "X2"]
    data = np.concatenate([extra[:, :1], recording[:, ::-1], extra[:, 1:]], axis=1)
    player = Player(data, streamed_names)
    clf = StreamClassifier(model, stream_name=player.name_, window_seconds=2.0, pick=ch_names,
                           outlet_name=None, timeout=5.0, log=lambda line: None)  # fmt: skip
    with clf:
        assert clf.ch_names_ == ch_names
        player.start()
        preds = clf.run(max_windows=3)
    player.halt.set()
    _, offline = _offline(model, recording, player, preds)
    assert_allclose(np.stack([p.proba for p in preds]), offline, rtol=0, atol=1e-6)


def test_wrong_channels_and_rate_are_clear_errors(corpus):
    model, ch_names, recording = corpus
    wrong = [*ch_names[:-1], "Cz"]
    player = Player(recording, wrong)
    with pytest.raises(ValueError, match=r"lacks the channel\(s\) \['AF4'\].*the stream has"):
        StreamClassifier(model, stream_name=player.name_, window_seconds=2.0, ch_names=ch_names,
                         timeout=5.0).open()  # fmt: skip
    # names unknown to the model: the count is checked
    few = Player(recording[:, :10], ch_names[:10])
    with pytest.raises(ValueError, match=r"has 10 channels .* fitted on 14; pass pick"):
        StreamClassifier(model, stream_name=few.name_, window_seconds=2.0, timeout=5.0).open()
    fast = Player(recording, ch_names, sfreq=256.0)
    with pytest.raises(
        ValueError, match="samples at 256 Hz but the model was fitted at 128 Hz; pass resample"
    ):
        StreamClassifier(model, stream_name=fast.name_, window_seconds=2.0, timeout=5.0).open()


def test_missing_stream_lists_the_streams_found(corpus):
    model, ch_names, recording = corpus
    player = Player(recording, ch_names)
    name = f"absent-{uuid.uuid4().hex}"
    with pytest.raises(TimeoutError, match=rf"no LSL stream with name '{name}'.*streams found:"):
        StreamClassifier(model, stream_name=name, window_seconds=2.0, timeout=0.5).open()
    del player


def test_stall_is_reported_and_the_run_stops_cleanly(corpus):
    model, ch_names, recording = corpus
    # 3 s of data, then nothing; the outlet disappears 0.3 s later
    player = Player(recording, ch_names, stop_after=3 * int(SFREQ), linger=0.3)
    messages = []
    clf = StreamClassifier(model, stream_name=player.name_, window_seconds=2.0, ch_names=ch_names,
                           outlet_name=None, timeout=5.0, stall_seconds=0.3,
                           log=messages.append)  # fmt: skip
    with clf:
        player.start()
        preds = clf.run(duration=1.2)
    player.halt.set()
    assert len(preds) == 3  # windows ending at samples 255, 319, 383 of 384
    assert any("no samples for 0.3 s; waiting" in m for m in messages), messages


def test_model_input_rules(corpus):
    model, ch_names, _ = corpus
    assert model_input(model) == {"n_channels": 14, "n_times": None, "sfreq": 128.0,
                                  "ch_names": None}  # fmt: skip

    from sklearn.base import BaseEstimator, ClassifierMixin

    class Deep(ClassifierMixin, BaseEstimator):
        classes_ = np.array([0, 1])
        input_shape_ = (14, 256)

        def __sklearn_is_fitted__(self):
            return True

        def fit(self):  # pragma: no cover
            return self

        def predict_proba(self, X):  # pragma: no cover
            return np.full((len(X), 2), 0.5)

    assert model_input(Deep()) == {"n_channels": 14, "n_times": 256, "sfreq": None,
                                   "ch_names": None}  # fmt: skip
    clf = StreamClassifier(Deep(), stream_name="x", sfreq=128.0)
    assert (clf.n_times_, clf.hop_samples_) == (256, 64)
    with pytest.raises(ValueError, match="window_seconds=1 is 128 samples .* 256-sample"):
        StreamClassifier(Deep(), stream_name="x", sfreq=128.0, window_seconds=1.0)
    with pytest.raises(ValueError, match="sfreq=256.0 contradicts the model"):
        StreamClassifier(model, stream_name="x", sfreq=256.0, window_seconds=2.0)
    with pytest.raises(ValueError, match="give window_seconds"):
        StreamClassifier(model, stream_name="x")
    with pytest.raises(ValueError, match="pick holds 2 channels but the model was fitted on 14"):
        StreamClassifier(model, stream_name="x", window_seconds=2.0, pick=["a", "b"])


def test_model_from_a_joblib_file(corpus, tmp_path):
    import joblib

    model, _, _ = corpus
    joblib.dump(model, tmp_path / "model.joblib")
    clf = StreamClassifier(str(tmp_path / "model.joblib"), stream_name="x", window_seconds=2.0)
    assert clf.n_times_ == N_TIMES and list(clf.classes_) == list(model.classes_)


def test_without_mne_lsl_the_error_names_the_extra(corpus, monkeypatch):
    model, _, _ = corpus
    monkeypatch.setitem(sys.modules, "mne_lsl", None)
    clf = StreamClassifier(model, stream_name="x", window_seconds=2.0)
    with pytest.raises(ImportError, match=r"pip install 'skemotion\[stream\]'"):
        clf.open()


def test_command_prints_the_probabilities_per_hop(corpus, tmp_path, capsys):
    import joblib

    from skemotion.cli import main

    model, ch_names, recording = corpus
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    player = Player(recording, ch_names)
    player.start()
    csv_path = tmp_path / "out.csv"
    args = ["stream", str(path), "--name", player.name_, "--window-seconds", "2",
            "--ch-names", ",".join(ch_names), "--hop", "0.5", "--max-windows", "3",
            "--outlet", f"skemotion-out-{uuid.uuid4().hex}", "--csv", str(csv_path),
            "--timeout", "5"]  # fmt: skip
    assert main(args) == 0
    player.halt.set()
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"stream '{player.name_}': 14 channels at 128 Hz; windows of 256")
    assert len(out) == 4
    for line in out[1:]:
        assert all(f"{c}=" in line for c in model.classes_) and "->" in line
    assert len(csv_path.read_text().splitlines()) == 4


@pytest.mark.parametrize(
    "args, message",
    [
        (["--name", "x", "--hop", "0"], "argument --hop: needs a finite number > 0"),
        (["--name", "x", "--type", "EEG"], "argument --type: not allowed with argument --name"),
        ([], "one of the arguments --name --type is required"),
        (["--name", "x", "--max-windows", "0"], "argument --max-windows: needs an integer >= 1"),
        (["--name", "x"], "the model does not tell its window length; give --window-seconds"),
        (["--name", "x", "--window-seconds", "2", "--csv", "/no/such/folder/x.csv"],
         "argument --csv: no such folder"),
        (["--name", "absent-{uid}", "--window-seconds", "2", "--timeout", "0.3"],
         "argument --name: no LSL stream with name 'absent-"),
    ],
)  # fmt: skip
def test_command_bad_arguments_are_one_line_usage_errors(corpus, tmp_path, capsys, args, message):
    import joblib

    from skemotion.cli import main

    path = tmp_path / "model.joblib"
    joblib.dump(corpus[0], path)
    args = [a.format(uid=uuid.uuid4().hex) for a in args]
    with pytest.raises(SystemExit) as exc:
        main(["stream", str(path), *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("skemotion stream: error: ") and message in err[-1], err


def test_command_missing_model_file(capsys):
    from skemotion.cli import main

    with pytest.raises(SystemExit):
        main(["stream", "no-such-model.joblib", "--name", "x"])
    assert "argument MODEL: no such file or folder" in capsys.readouterr().err


def test_ctrl_c_stops_cleanly_with_the_windows_done(corpus):
    model, ch_names, recording = corpus
    calls = []

    from sklearn.base import BaseEstimator, ClassifierMixin

    class Interrupting(ClassifierMixin, BaseEstimator):
        classes_ = model.classes_

        def fit(self, X, y=None):  # pragma: no cover
            return self

        def __sklearn_is_fitted__(self):
            return True

        def predict_proba(self, X):
            calls.append(len(X))
            if len(calls) == 3:  # the warm-up at open, one hop, then Ctrl-C
                raise KeyboardInterrupt
            return model.predict_proba(X)

    player = Player(recording, ch_names)
    messages = []
    clf = StreamClassifier(Interrupting(), stream_name=player.name_, window_seconds=2.0,
                           sfreq=SFREQ, outlet_name=None, timeout=5.0,
                           log=messages.append)  # fmt: skip
    with clf:
        player.start()
        preds = clf.run(duration=5.0)
    player.halt.set()
    assert calls[0] == 1  # open() predicted one window, before the stream's first
    assert clf.interrupted_ and len(preds) == calls[1] >= 1
    assert messages[-1] == f"interrupted after {len(preds)} window(s)"


@pytest.fixture(scope="module")
def eegnet(corpus):
    """A small EEGNet fitted on the corpus windows (the recording's own windows included)."""
    from skemotion.classifiers import EEGNetClassifier
    from skemotion.datasets import make_eeg_emotion

    data = make_eeg_emotion("emotiv14", n_subjects=2, n_windows_per_trial=4, random_state=0)
    return EEGNetClassifier(F1=4, D=2, F2=8, kernel_length=16, max_epochs=2, random_state=0,
                            device="cpu").fit(np.asarray(data.X, np.float32), data.y)  # fmt: skip


def _stream_live(model, recording, ch_names, n=6, realtime=False, **kwargs):
    player = Player(recording, ch_names, realtime=realtime)
    clf = StreamClassifier(model, stream_name=player.name_, hop_seconds=0.5, outlet_name=None,
                           timeout=5.0, log=lambda line: None, **kwargs)  # fmt: skip
    with clf:
        player.start()
        preds = clf.run(max_windows=n)
    player.halt.set()
    return clf, player, preds


def test_a_deep_classifier_and_its_onnx_file_classify_the_live_stream(corpus, eegnet, tmp_path):
    pytest.importorskip("onnxruntime")
    from skemotion.export import export_onnx

    _, ch_names, recording = corpus
    # the estimator itself (torch), on a stream in real time ...
    clf, player, preds = _stream_live(eegnet, recording, ch_names, n=3, realtime=True)
    assert clf.n_times_ == N_TIMES and clf.ch_names_ == ch_names
    _, offline = _offline(eegnet, recording, player, preds)
    assert_allclose(np.stack([p.proba for p in preds]), offline, rtol=0, atol=1e-6)
    # published after the window's last sample was stamped, well within a hop on a quiet machine
    assert all(0 < p.latency < 5.0 for p in preds), [p.latency for p in preds]
    # ... and its ONNX file (ONNX Runtime): window length, channels from the model's metadata
    path = tmp_path / "eegnet.onnx"
    export_onnx(eegnet, path)
    clf, player, preds = _stream_live(str(path), recording, ch_names)
    assert clf.n_times_ == N_TIMES and type(clf.model_).__name__ == "OnnxClassifier"
    _, offline = _offline(eegnet, recording, player, preds)
    assert_allclose(np.stack([p.proba for p in preds]), offline, rtol=0, atol=1e-5)
    # an ONNX model of the network alone (include_preprocessing=False) takes prepared inputs
    from skemotion.export import OnnxClassifier

    meta = dict(clf.model_.metadata, input_names='["spectral", "temporal"]')
    with pytest.raises(ValueError, match="not raw windows; export it with include_preprocessing"):
        StreamClassifier(OnnxClassifier(clf.model_.session, meta), stream_name="x")
    # the wrong channel count, read from the ONNX metadata
    few = Player(recording[:, :10], ch_names[:10])
    with pytest.raises(ValueError, match=r"has 10 channels .* fitted on 14"):
        StreamClassifier(str(path), stream_name=few.name_, timeout=5.0).open()


def test_resample_classifies_a_stream_at_another_rate(corpus):
    from scipy.signal import resample_poly

    model, ch_names, recording = corpus
    # the same signal at 256 Hz: the model (fitted at 128 Hz) sees it resampled back
    fast = resample_poly(recording.astype(np.float64), 2, 1, axis=0).astype(np.float32)
    player = Player(fast, ch_names, sfreq=2 * SFREQ)
    clf = StreamClassifier(model, stream_name=player.name_, window_seconds=2.0, resample=True,
                           outlet_name=None, timeout=5.0, log=lambda line: None)  # fmt: skip
    with clf:
        assert clf.resampling_ == (1, 2)
        assert (clf.window_samples_, clf.n_times_, clf.hop_samples_) == (512, 256, 128)
        player.start()
        preds = clf.run(max_windows=5)
    player.halt.set()
    streamed = np.stack([p.proba for p in preds])
    ends = np.array([round((p.timestamp - player.t0) * 2 * SFREQ) for p in preds])
    assert (np.diff(ends) == 128).all()
    # exactly: the newest 512 samples at 256 Hz, resampled by 1/2
    windows = np.stack([fast[e - 511 : e + 1].T for e in ends])
    expected = model.predict_proba(resample_poly(windows, 1, 2, axis=-1)[..., -N_TIMES:])
    assert_allclose(streamed, expected, rtol=0, atol=1e-6)
    # and close to the model on the original 128-Hz windows ending at the same instants
    native = np.stack([recording[e // 2 - N_TIMES + 1 : e // 2 + 1].T for e in ends])
    assert_allclose(streamed, model.predict_proba(native), rtol=0, atol=0.05)
    # resampling needs the model's rate
    from sklearn.base import BaseEstimator, ClassifierMixin

    class NoRate(ClassifierMixin, BaseEstimator):
        classes_ = np.array([0, 1])
        input_shape_ = (14, 256)

        def __sklearn_is_fitted__(self):
            return True

        def fit(self):  # pragma: no cover
            return self

        def predict_proba(self, X):  # pragma: no cover
            return np.full((len(X), 2), 0.5)

    with pytest.raises(ValueError, match="resample=True needs the rate the model was fitted at"):
        StreamClassifier(NoRate(), stream_name="x", resample=True)


def test_command_streams_an_onnx_file_with_its_latency(corpus, eegnet, tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    from skemotion.cli import main
    from skemotion.export import export_onnx

    _, ch_names, recording = corpus
    path = tmp_path / "eegnet.onnx"
    export_onnx(eegnet, path)
    player = Player(recording, ch_names)
    player.start()
    args = ["stream", str(path), "--name", player.name_, "--max-windows", "2",
            "--outlet", f"skemotion-out-{uuid.uuid4().hex}", "--timeout", "5"]  # fmt: skip
    assert main(args) == 0
    player.halt.set()
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"stream '{player.name_}': 14 channels at 128 Hz; windows of 256")
    assert len(out) == 3
    for line in out[1:]:  # probabilities, label, latency (the player runs ahead of time)
        assert line.count("=") == 3 and "->" in line, line
        assert np.isfinite(float(line.rsplit("(", 1)[1].removesuffix(" ms)"))), line
