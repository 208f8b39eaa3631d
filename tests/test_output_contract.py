"""The output contract of the transformers: feature names and output containers.

- scikit-learn's checks of ``get_feature_names_out`` and ``set_output`` over every transformer
  of ``test_common.REGISTRY``;
- a 2-D output becomes a DataFrame whose columns are ``get_feature_names_out()``; an output
  with more than two dimensions (windows, spectrograms, electrode maps) stays an array, with
  ``set_output`` or with the global ``transform_output``;
- the names on real EEG/ECG windows, ``input_features``, and a Pipeline end to end.
"""

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import (
    check_global_output_transform_pandas,
    check_set_output_transform_pandas,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
)
from test_common import REGISTRY

from skemotion.datasets import make_ecg_emotion, make_eeg_emotion
from skemotion.features import (
    BandpassFilter,
    BandPower,
    BaselineRemoval,
    DifferentialEntropy,
    ElectrodeGrid,
    EMGContamination,
    HRVFeatures,
    NotchFilter,
    STFTSpectrogram,
)
from skemotion.transfer import EuclideanAlignment, SubjectStandardizer

BANDS = ("delta", "theta", "alpha", "beta", "gamma")  # the documented default band names
HRV_NAMES = ("n_beats", "mean_rr", "mean_hr", "sdnn", "rmssd", "pnn50", "lf", "hf", "lf_hf")

#: transformers whose output always has more than two dimensions: never a DataFrame
MULTI_D = (STFTSpectrogram, ElectrodeGrid)

TRANSFORMERS = [
    est
    for instances, _ in REGISTRY.values()
    for est in instances
    if hasattr(est, "transform") and not hasattr(est, "predict")
]
IDS = [type(est).__name__ for est in TRANSFORMERS]  # pytest numbers the repeated names


def test_every_feature_transformer_is_covered():
    covered = {type(est) for est in TRANSFORMERS}
    assert {
        BandpassFilter,
        BandPower,
        BaselineRemoval,
        DifferentialEntropy,
        ElectrodeGrid,
        EMGContamination,
        HRVFeatures,
        NotchFilter,
        STFTSpectrogram,
        EuclideanAlignment,
        SubjectStandardizer,
    } <= covered


@pytest.mark.parametrize(
    "check",
    [check_transformer_get_feature_names_out, check_transformer_get_feature_names_out_pandas],
)
@pytest.mark.parametrize("estimator", TRANSFORMERS, ids=IDS)
def test_sklearn_feature_names_checks(estimator, check):
    check(type(estimator).__name__, clone(estimator))


@pytest.mark.parametrize(
    "check", [check_set_output_transform_pandas, check_global_output_transform_pandas]
)
@pytest.mark.parametrize(
    "estimator",
    [e for e in TRANSFORMERS if not isinstance(e, MULTI_D)],
    ids=lambda est: type(est).__name__,
)
def test_sklearn_set_output_checks(estimator, check):
    check(type(estimator).__name__, clone(estimator))


@pytest.mark.parametrize("context", ["local", "global"])
@pytest.mark.parametrize(
    "estimator",
    [e for e in TRANSFORMERS if isinstance(e, MULTI_D)],
    ids=lambda est: type(est).__name__,
)
def test_outputs_with_more_than_two_dimensions_stay_arrays(estimator, context):
    """The 2-D inputs of scikit-learn's set_output checks, for the transformers whose output
    cannot be a DataFrame: the array comes back unchanged instead of an error."""
    X = np.random.default_rng(0).uniform(size=(20, 5))
    df = pd.DataFrame(X, columns=[f"col{i}" for i in range(5)])
    want = clone(estimator).fit_transform(X)
    assert want.ndim > 2
    est = clone(estimator)
    if context == "local":
        est.set_output(transform="pandas")
    with sklearn.config_context(transform_output="pandas" if context == "global" else "default"):
        for got in (est.fit_transform(X), est.fit(df).transform(df), est.fit_transform(df)):
            assert type(got) is np.ndarray
            np.testing.assert_array_equal(got, want)


# --- real windows ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def eeg():
    return make_eeg_emotion(
        "emotiv14",
        n_subjects=2,
        n_classes=2,
        n_trials_per_class=1,
        n_windows_per_trial=4,
        window_seconds=1.0,
        random_state=0,
    )


@pytest.fixture(scope="module")
def ecg():
    return make_ecg_emotion(
        n_subjects=2, n_trials_per_class=1, n_windows_per_trial=2, random_state=0
    )


def test_band_features_dataframe_columns(eeg):
    n_ch = len(eeg.ch_names)
    de = DifferentialEntropy(eeg.sfreq, flatten=True).set_output(transform="pandas")
    out = de.fit_transform(eeg.X)
    want = DifferentialEntropy(eeg.sfreq, flatten=True).fit_transform(eeg.X)
    assert isinstance(out, pd.DataFrame)
    assert out.columns.tolist() == [f"ch{c}_{b}" for c in range(n_ch) for b in BANDS]
    np.testing.assert_array_equal(out.to_numpy(), want)
    # the channel names, when given, name the columns: <channel>_<band>, channel-major
    named = de.get_feature_names_out(eeg.ch_names).tolist()
    assert named[:6] == [f"AF3_{b}" for b in BANDS] + ["F7_delta"]
    assert named == [f"{c}_{b}" for c in eeg.ch_names for b in BANDS]
    # BandPower with named bands, through the global configuration
    bands = {"slow": (4.0, 8.0), "fast": (8.0, 30.0)}
    with sklearn.config_context(transform_output="pandas"):
        bp = BandPower(eeg.sfreq, bands=bands, flatten=True).fit_transform(eeg.X)
    assert bp.columns.tolist() == [f"ch{c}_{b}" for c in range(n_ch) for b in ("slow", "fast")]
    assert bp.shape == (len(eeg.X), 2 * n_ch)


def test_hrv_dataframe_columns(ecg):
    out = HRVFeatures(ecg.sfreq).set_output(transform="pandas").fit_transform(ecg.X)
    assert isinstance(out, pd.DataFrame)
    assert out.columns.tolist() == [f"ch0_{f}" for f in HRV_NAMES]
    two_ch = np.concatenate([ecg.X, -ecg.X], axis=1)
    est = HRVFeatures(ecg.sfreq).fit(two_ch)
    assert est.get_feature_names_out(["I", "II"]).tolist() == [
        f"{c}_{f}" for c in ("I", "II") for f in HRV_NAMES
    ]
    # single-channel windows as a 2-D DataFrame: the bare feature names, the DataFrame's index
    df = pd.DataFrame(ecg.X[:, 0], index=[f"w{i}" for i in range(len(ecg.X))])
    df.columns = [f"t{i}" for i in range(df.shape[1])]
    out = HRVFeatures(ecg.sfreq).set_output(transform="pandas").fit_transform(df)
    assert out.columns.tolist() == list(HRV_NAMES)
    assert out.index.tolist() == df.index.tolist()


@pytest.mark.parametrize(
    "make",
    [
        lambda sfreq: DifferentialEntropy(sfreq),
        lambda sfreq: BandPower(sfreq),
        lambda sfreq: HRVFeatures(256.0),
        lambda sfreq: BandpassFilter(sfreq),
        lambda sfreq: EuclideanAlignment(),
        lambda sfreq: SubjectStandardizer(percentile_range=(2.5, 97.5)),
    ],
    ids=["DE", "BandPower", "HRV", "Bandpass", "EA", "SubjectStandardizer"],
)
def test_input_features_are_checked(eeg, make):
    est = make(eeg.sfreq).fit(eeg.X)
    name = type(est).__name__
    with pytest.raises(ValueError, match=rf"^{name}: argument input_features should have length"):
        est.get_feature_names_out(eeg.ch_names[:3])
    # fitted on a 2-D DataFrame: input_features must be its columns
    df = pd.DataFrame(eeg.X[:, 0], columns=[f"s{i}" for i in range(eeg.X.shape[2])])
    est = make(eeg.sfreq).fit(df)
    bad = [f"b{i}" for i in range(df.shape[1])]
    with pytest.raises(ValueError, match=rf"^{name}: argument input_features is not equal to"):
        est.get_feature_names_out(bad)
    np.testing.assert_array_equal(
        est.get_feature_names_out(df.columns), est.get_feature_names_out()
    )


def test_shape_preserving_names_are_the_input_names(eeg):
    for est in (BandpassFilter(eeg.sfreq), NotchFilter(eeg.sfreq), SubjectStandardizer()):
        est.fit(eeg.X)
        assert est.get_feature_names_out().tolist() == [f"ch{i}" for i in range(14)]
        assert est.get_feature_names_out(eeg.ch_names).tolist() == eeg.ch_names
        X2 = eeg.X[:, 0]
        assert clone(est).fit(X2).get_feature_names_out().tolist() == [
            f"x{i}" for i in range(X2.shape[1])
        ]


def test_windows_stay_arrays_under_pandas_output(eeg):
    """Outputs with more than two dimensions come back as the arrays the default gives."""
    makers = [
        lambda: BandpassFilter(eeg.sfreq),
        lambda: NotchFilter(eeg.sfreq),
        lambda: BaselineRemoval(),
        lambda: EMGContamination(eeg.sfreq, random_state=0),
        lambda: EuclideanAlignment(),
        lambda: SubjectStandardizer(),
        lambda: DifferentialEntropy(eeg.sfreq),  # (n, C, n_bands), not flattened
        lambda: STFTSpectrogram(eeg.sfreq, n_fft=64),
    ]
    for make in makers:
        want = make().fit_transform(eeg.X)
        assert want.ndim > 2
        with sklearn.config_context(transform_output="pandas"):
            got = make().fit_transform(eeg.X)
        assert type(got) is np.ndarray, type(make())
        np.testing.assert_array_equal(got, want)
        got = make().set_output(transform="pandas").fit(eeg.X).transform(eeg.X)
        assert type(got) is np.ndarray
    de = DifferentialEntropy(eeg.sfreq).fit_transform(eeg.X)
    grid = ElectrodeGrid(eeg.ch_names).set_output(transform="pandas").fit_transform(de)
    assert type(grid) is np.ndarray and grid.shape == (len(de), 5, 9, 9)


def test_shape_preserving_on_a_2d_dataframe_keeps_columns_and_index(eeg):
    X2 = eeg.X[:, 0]
    df = pd.DataFrame(X2, columns=[f"s{i}" for i in range(X2.shape[1])])
    df.index = [f"w{i}" for i in range(len(df))]
    est = SubjectStandardizer().set_output(transform="pandas")
    out = est.fit_transform(df, groups=eeg.groups)
    assert isinstance(out, pd.DataFrame)
    assert out.columns.tolist() == df.columns.tolist()
    assert out.index.tolist() == df.index.tolist()
    np.testing.assert_array_equal(
        out.to_numpy(), SubjectStandardizer().fit_transform(X2, groups=eeg.groups)
    )


def test_pipeline_end_to_end(eeg):
    X = eeg.X.copy()
    pipe = make_pipeline(
        BandpassFilter(eeg.sfreq, l_freq=1.0, h_freq=45.0),
        DifferentialEntropy(eeg.sfreq, flatten=True),
        LogisticRegression(max_iter=500),
    ).set_output(transform="pandas")
    pipe.fit(eeg.X, eeg.y)
    features = pipe[:-1].transform(eeg.X)
    want = [f"ch{c}_{b}" for c in range(len(eeg.ch_names)) for b in BANDS]
    assert isinstance(features, pd.DataFrame) and features.columns.tolist() == want
    assert pipe[-1].feature_names_in_.tolist() == want
    assert pipe.predict(eeg.X).shape == (len(eeg.X),)
    # the names of the whole chain, from the channel names
    named = pipe[:-1].get_feature_names_out(eeg.ch_names).tolist()
    assert named == [f"{c}_{b}" for c in eeg.ch_names for b in BANDS]
    np.testing.assert_array_equal(eeg.X, X)  # nothing the user passed is modified
    # the same through the global configuration, and numerically the default output
    default = make_pipeline(
        BandpassFilter(eeg.sfreq, l_freq=1.0, h_freq=45.0),
        DifferentialEntropy(eeg.sfreq, flatten=True),
    ).fit_transform(eeg.X)
    with sklearn.config_context(transform_output="pandas"):
        glob = make_pipeline(
            BandpassFilter(eeg.sfreq, l_freq=1.0, h_freq=45.0),
            DifferentialEntropy(eeg.sfreq, flatten=True),
        ).fit_transform(eeg.X)
    assert isinstance(glob, pd.DataFrame) and glob.columns.tolist() == want
    np.testing.assert_array_equal(glob.to_numpy(), default)


def test_set_output_survives_clone_and_rejects_unknown_containers():
    est = DifferentialEntropy(128.0, flatten=True).set_output(transform="pandas")
    X = np.random.default_rng(0).standard_normal((4, 2, 128))
    assert isinstance(clone(est).fit_transform(X), pd.DataFrame)
    assert type(est.set_output(transform="default").fit_transform(X)) is np.ndarray
    assert est.set_output() is est
    with pytest.raises(ValueError, match=r"^DifferentialEntropy: argument transform .*'excel'"):
        est.set_output(transform="excel")
