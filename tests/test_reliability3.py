"""Reliability, third pass: each class of silent wrong result or misleading failure is enforced
in one place; these tests fail when that place is reverted."""

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.utils import Bunch

from skemotion.classifiers import SSTEmotionNetClassifier
from skemotion.features import BandPower, DifferentialEntropy


# --- bands above the Nyquist frequency -------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda bands: DifferentialEntropy(sfreq=128.0, bands=bands),
        lambda bands: BandPower(sfreq=128.0, bands=bands),
        lambda bands: SSTEmotionNetClassifier("emotiv14", sfreq=128.0, bands=bands, max_epochs=1),
    ],
    ids=["DifferentialEntropy", "BandPower", "SSTEmotionNetClassifier"],
)
def test_a_band_above_nyquist_is_refused_naming_band_and_nyquist(make):
    X = np.random.default_rng(0).standard_normal((8, 14, 256)).astype(np.float32)
    y = np.arange(8) % 2
    est = make({"theta": (4.0, 8.0), "high": (70.0, 90.0)})
    name = type(est).__name__
    with pytest.raises(ValueError, match=rf"{name}: argument bands: band 'high' \(70-90 Hz\) "
                       r"has no frequency below the Nyquist frequency 64 Hz"):  # fmt: skip
        est.fit(X, y)
    make({"theta": (4.0, 8.0), "top": (40.0, 90.0)}).fit(X, y)  # partly below: accepted


# --- duplicate electrode names ---------------------------------------------------------------
@pytest.mark.parametrize(
    "make, fit",
    [
        (
            lambda names: __import__("skemotion.features").features.ElectrodeGrid(names),
            lambda est, X, y: est.fit(X[:, :, :5]),
        ),
        (
            lambda names: SSTEmotionNetClassifier(names, sfreq=128.0, max_epochs=1),
            lambda est, X, y: est.fit(X, y),
        ),
        (
            lambda names: __import__("skemotion.augment").augment.ESCGANSampler(
                sfreq=128.0, ch_names=names, max_epochs=1, hidden=2
            ),
            lambda est, X, y: est.fit_resample(X, y),
        ),
    ],
    ids=["ElectrodeGrid", "SSTEmotionNetClassifier", "ESCGANSampler"],
)
@pytest.mark.parametrize("names", [["Fp1", "Cz", "Fp1"], ["Fp1", "Cz", "CZ"]])
def test_duplicate_electrodes_are_refused_also_ignoring_case(make, fit, names):
    X = np.random.default_rng(0).standard_normal((12, 3, 128)).astype(np.float32)
    y = np.arange(12) % 2
    est = make(names)
    dup = names[-1].upper()
    msg = (
        rf"^{type(est).__name__}: argument ch_names names the channels \['{dup}'\] more than "
        r"once \(names are matched ignoring case"
    )
    with pytest.raises(ValueError, match=msg):
        fit(est, X, y)


# --- missing subject or trial ids ------------------------------------------------------------
def _ids_with_missing(kind, n):
    import pandas as pd

    base = np.repeat(["s1", "s2", "s3"], n // 3)
    if kind == "None":
        out = base.astype(object)
        out[1] = None
        return out
    if kind == "pd.NA":
        out = pd.array(base, dtype="string")
        out[1] = pd.NA
        return out
    out = np.repeat([1.0, 2.0, 3.0], n // 3)
    out[1] = np.nan
    return out


@pytest.mark.parametrize("kind", ["None", "pd.NA", "NaN"])
@pytest.mark.parametrize("name", ["EuclideanAlignment", "SubjectStandardizer", "EEGNetClassifier"])
def test_missing_ids_are_one_named_error(name, kind):
    from skemotion.classifiers import EEGNetClassifier
    from skemotion.transfer import EuclideanAlignment, SubjectStandardizer

    X = np.random.default_rng(0).standard_normal((12, 3, 64)).astype(np.float32)
    y = np.arange(12) % 2
    g = _ids_with_missing(kind, 12)
    est = {
        "EuclideanAlignment": EuclideanAlignment(),
        "SubjectStandardizer": SubjectStandardizer(),
        "EEGNetClassifier": EEGNetClassifier(max_epochs=1, early_stopping=True, device="cpu"),
    }[name]
    msg = rf"^{name}: argument groups contains missing values \(None, NaN or infinity: 1 of 12\)"
    with pytest.raises(ValueError, match=msg):
        if name == "EEGNetClassifier":
            est.fit(X, y, groups=g)
        else:
            est.fit_transform(X, groups=g)


# --- ragged nested lists -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "est",
    [
        DifferentialEntropy(sfreq=128.0),
        BandPower(sfreq=128.0),
        __import__("skemotion.features").features.STFTSpectrogram(sfreq=128.0),
        __import__("skemotion.features").features.BandpassFilter(sfreq=128.0),
        __import__("skemotion.features").features.NotchFilter(sfreq=128.0),
        __import__("skemotion.features").features.BaselineRemoval(),
        __import__("skemotion.features").features.EMGContamination(sfreq=128.0),
        __import__("skemotion.features").features.ElectrodeGrid(["Cz", "Fz"]),
    ],
    ids=lambda e: type(e).__name__,
)
def test_ragged_lists_get_the_named_message_in_every_transformer(est):
    ragged = [[[1.0, 2.0, 3.0], [1.0, 2.0]]]
    with pytest.raises(ValueError, match=rf"^{type(est).__name__}: argument X is a ragged nested"):
        est.fit(ragged)
    est.fit(np.ones((2, 2, 64)))
    with pytest.raises(ValueError, match=rf"^{type(est).__name__}: argument X is a ragged nested"):
        est.transform(ragged)


# --- harmonize: missing ids, labels outside target_names, nested harmonising -----------------
def _with(bunch, **changes):
    out = Bunch(**bunch)
    out.update(changes)
    return out


def _two():
    from skemotion.datasets import make_eeg_emotion

    a = make_eeg_emotion("seed62", n_subjects=2, n_classes=2, n_windows_per_trial=2, random_state=0)
    b = make_eeg_emotion("deap32", n_subjects=2, n_classes=2, n_windows_per_trial=2, random_state=1)
    return a, b


@pytest.mark.parametrize("key", ["groups", "trials"])
@pytest.mark.parametrize("missing", [None, np.nan])
def test_harmonize_refuses_missing_ids(key, missing):
    from skemotion.datasets import harmonize

    a, b = _two()
    ids = np.asarray(a[key]).astype(object if missing is None else float)
    ids[3] = missing
    bad = _with(a, **{key: ids})
    with pytest.raises(ValueError, match=rf"^harmonize: argument {key} of dataset 'seed' contains "
                       r"missing values"):  # fmt: skip
        harmonize({"seed": bad, "deap": b}, sfreq=128)


def test_harmonize_refuses_labels_outside_target_names():
    from skemotion.datasets import harmonize

    a, b = _two()
    with pytest.raises(ValueError, match=r"dataset 'deap' has labels \[2\] outside target_names"):
        harmonize({"seed": a, "deap": _with(b, y=np.where(b.y == 1, 2, b.y))}, sfreq=128)
    names = list(a.target_names)
    strings = _with(a, y=np.array([names[v] for v in a.y]))
    harmonize({"seed": strings, "deap": _with(b, y=np.array([names[v] for v in b.y]))}, sfreq=128)
    with pytest.raises(ValueError, match=r"dataset 'seed' has labels \['joy'\]"):
        harmonize({"seed": _with(strings, y=np.where(a.y == 0, "joy", strings.y)),
                   "deap": _with(b, y=np.array([names[v] for v in b.y]))}, sfreq=128)  # fmt: skip


def test_harmonize_takes_its_own_output():
    from skemotion.datasets import harmonize, make_eeg_emotion

    a, b = _two()
    inner = harmonize({"seed": a, "deap": b}, sfreq=128)
    c = make_eeg_emotion("emotiv14", n_subjects=2, n_classes=2, n_windows_per_trial=2,
                         random_state=2)  # fmt: skip
    outer = harmonize({"both": inner, "emotiv": c}, sfreq=128)
    n_in = len(inner.y)
    assert list(outer.frame.dataset.unique()) == ["both/seed", "both/deap", "emotiv"]
    # the channels absent from DEAP stay absent (not zero-valued "present" channels)
    np.testing.assert_array_equal(outer.channel_mask[:n_in], inner.channel_mask)
    assert outer.channel_mask[n_in:].sum(axis=1).tolist() == [14] * len(c.y)
    assert len(np.unique(outer.groups)) == 6
    np.testing.assert_array_equal(outer.X[:n_in], inner.X)


# --- the benchmark under metadata routing ------------------------------------------------------
def test_run_benchmark_with_alignment_works_with_metadata_routing_on():
    import sklearn

    from skemotion.benchmark import run_benchmark
    from skemotion.datasets import make_eeg_emotion

    d = make_eeg_emotion("emotiv14", n_subjects=3, n_windows_per_trial=2, random_state=0)
    kw = dict(sfreq=d.sfreq, models=["none"], align=["none", "euclidean"], plots=False)
    off = run_benchmark(d.X, d.y, d.groups, d.trials, **kw)
    with sklearn.config_context(enable_metadata_routing=True):
        on = run_benchmark(d.X, d.y, d.groups, d.trials, **kw)
        assert sklearn.get_config()["enable_metadata_routing"]  # the caller's setting is kept
    cols = ["model", "align", "fold", "balanced_accuracy"]
    pd.testing.assert_frame_equal(on.folds[cols], off.folds[cols])
    assert set(on.folds["align"]) == {"none", "euclidean"}


# --- Euclidean alignment of average-referenced data ------------------------------------------
def _average_referenced(*args, **kwargs):
    from skemotion.datasets._synthetic import make_eeg_emotion as real

    d = real(*args, **kwargs)
    d.X = d.X - d.X.mean(axis=1, keepdims=True)  # rank n_channels - 1, as DEAP's copy
    return d


def test_align_euclidean_on_average_referenced_data_one_line_and_a_way_out(
    monkeypatch, tmp_path, capsys
):
    import skemotion.datasets
    from skemotion.cli import main

    monkeypatch.setattr(skemotion.datasets, "make_eeg_emotion", _average_referenced)
    base = ["benchmark", "--n-subjects", "3", "--models", "none", "--align", "euclidean",
            "--quiet", "--no-plots"]  # fmt: skip
    assert main([*base, "--output", str(tmp_path / "a")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--shrinkage 0.01" in err[0] and "EuclideanAlignment" in err[0]
    assert main([*base, "--shrinkage", "0.01", "--output", str(tmp_path / "b")]) == 0
    import json

    record = json.loads((tmp_path / "b" / "results.json").read_text())
    assert record["config"]["shrinkage"] == 0.01


# --- every command-line value checked before the run -------------------------------------------
@pytest.mark.parametrize(
    "args, match",
    [
        (
            ["--window-seconds", "0.01"],
            r"argument --window-seconds: 0.01 s is 1 sample\(s\) at 128",
        ),
        (
            ["--window-seconds", "100000", "--n-subjects", "400"],
            r"argument --window-seconds/--n-subjects: the synthetic corpus would take",
        ),
        (["--seeds", str(2**32)], r"argument --seeds: seeds must be below 2\*\*32"),
        (["--data-seed", str(2**40)], r"argument --data-seed: seeds must be below 2\*\*32"),
    ],
)
def test_command_line_values_that_would_fail_inside_the_run_are_usage_errors(
    args, match, capsys, tmp_path
):
    from skemotion.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["benchmark", "--models", "none", "--output", str(tmp_path), *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert re.search(match, err), err
    assert not any(tmp_path.iterdir())  # nothing was computed or written


# --- two runs into one output folder ---------------------------------------------------------
def test_a_folder_in_use_by_another_run_is_refused_before_any_work(tmp_path):
    import subprocess
    import sys

    from skemotion.benchmark import BenchmarkInputError, run_benchmark
    from skemotion.benchmark._store import ResultStore
    from skemotion.datasets import make_eeg_emotion

    d = make_eeg_emotion("emotiv14", n_subjects=2, n_windows_per_trial=2, random_state=0)
    kw = dict(sfreq=d.sfreq, models=["none"], plots=False, output=tmp_path)
    args = (d.X, d.y, d.groups, d.trials)
    # another run holds the folder (here: this process, through a second open of the lock)
    with ResultStore(tmp_path, {}):
        with pytest.raises(BenchmarkInputError, match="is in use by another benchmark run"):
            run_benchmark(*args, **kw)
        # and another process, through the command line: a usage error, nothing written
        cmd = [sys.executable, "-m", "skemotion.cli", "benchmark", "--n-subjects", "2",
               "--models", "none", "--no-plots", "--quiet", "--output", str(tmp_path)]  # fmt: skip
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert out.returncode == 2 and "is in use by another benchmark run" in out.stderr
        assert not (tmp_path / "results.json").exists()
    res = run_benchmark(*args, **kw)  # released: the folder is free again
    assert len(res.folds) == 4
    # a failed run releases the folder too
    with pytest.raises(BenchmarkInputError):
        run_benchmark(*args, **{**kw, "epochs": 3})  # another configuration: refused
    assert len(run_benchmark(*args, **kw).folds) == 4


# --- resume: damaged records, deleted tables, blocked paths ----------------------------------
def _tiny_run(out, **extra):
    from skemotion.benchmark import run_benchmark
    from skemotion.datasets import make_eeg_emotion

    d = make_eeg_emotion("emotiv14", n_subjects=2, n_windows_per_trial=2, random_state=0)
    kw = {"sfreq": d.sfreq, "models": ["none"], "output": out, "plots": False, **extra}
    return run_benchmark(d.X, d.y, d.groups, d.trials, **kw)


@pytest.mark.parametrize(
    "content, problem",
    [
        ("[]", "a JSON list, not an object"),
        ("null", "a JSON NoneType, not an object"),
        ('{"format": 1, "config": {}}', "'models' missing"),
        (None, r"fold \['majority', 'none', 0, 0\] has non-numeric scores"),
    ],
)
def test_a_json_that_is_not_a_record_is_refused_with_one_message(tmp_path, content, problem):
    import json

    from skemotion.benchmark import ResultsMismatchError

    _tiny_run(tmp_path)
    path = tmp_path / "results.json"
    if content is None:  # a real record whose score was damaged
        record = json.loads(path.read_text())
        record["folds"][0]["balanced_accuracy"] = "high"
        content = json.dumps(record)
    path.write_text(content)
    with pytest.raises(ResultsMismatchError, match=rf"is not a benchmark record \({problem}"):
        _tiny_run(tmp_path)


def test_a_rerun_rewrites_every_table(tmp_path):
    _tiny_run(tmp_path)
    want = {n: (tmp_path / n).read_text() for n in ("results.csv", "subjects.csv")}
    (tmp_path / "results.csv").unlink()
    (tmp_path / "subjects.csv").write_text("damaged")
    res = _tiny_run(tmp_path)  # every fold is done: nothing to compute
    for name, text in want.items():
        assert (tmp_path / name).read_text() == text
        assert str(tmp_path / name) in res.files


def test_blocked_output_paths_are_found_before_any_work(tmp_path):
    from skemotion.benchmark import BenchmarkInputError

    (tmp_path / "plots").write_text("not a folder")
    with pytest.raises(BenchmarkInputError, match="plots exists and is not a folder"):
        _tiny_run(tmp_path, plots=True)
    assert not (tmp_path / "results.json").exists()
    (tmp_path / "plots").unlink()
    (tmp_path / "summary.csv").mkdir()
    with pytest.raises(BenchmarkInputError, match="summary.csv exists and is not a file"):
        _tiny_run(tmp_path)
    assert not (tmp_path / "results.json").exists()


# --- SIGTERM with a worker pool ------------------------------------------------------------------
@pytest.mark.parametrize("n_jobs", ["1", "2"])
def test_sigterm_stops_the_run_and_its_workers_keeping_finished_folds(tmp_path, n_jobs):
    """``communicate`` returns only once every process holding the pipes has exited: worker
    processes left alive would make it time out."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "skemotion.cli", "benchmark", "--n-subjects", "3", "--models",
           "eegnet", "--epochs", "30", "--device", "cpu", "--n-jobs", n_jobs, "--quiet",
           "--no-plots", "--output", str(out)]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    deadline = time.monotonic() + 300
    while not (out / "results.csv").exists():  # the baselines' folds are recorded
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    assert "terminated:" in stderr and "Traceback" not in stderr
    rows = pd.read_csv(out / "results.csv")
    assert set(rows["model"]) <= {"majority", "de_lr", "eegnet"}
    assert len(rows) < 9  # the run did not finish, and nothing half-trained was recorded
    assert not (rows["model"] == "eegnet").any() or rows["max_epochs"].dropna().eq(30).all()


def test_run_benchmark_refuses_missing_ids():
    from skemotion.benchmark import BenchmarkInputError, run_benchmark
    from skemotion.datasets import make_eeg_emotion

    d = make_eeg_emotion("emotiv14", n_subjects=2, n_windows_per_trial=2, random_state=0)
    groups = d.groups.astype(object)
    groups[0] = None
    with pytest.raises(BenchmarkInputError, match="argument groups contains missing values"):
        run_benchmark(d.X, d.y, groups, d.trials, sfreq=d.sfreq, models=["none"])
    trials = d.trials.astype(float)
    trials[5] = np.nan
    with pytest.raises(BenchmarkInputError, match="argument trials contains missing values"):
        run_benchmark(d.X, d.y, d.groups, trials, sfreq=d.sfreq, models=["none"])
