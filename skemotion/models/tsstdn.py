"""TS-STDN from Liu et al (2023) [Liu2023]_."""

from __future__ import annotations

import functools

import torch
from torch import nn

from ._renamed import renamed_argument

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


# --- time convolutions of the U-Nets as block-Toeplitz matrix products --------------------
#
# The U-Nets run long (1, 64) and (1, 32) kernels over 1 to 4 feature maps of every
# electrode. As 2-D convolutions these shapes are a worst case for CPU backends (oneDNN runs
# their backward pass at a few percent of the machine's speed), so the U-Nets fold the
# electrodes into the batch, hold their maps as (maps, time, batch * electrodes) and compute
# each time convolution as matrix products: the output is cut into blocks of ``_BLOCK``
# samples; every block reads a window of input rows, and the block-Toeplitz matrix of the
# kernel (``_block_toeplitz``) maps that window onto the block for all batch columns at once.
# The function is the same as the modules' (zero padding, groups, and the nearest 2x
# upsampling of the decoder path folded into the matrix); the modules, hence the parameters,
# are unchanged.

_BLOCK = 16
_ALIGN = 32  # columns: two AVX-512 vectors of float32, the unrolling of torch's CPU kernels


@functools.lru_cache(maxsize=64)
def _window_taps(block: int, kernel: int, rate: int, pad_left: int, device: str):
    """Taps that each (output sample, window row) of a block reads, and the window size.

    Output sample ``s`` of a block and tap ``j`` read sample ``s + j - pad_left`` of the
    ``rate``-times nearest-upsampled input, i.e. input row ``(s + j - pad_left) // rate``
    counted from the block start, or window row ``r`` once the ``ceil(pad_left / rate)`` zero
    rows padding the input on the left are counted: ``rate`` consecutive taps per ``(s, r)``.
    Returns their indices, ``rate`` tensors ``(block, window)`` (``kernel`` where the tap does
    not exist), and the window size, a whole number of input blocks (``block // rate`` rows each).
    """
    pad_rows = -(-pad_left // rate)
    last = (block - 1 + kernel - 1 - pad_left) // rate + pad_rows  # last row read
    step = block // rate
    window = (last // step + 1) * step
    s = torch.arange(block).view(1, block, 1)
    r = torch.arange(window).view(1, 1, window)
    q = torch.arange(rate).view(rate, 1, 1)
    taps = rate * (r - pad_rows) - s + pad_left + q
    taps = torch.where((taps >= 0) & (taps < kernel), taps, kernel).to(device)
    return tuple(taps), window


def _block_toeplitz(weight: torch.Tensor, block: int, rate: int, pad_left: int) -> torch.Tensor:
    """Per (output map, input map of its group) the (block, window) matrix of the kernel.

    ``weight`` is ``(out_maps, in_maps_per_group, kernel)``; entry ``[o, i, s, r]`` sums the
    taps of ``weight[o, i]`` that output sample ``s`` of a block reads from window row ``r``
    (one tap without upsampling, up to ``rate`` with it).
    """
    taps, _ = _window_taps(block, weight.shape[-1], rate, pad_left, str(weight.device))
    padded = nn.functional.pad(weight, (0, 1))  # index ``kernel``: a zero tap
    mats = padded[..., taps[0]]
    for more in taps[1:]:
        mats = mats + padded[..., more]
    return mats


def _group_spans(n_maps, per_group: int) -> list[tuple[int, int, int, int, int, int]]:
    """Where the maps of the parts (``n_maps`` each) go in ``groups x per_group`` maps.

    One ``(part, first, stop, group, lo, hi)`` per overlap of a part with a group: maps
    ``first:stop`` of the part are maps ``lo:hi`` of the group.
    """
    spans, start = [], 0
    for j, count in enumerate(n_maps):
        m = 0
        while m < count:
            g, lo = divmod(start + m, per_group)
            take = min(count - m, per_group - lo)
            spans.append((j, m, m + take, g, lo, lo + take))
            m += take
        start += count
    return spans


class _BlockTimeConv(torch.autograd.Function):
    """Time convolution of maps ``(L_in, in_maps, N)`` to ``(out_len, out_maps, N)``.

    Arguments: the block-Toeplitz matrices ``(out_maps, in_maps_per_group, block, window)``
    (``_block_toeplitz``), the block length, the upsampling rate, the number of zero rows that
    pad the input on the left, the output length, the groups, then the input maps as one or
    several tensors (concatenated along the maps, each zero-extended as far as read).

    The input is copied once into a zero-padded buffer ``(groups, rows, in_maps_per_group, N)``
    in which the window of every output block, all maps of a group together, is one matrix
    ``(window * in_maps_per_group, N)``; the output rows of a block, all maps of the group
    together, are one matrix ``(block * out_maps_per_group, N)`` of the time-major output. So
    a group is one batched product over the blocks, and so are its weight gradient and its
    input gradient (a convolution of the zero-padded output gradient with the flipped kernel,
    as block products again).
    """

    @staticmethod
    def forward(ctx, toeplitz, block, rate, pad_rows, out_len, groups, *parts):
        with torch.autocast(parts[0].device.type, enabled=False):
            out_maps, per_group, _, window = toeplitz.shape
            per_out = out_maps // groups
            step = block // rate
            n = parts[0].shape[-1]
            n_blocks = -(-out_len // block)
            rows = (n_blocks - 1) * step + window
            buf = parts[0].new_empty(groups, rows, per_group, n)
            buf[:, :pad_rows].zero_()
            lengths = [min(p.shape[0], rows - pad_rows) for p in parts]
            spans = _group_spans([p.shape[1] for p in parts], per_group)
            for j, first, stop, g, lo, hi in spans:
                length = lengths[j]
                buf[g, pad_rows : pad_rows + length, lo:hi] = parts[j][:length, first:stop]
                buf[g, pad_rows + length :, lo:hi].zero_()
            # per group (block * out maps, window * in maps), rows (sample, map) and columns
            # (window row, map) in the order of the output and of the buffer
            k = window * per_group
            mats = toeplitz.view(groups, per_out, per_group, block, window)
            mats = mats.permute(0, 3, 1, 4, 2).reshape(groups, block * per_out, k)
            out = buf.new_empty(n_blocks * block, out_maps, n)
            blocks = out.view(n_blocks, block, groups, per_out, n)
            for g in range(groups):
                win = buf[g].as_strided((n_blocks, k, n), (step * per_group * n, n, 1))
                mat = mats[g].expand(n_blocks, block * per_out, k)
                if groups == 1:
                    torch.bmm(mat, win, out=out.view(n_blocks, block * out_maps, n))
                elif per_out == 1:
                    torch.bmm(mat, win, out=blocks[:, :, g, 0])
                else:
                    blocks[:, :, g] = torch.bmm(mat, win).view(n_blocks, block, per_out, n)
        ctx.save_for_backward(toeplitz, buf)
        ctx.meta = (block, rate, pad_rows, out_len, [p.shape for p in parts], lengths, spans)
        return out[:out_len]

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        toeplitz, buf = ctx.saved_tensors
        block, rate, pad_rows, out_len, shapes, lengths, spans = ctx.meta
        out_maps, per_group, _, window = toeplitz.shape
        groups, rows, _, n = buf.shape
        per_out = out_maps // groups
        step = block // rate
        n_taps = window // step  # input blocks per window
        n_blocks = -(-out_len // block)
        k = window * per_group
        needed = ctx.needs_input_grad[6:]
        grad_w = grad_x = None
        with torch.autocast(grad.device.type, enabled=False):
            # output gradient per group, time-major, zero-padded by n_taps - 1 blocks on both
            # sides: input block q gets output blocks q - n_taps + 1 .. q
            top = (n_taps - 1) * block
            gpad = grad.new_empty(groups, top + n_blocks * block + top, per_out, n)
            gpad[:, :top].zero_()
            gpad[:, top + out_len :].zero_()
            gpad[:, top : top + out_len] = grad.view(out_len, groups, per_out, n).transpose(0, 1)
            if ctx.needs_input_grad[0]:
                grad_w = buf.new_empty(groups, block * per_out, k)
                for g in range(groups):
                    win = buf[g].as_strided((n_blocks, k, n), (step * per_group * n, n, 1))
                    g_blocks = gpad[g, top : top + n_blocks * block]
                    g_blocks = g_blocks.reshape(n_blocks, block * per_out, n)
                    grad_w[g] = torch.bmm(g_blocks, win.transpose(1, 2)).sum(0)
                grad_w = grad_w.view(groups, block, per_out, window, per_group)
                grad_w = grad_w.permute(0, 2, 4, 1, 3).reshape(toeplitz.shape)
            if any(needed):
                n_q = n_blocks + n_taps - 1
                # flipped matrices per group (step * in maps, n_taps * block * out maps):
                # entry [(c, i), (n_taps - 1 - m, s, o)] = toeplitz[o, i, s, m * step + c]
                flip = toeplitz.view(groups, per_out, per_group, block, n_taps, step)
                flip = flip.flip(4).permute(0, 5, 2, 4, 3, 1)
                flip = flip.reshape(groups, step * per_group, n_taps * block * per_out)
                grad_buf = torch.empty_like(buf)
                kg = n_taps * block * per_out
                for g in range(groups):
                    gwin = gpad[g].as_strided((n_q, kg, n), (block * per_out * n, n, 1))
                    dst = grad_buf[g].view(n_q, step * per_group, n)
                    torch.bmm(flip[g].expand(n_q, step * per_group, kg), gwin, out=dst)
                grad_x = [None] * len(shapes)
                for j, first, stop, g, lo, hi in spans:
                    if not needed[j]:
                        continue
                    shape, length = shapes[j], lengths[j]
                    src = grad_buf[g, pad_rows : pad_rows + length, lo:hi]
                    if length == shape[0] and stop - first == shape[1] == per_group:
                        grad_x[j] = src  # a whole group, every row: a contiguous view
                        continue
                    if grad_x[j] is None:
                        new = grad_buf.new_empty if length == shape[0] else grad_buf.new_zeros
                        grad_x[j] = new(shape)
                    grad_x[j][:length, first:stop] = src
        return (grad_w, None, None, None, None, None, *(grad_x or [None] * len(shapes)))


def _time_conv(pad: nn.ZeroPad2d, conv: nn.Conv2d, parts, in_len: int, rate: int = 1):
    """``conv(pad(upsample(x)))`` on time-major maps ``(time, maps, batch)``.

    ``x`` is the concatenation of the parts along the maps, ``in_len`` its length (shorter
    parts are zero-extended), ``rate`` the nearest upsampling factor applied before the
    padding (1: none).
    """
    weight = conv.weight.squeeze(2)  # (out_maps, in_maps_per_group, kernel)
    pad_left, pad_right = pad.padding[0], pad.padding[1]
    out_len = rate * in_len + pad_left + pad_right - weight.shape[-1] + 1
    device = parts[0].device.type
    if torch.is_autocast_enabled(device):  # what autocast does to a convolution
        dtype = torch.get_autocast_dtype(device)
        weight = weight.to(dtype)
    parts = [p.to(weight.dtype) for p in parts]
    if torch.compiler.is_compiling():
        # traced by torch.export / torch.compile (ONNX export): the same function from
        # functional operators, since the tracer does not keep the in-place writes into the
        # uninitialised buffers of _BlockTimeConv
        return _time_conv_traceable(weight, parts, in_len, rate, pad_left, pad_right, conv.groups)
    toeplitz = _block_toeplitz(weight, _BLOCK, rate, pad_left)
    pad_rows = -(-pad_left // rate)
    return _BlockTimeConv.apply(toeplitz, _BLOCK, rate, pad_rows, out_len, conv.groups, *parts)


def _time_conv_traceable(weight, parts, in_len, rate, pad_left, pad_right, groups):
    """``_time_conv`` as a 1-D convolution of functional operators (for tracing).

    The parts are cut or zero-extended to ``in_len`` and concatenated along the maps, then
    nearest-upsampled by ``rate``, zero-padded and convolved along time.
    """
    x = torch.cat(
        [
            nn.functional.pad(p[:in_len], (0, 0, 0, 0, 0, in_len - min(p.shape[0], in_len)))
            for p in parts
        ],
        dim=1,
    ).permute(2, 1, 0)  # (N, maps, in_len)
    if rate > 1:
        n, maps, length = x.shape
        x = x.unsqueeze(-1).expand(n, maps, length, rate).reshape(n, maps, length * rate)
    x = nn.functional.pad(x, (pad_left, pad_right))
    return nn.functional.conv1d(x, weight, groups=groups).permute(2, 1, 0)  # (out_len, maps, N)


class _ContiguousGrad(torch.autograd.Function):
    """Identity whose backward passes a contiguous gradient on.

    CPU batch norm's backward misreads a gradient whose strides are channels-last when its
    input's are not (it happens here for maps of length 1, whose permuted gradients look
    channels-last): placed after batch norm and its ELU, it hands both contiguous gradients.
    """

    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return grad.contiguous()


def _bn_act(maps: torch.Tensor, bn: nn.BatchNorm2d, act: nn.ELU) -> torch.Tensor:
    """Batch norm over (time, batch) per map, then the ELU, on maps (time, C, batch).

    The ELU (``act``'s alpha) runs in place on the batch norm's output, a fresh tensor that
    batch norm's backward does not need.
    """
    out = bn(maps.contiguous().unsqueeze(-1))  # time as batch-norm's batch axis
    out = nn.functional.elu(out, alpha=act.alpha, inplace=True)
    if out.requires_grad:
        out = _ContiguousGrad.apply(out)
    return out.squeeze(-1)


def _pool2(maps: torch.Tensor) -> torch.Tensor:
    """Average pooling by 2 along time (``AvgPool2d((1, 2))``) on maps (time, C, batch)."""
    t, c, n = maps.shape
    return maps[: t - t % 2].reshape(t // 2, 2, c, n).mean(1)


class _UNet(nn.Module):
    """The denoising U-Net of one stream (1,056 parameters).

    Maps ``(B, 1, C, L)`` to the bottleneck ``(B, 4, C, L' / 4)`` and the reconstruction
    ``(B, 1, C, L)``, where ``L'`` is ``L`` rounded up to a multiple of 4: a shorter window is
    zero-padded on the right before the two poolings and the reconstruction is cropped back (no
    padding, hence the paper's network, when ``L`` is a multiple of 4).

    The modules are the paper's 2-D layers; ``forward`` applies the same function to
    time-major maps ``(time, maps, batch * electrodes)``, each time convolution computed as
    block-Toeplitz matrix products (see ``_BlockTimeConv``), which trains over ten times
    faster on CPU.
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
        b, c_in, length = x.shape[0], x.shape[2], x.shape[3]
        lp = length + (-length % 4)  # L'
        x = x.reshape(b, c_in, length)
        c = c_in
        if c % _ALIGN and not any(
            m.training or m.running_mean is None
            for m in self.modules()
            if isinstance(m, nn.BatchNorm2d)
        ):
            # inference with batch norm's running statistics: every window's electrodes start
            # on a multiple of _ALIGN columns (zero electrodes added, dropped at the end: no
            # operation mixes columns then), so that vectorised kernels round a window's
            # values the same wherever it sits in the batch and its outputs do not depend on
            # the other windows
            c += _ALIGN - c % _ALIGN
            x = nn.functional.pad(x, (0, 0, 0, c - c_in))
        # maps (time, C, batch * electrodes); the input is zero-extended from L to L'
        h = x.reshape(b * c, length).t().contiguous().unsqueeze(1)  # (L, 1, B*C)
        down1, down2, up2, up1, dec = self.down1, self.down2, self.up2, self.up1, self.decoder
        d1 = _pool2(_bn_act(_time_conv(down1[0], down1[1], [h], lp), down1[2], down1[3]))
        d2 = _pool2(_bn_act(_time_conv(down2[0], down2[1], [d1], lp // 2), down2[2], down2[3]))
        # 1x1 convolution with one group per map: a scale per map
        scale = self.bottleneck[0].weight.reshape(1, -1, 1).to(d2.dtype)
        z = _bn_act(d2 * scale, self.bottleneck[1], self.bottleneck[2])  # (L'/4, 4, B*C)
        rate2, rate1 = (int(m[0].scale_factor[1]) for m in (up2, up1))  # nearest upsampling
        u2 = _bn_act(_time_conv(up2[1], up2[2], [z], lp // 4, rate2), up2[3], up2[4])
        # the skip concatenations happen inside the convolutions' input copy
        u1 = _bn_act(_time_conv(up1[1], up1[2], [d1, u2], lp // 2, rate1), up1[3], up1[4])
        r = dec[2](_time_conv(dec[0], dec[1], [h, u1], lp))  # (L', 1, B*C)
        rec = _time_conv(dec[3], dec[4], [r], lp)[:length]  # (L, 1, B*C)
        z = z.reshape(lp // 4, 4, b, c)[..., :c_in].permute(2, 1, 3, 0).contiguous()
        rec = rec.reshape(length, b, c)[..., :c_in].permute(1, 2, 0).unsqueeze(1).contiguous()
        return z, rec  # (B, 4, C, L'/4), (B, 1, C, L)


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
        # the depthwise (C, 1) convolution as one batched product per (window, map): CPU
        # backends run that grouped convolution's backward slowly
        b, maps, c, length = z.shape
        weight = self.depthwise[0].weight.reshape(maps, -1, c)  # (4, D, C): filters of each map
        h = torch.matmul(weight, z)  # (B, 4, D, L), broadcast over the windows
        h = h.reshape(b, -1, 1, length)  # (B, 4D, 1, L), conv output layout
        for module in self.depthwise[1:]:
            h = module(h)
        return self.feature(h).squeeze(2)  # (B, F, out_len)


class TSSTDN(nn.Module):
    """TS-STDN from Liu et al (2023) [Liu2023]_.

    Two-Stream Spectral-Temporal Denoising Network: classifies emotions from raw, possibly
    EMG-contaminated EEG while two small U-Nets learn to reconstruct the clean signal, one in
    the time domain and one in the spectral domain. The spectral input is computed inside
    ``forward`` from the same (noisy) window by :func:`tsstdn_spectral`. Each stream's
    classifier branch reads its U-Net bottleneck (a depthwise spatial convolution and a feature
    convolution, as in EEGNet); the two streams' feature maps are concatenated, embedded
    (``Linear(out_len, lstm_hidden)``), run through a one-layer LSTM over the ``Fs + Ft`` maps
    as the sequence axis, re-weighted by an attention over the maps, flattened and classified.

    The canonical configuration (SEED: ``n_channels=62, n_times=400, n_classes=3, D=4,
    lstm_hidden=16, Fs=Ft=16``; the paper's ``d`` is ``lstm_hidden``) has 16,891 trainable
    parameters (17,404 with 4 classes) and maps an input ``(B, 1, 62, 400)`` to logits
    ``(B, 3)``, a temporal reconstruction ``(B, 1, 62, 400)`` and a spectral reconstruction
    ``(B, 1, 62, 404)``.

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
    lstm_hidden : int, default=16
        Embedding and hidden size of the LSTM (the paper's ``d``).
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
    d : int, deprecated
        Old name of ``lstm_hidden`` (removed in 0.2).

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

    The U-Nets hold the paper's 2-D layers (hence its parameters and state-dict keys) but
    compute their time convolutions with the electrodes folded into the batch, as
    block-Toeplitz matrix products: the same function, trained about ten times faster on a
    CPU than through 2-D convolutions (``benchmarks/training_speed.py``).

    References
    ----------
    .. [Liu2023] Liu, X., Jiang, W.-B., Zheng, W.-L., & Lu, B.-L. (2023). Two-Stream
       Spectral-Temporal Denoising Network for End-to-End Robust EEG-Based Emotion
       Recognition. In Neural Information Processing (ICONIP 2023), LNCS 14449, pp. 186-197.
       Springer. https://doi.org/10.1007/978-981-99-8067-3_14

    Examples
    --------
    >>> import torch
    >>> from skemotion.models import TSSTDN
    >>> net = TSSTDN(62, 400, 3)  # the canonical SEED configuration
    >>> logits, recon_t, recon_s = net(torch.zeros(2, 62, 400))
    >>> tuple(logits.shape), tuple(recon_t.shape), tuple(recon_s.shape)
    ((2, 3), (2, 62, 400), (2, 62, 404))
    >>> sum(p.numel() for p in net.parameters() if p.requires_grad)
    16891
    """

    #: the sub-module whose input is the window's embedding (read by subject-adversarial
    #: training, :class:`skemotion._training.SubjectAdversary`)
    embedding_module = "classifier"

    def __init__(
        self,
        n_channels: int,
        n_times: int,
        n_classes: int,
        *,
        D: int = 4,
        lstm_hidden: int | None = None,
        Fs: int = 16,
        Ft: int = 16,
        n_fft: int = 200,
        hop_length: int | None = None,
        dropout: float = 0.5,
        d: int | None = None,
    ):
        super().__init__()
        lstm_hidden = renamed_argument("TSSTDN", "d", "lstm_hidden", d, lstm_hidden)
        lstm_hidden = 16 if lstm_hidden is None else lstm_hidden
        checks = {
            "n_channels": (n_channels, 1),
            "n_times": (n_times, 1),
            "n_classes": (n_classes, 2),
            "D": (D, 1),
            "lstm_hidden": (lstm_hidden, 1),
            "Fs": (Fs, 1),
            "Ft": (Ft, 1),
            "n_fft": (n_fft, 1),
        }
        bad = {k: v for k, (v, lo) in checks.items() if int(v) != v or v < lo}
        if bad:
            raise ValueError(
                "TSSTDN needs integers n_channels >= 1, n_times >= 1, n_classes >= 2 and D, "
                f"lstm_hidden, Fs, Ft, n_fft >= 1; got {bad}."
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
        self.embedding = nn.Linear(self.out_len, lstm_hidden)
        self.lstm = nn.LSTM(lstm_hidden, lstm_hidden, batch_first=True)
        self.attention = nn.Sequential(
            nn.Linear(self.n_maps, self.n_maps // 4),
            nn.Tanh(),
            nn.Linear(self.n_maps // 4, self.n_maps),
            nn.Softmax(dim=-1),
        )
        self.classifier = nn.Linear(self.n_maps * lstm_hidden, n_classes)

    def spectral(self, x: torch.Tensor) -> torch.Tensor:
        """Spectral representation of ``x`` (input and reconstruction target alike).

        Parameters
        ----------
        x : Tensor of shape (batch_size, n_chans, n_times) or (batch_size, 1, n_chans, n_times)
            Signal windows.

        Returns
        -------
        Tensor of shape (batch_size, n_chans, n_spec) or (batch_size, 1, n_chans, n_spec)
            :func:`tsstdn_spectral` with this network's ``n_fft`` and ``hop_length``.
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
        h = self.embedding(h)  # (B, Ft+Fs, lstm_hidden)
        h, _ = self.lstm(h)  # (B, Ft+Fs, lstm_hidden): the maps are the sequence axis
        w = self.attention(h.mean(-1)).unsqueeze(-1)  # (B, Ft+Fs, 1), softmax over maps
        logits = self.classifier((w * h).flatten(1))  # (B, n_classes)
        if not four_d:
            rec_t, rec_s = rec_t.squeeze(1), rec_s.squeeze(1)
        return logits, rec_t, rec_s
