"""skemotion benchmark --modality ecg|fusion: EEG + ECG windows, the ECG and fusion models."""

import json

import numpy as np
import pandas as pd
import pytest
from _fixtures_datasets import write_dreamer
from sklearn.pipeline import Pipeline

import skemotion.benchmark
from skemotion.benchmark import REGISTRY, BenchmarkContext
from skemotion.classifiers import EEGNetClassifier, SSLECGClassifier
from skemotion.cli import main
from skemotion.features import PickChannels

QUIET = ["--quiet", "--no-plots"]
TYPES = ["eeg"] * 3 + ["ecg"]


def _ctx(ch_types):
    names = None if ch_types is None else [f"c{i}" for i in range(len(ch_types))]
    return BenchmarkContext(sfreq=128.0, n_channels=4, n_times=512, n_classes=4,
                            ch_names=names, ch_types=ch_types, device="cpu")  # fmt: skip


def _pick(model):
    first = model.steps[0][1] if isinstance(model, Pipeline) else None
    return first.types if isinstance(first, PickChannels) else None


def test_eeg_only_data_build_the_models_unchanged():
    for ch_types in (None, ["eeg"] * 4):
        ctx = _ctx(ch_types)
        assert [name for name, _ in REGISTRY["de_lr"](ctx).steps] == ["de", "scale", "lr"]
        assert isinstance(REGISTRY["eegnet"](ctx), EEGNetClassifier)
        for name in ("hrv_lr", "sslecg", "fusion_early", "fusion_late"):
            with pytest.raises(ValueError, match=f"{name} reads the ECG channels"):
                REGISTRY[name](ctx)


def test_eeg_and_ecg_data_route_each_model_to_its_channels():
    ctx = _ctx(TYPES)
    assert _pick(REGISTRY["de_lr"](ctx)) == "eeg"
    assert _pick(REGISTRY["eegnet"](ctx)) == "eeg"
    assert _pick(REGISTRY["hrv_lr"](ctx)) == "ecg"
    sslecg = REGISTRY["sslecg"](ctx)
    assert _pick(sslecg) == "ecg" and isinstance(sslecg[-1], SSLECGClassifier)
    union = REGISTRY["fusion_early"](ctx).steps[0][1]
    assert [_pick(p) for _, p in union.transformer_list] == ["eeg", "ecg"]
    late = REGISTRY["fusion_late"](ctx)
    assert [_pick(p) for _, p in late.estimators] == ["eeg", "ecg"]


def test_fusion_run_on_the_synthetic_eeg_and_ecg_corpus(tmp_path, capsys):
    out = tmp_path / "fusion"
    argv = ["benchmark", "--modality", "fusion", "--n-subjects", "3", "--max-folds", "2",
            "--output", str(out), *QUIET]  # fmt: skip
    assert main(argv) == 0
    res = pd.read_csv(out / "results.csv")
    assert sorted(set(res["model"])) == sorted(
        ["majority", "de_lr", "hrv_lr", "fusion_early", "fusion_late"]
    )
    assert (res.groupby("model").size() == 2).all()
    mean = res.groupby("model")["balanced_accuracy"].mean()
    assert mean["fusion_early"] > mean["majority"]  # the corpus carries the classes
    printed = capsys.readouterr().out
    assert "96 windows of 15 channels x 512 samples (128 Hz)" in printed
    config = json.loads((out / "results.json").read_text())
    assert "fusion" in json.dumps(config)  # recorded: another modality is another configuration
    # the EEG modality in the same folder is another configuration: refused before any work
    eeg_argv = ["benchmark", "--n-subjects", "3", "--max-folds", "2", "--output", str(out),
                *QUIET]  # fmt: skip
    with pytest.raises(SystemExit):
        main(eeg_argv)
    err = capsys.readouterr().err
    assert "argument --output" in err and "modality" in err, err


def test_fusion_on_dreamer_reads_eeg_and_ecg(tmp_path, capsys):
    root = tmp_path / "dreamer"
    write_dreamer(root, n_subjects=3, n_videos=18, seconds=8)
    out = tmp_path / "out"
    argv = ["benchmark", "--dataset", "dreamer", "--data-path", str(root), "--modality", "fusion",
            "--window-seconds", "4", "--max-folds", "1", "--output", str(out), *QUIET]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "of 16 channels x 512 samples (128 Hz)" in printed
    assert set(pd.read_csv(out / "results.csv")["model"]) >= {"hrv_lr", "fusion_early"}


def test_an_eeg_deep_model_on_mixed_data_gets_the_subjects_of_its_recipe(tmp_path):
    # behind PickChannels, EEGNet still receives the subjects its adversary needs
    out = tmp_path / "adv"
    argv = ["benchmark", "--modality", "fusion", "--models", "eegnet", "--recipe", "adversarial",
            "--epochs", "1", "--n-subjects", "3", "--max-folds", "1", "--device", "cpu",
            "--output", str(out), *QUIET]  # fmt: skip
    assert main(argv) == 0
    res = pd.read_csv(out / "results.csv")
    assert "eegnet" in set(res["model"])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--modality", "fusion", "--dataset", "seed", "--data-path", "."],
         "argument --modality: fusion needs EEG and ECG in the same windows; --dataset seed"),
        (["--modality", "ecg", "--align", "euclidean"],
         "argument --align: the alignments are for EEG"),
        (["--models", "fusion_early"],
         "argument --models: fusion_early reads the ECG beside the EEG; add --modality"),
        (["--modality", "fusion", "--montage", "deap32"],
         "argument --montage: the synthetic EEG + ECG corpus"),
        (["--modality", "fusion", "--protocol", "cross-dataset"],
         "argument --modality: fusion is not for the cross-dataset protocol"),
    ],
)  # fmt: skip
def test_modality_usage_errors(args, message, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(skemotion.benchmark, "run_benchmark", None)  # never reached
    with pytest.raises(SystemExit) as exc:
        main(["benchmark", *args, "--output", str(tmp_path / "o"), *QUIET])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert message in err, err


def test_the_default_run_is_unchanged_by_the_channel_types():
    # EEG data typed "eeg" everywhere: the baselines are the same objects as without types
    plain, typed = _ctx(None), _ctx(["eeg"] * 4)
    for name in ("majority", "de_lr"):
        a, b = REGISTRY[name](plain), REGISTRY[name](typed)
        assert repr(a) == repr(b)
    np.testing.assert_equal(repr(REGISTRY["eegnet"](plain)), repr(REGISTRY["eegnet"](typed)))
