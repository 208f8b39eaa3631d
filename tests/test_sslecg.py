"""SSL-ECG: the network (parameter counts, shapes) and the self-supervised encoder."""

import pytest
import torch

from skemotion.models import SSLECGNet


def _n_params(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def test_sslecgnet_canonical_parameter_counts():
    net = SSLECGNet()
    assert _n_params(net.encoder) == 329_152
    assert _n_params(net) == 561_223
    assert all(_n_params(h) == 33_153 for h in net.heads)


def test_sslecgnet_layer_shapes():
    net = SSLECGNet().eval()
    x = torch.randn(2, 1, 2560)
    with torch.no_grad():
        h1 = net.encoder.block1(x)
        h2 = net.encoder.block2(h1)
        assert h1.shape == (2, 32, 1277)
        assert h2.shape == (2, 64, 635)
        assert net.embed(x).shape == (2, 128)
        assert net(x).shape == (2, 7)


def test_sslecgnet_same_padding_matches_tensorflow():
    # TF 'same' for an even kernel pads (k - 1) // 2 on the left and k // 2 on the right
    conv = SSLECGNet().encoder.block1[0]
    x = torch.randn(1, 1, 50)
    k = conv.kernel_size[0]
    ref = torch.nn.functional.conv1d(
        torch.nn.functional.pad(x, ((k - 1) // 2, k // 2)), conv.weight, conv.bias
    )
    with torch.no_grad():
        torch.testing.assert_close(conv(x), ref)


@pytest.mark.parametrize("n_times", [22, 100, 2560, 3000])
def test_sslecgnet_any_length(n_times):
    net = SSLECGNet(n_chans=2, n_filters=(4, 8, 16), head_units=8).eval()
    assert net.encoder.min_times == 22
    with torch.no_grad():
        assert net(torch.randn(3, 2, n_times)).shape == (3, 7)
        assert net.embed(torch.randn(3, 2, n_times)).shape == (3, 16)


def test_sslecgnet_bad_config():
    with pytest.raises(ValueError, match="3 values"):
        SSLECGNet(n_filters=(8, 16))
