"""SST-EmotionNet from Jia et al (2020) [Jia2020]_."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["SSTEmotionNet"]

_BN_EPS = 1.1e-5  # the official code's BatchNormalization epsilon


def _bn(n_features: int) -> nn.BatchNorm3d:
    return nn.BatchNorm3d(n_features, eps=_BN_EPS)


def _pool_kernel(shape: tuple[int, int, int]) -> tuple[int, int, int]:
    """Pool size 2 on every axis long enough for it, 1 (no pooling) on axes of length 1."""
    return tuple(2 if n >= 2 else 1 for n in shape)


def _same_padding(shape, kernel, stride) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """TensorFlow's 'same' padding: output ``ceil(n / s)``, the odd pixel padded at the end.

    Returns the output shape and the ``F.pad`` argument (last axis first).
    """
    out, pad = [], []
    for n, k, s in zip(shape, kernel, stride):
        m = -(-n // s)
        total = max((m - 1) * s + k - n, 0)
        out.append(m)
        pad.append((total // 2, total - total // 2))
    flat = tuple(p for pair in reversed(pad) for p in pair)
    return tuple(out), flat


class _DenseLayer(nn.Module):
    """Pseudo-3D bottleneck layer; its ``growth`` new maps are concatenated to its input.

    BN, ReLU, 1x1x1 convolution to ``4 * growth`` maps; BN, ReLU, (3, 3, 1) spatial convolution
    to ``growth`` maps, then a (1, 1, 3) convolution along the band/time axis (no normalisation
    or activation between the two factorised convolutions, as in the official code).
    """

    def __init__(self, in_channels: int, growth: int):
        super().__init__()
        self.layers = nn.Sequential(
            _bn(in_channels),
            nn.ReLU(),
            nn.Conv3d(in_channels, 4 * growth, 1, bias=False),  # (B, 4g, H, W, D)
            _bn(4 * growth),
            nn.ReLU(),
            nn.Conv3d(4 * growth, growth, (3, 3, 1), padding=(1, 1, 0), bias=False),
            nn.Conv3d(growth, growth, (1, 1, 3), padding=(0, 0, 1), bias=False),  # (B, g, ...)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.layers(x)], dim=1)  # (B, C + g, H, W, D)


class _Transition(nn.Module):
    """BN, ReLU, 1x1x1 convolution to ``out_channels``, average pooling by 2 ('valid')."""

    def __init__(self, in_channels: int, out_channels: int, shape: tuple[int, int, int]):
        super().__init__()
        kernel = _pool_kernel(shape)
        self.out_shape = tuple(n // k for n, k in zip(shape, kernel))
        self.layers = nn.Sequential(
            _bn(in_channels),
            nn.ReLU(),
            nn.Conv3d(in_channels, out_channels, 1, bias=False),
            nn.AvgPool3d(kernel),  # (B, out, H // 2, W // 2, D // 2)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class _Attention(nn.Module):
    """Parallel spatial and band/time attention, both computed from the map mean.

    ``m = mean over feature maps`` ``(B, H, W, D)``; spatial weights ``sigmoid(Linear(H*W))``
    of ``m`` averaged over D, band/time weights ``sigmoid(Linear(D))`` of ``m`` averaged over
    H and W; the features are multiplied by both.
    """

    def __init__(self, shape: tuple[int, int, int], spatial: bool = True, depth: bool = True):
        super().__init__()
        h, w, d = shape
        self.shape = shape
        self.spatial = nn.Linear(h * w, h * w) if spatial else None
        self.depth = nn.Linear(d, d) if depth else None

    def forward(self, x: torch.Tensor):
        b = x.shape[0]
        h, w, d = self.shape
        m = x.mean(dim=1)  # (B, H, W, D)
        s = t = None
        if self.spatial is not None:
            s = torch.sigmoid(self.spatial(m.mean(dim=-1).flatten(1)))  # (B, H*W)
            s = s.view(b, h, w)
            x = x * s.view(b, 1, h, w, 1)
        if self.depth is not None:
            t = torch.sigmoid(self.depth(m.mean(dim=(1, 2))))  # (B, D)
            x = x * t.view(b, 1, 1, 1, d)
        return x, s, t


class _DenseStream(nn.Module):
    """One 3-D DenseNet stream: stem, dense blocks, transitions with attention, GAP.

    ``subsample=False`` (spectral stream): a (3, 3, 1) convolution to ``2 * growth`` maps.
    ``subsample=True`` (temporal stream): a (5, 5, 3) convolution with stride (2, 2, 1)
    ('same' padding), BN, ReLU and max pooling by 2 ('same').
    """

    def __init__(
        self,
        shape: tuple[int, int, int],
        growth: int,
        layers: Sequence[int],
        compression: float,
        subsample: bool,
        attention: bool,
    ):
        super().__init__()
        channels = 2 * growth
        if subsample:
            shape, pad = _same_padding(shape, (5, 5, 3), (2, 2, 1))
            kernel = _pool_kernel(shape)
            self.stem = nn.Sequential(
                nn.ConstantPad3d(pad, 0.0),
                nn.Conv3d(1, channels, (5, 5, 3), stride=(2, 2, 1), bias=False),
                _bn(channels),
                nn.ReLU(),
                # 'same' max pooling: ceil_mode keeps the last, partial window
                nn.MaxPool3d(kernel, ceil_mode=True),
            )
            shape = tuple(-(-n // k) for n, k in zip(shape, kernel))
        else:
            self.stem = nn.Conv3d(1, channels, (3, 3, 1), padding=(1, 1, 0), bias=False)
        blocks, transitions, attentions = [], [], []
        self.attention_shapes = []
        for i, n_layers in enumerate(layers):
            block = []
            for _ in range(n_layers):
                block.append(_DenseLayer(channels, growth))
                channels += growth
            blocks.append(nn.Sequential(*block))
            if i < len(layers) - 1:
                out = max(1, int(math.floor(channels * compression)))
                trans = _Transition(channels, out, shape)
                channels, shape = out, trans.out_shape
                transitions.append(trans)
                attentions.append(_Attention(shape) if attention else nn.Identity())
                self.attention_shapes.append(shape)
        self.blocks = nn.ModuleList(blocks)
        self.transitions = nn.ModuleList(transitions)
        self.attentions = nn.ModuleList(attentions)
        self.head = nn.Sequential(_bn(channels), nn.ReLU())
        self.out_channels = channels

    def forward(self, x: torch.Tensor):
        weights = []
        x = self.stem(x)  # (B, 2g, H', W', D')
        for i, block in enumerate(self.blocks):
            x = block(x)  # (B, C + n_layers * g, ...)
            if i < len(self.transitions):
                x = self.transitions[i](x)  # (B, floor(C * compression), .../2)
                att = self.attentions[i]
                if isinstance(att, _Attention):
                    x, s, t = att(x)
                    weights.append((s, t))
        x = self.head(x).mean(dim=(2, 3, 4))  # global average pooling: (B, C_final)
        return x, weights


def _layers_per_block(value, n_blocks: int, name: str) -> tuple[int, ...]:
    if isinstance(value, (int,)) and not isinstance(value, bool):
        value = (value,) * n_blocks
    value = tuple(value)
    if len(value) != n_blocks or any(int(v) != v or v < 1 for v in value):
        raise ValueError(
            f"SSTEmotionNet needs {name} to be an integer >= 1 or {n_blocks} of them (one per "
            f"dense block); got {value!r}."
        )
    return tuple(int(v) for v in value)


class SSTEmotionNet(nn.Module):
    """SST-EmotionNet from Jia et al (2020) [Jia2020]_.

    Spatial-Spectral-Temporal attention 3-D dense network: two 3-D DenseNet streams read the
    same scalp map, one along frequency bands (spectral stream: differential entropy of each
    band placed on an interpolated electrode image) and one along time (temporal stream: the
    signal's samples placed on the same image). Each dense layer is pseudo-3D (a bottleneck
    1x1x1 convolution, a (3, 3, 1) spatial convolution and a (1, 1, 3) band/time convolution)
    and its output is concatenated to its input (dense connectivity). After every transition
    (1x1x1 compression and 2x2x2 average pooling) an attention module re-weights the features
    with a spatial map and a band/time profile computed in parallel. The two streams are
    globally average-pooled, concatenated and classified by a small fully connected head.

    The canonical configuration (SEED, the official code's settings: 32x32 maps, 5 bands, 25
    temporal samples, 3 classes, all other arguments at their defaults) has **519,213**
    trainable parameters (116,040 in the spectral stream, 387,370 in the temporal stream,
    15,803 in the head).

    Parameters
    ----------
    n_bands : int
        Depth of the spectral maps (5 frequency bands).
    n_samples : int
        Depth of the temporal maps (25 time samples in the official code).
    n_classes : int
        Number of classes.
    grid_size : int or (int, int), default=32
        Height and width ``(H, W)`` of the electrode maps (32x32 in the paper).
    spectral_growth : int, default=12
        Growth rate of the spectral stream (new maps per dense layer).
    spectral_layers : int or sequence of int, default=2
        Dense layers per block of the spectral stream (one value, or one per block).
    spectral_compression : float, default=0.5
        Compression of the spectral stream's transitions: ``floor(channels * compression)``
        maps are kept.
    temporal_growth : int, default=24
        Growth rate of the temporal stream.
    temporal_layers : int or sequence of int, default=3
        Dense layers per block of the temporal stream.
    temporal_compression : float, default=1.0
        Compression of the temporal stream's transitions (1.0: none, as in the official code).
    n_blocks : int, default=3
        Dense blocks per stream (``n_blocks - 1`` transitions, each followed by attention).
    hidden_size : int, default=50
        Units of the linear (no activation) fusion layer.
    dropout : float, default=0.5
        Dropout after the fusion layer.
    attention : bool, default=True
        Use the spatial and band/time attention modules (False: the ablation without them).

    Attributes
    ----------
    spectral_shape : tuple of int
        Expected per-window spectral input ``(1, H, W, n_bands)``.
    temporal_shape : tuple of int
        Expected per-window temporal input ``(1, H, W, n_samples)``.
    attention_shapes : dict
        ``{"spectral": [(h, w, d), ...], "temporal": [...]}``: the shapes of the feature maps
        each attention module weights (``n_blocks - 1`` per stream). Canonical: spectral
        (16, 16, 2), (8, 8, 1); temporal (4, 4, 6), (2, 2, 3).

    Notes
    -----
    **Inputs.** PyTorch's channels-first layout of the official (Keras, channels-last) inputs:
    ``spectral`` is ``(batch, 1, H, W, n_bands)`` and ``temporal`` is ``(batch, 1, H, W,
    n_samples)``; the singleton map axis may be omitted. Pixels outside the head are zero.

    **Layer by layer** (canonical shapes, maps x H x W x depth).
    Spectral stream: (3, 3, 1) convolution to 24 maps (32x32x5); block of 2 dense layers
    (growth 12) -> 48; transition to 24 maps, 16x16x2; attention; block -> 48; transition to
    24, 8x8x1; attention; block -> 48; BN, ReLU, global average pooling -> 48.
    Temporal stream: (5, 5, 3) convolution, stride (2, 2, 1), to 48 maps (16x16x25), BN, ReLU,
    max pooling -> 8x8x13; blocks of 3 dense layers (growth 24) -> 120; transition (no
    compression), 4x4x6; attention; -> 192; transition, 2x2x3; attention; -> 264; BN, ReLU,
    global average pooling -> 264.
    Head: concatenation (312) -> Linear(50) -> Dropout(0.5) -> Linear(n_classes). ``forward``
    returns logits (the softmax is in the loss).

    **Paper and official code.** Where they differ this module follows the official code
    (github.com/ziyujia/SST-EmotionNet, ``model/model.py`` and ``config/SEED.ini``):

    - attention: the paper draws it *before* each dense block with softmax weights; the code
      applies it *after* each transition with sigmoid weights (each weight in (0, 1),
      independently), the spatial and band/time weights computed in parallel from the same
      channel mean. Followed: the code.
    - the temporal stream's stem is written twice in the code, the first convolution unused
      (it is not part of the Keras model and holds no parameters); only one is built here.
    - depths: the code derives 2 (spectral) and 3 (temporal) layers per block from
      ``depth=16`` and ``depth=22`` with bottlenecks; here they are given directly.
    - the official two-class head uses a sigmoid over two units; here the output is always
      logits for a softmax cross-entropy.

    Other differences from the Keras original, none of which changes the parameter count:
    BatchNorm uses PyTorch's running-average momentum (0.1; Keras' 0.99 is 0.01 in PyTorch's
    convention), which gives usable statistics after a few hundred steps; the L2 penalty of
    1e-4 that the code puts on the stem, bottleneck and transition kernels is left to the
    optimiser's weight decay; convolution kernels are He-normal (untruncated) and linear
    layers Glorot-uniform with zero biases, as Keras initialises them.

    **Other sizes.** Poolings shrink to size 1 along an axis of length 1 instead of failing
    (e.g. a spectral depth of 1 after the first transition with 5 bands); the canonical
    configuration never needs this. Padding follows TensorFlow's 'same' rule (odd padding at
    the end) so that every map size gives the original output shapes.

    References
    ----------
    .. [Jia2020] Jia, Z., Lin, Y., Cai, X., Chen, H., Gou, H., & Wang, J. (2020).
       SST-EmotionNet: Spatial-Spectral-Temporal based Attention 3D Dense Network for EEG
       Emotion Recognition. In Proceedings of the 28th ACM International Conference on
       Multimedia (MM '20), pp. 2909-2917. https://doi.org/10.1145/3394171.3413724

    Examples
    --------
    >>> import torch
    >>> from skemotion.models import SSTEmotionNet
    >>> net = SSTEmotionNet(5, 25, 3)
    >>> sum(p.numel() for p in net.parameters() if p.requires_grad)
    519213
    >>> spectral, temporal = torch.randn(2, 1, 32, 32, 5), torch.randn(2, 1, 32, 32, 25)
    >>> net(spectral, temporal).shape
    torch.Size([2, 3])
    """

    #: the sub-module whose input is the window's embedding (read by subject-adversarial
    #: training, :class:`skemotion._training.SubjectAdversary`)
    embedding_module = "classifier"

    def __init__(
        self,
        n_bands: int,
        n_samples: int,
        n_classes: int,
        *,
        grid_size: int | tuple[int, int] = 32,
        spectral_growth: int = 12,
        spectral_layers: int | Sequence[int] = 2,
        spectral_compression: float = 0.5,
        temporal_growth: int = 24,
        temporal_layers: int | Sequence[int] = 3,
        temporal_compression: float = 1.0,
        n_blocks: int = 3,
        hidden_size: int = 50,
        dropout: float = 0.5,
        attention: bool = True,
    ):
        super().__init__()
        h, w = (grid_size, grid_size) if isinstance(grid_size, int) else tuple(grid_size)
        checks = {
            "n_bands": (n_bands, 1),
            "n_samples": (n_samples, 1),
            "n_classes": (n_classes, 2),
            "grid height": (h, 1),
            "grid width": (w, 1),
            "spectral_growth": (spectral_growth, 1),
            "temporal_growth": (temporal_growth, 1),
            "n_blocks": (n_blocks, 1),
            "hidden_size": (hidden_size, 1),
        }
        bad = {k: v for k, (v, lo) in checks.items() if int(v) != v or v < lo}
        if bad:
            raise ValueError(
                "SSTEmotionNet needs integers n_bands, n_samples, grid_size, growth rates, "
                f"n_blocks, hidden_size >= 1 and n_classes >= 2; got {bad}."
            )
        for name, c in (
            ("spectral_compression", spectral_compression),
            ("temporal_compression", temporal_compression),
        ):
            if not 0 < c <= 1:
                raise ValueError(f"SSTEmotionNet needs 0 < {name} <= 1; got {c!r}.")
        if not 0 <= dropout < 1:
            raise ValueError(f"SSTEmotionNet needs 0 <= dropout < 1; got {dropout!r}.")
        s_layers = _layers_per_block(spectral_layers, n_blocks, "spectral_layers")
        t_layers = _layers_per_block(temporal_layers, n_blocks, "temporal_layers")
        self.n_bands, self.n_samples, self.n_classes = n_bands, n_samples, n_classes
        self.grid_size = (h, w)
        self.spectral_shape = (1, h, w, n_bands)
        self.temporal_shape = (1, h, w, n_samples)

        self.spectral_stream = _DenseStream(
            (h, w, n_bands),
            spectral_growth,
            s_layers,
            spectral_compression,
            subsample=False,
            attention=attention,
        )
        self.temporal_stream = _DenseStream(
            (h, w, n_samples),
            temporal_growth,
            t_layers,
            temporal_compression,
            subsample=True,
            attention=attention,
        )
        self.attention_shapes = {
            "spectral": list(self.spectral_stream.attention_shapes),
            "temporal": list(self.temporal_stream.attention_shapes),
        }
        n_fused = self.spectral_stream.out_channels + self.temporal_stream.out_channels
        self.classifier = nn.Sequential(
            nn.Linear(n_fused, hidden_size),  # linear fusion layer, no activation
            nn.Dropout(dropout),
            nn.Linear(hidden_size, n_classes),
        )
        self._init_weights()

    def _init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            elif isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def _check_input(self, x: torch.Tensor, expected: tuple, name: str) -> torch.Tensor:
        if x.dim() == 4:
            x = x.unsqueeze(1)  # (B, 1, H, W, D)
        if x.dim() != 5 or tuple(x.shape[1:]) != expected:
            dims = ", ".join(map(str, expected))
            raise ValueError(
                f"SSTEmotionNet expects {name} of shape (batch_size, {dims}) (or without the "
                f"singleton axis); got {tuple(x.shape)}."
            )
        return x

    def forward(
        self, spectral: torch.Tensor, temporal: torch.Tensor, return_attention: bool = False
    ):
        """Classify a batch of spectral and temporal electrode maps.

        Parameters
        ----------
        spectral : Tensor of shape (batch_size, 1, H, W, n_bands) or (batch_size, H, W, n_bands)
        temporal : Tensor of shape (batch_size, 1, H, W, n_samples) or \
(batch_size, H, W, n_samples)
        return_attention : bool, default=False
            Also return the attention weights.

        Returns
        -------
        logits : Tensor of shape (batch_size, n_classes)
        attention : dict, only with ``return_attention=True``
            ``"spectral_spatial"``, ``"spectral_band"``, ``"temporal_spatial"`` and
            ``"temporal_time"``: lists (one entry per transition) of tensors of shape
            ``(batch_size, h, w)`` (spatial) and ``(batch_size, d)`` (band / time), with
            ``(h, w, d)`` from :attr:`attention_shapes`; every weight lies in (0, 1). Empty
            lists when the network has no attention.
        """
        spectral = self._check_input(spectral, self.spectral_shape, "spectral")
        temporal = self._check_input(temporal, self.temporal_shape, "temporal")
        f_s, w_s = self.spectral_stream(spectral)  # (B, 48), canonical
        f_t, w_t = self.temporal_stream(temporal)  # (B, 264), canonical
        logits = self.classifier(torch.cat([f_s, f_t], dim=1))  # (B, n_classes)
        if not return_attention:
            return logits
        return logits, {
            "spectral_spatial": [s for s, _ in w_s],
            "spectral_band": [t for _, t in w_s],
            "temporal_spatial": [s for s, _ in w_t],
            "temporal_time": [t for _, t in w_t],
        }
