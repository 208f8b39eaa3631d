"""TS-STDN: the fast formulation (block-Toeplitz U-Nets) computes the paper's function.

The U-Nets run their time convolutions as block-Toeplitz matrix products on maps laid out as
(time, maps, batch * electrodes) (for training speed on CPU), and the classifier
branches run their depthwise spatial convolution as a batched matrix product. These tests pin
that formulation against an independent reference written here from the paper's layer list:
the same weights applied as 2-D convolutions (``F.conv2d`` with the original zero padding and
groups), ``F.batch_norm``, ``F.elu``, ``F.avg_pool2d`` and nearest upsampling on
``(batch, maps, electrodes, time)``. Forward outputs, every parameter gradient, the input
gradient and the batch-norm running statistics must agree.
"""

import copy
import pickle
import types

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from skemotion.models import TSSTDN
from skemotion.models.tsstdn import _time_conv, _UNet


def _bn(mod, h):
    return F.batch_norm(
        h, mod.running_mean, mod.running_var, mod.weight, mod.bias, mod.training, mod.momentum
    )


def _up(h):
    return F.interpolate(h, scale_factor=(1, 2), mode="nearest")


def reference_unet(unet, x):
    """The U-Net of the paper's code, on (B, 1, C, L); kernels and paddings from the paper."""
    length = x.shape[-1]
    x = F.pad(x, (0, -length % 4))
    w = {name: p for name, p in unet.named_parameters()}
    d1 = F.conv2d(F.pad(x, (31, 32, 0, 0)), w["down1.1.weight"])
    d1 = F.avg_pool2d(F.elu(_bn(unet.down1[2], d1)), (1, 2))
    d2 = F.conv2d(F.pad(d1, (15, 16, 0, 0)), w["down2.1.weight"])
    d2 = F.avg_pool2d(F.elu(_bn(unet.down2[2], d2)), (1, 2))
    z = F.elu(_bn(unet.bottleneck[1], F.conv2d(d2, w["bottleneck.0.weight"], groups=4)))
    u2 = F.conv2d(F.pad(_up(z), (15, 16, 0, 0)), w["up2.2.weight"], groups=2)
    u2 = torch.cat([d1, F.elu(_bn(unet.up2[3], u2))], dim=1)
    u1 = F.conv2d(F.pad(_up(u2), (31, 32, 0, 0)), w["up1.2.weight"], groups=2)
    u1 = torch.cat([x, F.elu(_bn(unet.up1[3], u1))], dim=1)
    rec = F.relu(F.conv2d(F.pad(u1, (31, 32, 0, 0)), w["decoder.1.weight"]))
    rec = F.conv2d(F.pad(rec, (31, 32, 0, 0)), w["decoder.4.weight"])
    return z, rec[..., :length]


def reference_head(head, z):
    """The classifier branch of the paper's code: its modules applied in order."""
    conv = head.depthwise[0]
    h = F.conv2d(z, conv.weight, groups=4)  # depthwise (C, 1) convolution, D filters per map
    for module in head.depthwise[1:]:
        h = module(h)
    return head.feature(h).squeeze(2)


def _with_reference_unets(model):
    """A copy of the model whose U-Nets and classifier branches compute the reference way."""
    ref = copy.deepcopy(model)
    for unet in (ref.temporal_unet, ref.spectral_unet):
        unet.forward = types.MethodType(reference_unet, unet)
    for head in (ref.temporal_head, ref.spectral_head):
        head.forward = types.MethodType(reference_head, head)
    return ref


def _run(model, x, seed=1):
    """Forward (same dropout draws), a loss reading every output, backward."""
    x = x.clone().requires_grad_()
    torch.manual_seed(seed)
    logits, rec_t, rec_s = model(x)
    gen = torch.Generator().manual_seed(2)
    loss = sum(
        (out * torch.randn(out.shape, generator=gen, dtype=out.dtype)).sum()
        for out in (logits, rec_t, rec_s)
    )
    loss.backward()
    return [t.detach() for t in (logits, rec_t, rec_s)], x.grad


def _assert_same_step(model, ref, x, rtol, atol):
    outs, gx = _run(model, x)
    ref_outs, ref_gx = _run(ref, x)
    for out, ref_out in zip(outs, ref_outs):
        torch.testing.assert_close(out, ref_out, rtol=rtol, atol=atol * ref_out.abs().max())
    torch.testing.assert_close(gx, ref_gx, rtol=rtol, atol=atol * ref_gx.abs().max())
    # gradients on the scale of the largest one: the bottleneck's per-map scale has an
    # analytically zero gradient in training mode (batch norm follows it), i.e. rounding noise
    scale = max(p.grad.abs().max() for p in ref.parameters())
    for (name, p), q in zip(model.named_parameters(), ref.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=rtol, atol=atol * scale, msg=name)
    for (name, b), c in zip(model.named_buffers(), ref.buffers()):
        if "running" in name:
            torch.testing.assert_close(b, c, rtol=rtol, atol=atol, msg=name)


@pytest.mark.parametrize(
    "n_channels, n_times, n_fft",
    [(62, 400, 200), (3, 37, 16), (1, 1, 200), (2, 130, 128), (4, 401, 200)],
)
@pytest.mark.parametrize("training", [True, False])
def test_same_function_and_gradients_as_the_2d_formulation(n_channels, n_times, n_fft, training):
    torch.manual_seed(0)
    model = TSSTDN(n_channels, n_times, 3, n_fft=n_fft).train(training)
    if not training:  # non-trivial running statistics
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    ref = _with_reference_unets(model)
    x = torch.randn(2 if n_channels == 62 else 5, n_channels, n_times)
    _assert_same_step(model, ref, x, rtol=1e-4, atol=2e-5)


def test_float64_agrees_to_rounding():
    torch.manual_seed(0)
    model = TSSTDN(5, 203, 4, n_fft=64).double()
    ref = _with_reference_unets(model)
    x = torch.randn(4, 5, 203, dtype=torch.float64)
    _assert_same_step(model, ref, x, rtol=1e-9, atol=1e-10)


def test_bf16_autocast_runs_the_convolutions_in_bf16():
    torch.manual_seed(0)
    model = TSSTDN(4, 96, 3, n_fft=32).eval()
    ref = _with_reference_unets(model)
    x = torch.randn(3, 4, 96)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = model.temporal_unet(x.unsqueeze(1))
        ref_out = ref.temporal_unet(x.unsqueeze(1))
    for o, r in zip(out, ref_out):
        assert o.dtype == r.dtype == torch.bfloat16
        r = r.float()
        torch.testing.assert_close(o.float(), r, rtol=0.05, atol=0.05 * float(r.abs().max()))
    with torch.no_grad():
        full = model.temporal_unet(x.unsqueeze(1))
    # bf16 rounding is visible: the convolutions really ran in bf16
    assert not torch.equal(full[1], out[1].float())


@pytest.mark.parametrize(
    "in_maps, out_maps, kernel, groups, pad, rate",
    [(1, 2, 64, 1, (31, 32), 1), (2, 4, 32, 1, (15, 16), 1), (4, 2, 32, 2, (15, 16), 2),
     (3, 1, 64, 1, (31, 32), 1), (2, 2, 5, 2, (1, 3), 2), (3, 3, 7, 1, (0, 6), 1)],
)  # fmt: skip
@pytest.mark.parametrize("length, batch", [(1, 3), (16, 1), (37, 4), (200, 2)])
def test_time_convolution_matches_conv2d(
    in_maps, out_maps, kernel, groups, pad, rate, length, batch
):
    """conv(pad(upsample(x))) on maps (L, C, N), x given in two parts, one shorter (zeros)."""
    torch.manual_seed(0)
    conv = nn.Conv2d(in_maps, out_maps, (1, kernel), groups=groups, bias=False).double()
    padding = nn.ZeroPad2d((*pad, 0, 0))
    x = torch.randn(length, in_maps, batch, dtype=torch.float64, requires_grad=True)
    short = max(length - 3, 1)
    parts = [x[:short, :1], x[:, 1:]] if in_maps > 1 else [x[:short]]
    out = _time_conv(padding, conv, parts, length, rate)
    grad_out = torch.randn(out.shape, dtype=torch.float64)
    (out * grad_out).sum().backward()
    # reference: (batch, maps, 1, time), the first map zero beyond `short`
    x_ref = x.detach().clone()
    x_ref[short:, 0] = 0
    x_ref = x_ref.permute(2, 1, 0).unsqueeze(2).requires_grad_()
    ref_conv = copy.deepcopy(conv)
    up = F.interpolate(x_ref, scale_factor=(1, rate), mode="nearest") if rate > 1 else x_ref
    ref = F.conv2d(F.pad(up, (*pad, 0, 0)), ref_conv.weight, groups=groups)
    (ref * grad_out.permute(2, 1, 0).unsqueeze(2)).sum().backward()
    torch.testing.assert_close(out.permute(2, 1, 0).unsqueeze(2), ref.detach())
    torch.testing.assert_close(conv.weight.grad, ref_conv.weight.grad)
    grad_x = x_ref.grad.squeeze(2).permute(2, 1, 0).clone()
    grad_x[short:, 0] = 0  # rows the first part does not have
    torch.testing.assert_close(x.grad, grad_x)


# --- unchanged parameters: old pickles and state dicts still load -------------------------

_UNET_STATE = {
    "down1.1.weight": (2, 1, 1, 64),
    "down1.2": 2,
    "down2.1.weight": (4, 2, 1, 32),
    "down2.2": 4,
    "bottleneck.0.weight": (4, 1, 1, 1),
    "bottleneck.1": 4,
    "up2.2.weight": (2, 2, 1, 32),
    "up2.3": 2,
    "up1.2.weight": (2, 2, 1, 64),
    "up1.3": 2,
    "decoder.1.weight": (1, 3, 1, 64),
    "decoder.4.weight": (1, 1, 1, 64),
}


def test_unet_state_dict_is_the_papers_layer_list():
    expected = {}
    for name, shape in _UNET_STATE.items():
        if isinstance(shape, int):  # batch norm
            for key in ("weight", "bias", "running_mean", "running_var"):
                expected[f"{name}.{key}"] = (shape,)
            expected[f"{name}.num_batches_tracked"] = ()
        else:
            expected[name] = shape
    state = {k: tuple(v.shape) for k, v in _UNet().state_dict().items()}
    assert state == expected
    assert sum(p.numel() for p in _UNet().parameters()) == 1_056


def test_pickle_and_state_dict_round_trip_compute_the_same():
    torch.manual_seed(0)
    model = TSSTDN(6, 64, 3, n_fft=32).eval()
    x = torch.randn(2, 6, 64)
    clone = pickle.loads(pickle.dumps(model))
    other = TSSTDN(6, 64, 3, n_fft=32).eval()
    other.load_state_dict(model.state_dict())
    with torch.no_grad():
        expected = model(x)
        for copy_ in (clone, other):
            for a, b in zip(copy_(x), expected):
                torch.testing.assert_close(a, b)


@pytest.mark.parametrize("n_channels, n_times", [(3, 20), (14, 64), (62, 400)])
def test_inference_does_not_depend_on_the_other_windows(n_channels, n_times):
    """In eval mode a window's outputs do not depend on the batch it is part of.

    The reconstructions (all the block-Toeplitz convolutions) are bitwise the same; the logits
    also go through the LSTM and linear layers, whose matrix products round by batch size on
    some CPUs (1 float32 ulp seen on an Intel Xeon for a batch of 5 against 33), so a subset's
    logits are compared at float32 resolution.
    """
    torch.manual_seed(0)
    model = TSSTDN(n_channels, n_times, 3, n_fft=min(32, n_times)).eval()
    x = torch.randn(33, n_channels, n_times)
    perm = torch.randperm(33)
    unet = model.temporal_unet
    with torch.no_grad():
        full, shuffled, part = model(x), model(x[perm]), model(x[:5])
        unet_full, unet_shuffled = unet(x.unsqueeze(1)), unet(x[perm].unsqueeze(1))
    for i, (a, b, c) in enumerate(zip(full, shuffled, part)):
        assert torch.equal(a[perm], b)
        if i == 0:  # logits
            torch.testing.assert_close(a[:5], c, rtol=1e-5, atol=1e-7)
        else:
            assert torch.equal(a[:5], c)
    for a, b in zip(unet_full, unet_shuffled):
        assert torch.equal(a[perm], b)


def test_traced_formulation_computes_the_same_function(monkeypatch):
    # while torch.export traces (ONNX export) the U-Nets' time convolutions run as plain 1-D
    # convolutions of functional operators; they must give the fast formulation's outputs
    from skemotion.models import tsstdn

    torch.manual_seed(0)
    model = TSSTDN(5, 100, 3, n_fft=25).eval()  # 5 electrodes: not a multiple of _ALIGN
    x = torch.randn(4, 5, 100)
    with torch.no_grad():
        fast = model(x)
        monkeypatch.setattr(tsstdn.torch.compiler, "is_compiling", lambda: True)
        traced = model(x)
    for a, b in zip(fast, traced):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-5)
