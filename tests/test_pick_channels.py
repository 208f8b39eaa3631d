"""PickChannels: channels by type, name or index; errors; names out; per-modality fusion."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.ensemble import StackingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut, cross_val_score
from sklearn.pipeline import make_pipeline, make_union
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Bunch
from sklearn.utils._param_validation import InvalidParameterError

from skemotion.datasets import make_ecg_emotion, to_mne
from skemotion.features import DifferentialEntropy, HRVFeatures, PickChannels

NAMES = ["Fz", "ECG", "Cz", "hEOG", "zEMG"]
TYPES = ["eeg", "ecg", "eeg", "eog", "emg"]
SFREQ = 128.0


def _windows(dtype=np.float64, shape=(3, 5, 7)):
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


@pytest.fixture(scope="module")
def multimodal():
    """Synthetic ECG with two EEG channels whose power follows the label: 24 windows of
    10 s at 128 Hz, 3 subjects, channels Fz, ECG, Cz (types eeg, ecg, eeg)."""
    data = make_ecg_emotion(
        n_subjects=3,
        n_trials_per_class=2,
        n_windows_per_trial=2,
        window_seconds=10.0,
        sfreq=SFREQ,
        random_state=0,
    )
    rng = np.random.default_rng(1)
    n, _, n_times = data.X.shape
    gain = (1.0 + data.y)[:, None, None]
    eeg = (10.0 * gain * rng.standard_normal((n, 2, n_times))).astype(np.float32)
    data.X = np.concatenate([eeg[:, :1], data.X, eeg[:, 1:]], axis=1)
    data.ch_names = ["Fz", "ECG", "Cz"]
    data.ch_types = ["eeg", "ecg", "eeg"]
    return data


# --------------------------------------------------------------------------- selection


@pytest.mark.parametrize(
    ("types", "expected"),
    [("eeg", [0, 2]), (["ecg", "emg"], [1, 4]), (("emg", "ecg"), [1, 4]), ("eog", [3])],
)
def test_pick_by_type_keeps_the_channel_order_of_x(types, expected):
    X = _windows()
    pick = PickChannels(types=types, ch_types=TYPES, ch_names=NAMES).fit(X)
    np.testing.assert_array_equal(pick.picks_, expected)
    assert pick.picks_.dtype == np.intp
    assert pick.ch_names_out_ == [NAMES[i] for i in expected]
    assert pick.ch_types_out_ == [TYPES[i] for i in expected]
    assert pick.n_channels_ == pick.n_features_in_ == 5
    np.testing.assert_array_equal(pick.transform(X), X[:, expected])


def test_pick_by_name_honours_the_order_given():
    X = _windows()
    pick = PickChannels(["hEOG", "Fz", "ECG"], ch_names=NAMES).fit(X)
    np.testing.assert_array_equal(pick.picks_, [3, 0, 1])
    assert pick.ch_names_out_ == ["hEOG", "Fz", "ECG"]
    assert pick.ch_types_out_ is None  # no ch_types given
    np.testing.assert_array_equal(pick.transform(X), X[:, [3, 0, 1]])
    # one name as a str, a montage name as ch_names
    np.testing.assert_array_equal(PickChannels("ECG", ch_names=NAMES).fit_transform(X), X[:, [1]])
    X14 = _windows(shape=(2, 14, 3))
    out = PickChannels(["O2", "AF3"], ch_names="emotiv14").fit_transform(X14)
    np.testing.assert_array_equal(out, X14[:, [7, 0]])


@pytest.mark.parametrize("picks", [[4, 1], (4, 1), np.array([4, 1]), [np.int64(4), 1]])
def test_pick_by_index(picks):
    X = _windows()
    pick = PickChannels(picks).fit(X)
    np.testing.assert_array_equal(pick.picks_, [4, 1])
    assert pick.ch_names_out_ is None and pick.ch_types_out_ is None
    np.testing.assert_array_equal(pick.transform(X), X[:, [4, 1]])
    np.testing.assert_array_equal(PickChannels(2).fit_transform(X), X[:, [2]])
    # indices with names and types known
    pick = PickChannels([4, 1], ch_names=NAMES, ch_types=TYPES).fit(X)
    assert pick.ch_names_out_ == ["zEMG", "ECG"] and pick.ch_types_out_ == ["emg", "ecg"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_x_is_not_modified_and_the_output_is_a_copy(dtype):
    X = _windows(dtype)
    before = X.copy()
    for pick in [PickChannels([0]), PickChannels([0, 1, 2, 3, 4]), PickChannels(types="eeg")]:
        pick.set_params(ch_types=TYPES)
        out = pick.fit_transform(X)
        assert out.dtype == dtype and out.ndim == 3
        assert not np.shares_memory(out, X)
        out[...] = 0.0
        np.testing.assert_array_equal(X, before)
    # 2-D X: single-channel windows, 2-D out, a copy too
    X2 = X[:, 0]
    out = PickChannels(0).fit(X2).transform(X2)
    assert out.shape == X2.shape and not np.shares_memory(out, X2)
    np.testing.assert_array_equal(out, X2)


def test_transform_takes_windows_of_any_length_and_checks_the_channels():
    X = _windows()
    pick = PickChannels(types="eeg", ch_types=TYPES).fit(X)
    longer = _windows(shape=(2, 5, 11))
    np.testing.assert_array_equal(pick.transform(longer), longer[:, [0, 2]])
    with pytest.raises(ValueError, match=r"PickChannels: argument X has 4 channels, but .* 5"):
        pick.transform(X[:, :4])
    with pytest.raises(NotFittedError):
        PickChannels([0]).transform(X)


def test_torch_tensor_in_tensor_out():
    X = torch.from_numpy(_windows(np.float32))
    out = PickChannels(["Cz", "Fz"], ch_names=NAMES).fit(X).transform(X)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    torch.testing.assert_close(out, X[:, [2, 0]], rtol=0, atol=0)
    out[...] = 0.0
    assert X.abs().sum() > 0  # a new tensor, not a view


def test_clone_params_and_pickle():
    X = _windows()
    pick = PickChannels(["ECG"], ch_names=NAMES, ch_types=TYPES)
    assert pick.get_params() == {
        "picks": ["ECG"],
        "types": None,
        "ch_names": NAMES,
        "ch_types": TYPES,
    }
    assert clone(pick).get_params() == pick.get_params()
    pick.fit(X)
    again = pickle.loads(pickle.dumps(pick))
    np.testing.assert_array_equal(again.transform(X), pick.transform(X))
    assert again.ch_names_out_ == ["ECG"] and again.ch_types_out_ == ["ecg"]


# ------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({}, r"PickChannels: give the channels to keep.*got neither"),
        (
            {"picks": [0], "types": "eeg"},
            r"PickChannels: arguments picks and types are exclusive.*picks=\[0\].*'eeg'",
        ),
        (
            {"picks": ["Fz", "Oz", "T7"], "ch_names": NAMES},
            r"PickChannels: argument picks names \['Oz', 'T7'\], which X does not have; the "
            r"channels of X are \['Fz', 'ECG', 'Cz', 'hEOG', 'zEMG'\]\.",
        ),
        (
            {"picks": "eeg", "ch_names": NAMES},
            r"picks names \['eeg'\].*to pick by type, use types=\['eeg'\]",
        ),
        (
            {"types": ["eeg", "resp", "EEG"], "ch_types": TYPES},
            r"PickChannels: argument types asks for \['resp', 'EEG'\], which no channel of X "
            r"has; the channel types of X are \['eeg', 'ecg', 'eog', 'emg'\]\.",
        ),
        (
            {"picks": ["Fz", "Cz", "Fz"], "ch_names": NAMES},
            r"PickChannels: argument picks names \['Fz'\] more than once",
        ),
        ({"picks": [1, 2, 1]}, r"PickChannels: argument picks holds the indices \[1\] more"),
        ({"picks": [0, 5, -1]}, r"PickChannels: argument picks holds indices \[5, -1\] out of"),
        (
            {"picks": ["Fz"], "ch_names": NAMES[:2]},
            r"PickChannels: argument ch_names holds 2 names but X has 5 channels",
        ),
        (
            {"types": "eeg", "ch_types": TYPES + ["eeg"]},
            r"PickChannels: argument ch_types holds 6 types but X has 5 channels",
        ),
        ({"types": "eeg"}, r"PickChannels: argument types='eeg' needs the type of every"),
        (
            {"picks": ["Fz"]},
            r"PickChannels: argument picks holds channel names \(\['Fz'\]\) but the names of "
            r"X's channels are unknown",
        ),
        ({"picks": ["Fz", 1], "ch_names": NAMES}, r"PickChannels: argument picks .* not a mix"),
        ({"picks": [0.0]}, r"PickChannels: argument picks must hold channel names"),
        ({"picks": np.array([True, False] * 2 + [True])}, r"picks holds booleans"),
        ({"picks": []}, r"PickChannels: argument picks is empty"),
        ({"types": ()}, r"PickChannels: argument types is empty"),
        (
            {"picks": [0], "ch_names": ["Fz", "Cz", "Fz", "Cz", "Oz"]},
            r"PickChannels: argument ch_names hold \['Cz', 'Fz'\] more than once",
        ),
        ({"types": ["eeg", 1]}, r"PickChannels: argument types must hold channel types"),
        ({"types": "eeg", "ch_types": TYPES[:4] + [None]}, r"argument ch_types must hold"),
    ],
)
def test_errors_name_the_argument_and_what_was_received(params, match):
    X = _windows()
    before = X.copy()
    with pytest.raises(ValueError, match=match):
        PickChannels(**params).fit(X)
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize(
    "params",
    [{"picks": 1.5}, {"types": 3}, {"ch_names": "seed63"}, {"ch_types": "eeg", "picks": 0}],
)
def test_parameter_types_are_validated_declaratively(params):
    with pytest.raises(InvalidParameterError, match=r"PickChannels"):
        PickChannels(**params).fit(_windows())


# ----------------------------------------------------------------------- feature names


def test_feature_names_out_are_the_kept_channels():
    X = _windows()
    by_name = PickChannels(types="eeg", ch_types=TYPES, ch_names=NAMES).fit(X)
    np.testing.assert_array_equal(by_name.get_feature_names_out(), ["Fz", "Cz"])
    assert by_name.get_feature_names_out().dtype == object
    by_index = PickChannels([3, 1]).fit(X)
    np.testing.assert_array_equal(by_index.get_feature_names_out(), ["ch3", "ch1"])
    given = [f"c{i}" for i in range(5)]
    np.testing.assert_array_equal(by_index.get_feature_names_out(given), ["c3", "c1"])
    with pytest.raises(ValueError, match=r"PickChannels: argument input_features should have"):
        by_index.get_feature_names_out(given[:4])
    # the next step of a pipeline names its features after the kept channels
    pipe = make_pipeline(
        PickChannels(["Cz", "Fz"], ch_names=NAMES), DifferentialEntropy(SFREQ, flatten=True)
    )
    names = pipe.fit(_windows(shape=(3, 5, 256))).get_feature_names_out()
    assert names[0].startswith("Cz_") and names[-1].startswith("Fz_") and len(names) == 10
    # 2-D X: one channel, the columns are the time samples
    pick2d = PickChannels(0).fit(X[:, 0]).set_output(transform="pandas")
    np.testing.assert_array_equal(pick2d.get_feature_names_out(), [f"x{i}" for i in range(7)])
    assert list(pick2d.transform(X[:, 0]).columns) == [f"x{i}" for i in range(7)]


# ------------------------------------------------------------- datasets and mne.Epochs


def test_types_and_names_from_a_dataset(multimodal):
    data = multimodal
    pick = PickChannels(types="ecg").fit(data)
    np.testing.assert_array_equal(pick.picks_, [1])
    assert pick.ch_names_out_ == ["ECG"] and pick.ch_types_out_ == ["ecg"]
    np.testing.assert_array_equal(pick.transform(data), data.X[:, [1]])
    np.testing.assert_array_equal(pick.get_feature_names_out(), ["ECG"])
    by_name = PickChannels(["Cz", "ECG"]).fit(data)
    assert by_name.ch_types_out_ == ["eeg", "ecg"]
    np.testing.assert_array_equal(by_name.transform(data.X), data.X[:, [2, 1]])
    # what the dataset carries must agree with the parameters
    with pytest.raises(ValueError, match=r"PickChannels: the channel types of X \(dataset\) "):
        PickChannels(types="ecg", ch_types=["eeg", "ecg", "eog"]).fit(data)
    with pytest.raises(ValueError, match=r"PickChannels: the channels of X \(dataset\) differ"):
        PickChannels(types="ecg", ch_names=["Fz", "ECG", "Pz"]).fit(data)
    inconsistent = Bunch(**data)
    inconsistent.ch_types = ["eeg", "ecg"]
    with pytest.raises(ValueError, match=r"argument X \(dataset\) gives 2 channel types but its"):
        PickChannels(types="ecg").fit(inconsistent)


def test_types_and_names_from_mne_epochs(multimodal):
    mne = pytest.importorskip("mne")
    data = multimodal
    epochs = to_mne(data)
    out = PickChannels(types="eeg").fit_transform(epochs)
    np.testing.assert_array_equal(out, data.X[:, [0, 2]])  # back in microvolts, exactly
    # a stimulus channel is left out of the windows, and of the types
    info = mne.create_info(["STI", *data.ch_names], SFREQ, ["stim", *data.ch_types])
    stim = np.zeros((len(data.X), 1, data.X.shape[2]))
    with_stim = mne.EpochsArray(
        np.concatenate([stim, epochs.get_data()], axis=1), info, verbose=False
    )
    pick = PickChannels(types="ecg").fit(with_stim)
    np.testing.assert_array_equal(pick.picks_, [1])
    assert pick.ch_names_out_ == ["ECG"]
    np.testing.assert_array_equal(pick.transform(with_stim), data.X[:, [1]])
    # Epochs whose types differ from those of fit (same names)
    retyped = epochs.copy().set_channel_types({"Cz": "eog"}, verbose=False)
    pick = PickChannels(types="eeg").fit(epochs)
    with pytest.raises(ValueError, match=r"channel types of X \(mne.Epochs\) differ from those"):
        pick.transform(retyped)
    assert epochs.get_channel_types() == ["eeg", "ecg", "eeg"]  # the user's epochs unchanged


# ---------------------------------------------------------------------------- fusion


def _per_modality(data):
    eeg = make_pipeline(
        PickChannels(types="eeg", ch_types=data.ch_types, ch_names=data.ch_names),
        DifferentialEntropy(data.sfreq, flatten=True),
        StandardScaler(),
    )
    # 10 s windows: LF and HF are NaN (too short), which the imputer sets to 0
    ecg = make_pipeline(
        PickChannels(types="ecg", ch_types=data.ch_types),
        HRVFeatures(data.sfreq),
        SimpleImputer(keep_empty_features=True),
        StandardScaler(),
    )
    return eeg, ecg


def test_late_fusion_in_a_stacking_classifier_with_leave_one_subject_out(multimodal):
    data = multimodal
    eeg, ecg = _per_modality(data)
    stack = StackingClassifier(
        [
            ("eeg", make_pipeline(eeg, LogisticRegression())),
            ("ecg", make_pipeline(ecg, LogisticRegression())),
        ],
        cv=2,
    )
    scores = cross_val_score(stack, data.X, data.y, groups=data.groups, cv=LeaveOneGroupOut())
    assert scores.shape == (3,)
    assert scores.mean() > 0.6  # the EEG power follows the label
    fitted = stack.fit(data.X, data.y)
    eeg, ecg = fitted.named_estimators_["eeg"][0], fitted.named_estimators_["ecg"][0]
    assert eeg[0].ch_names_out_ == ["Fz", "Cz"] and ecg[0].ch_types_out_ == ["ecg"]
    # each modality's features saw its own channels only
    assert eeg[1].n_channels_ == 2 and ecg[1].n_channels_ == 1


def test_early_fusion_in_a_feature_union(multimodal):
    data = multimodal
    eeg, ecg = _per_modality(data)
    union = make_union(eeg, ecg)
    features = union.fit_transform(data.X)
    names = union.get_feature_names_out()
    assert features.shape == (len(data.X), 10 + 9) == (len(data.X), len(names))
    assert names[0].startswith("pipeline-1__Fz_") and names[10].startswith("pipeline-2__ch1_")
    model = make_pipeline(make_union(*_per_modality(data)), LogisticRegression())
    scores = cross_val_score(model, data.X, data.y, groups=data.groups, cv=LeaveOneGroupOut())
    assert scores.shape == (3,) and scores.mean() > 0.6
