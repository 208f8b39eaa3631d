"""The `skemotion` command: help, version, argument checks, a tiny run, Ctrl-C and resume."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

import skemotion
import skemotion.benchmark
from skemotion.cli import main

#: majority + de_lr + EEGNet at 1 epoch (bf16 on CPU) on 3 synthetic subjects
TINY = ["benchmark", "--n-subjects", "3", "--models", "eegnet", "--epochs", "1",
        "--precision", "bf16", "--device", "cpu", "--quiet", "--no-plots"]  # fmt: skip
SCORES = ["model", "align", "seed", "fold", "test_subjects", "n_train", "n_test",
          "balanced_accuracy", "macro_f1", "train_balanced_accuracy", "train_macro_f1", "device",
          "precision", "max_epochs"]  # fmt: skip


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One uninterrupted run of TINY (the reference of the resume test)."""
    out = tmp_path_factory.mktemp("tiny")
    assert main([*TINY, "--output", str(out)]) == 0
    return out


def _must_not_run(*args, **kwargs):
    raise AssertionError("a refused value reached the benchmark")


def _rows(folder):
    return pd.read_csv(folder / "results.csv")


def test_tiny_run_prints_table_and_verdicts_and_records_what_ran(tiny_run, capsys):
    res = _rows(tiny_run)
    assert len(res) == 3 * 3  # majority, de_lr, eegnet x 3 LOSO folds
    eeg = res[res["model"] == "eegnet"]
    assert set(eeg["max_epochs"]) == {1} and set(eeg["precision"]) == {"bf16"}
    assert set(res["device"]) == {"cpu"}
    maj = res[res["model"] == "majority"]
    assert (maj["balanced_accuracy"] == 1 / 3).all()  # one class predicted, 3 balanced classes
    summary = pd.read_csv(tiny_run / "summary.csv")
    assert list(summary["model"]) == ["majority", "de_lr", "eegnet"]
    # plain CSV tables; what ran is in results.json
    for name in ("results.csv", "subjects.csv", "summary.csv", "comparisons.csv"):
        first = (tiny_run / name).read_text().splitlines()[0]
        assert not first.startswith("#") and first.split(",")[0] in ("model", "arm", "subject")
    run = json.loads((tiny_run / "results.json").read_text())["runs"][0]
    assert run["command"].startswith("skemotion benchmark --n-subjects 3")
    assert {"torch", "scikit-learn"} <= set(run["versions"])
    # the same command again finds every fold done and prints the same table
    capsys.readouterr()
    assert main([*TINY, "--output", str(tiny_run)]) == 0
    text = capsys.readouterr().out
    assert "resuming: 9 of 9 fold results already" in text
    for token in ("majority", "de_lr", "eegnet", "balanced acc", "macro-F1", "verdicts"):
        assert token in text
    assert re.search(r"eegnet: balanced accuracy \d\.\d{3} over 3 folds; vs majority", text)
    assert "a Wilcoxon test needs 6" in text


def test_help_shows_the_options_without_markup(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["benchmark", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for token in ("loso", "group-kfold", "subject-dependent", "--n-jobs", "--scheduler",
                  "--device", "--precision", "--dataset", "--seeds", "--protocol"):  # fmt: skip
        assert token in text
    with pytest.raises(SystemExit):
        main(["--help"])
    text += capsys.readouterr().out
    assert "``" not in text and not re.search(r":(func|mod|class|meth|data):", text)


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"skemotion {skemotion.__version__}"


@pytest.mark.parametrize(
    "args, option",
    [
        (["--epochs", "0"], "--epochs"),
        (["--max-folds", "-1"], "--max-folds"),
        (["--max-folds", "0"], "--max-folds"),
        (["--subjects", "-1", "--dataset", "deap", "--data-path", "."], "--subjects"),
        (["--n-subjects", "0"], "--n-subjects"),
        (["--window-seconds", "-2"], "--window-seconds"),
        (["--device", "tpu"], "--device"),
        (["--dataset", "deap", "--data-path", "/no/such/folder"], "--data-path"),
        (["--dataset", "deap"], "--data-path"),
        (["--seeds", "0", "0"], "--seeds"),
        (["--models", "nope"], "--models"),
        (["--n-jobs", "0"], "--n-jobs"),
        (["--n-splits", "3"], "--n-splits"),
        (["--protocol", "group-kfold", "--n-subjects", "3"], "--n-splits"),
        (["--precision", "16-mixed", "--device", "cpu"], "--precision"),
        (["--subjects", "1"], "--subjects"),
    ],
)
def test_bad_values_are_one_line_usage_errors(args, option, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(skemotion.benchmark, "run_benchmark", _must_not_run)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["benchmark", *args, "--output", str(out)])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"skemotion benchmark: error: argument {option}")
    assert "Traceback" not in "\n".join(err)
    assert not out.exists()  # refused before anything was written


def test_unwritable_output_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(skemotion.benchmark, "run_benchmark", _must_not_run)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SystemExit) as exc:
        main(["benchmark", "--output", str(blocker / "sub")])
    assert exc.value.code == 2
    assert "argument --output: cannot write to" in capsys.readouterr().err


@pytest.mark.parametrize(
    "change, what",
    [
        (["--epochs", "2"], "epochs"),
        (["--protocol", "group-kfold", "--n-splits", "3"], "protocol"),
        (["--n-subjects", "4"], "n_subjects"),
    ],
)
def test_other_configuration_in_output_is_refused_before_any_work(
    tiny_run, change, what, capsys, monkeypatch
):
    # one configuration per output folder, checked before the data are even made
    import skemotion.cli

    monkeypatch.setattr(skemotion.cli, "_load_synthetic", _must_not_run)
    monkeypatch.setattr(skemotion.cli, "_load_cross_dataset", _must_not_run)
    args = list(TINY)
    for i in range(0, len(change), 2):
        if change[i] in args:
            args[args.index(change[i]) + 1] = change[i + 1]
        else:
            args += change[i : i + 2]
    with pytest.raises(SystemExit) as exc:
        main([*args, "--output", str(tiny_run)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --output:" in err and what in err and "--overwrite" in err


def test_the_folder_tables_cover_every_run_of_its_configuration(tmp_path):
    # another alignment (or model, or seed) in the same folder adds to its tables
    out = tmp_path / "out"
    base = ["benchmark", "--n-subjects", "3", "--models", "none", "--quiet", "--no-plots"]
    assert main([*base, "--output", str(out)]) == 0
    assert main([*base, "--align", "standardize", "--output", str(out)]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert set(zip(summary["model"], summary["align"])) == {
        (m, a) for m in ("majority", "de_lr") for a in ("none", "standardize")
    }
    verdicts = json.loads((out / "summary.json").read_text())["verdicts"]
    assert any(v.startswith("de_lr/standardize:") for v in verdicts)
    assert any(v.startswith("de_lr:") for v in verdicts)


def test_version_does_not_import_torch():
    code = (
        "import sys\n"
        "from skemotion.cli import main\n"
        "try:\n"
        "    main(['--version'])\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0\n"
        "print('torch' in sys.modules, 'sklearn' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == [f"skemotion {skemotion.__version__}", "False False"]


@pytest.mark.parametrize(
    "typo, suggestion", [("--model", "--models"), ("--epoch", "--epochs"), ("--seed", "--seeds")]
)
def test_abbreviations_are_refused_with_the_closest_option(typo, suggestion, capsys, monkeypatch):
    import skemotion.cli

    monkeypatch.setattr(skemotion.cli, "_run", _must_not_run)
    with pytest.raises(SystemExit) as exc:
        main(["benchmark", typo, "1", "--quiet"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"unrecognized arguments: {typo}" in err and f"did you mean {suggestion}?" in err


def test_ctrl_c_exits_130_and_the_same_command_resumes(tiny_run, tmp_path):
    """SIGINT once the first fold is recorded: exit 130, only finished folds kept; the same
    command then completes the table of an uninterrupted run."""
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "skemotion.cli", *TINY, "--output", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    csv = out / "results.csv"
    deadline = time.monotonic() + 300
    while not (csv.exists() and len(_rows(out)) >= 1):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "run the same command again" in stderr
    ref = _rows(tiny_run)[SCORES]
    part = _rows(out)[SCORES]
    assert 1 <= len(part) < len(ref)
    # every kept row is a finished fold, identical to the uninterrupted run's
    key = ["model", "align", "seed", "fold"]
    num = ["balanced_accuracy", "macro_f1", "train_balanced_accuracy", "n_test"]
    pd.testing.assert_frame_equal(
        part.set_index(key)[num], ref.set_index(key).loc[part.set_index(key).index, num]
    )
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"resuming: {len(part)} of 9" in done.stdout
    pd.testing.assert_frame_equal(_rows(out)[SCORES], ref)


@pytest.mark.parametrize(
    "option, value, args",
    [
        ("epochs", "0", ["--epochs", "0"]),
        ("seeds", ["3", "3"], ["--seeds", "3", "3"]),
        ("n_splits", "3", ["--n-splits", "3"]),
        ("device", "tpu", ["--device", "tpu"]),
        ("precision", "16-mixed", ["--precision", "16-mixed", "--device", "cpu"]),
        ("models", ["nope"], ["--models", "nope"]),
        ("shrinkage", "2", ["--shrinkage", "2"]),
    ],
)
def test_the_command_line_and_the_api_refuse_an_option_with_one_message(
    option, value, args, tmp_path, capsys
):
    """One check of the options: the command line prints the message run_benchmark raises."""
    from skemotion.benchmark import BenchmarkInputError, run_benchmark
    from skemotion.datasets import make_eeg_emotion

    d = make_eeg_emotion("emotiv14", n_subjects=2, n_windows_per_trial=2, random_state=0)
    kwargs = {"device": "cpu", option: value}
    with pytest.raises(BenchmarkInputError) as exc:
        run_benchmark(d.X, d.y, d.groups, d.trials, sfreq=d.sfreq, **kwargs)
    api = str(exc.value).removeprefix("run_benchmark: argument ").removesuffix(".")
    with pytest.raises(SystemExit):
        main(["benchmark", *args, "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"skemotion benchmark: error: argument --{option.replace('_', '-')}: {api}"
