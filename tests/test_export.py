"""ONNX export (skemotion.export): parity with predict_proba, refusals, metadata, extra."""

import copy
import json
import sys

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from skemotion.classifiers import (  # noqa: E402
    EEGNetClassifier,
    GRUXNetClassifier,
    SSTEmotionNetClassifier,
    TSSTDNClassifier,
)
from skemotion.export import PARITY_ATOL, export_onnx, load_onnx  # noqa: E402

TRAIN = dict(max_epochs=1, lr=1e-2, batch_size=32, random_state=0, device="cpu")
N_CHANNELS, N_TIMES, SFREQ = 4, 128, 64.0


def _data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, N_CHANNELS, N_TIMES)).astype(np.float32)
    y = np.array(["negative", "positive"] * (n // 2))
    return X, y


def _windows(n, seed):
    """Windows never seen in fit (parity on other data than the probe of export_onnx)."""
    return 3.0 * np.random.default_rng(seed).standard_normal((n, N_CHANNELS, N_TIMES)).astype(
        np.float32
    )


@pytest.fixture(scope="module")
def eegnet():
    X, y = _data()
    return EEGNetClassifier(F1=4, D=2, F2=8, kernel_length=8, **TRAIN).fit(X, y)


def test_eegnet_parity_metadata_and_graph(eegnet, tmp_path):
    import onnx

    path = tmp_path / "eegnet.onnx"
    assert export_onnx(eegnet, path) <= PARITY_ATOL
    model = load_onnx(path)
    for batch in (1, 17):  # other windows than the probe of export_onnx, and another scale
        X = _windows(batch, seed=batch)
        got, expected = model.predict_proba(X), eegnet.predict_proba(X)
        diff = float(np.max(np.abs(got - expected)))
        print(
            f"EEGNetClassifier batch={batch}: max abs diff ONNX Runtime vs predict_proba {diff:.3g}"
        )
        assert got.shape == (batch, 2)
        np.testing.assert_allclose(got, expected, atol=1e-5, err_msg=f"max abs diff {diff:.3g}")
        np.testing.assert_array_equal(model.predict(X), eegnet.predict(X))

    # the labels and shapes travel in metadata_props
    proto = onnx.load(str(path))
    props = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(props["classes_"]) == ["negative", "positive"]
    assert props["n_channels"] == str(N_CHANNELS) and props["n_times"] == str(N_TIMES)
    assert props["estimator"] == "EEGNetClassifier"
    assert props["skemotion_version"]
    assert json.loads(props["input_names"]) == ["windows"]
    np.testing.assert_array_equal(model.classes_, eegnet.classes_)
    assert model.classes_.dtype == eegnet.classes_.dtype

    # a valid model whose input is the raw windows with a symbolic batch axis
    onnx.checker.check_model(proto)
    (inp,) = proto.graph.input
    assert inp.name == "windows"
    dims = inp.type.tensor_type.shape.dim
    assert dims[0].dim_param and not dims[0].dim_value
    assert [d.dim_value for d in dims[1:]] == [N_CHANNELS, N_TIMES]


def _fitted_sst():
    X, y = _data(16)
    return SSTEmotionNetClassifier(
        ["Fz", "Cz", "Pz", "C3"],
        sfreq=SFREQ,
        interpolation="none",
        grid_size=4,
        temporal_depth=4,
        spectral_growth=2,
        temporal_growth=2,
        spectral_layers=1,
        temporal_layers=1,
        hidden_size=8,
        **TRAIN,
    ).fit(X, y)


def test_sstemotionnet_parity_from_raw_windows(tmp_path):
    # the electrode maps are computed inside the ONNX model
    clf = _fitted_sst()
    export_onnx(clf, tmp_path / "raw.onnx")
    raw = load_onnx(tmp_path / "raw.onnx")
    assert raw.metadata["sfreq"] == repr(SFREQ)
    for batch in (1, 17):
        W = _windows(batch, seed=20 + batch)
        got, expected = raw.predict_proba(W), clf.predict_proba(W)
        diff = float(np.max(np.abs(got - expected)))
        print(f"SSTEmotionNetClassifier (raw windows) batch={batch}: max abs diff {diff:.3g}")
        np.testing.assert_allclose(got, expected, atol=1e-5, err_msg=f"max abs diff {diff:.3g}")


@pytest.mark.slow
def test_sstemotionnet_network_parity(tmp_path):
    # the network alone, on the maps of clf._prepare (a second export: run with -m slow)
    clf = _fitted_sst()
    path = tmp_path / "sst.onnx"
    export_onnx(clf, path, include_preprocessing=False)
    model = load_onnx(path)
    for batch in (1, 17):
        W = _windows(batch, seed=10 + batch)
        got = model.predict_proba(clf._prepare(W))
        expected = clf.predict_proba(W)
        diff = float(np.max(np.abs(got - expected)))
        print(f"SSTEmotionNetClassifier (network) batch={batch}: max abs diff {diff:.3g}")
        np.testing.assert_allclose(got, expected, atol=1e-5, err_msg=f"max abs diff {diff:.3g}")


def _fitted_tsstdn():
    X, y = _data(16)
    return TSSTDNClassifier(D=1, lstm_hidden=4, Fs=4, Ft=4, n_fft=32, sfreq=SFREQ, **TRAIN).fit(
        X, y
    )


def _fitted_gruxnet():
    X, y = _data(16)
    return GRUXNetClassifier(
        filters=(2, 2, 4),
        gru_hidden=4,
        n_heads=2,
        head_units=(8,),
        stft_shape=(16, 8),
        n_fft=32,
        sfreq=SFREQ,
        **TRAIN,
    ).fit(X, y)


def _windows_with_a_flat_channel(batch, seed):
    """Windows of which the first has channel 1 identically zero (an absent channel of a
    harmonised dataset): exact zeros meet the log(|STFT| + 1e-8) of both models there."""
    W = _windows(batch, seed)
    W[0, 1] = 0.0
    return W


@pytest.mark.parametrize("fitted", [_fitted_tsstdn, _fitted_gruxnet], ids=["tsstdn", "gruxnet"])
def test_parity_from_raw_windows_with_the_input_stage_in_the_graph(fitted, tmp_path):
    # TS-STDN: scaling, STFT features (exact zeros at DC and Nyquist), U-Nets; GRU-XNet:
    # scaling, log-STFT images on the fixed grid, standardisation, absent-channel zeroing
    clf = fitted()
    name = type(clf).__name__
    path = tmp_path / "model.onnx"
    assert export_onnx(clf, path) <= PARITY_ATOL
    model = load_onnx(path)
    assert model.metadata["estimator"] == name
    for batch in (1, 17):
        W = _windows_with_a_flat_channel(batch, seed=30 + batch)
        got, expected = model.predict_proba(W), clf.predict_proba(W)
        diff = float(np.max(np.abs(got - expected)))
        print(f"{name} (raw windows) batch={batch}: max abs diff {diff:.3g}")
        assert np.isfinite(got).all()
        np.testing.assert_allclose(got, expected, atol=1e-5, err_msg=f"max abs diff {diff:.3g}")


@pytest.mark.slow
def test_gruxnet_network_parity(tmp_path):
    # the network alone on its images (a second export: run with -m slow)
    clf = _fitted_gruxnet()
    path = tmp_path / "gru.onnx"
    export_onnx(clf, path, include_preprocessing=False)
    model = load_onnx(path)
    for batch in (1, 17):
        W = _windows_with_a_flat_channel(batch, seed=40 + batch)
        got, expected = model.predict_proba(clf.spectrogram(W)), clf.predict_proba(W)
        diff = float(np.max(np.abs(got - expected)))
        print(f"GRUXNetClassifier (network) batch={batch}: max abs diff {diff:.3g}")
        np.testing.assert_allclose(got, expected, atol=1e-5, err_msg=f"max abs diff {diff:.3g}")


def test_sslecg_exports_without_its_numpy_stage_and_refuses_it_with_the_way_out(tmp_path):
    from skemotion.classifiers import SSLECGClassifier

    X, y = _data(16)
    small = dict(n_filters=(2, 4, 4), head_units=(4,), pretrain_epochs=1, **TRAIN)
    plain = SSLECGClassifier(sfreq=SFREQ, target_sfreq=None, highpass=None, **small).fit(X, y)
    assert export_onnx(plain, tmp_path / "ssl.onnx") <= PARITY_ATOL
    W = _windows(17, seed=50)
    np.testing.assert_allclose(
        load_onnx(tmp_path / "ssl.onnx").predict_proba(W), plain.predict_proba(W), atol=1e-5
    )
    staged = SSLECGClassifier(sfreq=SFREQ, target_sfreq=128.0, **small).fit(X, y)
    with pytest.raises(ValueError, match=r"SSLECGClassifier's input stage cannot be exported "
                       r".*include_preprocessing=False"):  # fmt: skip
        export_onnx(staged, tmp_path / "staged.onnx")
    assert not (tmp_path / "staged.onnx").exists()
    export_onnx(staged, tmp_path / "net.onnx", include_preprocessing=False)
    np.testing.assert_allclose(
        load_onnx(tmp_path / "net.onnx").predict_proba(staged._prepare(W)),
        staged.predict_proba(W),
        atol=1e-5,
    )


def test_pipeline_refused(eegnet, tmp_path):
    pipe = make_pipeline(FunctionTransformer(), eegnet)
    with pytest.raises(TypeError, match="Pipeline.*export its final deep classifier.*numpy"):
        export_onnx(pipe, tmp_path / "pipe.onnx")


def test_not_a_deep_classifier(tmp_path):
    with pytest.raises(TypeError, match="deep classifiers.*FunctionTransformer"):
        export_onnx(FunctionTransformer(), tmp_path / "x.onnx")


def test_unfitted_refused(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        export_onnx(EEGNetClassifier(), tmp_path / "x.onnx")


def test_adapt_bn_and_precision_refused(eegnet, tmp_path):
    clf = copy.deepcopy(eegnet)
    clf.adapt_bn = "batch"
    with pytest.raises(ValueError, match="EEGNetClassifier has adapt_bn='batch'"):
        export_onnx(clf, tmp_path / "x.onnx")
    clf = copy.deepcopy(eegnet)
    clf.precision = "bf16"
    with pytest.raises(ValueError, match="precision='bf16'.*float32"):
        export_onnx(clf, tmp_path / "x.onnx")


def test_a_model_that_differs_is_not_written(eegnet, tmp_path):
    # break the graph on purpose: an input stage that predict_proba does not have
    clf = copy.deepcopy(eegnet)
    clf._torch_prepare = lambda: lambda x: 2.0 * x
    path = tmp_path / "broken.onnx"
    with pytest.raises(ValueError, match="EEGNetClassifier.*differ from predict_proba by"):
        export_onnx(clf, path)
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left either


def test_missing_extra_names_it(eegnet, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ImportError, match=r"skemotion\[onnx\]"):
        export_onnx(eegnet, tmp_path / "x.onnx")
    with pytest.raises(ImportError, match=r"skemotion\[onnx\]"):
        load_onnx(tmp_path / "model.onnx")
