"""GRU-XNet: the network (canonical size, channel independence, sequence layout) and the
classifier (STFT per batch, precomputed spectrograms, learning, cross-dataset training)."""

import pytest
import torch

from skemotion.models import GRUXNet

TINY = dict(filters=(2, 3, 4), gru_hidden=4, n_heads=2, head_units=(8,), dropout=0.0)


def _gru_params(n_in, hidden, layers):
    """Closed form of a bidirectional nn.GRU's parameter count (3 gates, two bias vectors)."""
    total = 0
    for layer in range(layers):
        d_in = n_in if layer == 0 else 2 * hidden
        total += 2 * 3 * (hidden * d_in + hidden * hidden + 2 * hidden)
    return total


def _n_params(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


# ------------------------------------------------------------------------------- the network
@pytest.mark.parametrize(
    "n_chans, expected", [(62, 104_049_922), (32, 54_070_402), (14, 24_082_690)]
)
def test_canonical_parameter_counts(n_chans, expected):
    # the spec's counts (MODELS.md section 4), built without allocating the 400 MB of weights
    with torch.device("meta"):
        net = GRUXNet(n_chans, 129, 126, 2)
    assert _n_params(net) == expected
    assert _n_params(net.cnn) == 93_120 * n_chans  # one 93,120-parameter CNN per channel
    assert net.n_steps == 15 and net.n_gru_inputs == n_chans * 128 * 16


def test_feature_pooling_shrinks_only_the_gru():
    with torch.device("meta"):
        canonical = GRUXNet(62, 129, 126, 2)
        small = GRUXNet(62, 129, 126, 2, feature_pooling=1)
        two = GRUXNet(62, 129, 126, 2, feature_pooling=2)
    assert _n_params(small.cnn) == _n_params(canonical.cnn)
    assert _n_params(small.gru) == _gru_params(62 * 128, 128, 2)
    assert _n_params(two.gru) == _gru_params(62 * 128 * 2, 128, 2)
    assert _n_params(canonical.gru) == _gru_params(62 * 128 * 16, 128, 2)
    rest = _n_params(canonical) - _n_params(canonical.cnn) - _n_params(canonical.gru)
    assert _n_params(small) == _n_params(small.cnn) + _n_params(small.gru) + rest
    assert _n_params(small) == 12_627_202


@pytest.mark.parametrize("train", [False, True])
def test_channel_cnns_are_independent(train):
    torch.manual_seed(0)
    net = GRUXNet(5, 16, 16, 2, **TINY).train(train)
    x = torch.randn(6, 5, 16, 16)
    x2 = x.clone()
    x2[:, 3] = torch.randn(6, 16, 16) * 3 + 1  # change channel 3 only
    with torch.no_grad():
        f, f2 = net.channel_features(x), net.channel_features(x2)
    assert f.shape == (6, 5, 4, 2, 2)
    changed = (f - f2).abs().amax(dim=(0, 2, 3, 4))
    assert changed[3] > 1e-3
    # in training mode BatchNorm uses batch statistics: shared statistics across channels
    # would leak channel 3 into the others here
    torch.testing.assert_close(changed[[0, 1, 2, 4]], torch.zeros(4), atol=0, rtol=0)


def test_each_channel_has_its_own_weights():
    torch.manual_seed(0)
    net = GRUXNet(3, 8, 8, 2, **TINY).eval()
    with torch.no_grad():  # channel 1's first convolution filters set apart from the others
        net.cnn[0].weight[2:4] += 5.0
    x = torch.randn(1, 1, 8, 8).expand(2, 3, 8, 8).contiguous()  # same image on every channel
    with torch.no_grad():
        f = net.channel_features(x)
    assert not torch.allclose(f[:, 1], f[:, 0])
    # and a channel's features equal a standalone CNN with that channel's slice of the weights
    ref = torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.BatchNorm2d(2), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(2, 3, 3, padding=1), torch.nn.BatchNorm2d(3), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
    ).eval()  # fmt: skip
    for layer, src in zip(ref, net.cnn):
        for name in ("weight", "bias", "running_mean", "running_var"):
            if hasattr(layer, name) and getattr(layer, name) is not None:
                full = getattr(src, name)
                k = full.shape[0] // 3
                getattr(layer, name).data.copy_(full[k : 2 * k])
    for b in (1, 0):
        with torch.no_grad():
            torch.testing.assert_close(f[b, 1], ref(x[b : b + 1, 1:2])[0])


def test_dynamic_sequence_layout():
    # the GRU reads one step per CNN output frame, features ordered (channel, filter, bin)
    torch.manual_seed(0)
    net = GRUXNet(3, 17, 35, 2, **TINY).eval()
    seen = {}

    def grab(module, inputs, output):
        seen["x"] = inputs[0]

    net.gru.register_forward_hook(grab)
    x = torch.randn(2, 3, 17, 35)
    with torch.no_grad():
        out = net(x)
        feats = net.channel_features(x)  # (2, 3, 4, 2, 4)
    assert out.shape == (2, 2) and net.n_steps == 4 == feats.shape[-1]
    expected = feats.permute(0, 4, 1, 2, 3).reshape(2, 4, 3 * 4 * 2)
    torch.testing.assert_close(seen["x"], expected)

    pooled = GRUXNet(3, 17, 35, 2, feature_pooling=1, **TINY).eval()
    pooled.cnn.load_state_dict(net.cnn.state_dict())
    seen.clear()
    pooled.gru.register_forward_hook(grab)
    with torch.no_grad():
        pooled(x)
    torch.testing.assert_close(seen["x"], feats.mean(3).permute(0, 3, 1, 2).reshape(2, 4, 12))


def test_attention_matches_torch_multihead_attention():
    torch.manual_seed(0)
    net = GRUXNet(2, 8, 8, 2, filters=(2, 2, 2), gru_hidden=8, n_heads=4, dropout=0.3).eval()
    att = net.attention
    mha = torch.nn.MultiheadAttention(16, 4, batch_first=True).eval()
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([att.q.weight, att.k.weight, att.v.weight]))
        mha.in_proj_bias.copy_(torch.cat([att.q.bias, att.k.bias, att.v.bias]))
        mha.out_proj.weight.copy_(att.o.weight)
        mha.out_proj.bias.copy_(att.o.bias)
        x = torch.randn(3, 5, 16)
        expected = torch.nn.functional.layer_norm(x + mha(x, x, x)[0], (16,))
        torch.testing.assert_close(att(x), expected, atol=1e-5, rtol=1e-5)


def test_network_trains_a_step():
    torch.manual_seed(0)
    net = GRUXNet(3, 16, 16, 3, feature_pooling=2, **TINY)
    x, y = torch.randn(4, 3, 16, 16), torch.tensor([0, 1, 2, 0])
    loss = torch.nn.functional.cross_entropy(net(x), y)
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_freqs=7), "n_freqs must be an integer >= 8"),
        (dict(n_frames=4), "n_frames must be an integer >= 8"),
        (dict(n_classes=1), "n_classes must be an integer >= 2"),
        (dict(gru_hidden=5, n_heads=4), "n_heads must be an integer >= 1 dividing"),
        (dict(feature_pooling=3), "feature_pooling must be at most n_freqs // 8 = 2"),
        (dict(feature_pooling=0), "feature_pooling must be None or an integer >= 1"),
        (dict(filters=(4, 4)), "filters must be three integers"),
        (dict(dropout=1.0), "dropout must be a number in"),
    ],
)
def test_network_argument_errors(kwargs, match):
    args = dict(n_chans=2, n_freqs=16, n_frames=16, n_classes=2) | kwargs
    with pytest.raises(ValueError, match=match):
        GRUXNet(**args)
