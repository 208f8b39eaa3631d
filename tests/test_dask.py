"""Scale-out: cross-validation of a deep classifier through joblib's dask backend."""

import numpy as np
import pytest
from sklearn.model_selection import LeaveOneGroupOut, cross_val_score

from skemotion.classifiers import EEGNetClassifier
from skemotion.datasets import make_eeg_emotion

distributed = pytest.importorskip("distributed")


def test_cross_val_score_on_local_dask_cluster():
    import joblib

    data = make_eeg_emotion("emotiv14", n_subjects=3, n_windows_per_trial=3, random_state=0)
    clf = EEGNetClassifier(F1=4, F2=8, kernel_length=16, max_epochs=2, random_state=0)
    local = cross_val_score(clf, data.X, data.y, groups=data.groups, cv=LeaveOneGroupOut())
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        with joblib.parallel_backend("dask"):
            remote = cross_val_score(
                clf, data.X, data.y, groups=data.groups, cv=LeaveOneGroupOut(), n_jobs=-1
            )
        assert len(client.scheduler_info()["workers"]) == 2
    # seeded training: the cluster computes exactly what a local run computes
    np.testing.assert_allclose(remote, local)
