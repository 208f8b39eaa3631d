"""Reliability of the feature transformers, their functional core and the ECG preprocessing.

One test per class of defect, each with several cases:

- the functional core imports alone (no pandas, no dataset loader);
- arguments are never silently reinterpreted: a value is checked the same way whether it comes
  alone or inside a list, and what no parameter means (a bool for a number, NaN, a negative
  grid cell) is refused;
- every array argument (a baseline, groups, per-window SNRs) gets the finite-value and shape
  checks X gets;
- messages name the estimator (or function), the argument and the problem.
"""

import subprocess
import sys

import numpy as np
import pytest
import torch

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
from skemotion.features.functional import (
    band_power,
    bandpass_filter,
    differential_entropy,
    electrode_grid,
    emg_contamination,
    notch_filter,
    remove_baseline,
    stft_spectrogram,
)
from skemotion.ssl import person_zscore, preprocess_ecg
from skemotion.transfer import SubjectStandardizer

torch.set_num_threads(1)

RNG = np.random.default_rng(0)
X = RNG.standard_normal((6, 3, 256))


def test_functional_core_imports_alone():
    code = (
        "import sys\n"
        "import skemotion.features.functional as F\n"
        "heavy = [m for m in ('pandas', 'skemotion.datasets', 'sklearn', 'torch') "
        "if m in sys.modules]\n"
        "print(','.join(heavy))\n"
        "assert hasattr(F, 'differential_entropy')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""  # none of pandas, the loaders, scikit-learn, torch
    # and the montage constants the grids need come from the low-level module
    code = (
        "import sys\n"
        "from skemotion.features.functional import electrode_grid\n"
        "import numpy as np\n"
        "from skemotion._montages import DEAP32\n"
        "print(electrode_grid(np.ones((1, 32, 2)), DEAP32).shape)\n"
        "print('pandas' in sys.modules, 'skemotion.datasets' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["(1, 2, 9, 9)", "False False"]


@pytest.mark.parametrize(
    "make, match",
    [
        # a grid cell must be ints >= 0: a negative one used to wrap onto another cell
        (lambda: ElectrodeGrid(["a", "b"], grid={"a": (0, 0), "b": (-1, 0)}), r"'b': \(-1, 0\)"),
        (lambda: ElectrodeGrid(["a", "b"], grid={"a": (0, 0), "b": (1, -2)}), r"'b': \(1, -2\)"),
        (lambda: ElectrodeGrid(["a", "b"], grid={"a": (0, 0), "b": (0.6, 1)}), r"\(0\.6, 1\)"),
        (lambda: ElectrodeGrid(["a", "b"], grid={"a": (0, 0), "b": (True, 1)}), r"\(True, 1\)"),
        (lambda: ElectrodeGrid(["a", "b"], grid={"a": (0, 0), "b": (1, 1, 1)}), r"\(1, 1, 1\)"),
        # a notch frequency is checked alike alone or in a list, and above Nyquist too
        (lambda: NotchFilter(128.0, freqs=[-5.0]), r"NotchFilter: argument freqs .*-5\.0"),
        (lambda: NotchFilter(128.0, freqs=-5.0), r"NotchFilter: argument freqs .*-5\.0"),
        (lambda: NotchFilter(128.0, freqs=(50.0, 100.0)), r"argument freqs .*Nyquist.*100\.0"),
        (lambda: NotchFilter(128.0, freqs=[50.0, np.nan]), r"argument freqs .*nan"),
        (lambda: NotchFilter(128.0, freqs=[]), r"NotchFilter: argument freqs is empty"),
        (lambda: NotchFilter(128.0, freqs=[True]), r"NotchFilter: argument freqs"),
        # a bool is not a number, NaN and infinity are not values, wherever they hide
        (lambda: BandpassFilter(128.0, order=True), r"BandpassFilter: argument order .*bool"),
        (lambda: DifferentialEntropy(128.0, filter_order=True), r"argument filter_order .*bool"),
        (lambda: EMGContamination(128.0, snr_db=(0, np.inf)), r"EMGContamination: .*snr_db"),
        (lambda: EMGContamination(128.0, snr_db=np.nan), r"EMGContamination: .*snr_db"),
        (lambda: EMGContamination(128.0, snr_db=[True, 2]), r"EMGContamination: .*snr_db"),
        (lambda: STFTSpectrogram(128.0, n_fft=16, output_shape=(True, 4)), r"output_shape"),
        (lambda: HRVFeatures(sfreq=True), r"HRVFeatures: argument sfreq must be a number, not"),
        # a pass band starting above Nyquist used to return zeros
        (lambda: BandpassFilter(128.0, l_freq=70.0, h_freq=None), r"l_freq .*Nyquist"),
    ],
)
def test_arguments_never_silently_reinterpreted(make, match):
    est = make()
    data = X[:, :2] if isinstance(est, ElectrodeGrid) else X
    with pytest.raises(ValueError, match=match):
        est.fit(data)


def test_functional_arguments_never_silently_reinterpreted():
    with pytest.raises(ValueError, match=r"notch_filter: argument freqs .*-5\.0"):
        notch_filter(X, 128.0, [-5.0])
    with pytest.raises(ValueError, match=r"notch_filter: argument freqs .*-5\.0"):
        notch_filter(X, 128.0, -5.0)
    with pytest.raises(ValueError, match=r"bandpass_filter: argument l_freq .*-1"):
        bandpass_filter(X, 128.0, -1.0, 30.0)  # used to give a low-pass filter
    with pytest.raises(ValueError, match=r"electrode_grid: argument grid .*\(-1, 0\)"):
        electrode_grid(X[:, :2, :4], ["a", "b"], {"a": (0, 0), "b": (-1, 0)})
    with pytest.raises(ValueError, match=r"emg_contamination: argument groups\[0\]"):
        emg_contamination(X, 128.0, 0.0, groups=[[0.7, 1.2]], rng=0)  # floats used to truncate
    with pytest.raises(ValueError, match=r"emg_contamination: argument groups: channel"):
        emg_contamination(X, 128.0, 0.0, groups=[[0, 1], [1, 2]], rng=0)
    with pytest.raises(ValueError, match=r"band_power: argument sfreq"):
        band_power(X, np.inf)
    with pytest.raises(ValueError, match=r"preprocess_ecg: argument target_sfreq=333\.333"):
        preprocess_ecg(X, 700.0, target_sfreq=333.333)  # no longer approximated silently
    # the two spellings of the literature's grid are one grid (not a 9x9 projection)
    de = RNG.standard_normal((2, 14, 5))
    np.testing.assert_array_equal(
        ElectrodeGrid("emotiv14", grid="9X9").fit_transform(de),
        ElectrodeGrid("emotiv14", grid="9x9").fit_transform(de),
    )


def _nan_at(a, index):
    a = np.array(a, dtype=float)
    a[index] = np.nan
    return a


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda: (
                DifferentialEntropy(128.0, baseline="subtract")
                .fit(X)
                .transform(X, baseline=_nan_at(np.ones((6, 3, 512)), (0, 0, 5)))
            ),
            r"DifferentialEntropy: argument baseline contains NaN or infinity \(1 values\)",
        ),
        (
            lambda: (
                DifferentialEntropy(128.0, baseline="subtract")
                .fit(X)
                .transform(torch.from_numpy(X), baseline=torch.full((3, 512), float("inf")))
            ),
            r"DifferentialEntropy: argument baseline contains NaN or infinity",
        ),
        (
            lambda: BaselineRemoval().fit(X).transform(X, baseline=_nan_at(np.ones((3, 10)), 0)),
            r"BaselineRemoval: argument baseline contains NaN",
        ),
        (
            lambda: (
                BaselineRemoval("base_mean")
                .fit(X[:, 0])
                .transform(X[:, 0], baseline=_nan_at(np.ones(300), 3))
            ),
            r"BaselineRemoval: argument baseline contains NaN",
        ),
        (
            lambda: remove_baseline(X, _nan_at(np.ones((6, 3, 10)), (5, 2, 9))),
            r"remove_baseline: argument baseline contains NaN",
        ),
        (
            lambda: SubjectStandardizer().fit(X).transform(X, groups=[0, 0, np.nan, 1, 1, 1]),
            r"SubjectStandardizer: argument groups contains missing values \(None, NaN or "
            r"infinity: 1 of 6\)",
        ),
        (
            lambda: SubjectStandardizer().fit_transform(
                X, groups=np.array(["a", None] * 3, object)
            ),
            r"SubjectStandardizer: argument groups contains missing values \(None, NaN or "
            r"infinity: 3 of 6\)",
        ),
        (
            lambda: person_zscore(X, [0, 0, 1, 1, 2, np.inf]),
            r"person_zscore: argument groups contains missing values",
        ),
        (
            lambda: emg_contamination(X, 128.0, [0, 1, 2, 3, 4, np.nan], rng=0),
            r"emg_contamination: argument snr_db contains NaN",
        ),
    ],
)
def test_array_arguments_get_the_checks_of_x(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda: DifferentialEntropy(128.0, bands=[(10, 5)]).fit(X),
            r"DifferentialEntropy: argument bands: band '10-5' .*0 <= low < high; got \(10, 5\)",
        ),
        (
            lambda: BandPower(128.0, bands={"alpha": (8, np.inf)}).fit(X),
            r"BandPower: argument bands: band 'alpha'",
        ),
        (
            lambda: differential_entropy(X, 128.0, bands=[(10, 5)]),
            r"differential_entropy: argument bands: band '10-5'",
        ),
        (lambda: DifferentialEntropy(128.0, bands=[]).fit(X), r"DifferentialEntropy: .*bands"),
        (lambda: ElectrodeGrid(["a"], grid={}).fit(X[:, :1]), r"ElectrodeGrid: argument grid is"),
        (lambda: ElectrodeGrid(["Cz"], grid="1x5").fit(X[:, :1]), r"ElectrodeGrid: argument grid"),
        (
            lambda: ElectrodeGrid(["Cz", "Fz", "Pz"], grid="32x32", interpolation="linear").fit(
                X[:, :, :4]
            ),
            r"ElectrodeGrid: interpolation='linear' needs at least 3 electrodes not on one line",
        ),
        (
            lambda: SubjectStandardizer().fit(X).transform(X, groups=[0, 1]),
            r"SubjectStandardizer: argument groups must have shape \(6,\), one subject per "
            r"window; got shape \(2,\)",
        ),
        (
            lambda: (
                DifferentialEntropy(128.0, baseline="subtract")
                .fit(X)
                .transform(X, baseline=np.ones((6, 2, 512)))
            ),
            r"DifferentialEntropy: argument baseline must have shape \(n_windows, n_channels, "
            r"n_baseline_times\) = \(6, 3, \.\.\.\) .*for X of shape \(6, 3, 256\); got "
            r"\(6, 2, 512\)",
        ),
        (
            lambda: BaselineRemoval().fit(X).transform(X, baseline=np.ones((2, 512))),
            r"BaselineRemoval: argument baseline must have shape .*\(3, \.\.\.\) for X of shape "
            r"\(6, 3, 256\); got \(2, 512\)",
        ),
        (
            lambda: STFTSpectrogram(128.0, window="no-such-window").fit(X),
            r"STFTSpectrogram: argument window 'no-such-window'",
        ),
        (
            lambda: STFTSpectrogram(128.0, fmin=70.0).fit(X),
            r"STFTSpectrogram: no STFT bin lies between fmin=70\.0",
        ),
        (
            lambda: stft_spectrogram(X, 128.0, n_fft=1),
            r"stft_spectrogram: argument hop_length defaults to n_fft // 2",
        ),
        (lambda: band_power(X, 128.0, n_per_seg=0), r"band_power: argument n_per_seg"),
        (
            lambda: SubjectStandardizer(percentile_range=(True, 50)).fit(X),
            r"SubjectStandardizer: argument percentile_range must be a number, not a bool",
        ),
        (
            lambda: SubjectStandardizer(percentile_range=(90, 10)).fit(X),
            r"SubjectStandardizer: argument percentile_range must be two percentiles",
        ),
        (
            lambda: SubjectStandardizer(robust=True, percentile_range=(2.5, 97.5)).fit(X),
            r"SubjectStandardizer: arguments robust=True and percentile_range=\(2\.5, 97\.5\)",
        ),
    ],
)
def test_messages_name_the_estimator_argument_and_problem(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_baseline_removal_is_one_implementation():
    """The loaders' DEAP baseline ("segment") is the features' "base_mean" over 1 s segments."""
    from skemotion.datasets._loading import remove_baseline as loader_baseline

    trial, base = RNG.standard_normal((3, 250)), RNG.standard_normal((3, 300))
    template = base.reshape(3, 3, 100).mean(axis=1)  # hand computation
    expected = trial - np.concatenate([template, template, template[:, :50]], axis=1)
    np.testing.assert_allclose(
        remove_baseline(trial[None], base, method="base_mean", segment=100)[0], expected
    )
    np.testing.assert_allclose(
        loader_baseline(trial, base, "segment", 100, "t"), expected, rtol=1e-5, atol=1e-6
    )
    with pytest.raises(ValueError, match=r"load_x: argument baseline contains NaN"):
        loader_baseline(trial, _nan_at(base, (0, 0)), "segment", 100, "load_x")
    # windows as long as the segment: the transformer agrees with the function
    windows = trial[:, :200].reshape(3, 2, 100).transpose(1, 0, 2)
    np.testing.assert_allclose(
        BaselineRemoval("base_mean").fit(windows).transform(windows, baseline=base),
        expected[:, :200].reshape(3, 2, 100).transpose(1, 0, 2),
    )
