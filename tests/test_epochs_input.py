"""mne.Epochs and skemotion datasets as X: the windows, rate and channel names they carry.

The rule (``skemotion._validation.signal_metadata``, documented in the conventions): the
windows are read as ``from_mne`` reads them; a ``sfreq`` or ``ch_names`` parameter left to
None takes X's; one that disagrees with X's is an error; at transform/predict time, Epochs or
a dataset whose rate or channels differ from those seen in fit are an error.
"""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skemotion.datasets import from_mne, make_eeg_emotion, to_mne
from skemotion.features import BandpassFilter, DifferentialEntropy, STFTSpectrogram

mne = pytest.importorskip("mne")
mne.set_log_level("WARNING")


@pytest.fixture(scope="module")
def data():
    return make_eeg_emotion("emotiv14", n_subjects=3, n_classes=2, n_trials_per_class=1,
                            n_windows_per_trial=4, window_seconds=1.0, random_state=0)  # fmt: skip


@pytest.fixture(scope="module")
def epochs(data):
    return to_mne(data)


def test_a_transformer_reads_the_rate_and_names_from_epochs(data, epochs):
    de = DifferentialEntropy(flatten=True).fit(epochs)
    # the rate came from the Epochs: the same features as with sfreq given on the arrays
    expected = DifferentialEntropy(data.sfreq, flatten=True).fit_transform(data.X)
    np.testing.assert_allclose(de.transform(epochs), expected, rtol=1e-6)
    # the output columns are named after the Epochs' channels
    names = de.get_feature_names_out()
    assert names[0] == f"{data.ch_names[0]}_delta" and len(names) == 14 * 5
    # a skemotion dataset carries the same
    np.testing.assert_allclose(
        DifferentialEntropy(flatten=True).fit_transform(data), expected, rtol=1e-6
    )
    # other transformers with a rate
    np.testing.assert_allclose(
        BandpassFilter(l_freq=4.0, h_freq=30.0).fit_transform(epochs),
        BandpassFilter(data.sfreq, l_freq=4.0, h_freq=30.0).fit_transform(data.X),
        rtol=1e-5,
        atol=1e-6,
    )
    assert STFTSpectrogram(n_fft=64).fit(epochs).transform(epochs).shape[:2] == (len(data.X), 14)


def test_cross_validation_over_epochs_says_to_use_the_windows(data, epochs):
    # scikit-learn indexes an object without ``shape`` one element at a time: a list of
    # one-epoch Epochs objects reaches the estimator; it says what to do instead
    pipe = make_pipeline(DifferentialEntropy(flatten=True), StandardScaler(), LogisticRegression())
    with pytest.raises(ValueError, match=r"list of \d+ mne.Epochs objects.*from_mne\(epochs\)"):
        cross_val_score(pipe, epochs, epochs.events[:, 2], groups=epochs.metadata["subject"],
                        cv=LeaveOneGroupOut(), error_score="raise")  # fmt: skip
    # the way out: the dataset's windows, its rate given
    back = from_mne(epochs)
    on_arrays = make_pipeline(
        DifferentialEntropy(back.sfreq, flatten=True), StandardScaler(), LogisticRegression()
    )
    scores = cross_val_score(on_arrays, back.X, back.y, groups=back.groups, cv=LeaveOneGroupOut())
    assert scores.shape == (3,)
    # fit and predict on whole Epochs need no array
    pipe.fit(epochs, epochs.events[:, 2])
    np.testing.assert_array_equal(
        pipe.predict(epochs), on_arrays.fit(back.X, back.y).predict(back.X) + 1
    )


def test_a_rate_that_disagrees_is_an_error(data, epochs):
    with pytest.raises(
        ValueError,
        match=r"DifferentialEntropy: argument sfreq=256.0 but X \(mne.Epochs\) is sampled at "
        r"128 Hz; set sfreq=128 or sfreq=None",
    ):
        DifferentialEntropy(256.0).fit(epochs)
    de = DifferentialEntropy().fit(epochs)
    faster = epochs.copy().resample(256.0)
    with pytest.raises(ValueError, match=r"sampled at 256 Hz but the estimator was fitted on "
                       r"data sampled at 128 Hz"):  # fmt: skip
        de.transform(faster)
    # an array does not carry its rate
    with pytest.raises(ValueError, match="argument sfreq is None and X was an array"):
        DifferentialEntropy().fit(data.X)


def test_mismatched_channel_names_are_errors(data, epochs):
    from skemotion.classifiers import SSTEmotionNetClassifier

    # ch_names given that disagree with the Epochs' channels (two swapped)
    names = list(data.ch_names)
    names[0], names[1] = names[1], names[0]
    clf = SSTEmotionNetClassifier(names, max_epochs=1, device="cpu")
    with pytest.raises(ValueError, match=r"SSTEmotionNetClassifier: the channels of X "
                       r"\(mne.Epochs\) differ from argument ch_names \(position 0: 'AF3' "
                       r"against 'F7'\)"):  # fmt: skip
        clf.fit(epochs, data.y)
    # at transform time: Epochs with their channels in another order than in fit
    de = DifferentialEntropy().fit(epochs)
    reordered = epochs.copy().reorder_channels(names)
    with pytest.raises(ValueError, match=r"differ from those seen in fit \(position 0: 'F7' "
                       r"against 'AF3'\)"):  # fmt: skip
        de.transform(reordered)
    with pytest.raises(ValueError, match="differ from those seen in fit"):
        de.transform(epochs.copy().drop_channels(["AF4"]))
    # a dataset whose names do not match its windows
    broken = dict(data, ch_names=data.ch_names[:-1])
    with pytest.raises(ValueError, match=r"argument X \(dataset\) names 13 channels but its "
                       "windows have 14"):  # fmt: skip
        DifferentialEntropy().fit(broken)


def test_deep_classifier_takes_names_and_rate_from_epochs(data, epochs):
    from skemotion.classifiers import SSTEmotionNetClassifier

    small = dict(grid_size=4, temporal_depth=4, spectral_growth=2, temporal_growth=2,
                 spectral_layers=1, temporal_layers=1, hidden_size=8, interpolation="none",
                 max_epochs=1, random_state=0, device="cpu")  # fmt: skip
    on_epochs = SSTEmotionNetClassifier(**small).fit(epochs, data.y)
    on_arrays = SSTEmotionNetClassifier(data.ch_names, sfreq=data.sfreq, **small)
    on_arrays.fit(data.X, data.y)
    np.testing.assert_allclose(
        on_epochs.predict_proba(epochs), on_arrays.predict_proba(data.X), rtol=1e-5, atol=1e-6
    )
    # without names or rate, an array is refused with the way out
    with pytest.raises(ValueError, match="argument ch_names is None"):
        SSTEmotionNetClassifier(**small).fit(data.X, data.y)


def test_dropped_epochs_and_the_users_object(data, epochs):
    # epochs read lazily with a rejection threshold: some are dropped when read
    raw_like = mne.EpochsArray(epochs.get_data(), epochs.info, events=epochs.events,
                               event_id=epochs.event_id, metadata=epochs.metadata)  # fmt: skip
    lazy = mne.Epochs(
        mne.io.RawArray(np.concatenate(list(raw_like.get_data()), axis=1), raw_like.info),
        events=np.c_[np.arange(len(raw_like)) * 128, np.zeros(len(raw_like), int),
                     raw_like.events[:, 2]],  # fmt: skip
        event_id=raw_like.event_id, tmin=0.0, tmax=127 / 128, baseline=None,
        reject=dict(eeg=np.percentile(np.ptp(raw_like.get_data(), axis=-1).max(1), 60)),
        preload=False, metadata=raw_like.metadata,
    )  # fmt: skip
    X = from_mne(lazy).X
    assert 0 < len(X) < len(raw_like)  # the threshold drops some
    de = DifferentialEntropy(flatten=True).fit(lazy)
    assert not lazy.preload  # read from a copy: the user's object is untouched
    np.testing.assert_allclose(de.transform(lazy), de.transform(X), rtol=1e-6)
    # labels for every event against fewer epochs: the length error names y
    clf = make_pipeline(DifferentialEntropy(flatten=True), LogisticRegression())
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clf.fit(lazy, raw_like.events[:, 2])
