"""TS-STDN from Liu et al (2023) [Liu2023]_."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["TSSTDN", "tsstdn_spectral"]

_LOG_EPS = 1e-8


def tsstdn_spectral(x: torch.Tensor, n_fft: int, hop_length: int | None = None) -> torch.Tensor:
    """Spectral input (and reconstruction target) of TS-STDN.

    Per channel, a one-sided STFT with a rectangular window, ``center=False`` and hop
    ``hop_length`` (``n_fft`` when None); the features are ``log(|Re| + 1e-8)`` and
    ``log(|Im| + 1e-8)`` concatenated along the frequency axis, then flattened with the frame
    index varying fastest.

    Parameters
    ----------
    x : Tensor of shape (batch_size, n_chans, n_times) or (batch_size, 1, n_chans, n_times)
        Signal windows; needs ``n_times >= n_fft``.
    n_fft : int
        STFT length (200 in the paper: 1 s at 200 Hz).
    hop_length : int or None
        Hop between frames (``n_fft`` when None: non-overlapping frames). Samples after the
        last full frame are not used.

    Returns
    -------
    spec : Tensor of shape (batch_size, n_chans, n_spec) or (batch_size, 1, n_chans, n_spec)
        Same layout as ``x``, with ``n_spec = 2 * (n_fft // 2 + 1) * n_frames`` and
        ``n_frames = (n_times - n_fft) // hop_length + 1`` (404 for T=400, n_fft=200).
    """
    hop_length = n_fft if hop_length is None else hop_length
    four_d = x.dim() == 4
    if four_d:
        x = x.squeeze(1)
    b, c, t = x.shape
    if t < n_fft:
        raise ValueError(f"tsstdn_spectral needs n_times >= n_fft; got n_times={t}, n_fft={n_fft}.")
    sig = x.reshape(b * c, t).float()  # the FFT runs in float32 even under autocast
    window = torch.ones(n_fft, dtype=sig.dtype, device=sig.device)  # rectangular: no window
    spec = torch.stft(
        sig,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=n_fft,
        window=window,
        center=False,
        onesided=True,
        return_complex=True,
    )  # (B*C, n_freqs, n_frames) complex
    spec = torch.view_as_real(spec)  # (B*C, n_freqs, n_frames, 2)
    feats = torch.log(spec.abs() + _LOG_EPS)
    feats = torch.cat([feats[..., 0], feats[..., 1]], dim=1)  # (B*C, 2*n_freqs, n_frames)
    feats = feats.reshape(b, c, -1)  # (B, C, 2*n_freqs*n_frames), frame index fastest
    return feats.unsqueeze(1) if four_d else feats


def _conv_block(in_ch, out_ch, kernel, pad, groups=1) -> list[nn.Module]:
    """Zero-pad the time axis, bias-free (1, kernel) convolution, BN, ELU."""
    return [
        nn.ZeroPad2d(pad),
        nn.Conv2d(in_ch, out_ch, (1, kernel), groups=groups, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ELU(),
    ]


class _UNet(nn.Module):
    """The denoising U-Net of one stream (1,056 parameters).

    Maps ``(B, 1, C, L)`` to the bottleneck ``(B, 4, C, L' / 4)`` and the reconstruction
    ``(B, 1, C, L)``, where ``L'`` is ``L`` rounded up to a multiple of 4: a shorter window is
    zero-padded on the right before the two poolings and the reconstruction is cropped back (no
    padding, hence the paper's network, when ``L`` is a multiple of 4).
    """

    def __init__(self):
        super().__init__()
        self.down1 = nn.Sequential(*_conv_block(1, 2, 64, (31, 32, 0, 0)), nn.AvgPool2d((1, 2)))
        self.down2 = nn.Sequential(*_conv_block(2, 4, 32, (15, 16, 0, 0)), nn.AvgPool2d((1, 2)))
        self.bottleneck = nn.Sequential(
            nn.Conv2d(4, 4, 1, groups=4, bias=False), nn.BatchNorm2d(4), nn.ELU()
        )
        self.up2 = nn.Sequential(
            nn.Upsample(scale_factor=(1, 2), mode="nearest"),
            *_conv_block(4, 2, 32, (15, 16, 0, 0), groups=2),
        )
        self.up1 = nn.Sequential(
            nn.Upsample(scale_factor=(1, 2), mode="nearest"),
            *_conv_block(4, 2, 64, (31, 32, 0, 0), groups=2),
        )
        self.decoder = nn.Sequential(
            nn.ZeroPad2d((31, 32, 0, 0)),
            nn.Conv2d(3, 1, (1, 64), bias=False),
            nn.ReLU(),
            nn.ZeroPad2d((31, 32, 0, 0)),
            nn.Conv2d(1, 1, (1, 64), bias=False),
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        length = x.shape[-1]
        extra = -length % 4
        if extra:
            x = nn.functional.pad(x, (0, extra))  # (B, 1, C, L')
        d1 = self.down1(x)  # (B, 2, C, L'/2)
        d2 = self.down2(d1)  # (B, 4, C, L'/4)
        z = self.bottleneck(d2)  # (B, 4, C, L'/4)
        u2 = torch.cat([d1, self.up2(z)], dim=1)  # (B, 2+2, C, L'/2)
        u1 = torch.cat([x, self.up1(u2)], dim=1)  # (B, 1+2, C, L')
        rec = self.decoder(u1)  # (B, 1, C, L')
        return z, rec[..., :length]


class _StreamHead(nn.Module):
    """Classifier branch of one stream, reading the U-Net bottleneck.

    Depthwise spatial convolution ``(C, 1)`` with ``D`` filters per bottleneck map, average
    pooling by 2, a ``(1, 16)`` feature convolution and average pooling by 4 (pool sizes shrink
    to the available length for very short windows). ``out_len`` forces the final length with
    an adaptive average pooling when the natural one differs (the spectral stream of
    non-canonical window lengths); the paper's configuration never needs it.
    """

    def __init__(self, n_channels, length, D, n_filters, dropout, out_len=None):
        super().__init__()
        pool1 = min(2, length)
        len1 = length // pool1
        pool2 = min(4, len1)
        natural = len1 // pool2
        self.out_len = natural if out_len is None else out_len
        final_pool = (
            nn.AvgPool2d((1, pool2))
            if self.out_len == natural
            else nn.AdaptiveAvgPool2d((1, self.out_len))
        )
        self.depthwise = nn.Sequential(
            nn.Conv2d(4, 4 * D, (n_channels, 1), groups=4, bias=False),  # (B, 4D, 1, L)
            nn.BatchNorm2d(4 * D),
            nn.ELU(),
            nn.AvgPool2d((1, pool1)),  # (B, 4D, 1, L // 2)
            nn.Dropout(dropout),
        )
        self.feature = nn.Sequential(
            *_conv_block(4 * D, n_filters, 16, (7, 8, 0, 0)),  # (B, F, 1, L // 2)
            final_pool,  # (B, F, 1, out_len)
            nn.Dropout(dropout),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.feature(self.depthwise(z)).squeeze(2)  # (B, F, out_len)


class TSSTDN(nn.Module):
    """TS-STDN from Liu et al (2023) [Liu2023]_.

    Two-Stream Spectral-Temporal Denoising Network: classifies emotions from raw, possibly
    EMG-contaminated EEG while two small U-Nets learn to reconstruct the clean signal, one in
    the time domain and one in the spectral domain. The spectral input is computed inside
    ``forward`` from the same (noisy) window by :func:`tsstdn_spectral`. Each stream's
    classifier branch reads its U-Net bottleneck (a depthwise spatial convolution and a feature
    convolution, as in EEGNet); the two streams' feature maps are concatenated, embedded
    (``Linear(out_len, d)``), run through a one-layer LSTM over the ``Fs + Ft`` maps as the
    sequence axis, re-weighted by an attention over the maps, flattened and classified.

    The canonical configuration (SEED: ``n_channels=62, n_times=400, n_classes=3, D=4, d=16,
    Fs=Ft=16``) has 16,891 trainable parameters (17,404 with 4 classes) and maps an input
    ``(B, 1, 62, 400)`` to logits ``(B, 3)``, a temporal reconstruction ``(B, 1, 62, 400)`` and
    a spectral reconstruction ``(B, 1, 62, 404)``.

    Parameters
    ----------
    n_channels : int
        Number of EEG channels C.
    n_times : int
        Window length T in samples.
    n_classes : int
        Number of classes.
    D : int
        Depth multiplier of the depthwise spatial convolutions (spatial filters per bottleneck
        map).
    d : int
        Embedding and hidden size of the LSTM.
    Fs : int
        Filters of the spectral stream's feature convolution.
    Ft : int
        Filters of the temporal stream's feature convolution.
    n_fft : int
        STFT length of the spectral stream (200: 1 s at 200 Hz). Windows shorter than
        ``n_fft`` use ``n_fft = n_times`` (one frame over the whole window).
    hop_length : int or None
        STFT hop (``n_fft`` when None, as in the paper).
    dropout : float
        Dropout rate of the classifier branches (0.5 in the paper).

    Attributes
    ----------
    n_fft : int
        The STFT length actually used (``min(n_fft, n_times)``).
    n_spec : int
        Length of the spectral representation: ``2 * (n_fft // 2 + 1) * n_frames``.
    out_len : int
        Length of each stream's feature maps fed to the fusion head (12 for T=400).

    Notes
    -----
    Other channel counts and window lengths (DEAP 32 x 128*k, Emotiv 14, down to one sample)
    work as follows, and reproduce the paper's network exactly for the canonical one:

    - each U-Net pools twice by 2 and upsamples back, so it needs a length divisible by 4: a
      window (or spectral representation) of another length is zero-padded on the right to
      the next multiple of 4 and the reconstruction is cropped back to the input length;
    - the classifier branches pool by 2 then by 4 (floor), shrinking the pool sizes when the
      bottleneck is shorter than that; the temporal stream's final length
      ``out_len = (ceil(T / 4) // 2) // 4`` sets the fusion head's input size (``T // 32`` in
      the paper). The spectral stream reaches the same length for T=400 (101 -> 50 -> 12),
      by coincidence of the paper's numbers; for other lengths its last pooling becomes an
      adaptive average pooling to ``out_len`` (no parameters, so the parameter count depends
      on T only through C and ``out_len``);
    - the STFT uses ``min(n_fft, T)`` samples per frame; samples after the last full frame
      are not seen by the spectral stream (as in the paper's code).

    Convolutions on the time axis have kernel lengths of 64, 32 and 16 samples whatever the
    sampling rate; at 128 Hz (DEAP, Emotiv) they span longer durations than at 200 Hz.

    References
    ----------
    .. [Liu2023] Liu, X., Jiang, W.-B., Zheng, W.-L., & Lu, B.-L. (2023). Two-Stream
       Spectral-Temporal Denoising Network for End-to-End Robust EEG-Based Emotion
       Recognition. In Neural Information Processing (ICONIP 2023), LNCS 14449, pp. 186-197.
       Springer. https://doi.org/10.1007/978-981-99-8067-3_14
    """

    def __init__(
        self,
        n_channels: int,
        n_times: int,
        n_classes: int,
        *,
        D: int = 4,
        d: int = 16,
        Fs: int = 16,
        Ft: int = 16,
        n_fft: int = 200,
        hop_length: int | None = None,
        dropout: float = 0.5,
    ):
        super().__init__()
        checks = {
            "n_channels": (n_channels, 1),
            "n_times": (n_times, 1),
            "n_classes": (n_classes, 2),
            "D": (D, 1),
            "d": (d, 1),
            "Fs": (Fs, 1),
            "Ft": (Ft, 1),
            "n_fft": (n_fft, 1),
        }
        bad = {k: v for k, (v, lo) in checks.items() if int(v) != v or v < lo}
        if bad:
            raise ValueError(
                "TSSTDN needs integers n_channels >= 1, n_times >= 1, n_classes >= 2 and D, d, "
                f"Fs, Ft, n_fft >= 1; got {bad}."
            )
        if Fs + Ft < 4:
            raise ValueError(
                "TSSTDN needs Fs + Ft >= 4 (the attention over the feature maps has "
                f"(Fs + Ft) // 4 hidden units); got Fs={Fs}, Ft={Ft}."
            )
        if hop_length is not None and hop_length < 1:
            raise ValueError(f"TSSTDN needs hop_length >= 1 or None; got {hop_length}.")
        self.n_channels, self.n_times, self.n_classes = n_channels, n_times, n_classes
        self.n_fft = min(n_fft, n_times)
        self.hop_length = self.n_fft if hop_length is None else hop_length
        n_frames = (n_times - self.n_fft) // self.hop_length + 1
        self.n_spec = 2 * (self.n_fft // 2 + 1) * n_frames
        self.n_maps = Fs + Ft

        len_t = -(-n_times // 4)  # bottleneck lengths (after padding to a multiple of 4)
        len_s = -(-self.n_spec // 4)
        self.temporal_unet = _UNet()
        self.spectral_unet = _UNet()
        self.temporal_head = _StreamHead(n_channels, len_t, D, Ft, dropout)
        self.out_len = self.temporal_head.out_len
        self.spectral_head = _StreamHead(n_channels, len_s, D, Fs, dropout, out_len=self.out_len)
        self.embedding = nn.Linear(self.out_len, d)
        self.lstm = nn.LSTM(d, d, batch_first=True)
        self.attention = nn.Sequential(
            nn.Linear(self.n_maps, self.n_maps // 4),
            nn.Tanh(),
            nn.Linear(self.n_maps // 4, self.n_maps),
            nn.Softmax(dim=-1),
        )
        self.classifier = nn.Linear(self.n_maps * d, n_classes)

    def spectral(self, x: torch.Tensor) -> torch.Tensor:
        """Spectral representation of ``x`` (input and reconstruction target alike).

        ``(B, C, T)`` gives ``(B, C, n_spec)``; ``(B, 1, C, T)`` gives ``(B, 1, C, n_spec)``.
        """
        return tsstdn_spectral(x, self.n_fft, self.hop_length)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Classify and denoise a batch of windows.

        Parameters
        ----------
        x : Tensor of shape (batch_size, n_chans, n_times) or (batch_size, 1, n_chans, n_times)

        Returns
        -------
        logits : Tensor of shape (batch_size, n_classes)
        temporal_reconstruction : Tensor of the shape of ``x``
        spectral_reconstruction : Tensor of shape (batch_size, [1,] n_chans, n_spec)
            In the layout of ``x`` (with the singleton axis when ``x`` is 4-D).
        """
        four_d = x.dim() == 4
        if not four_d:
            x = x.unsqueeze(1)  # (B, 1, C, T)
        if x.dim() != 4 or x.shape[1] != 1:
            raise ValueError(
                "TSSTDN expects input of shape (batch_size, n_chans, n_times) or "
                f"(batch_size, 1, n_chans, n_times); got {tuple(x.shape)}."
            )
        spec = self.spectral(x).to(x.dtype)  # (B, 1, C, n_spec)

        z_t, rec_t = self.temporal_unet(x)  # (B, 4, C, T/4), (B, 1, C, T)
        z_s, rec_s = self.spectral_unet(spec)  # (B, 4, C, n_spec/4), (B, 1, C, n_spec)

        feat_t = self.temporal_head(z_t)  # (B, Ft, out_len)
        feat_s = self.spectral_head(z_s)  # (B, Fs, out_len)
        h = torch.cat([feat_t, feat_s], dim=1)  # (B, Ft+Fs, out_len)
        h = self.embedding(h)  # (B, Ft+Fs, d)
        h, _ = self.lstm(h)  # (B, Ft+Fs, d): the maps are the sequence axis
        w = self.attention(h.mean(-1)).unsqueeze(-1)  # (B, Ft+Fs, 1), softmax over maps
        logits = self.classifier((w * h).flatten(1))  # (B, n_classes)
        if not four_d:
            rec_t, rec_s = rec_t.squeeze(1), rec_s.squeeze(1)
        return logits, rec_t, rec_s
