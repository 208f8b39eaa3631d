"""harmonize: resampling, channel alignment by name, unique groups/trials, length rules."""

import numpy as np
import pandas as pd
import pytest
from _fixtures_datasets import write_deap, write_gameemo, write_seed_iv
from sklearn.model_selection import LeaveOneGroupOut
from sklearn.utils import Bunch

from skemotion.datasets import (
    DEAP32,
    EMOTIV14,
    SEED62,
    harmonize,
    load_deap,
    load_gameemo,
    load_seed_iv,
    make_eeg_emotion,
)


@pytest.fixture(scope="module")
def corpora():
    kw = dict(n_subjects=2, n_classes=2, n_trials_per_class=1, n_windows_per_trial=2)
    return {
        "seed": make_eeg_emotion("seed62", random_state=0, **kw),
        "deap": make_eeg_emotion("deap32", random_state=1, **kw),
        "emotiv": make_eeg_emotion("emotiv14", random_state=2, **kw),
    }


def _bunch(X, sfreq, ch_names, subjects, trials, target_names=("a", "b"), y=None):
    n = X.shape[0]
    frame = pd.DataFrame(
        {"subject": subjects, "session": 1, "trial": trials, "start": 0.0, "label": 0}
    )
    return Bunch(
        X=X,
        y=np.zeros(n, dtype=int) if y is None else y,
        groups=np.asarray(subjects),
        trials=np.asarray(trials),
        sfreq=sfreq,
        ch_names=list(ch_names),
        target_names=list(target_names),
        frame=frame,
    )


def test_union_of_three_montages(corpora):
    before = {k: b.X.copy() for k, b in corpora.items()}
    data = harmonize(corpora, sfreq=128)
    n = {k: b.X.shape[0] for k, b in corpora.items()}
    assert data.X.shape == (sum(n.values()), 62, 256) and data.X.dtype == np.float32
    assert data.sfreq == 128.0 and data.ch_names == SEED62  # the largest montage's order
    assert (
        list(data.frame.dataset)
        == ["seed"] * n["seed"] + ["deap"] * n["deap"] + ["emotiv"] * n["emotiv"]
    )
    assert data.datasets == ["seed", "deap", "emotiv"]
    # channel mask and zero padding follow each dataset's montage, matched ignoring case
    upper = {name: {c.upper() for c in names} for name, names in
             (("seed", SEED62), ("deap", DEAP32), ("emotiv", EMOTIV14))}  # fmt: skip
    for name in ("seed", "deap", "emotiv"):
        rows = (data.frame.dataset == name).to_numpy()
        expected = np.array([c in upper[name] for c in SEED62])
        assert (data.channel_mask[rows] == expected).all()
        assert not data.X[rows][:, ~expected].any()
    # 128 Hz data is copied untouched into its channels ("Fp1" of DEAP is "FP1")
    deap = (data.frame.dataset == "deap").to_numpy()
    for k, c in enumerate(DEAP32):
        np.testing.assert_array_equal(
            data.X[deap, SEED62.index(c.upper())], corpora["deap"].X[:, k]
        )
    for k, b in corpora.items():  # inputs unchanged
        np.testing.assert_array_equal(b.X, before[k])
    np.testing.assert_array_equal(data.y, np.concatenate([b.y for b in corpora.values()]))


def test_groups_and_trials_unique_per_dataset(corpora):
    data = harmonize(corpora, sfreq=128)
    f = data.frame
    # one code per (dataset, subject) and per (dataset, trial), never shared across datasets
    pairs = pd.DataFrame({"g": data.groups, "ds": f.dataset, "s": f.subject})
    assert pairs.groupby("g")[["ds", "s"]].nunique().eq(1).all().all()
    assert pairs.drop_duplicates().shape[0] == data.groups.max() + 1 == 6
    trials = pd.DataFrame({"t": data.trials, "ds": f.dataset, "orig": np.concatenate(
        [b.trials for b in corpora.values()])})  # fmt: skip
    assert trials.groupby("t")[["ds", "orig"]].nunique().eq(1).all().all()
    assert trials.drop_duplicates().shape[0] == data.trials.max() + 1 == 12
    # leave one subject out and leave one dataset out never share a window across the split
    for train, test in LeaveOneGroupOut().split(data.X, data.y, f.dataset):
        assert set(f.dataset.iloc[train]).isdisjoint(f.dataset.iloc[test])
        assert set(data.trials[train]).isdisjoint(data.trials[test])


def test_resampling_against_a_sinusoid():
    # 200 Hz -> 128 Hz: a 10 Hz sine stays the 10 Hz sine sampled at 128 Hz (away from the
    # window edges, where the anti-aliasing filter sees zeros); 80 Hz, above the new Nyquist, is
    # removed (plain decimation would alias it to 48 Hz at full amplitude)
    t200 = np.arange(400) / 200
    X = np.stack([np.sin(2 * np.pi * 10 * t200), np.sin(2 * np.pi * 80 * t200)])[None]
    b = _bunch(X.astype(np.float32), 200.0, ["C3", "C4"], [0], [0])
    out = harmonize([b], sfreq=128)
    assert out.X.shape == (1, 2, 256)
    t128 = np.arange(256) / 128
    np.testing.assert_allclose(
        out.X[0, 0, 20:-20], np.sin(2 * np.pi * 10 * t128)[20:-20], atol=2e-3
    )
    assert np.abs(out.X[0, 1, 20:-20]).max() < 1e-2  # -40 dB
    assert out.frame.dataset.tolist() == ["dataset0"]


def test_intersection_and_explicit_channels(corpora):
    data = harmonize(corpora, sfreq=128, channels="intersection")
    # the 14 Emotiv electrodes, in the SEED order, present everywhere
    assert data.ch_names == [c for c in SEED62 if c in {e.upper() for e in EMOTIV14}]
    assert data.channel_mask.all()
    seed = (data.frame.dataset == "seed").to_numpy()
    assert np.abs(data.X[seed]).min(axis=-1).max() > 0  # resampled, not padded

    picked = harmonize(corpora, sfreq=128, channels=["oz", "AF3", "FPZ"])
    assert picked.ch_names == ["oz", "AF3", "FPZ"]
    emotiv = (picked.frame.dataset == "emotiv").to_numpy()
    assert picked.channel_mask[emotiv].tolist()[0] == [False, True, False]
    np.testing.assert_array_equal(
        picked.X[emotiv, 1], corpora["emotiv"].X[:, EMOTIV14.index("AF3")]
    )
    with pytest.raises(ValueError, match=r"harmonize: argument channels holds \['XX1'\]"):
        harmonize(corpora, channels=["AF3", "XX1"])


def test_window_length_rule(corpora):
    kw = dict(n_subjects=1, n_classes=2, n_trials_per_class=1, n_windows_per_trial=2)
    longer = make_eeg_emotion("deap32", window_seconds=3.0, random_state=3, **kw)
    both = {"seed": corpora["seed"], "deap3s": longer}
    with pytest.raises(ValueError, match=r"different lengths at 128 Hz.*length='shortest'"):
        harmonize(both, sfreq=128)
    data = harmonize(both, sfreq=128, length="shortest")
    assert data.X.shape[-1] == 256
    rows = (data.frame.dataset == "deap3s").to_numpy()
    np.testing.assert_array_equal(
        data.X[rows, SEED62.index("FP1")], longer.X[:, DEAP32.index("Fp1"), :256]
    )


def test_errors(corpora):
    seed, deap = corpora["seed"], corpora["deap"]
    renamed = Bunch(**{**deap, "target_names": ["low", "high"]})
    with pytest.raises(ValueError, match="different target_names"):
        harmonize([seed, renamed])
    assert harmonize([seed, renamed], target_names=["neg", "pos"]).target_names == ["neg", "pos"]
    with pytest.raises(ValueError, match="cannot resample dataset 'dataset0' from 200 Hz"):
        harmonize([seed], sfreq=127.123456)
    with pytest.raises(ValueError, match="argument sfreq must be a positive number"):
        harmonize([seed], sfreq=0)
    with pytest.raises(ValueError, match="argument length must be"):
        harmonize([seed], length="longest")
    with pytest.raises(ValueError, match="argument bunches is empty"):
        harmonize([])
    with pytest.raises(TypeError, match="argument bunches must be a dict"):
        harmonize(seed.X)
    with pytest.raises(ValueError, match=r"dataset 'dataset1' of argument bunches lacks \['X'\]"):
        harmonize([seed, {k: v for k, v in deap.items() if k != "X"}])
    strings = Bunch(**{**deap, "y": np.where(deap.y == 1, "pos", "neg")})
    with pytest.raises(ValueError, match="numeric labels and others not"):
        harmonize([seed, strings])
    with pytest.raises(ValueError, match="no channel in common"):
        harmonize([seed, Bunch(**{**deap, "ch_names": [f"X{i}" for i in range(32)]})],
                  channels="intersection")  # fmt: skip


def test_real_loaders_deap_gameemo_seed_iv(tmp_path):
    # the three datasets of GRU-XNet, in their real file formats, binary labels, 2 s windows
    write_deap(tmp_path / "deap", subjects=(1,), n_trials=2, seconds=4)
    write_gameemo(tmp_path / "gameemo", subjects=(1,), seconds=4)
    write_seed_iv(tmp_path / "seed_iv", subjects=(1,), sessions=(1,))
    kw = dict(window_seconds=2.0, verbose=False)
    parts = {
        "deap": load_deap(tmp_path / "deap", **kw),
        "gameemo": load_gameemo(tmp_path / "gameemo", target="binary", **kw),
        "seed_iv": load_seed_iv(tmp_path / "seed_iv", sessions=1, target="binary", **kw),
    }
    data = harmonize(parts, sfreq=128, target_names=["negative", "positive"])
    assert data.X.shape == (sum(b.X.shape[0] for b in parts.values()), 62, 256)
    seed_rows = (data.frame.dataset == "seed_iv").to_numpy()
    # SEED-IV binary: neutral (0), sad (1), fear (2) -> 0, happy (3) -> 1
    np.testing.assert_array_equal(data.y[seed_rows], (data.frame.label[seed_rows] == 3).astype(int))
    assert set(data.frame.label[seed_rows]) == {0, 1, 2, 3}
    assert data.frame.groupby("dataset").subject.nunique().to_dict() == {
        "deap": 1, "gameemo": 1, "seed_iv": 1
    }  # fmt: skip
    assert len(set(data.groups)) == 3
