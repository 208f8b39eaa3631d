"""Scale-out: `skemotion benchmark --scheduler` runs the folds on a Dask cluster through
joblib's dask backend and gets the numbers of the serial run."""

import pandas as pd
import pytest

from skemotion.cli import main

distributed = pytest.importorskip("distributed")

SCORES = ["model", "seed", "fold", "balanced_accuracy", "macro_f1", "train_balanced_accuracy"]


def _run_both(tmp_path, capsys, args, **cluster_kwargs):
    """The benchmark serially, then on a LocalCluster; return both tables, the task count."""
    assert main([*args, "--output", str(tmp_path / "serial")]) == 0
    # joblib's dask backend runs everything locally when the cluster has a single thread: two
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None,
                                  **cluster_kwargs) as cluster:  # fmt: skip
        with distributed.Client(cluster) as client:
            with distributed.get_task_stream(client=client) as stream:
                assert main([*args, "--scheduler", cluster.scheduler_address,
                             "--output", str(tmp_path / "dask")]) == 0  # fmt: skip
        address = cluster.scheduler_address
    assert f"scheduler {address}: 2 workers" in capsys.readouterr().out
    serial = pd.read_csv(tmp_path / "serial" / "results.csv")
    remote = pd.read_csv(tmp_path / "dask" / "results.csv")
    run = pd.read_json(tmp_path / "dask" / "results.json", typ="series")["runs"][0]
    assert run["n_jobs"] == -1  # --scheduler: every worker
    return serial, remote, len(stream.data)


def test_benchmark_on_local_dask_cluster_matches_serial(tmp_path, capsys):
    args = ["benchmark", "--n-subjects", "4", "--models", "none", "--protocol",
            "subject-dependent", "--quiet", "--no-plots"]  # fmt: skip
    serial, remote, n_tasks = _run_both(tmp_path, capsys, args, processes=False)
    assert n_tasks >= 8  # the folds ran as tasks on the cluster (2 models x 8 folds)
    assert len(remote) == 2 * 8
    pd.testing.assert_frame_equal(remote[SCORES], serial[SCORES])


@pytest.mark.slow
def test_deep_model_on_dask_worker_processes_matches_serial(tmp_path, capsys):
    """EEGNet on two single-threaded worker processes (each training alone in its process,
    with its own torch random generator) reproduces the serial numbers."""
    args = ["benchmark", "--n-subjects", "3", "--models", "eegnet", "--epochs", "1",
            "--device", "cpu", "--quiet", "--no-plots"]  # fmt: skip
    serial, remote, n_tasks = _run_both(tmp_path, capsys, args, processes=True)
    assert n_tasks >= 3 and len(remote) == 9
    pd.testing.assert_frame_equal(remote[SCORES], serial[SCORES])


def test_benchmark_scatters_the_windows_once(tmp_path, monkeypatch):
    """The windows go to the workers once for the whole run, not with every cross_validate
    call (two models here, so two calls)."""
    args = ["benchmark", "--n-subjects", "3", "--models", "none", "--quiet", "--no-plots",
            "--output", str(tmp_path / "out")]  # fmt: skip
    sent = []
    real = distributed.Client.scatter

    def counting(self, data, *a, **kw):
        items = data if isinstance(data, list | tuple) else [data]
        sent.extend(getattr(x, "shape", None) for x in items)
        return real(self, data, *a, **kw)

    monkeypatch.setattr(distributed.Client, "scatter", counting)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None,
                                  processes=False) as cluster:  # fmt: skip
        with distributed.Client(cluster):
            assert main([*args, "--scheduler", cluster.scheduler_address]) == 0
    windows = [s for s in sent if s is not None and len(s) == 3]
    assert len(windows) == 1, sent
