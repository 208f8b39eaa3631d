"""scikit-learn's estimator checks over every deep classifier of skemotion.

Each estimator appears in a tiny configuration (few filters, few epochs) so that the ~50 checks
run in seconds; the architecture is the real one, not a stand-in. The goal is no expected
failure: any entry in ``EXPECTED_FAILED`` states its reason.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skemotion.classifiers import EEGNetClassifier, TSSTDNClassifier

# Tiny networks, but enough epochs to fit sklearn's blob datasets (check_classifiers_train
# asks for training accuracy > 0.83).
TRAIN = dict(max_epochs=25, lr=1e-2, batch_size=32, random_state=0, device="cpu")

ESTIMATORS = [
    EEGNetClassifier(F1=4, D=2, F2=8, kernel_length=8, **TRAIN),
    # on-the-fly EMG kept on (the default training path), mild enough for the blob datasets
    TSSTDNClassifier(D=1, d=4, Fs=4, Ft=4, noise_snr_db=(10.0, 20.0), **TRAIN),
]

EXPECTED_FAILED = {}


@parametrize_with_checks(
    ESTIMATORS, expected_failed_checks=lambda est: EXPECTED_FAILED.get(type(est).__name__, {})
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
