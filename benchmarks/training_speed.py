"""Training throughput and inference latency of the deep classifiers, against bare PyTorch.

Workload: SEED-shaped synthetic windows (``make_eeg_emotion("seed62")``: 62 channels x 400
samples, 2 s at 200 Hz, 3 classes), float32.

1. Throughput (windows per second of training) of every classifier of
   ``skemotion.classifiers.__all__`` (found when the script runs), with its default
   architecture, against a bare PyTorch loop that trains the same network on the same data in
   the same run: the network, its prepared inputs and its per-batch transform come from the
   estimator's own input-stage hooks, and the loop uses the same loss, batch size, optimizer
   (learning rate, weight decay, and the estimator's gradient clipping and cosine schedule when
   it has them), epochs, shuffling and last-batch rule. The difference is the training
   runtime's overhead (skorch, callbacks, history, validation of the arguments, the input
   stage wrapper). Target: at most 10 %.
2. braindecode's ``EEGClassifier`` with its EEGNet on the same windows (same batch size,
   optimizer, epochs), timed right after ``EEGNetClassifier`` in every repeat, when braindecode
   can be imported by the interpreter running this script.
3. Inference latency for one 2 s window: ``predict_proba`` of the fitted classifier on one
   window (input stage included), and the network's forward pass alone.
4. TS-STDN: a training step of the canonical network (62 x 400, 3 classes) in the paper's
   formulation (U-Nets and classifier branches as 2-D convolutions, kept below as the
   reference) and in the package's (block-Toeplitz U-Nets, the branches' depthwise
   convolution as a batched product), same weights, same run, per thread count.

Timings are wall-clock and interleaved (each repeat runs every variant once, so that a busy
machine slows all of them alike); ratios use the best of the repeats.

Usage::

    python benchmarks/training_speed.py                        # prints markdown tables
    python benchmarks/training_speed.py --device auto --precision bf16 --threads 2
"""

from __future__ import annotations

import argparse
import copy
import inspect
import os
import platform
import statistics
import subprocess
import time
import types

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import clone
from sklearn.preprocessing import LabelEncoder

import skemotion.classifiers as classifiers_module
from skemotion.classifiers import DeepClassifierBase, TSSTDNClassifier
from skemotion.datasets import make_eeg_emotion
from skemotion.models import TSSTDN

_OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def _timed(fn, device):
    _sync(device)
    t0 = time.perf_counter()
    out = fn()
    _sync(device)
    return time.perf_counter() - t0, out


# --- the classifiers ----------------------------------------------------------------------
def discover_classifiers():
    """Every deep classifier exported by ``skemotion.classifiers`` (at run time)."""
    found = []
    for name in classifiers_module.__all__:
        cls = getattr(classifiers_module, name)
        if isinstance(cls, type) and issubclass(cls, DeepClassifierBase):
            if cls is not DeepClassifierBase:
                found.append(cls)
    return found


def make_estimator(cls, *, sfreq, epochs, batch_size, device, precision):
    params = inspect.signature(cls).parameters
    kw = dict(
        max_epochs=epochs,
        batch_size=batch_size,
        device=device,
        precision=precision,
        random_state=0,
    )
    if "sfreq" in params:
        kw["sfreq"] = sfreq
    if "ch_names" in params:
        kw["ch_names"] = "seed62"
    return cls(**kw)


def _bare_loss(est):
    """The estimator's training loss, written out (cross-entropy, plus TS-STDN's terms)."""
    if isinstance(est, TSSTDNClassifier):

        def loss(out, yb, xb):
            logits, rec_t, rec_s = out
            return (
                F.cross_entropy(logits.float(), yb)
                + est.lambda_t * F.mse_loss(rec_t.float(), xb["X_clean"])
                + est.lambda_s * F.mse_loss(rec_s.float(), xb["S_clean"])
            )

        return loss

    def loss(out, yb, xb):
        logits = out[0] if isinstance(out, tuple) else out
        return F.cross_entropy(logits.float(), yb)

    return loss


def _index(inputs, idx, device):
    if isinstance(inputs, dict):
        return {k: v[idx].to(device, non_blocking=True) for k, v in inputs.items()}
    return inputs[idx].to(device, non_blocking=True)


def bare_fit(template, X, y, *, epochs, batch_size, device, precision):
    """Train the estimator's network with a plain PyTorch loop; returns the trained module."""
    est = clone(template)
    y_enc = LabelEncoder().fit_transform(y).astype(np.int64)
    torch.manual_seed(0)
    # the estimator's input stage, as its fit runs it
    extras = est._fit_extras(X, {})
    for attr, value in est._fit_state(X, y_enc, extras).items():
        setattr(est, attr, value)
    prepared = est._prepare(X)
    inputs = est._training_inputs(X, prepared, extras)
    if isinstance(prepared, dict):
        shape = {k: tuple(v.shape[1:]) for k, v in prepared.items()}
    else:
        shape = tuple(prepared.shape[1:])
    module = est._build_module(shape, len(np.unique(y_enc))).to(device)
    transform = est._batch_transform()
    if transform is not None and hasattr(transform, "reset"):
        transform.reset(0)
    if isinstance(inputs, dict):
        inputs = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in inputs.items()}
    else:
        inputs = torch.from_numpy(np.ascontiguousarray(inputs))
    y_t = torch.from_numpy(y_enc)
    opt = _OPTIMIZERS[est.optimizer](module.parameters(), lr=est.lr, weight_decay=est.weight_decay)
    schedule = None
    if getattr(est, "lr_schedule", None) == "cosine":
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    clip = getattr(est, "gradient_clip", None)
    loss_fn = _bare_loss(est)
    amp = {"32": None, "bf16": torch.bfloat16, "16-mixed": torch.float16}[precision]
    dev_type = torch.device(device).type
    n = len(y_enc)
    gen = torch.Generator().manual_seed(0)
    module.train()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        stop = n - n % batch_size if n > batch_size else n  # the last short batch is dropped
        for start in range(0, stop, batch_size):
            idx = perm[start : start + batch_size]
            xb = _index(inputs, idx, device)
            yb = y_t[idx].to(device, non_blocking=True)
            x_in = transform(xb, training=True) if transform is not None else xb
            with torch.autocast(dev_type, dtype=amp or torch.float32, enabled=amp is not None):
                out = module(**x_in) if isinstance(x_in, dict) else module(x_in)
                loss = loss_fn(out, yb, xb)
            opt.zero_grad()
            loss.backward()
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(module.parameters(), clip)
            opt.step()
        if schedule is not None:
            schedule.step()
    return module


def windows_per_epoch(n, batch_size):
    return n - n % batch_size if n > batch_size else n


# --- braindecode --------------------------------------------------------------------------
def braindecode_status():
    try:
        import braindecode  # noqa: F401
    except ImportError as exc:
        return None, f"not importable by this interpreter ({exc})"
    return braindecode, f"braindecode {braindecode.__version__}"


def braindecode_fit(X, y, *, epochs, batch_size, device):
    from braindecode import EEGClassifier
    from braindecode.models import EEGNet

    torch.manual_seed(0)
    module = EEGNet(n_chans=X.shape[1], n_outputs=3, n_times=X.shape[2])
    clf = EEGClassifier(
        module,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        batch_size=batch_size,
        max_epochs=epochs,
        train_split=None,
        device=device,
        iterator_train__shuffle=True,
        iterator_train__drop_last=len(y) > batch_size,
        verbose=0,
    )
    clf.fit(X, LabelEncoder().fit_transform(y).astype(np.int64))
    return clf


# --- inference ----------------------------------------------------------------------------
def latency_ms(fn, reps, device):
    for _ in range(3):
        fn()
    times = []
    for _ in range(reps):
        dt, _ = _timed(fn, device)
        times.append(dt)
    return statistics.median(times) * 1e3


def module_input(est, X1, device):
    """The network's input for the windows X1, as the fitted estimator feeds it."""
    prepared = est._prepare(X1)
    if isinstance(prepared, dict):
        x = {k: torch.from_numpy(np.ascontiguousarray(v)).to(device) for k, v in prepared.items()}
    else:
        x = torch.from_numpy(np.ascontiguousarray(prepared)).to(device)
    transform = est._batch_transform()
    return transform(x, training=False) if transform is not None else x


# --- TS-STDN: the paper's 2-D formulation of the U-Nets (the reference) -------------------
def conv2d_unet_forward(unet, x):
    """The U-Net as 2-D convolutions on (B, maps, C, L), applying the modules in order."""
    length = x.shape[-1]
    x = F.pad(x, (0, -length % 4))
    d1 = unet.down1(x)
    d2 = unet.down2(d1)
    z = unet.bottleneck(d2)
    u2 = torch.cat([d1, unet.up2(z)], dim=1)
    u1 = torch.cat([x, unet.up1(u2)], dim=1)
    return z, unet.decoder(u1)[..., :length]


def conv2d_head_forward(head, z):
    """The classifier branch as the paper's code applies it: its modules in order."""
    return head.feature(head.depthwise(z)).squeeze(2)


def tsstdn_step_times(threads, batch, repeats):
    """ms per window of a training step, 2-D vs block-Toeplitz formulation, same weights."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    new = TSSTDN(62, 400, 3).train()
    old = copy.deepcopy(new)
    for unet in (old.temporal_unet, old.spectral_unet):
        unet.forward = types.MethodType(conv2d_unet_forward, unet)
    for head in (old.temporal_head, old.spectral_head):
        head.forward = types.MethodType(conv2d_head_forward, head)
    x = torch.randn(batch, 62, 400)
    y = torch.randint(0, 3, (batch,))
    spec = new.spectral(x)
    opts = {id(m): torch.optim.Adam(m.parameters(), lr=1e-3) for m in (old, new)}

    def step(model):
        opt = opts[id(model)]
        opt.zero_grad()
        logits, rec_t, rec_s = model(x)
        loss = F.cross_entropy(logits, y) + F.mse_loss(rec_t, x) + F.mse_loss(rec_s, spec)
        loss.backward()
        opt.step()

    names = ("2-D convolutions (paper)", "block-Toeplitz (skemotion)")
    models = dict(zip(names, (old, new)))
    best = dict.fromkeys(names, np.inf)
    x1 = x[:1]
    for m in models.values():
        step(m)  # warm-up
    for _ in range(repeats):
        for name, m in models.items():
            dt, _ = _timed(lambda m=m: step(m), "cpu")
            best[name] = min(best[name], dt)
    step_ms = {k: v / batch * 1e3 for k, v in best.items()}
    infer_ms = {}
    for name, m in models.items():
        m.eval()
        with torch.no_grad():
            infer_ms[name] = latency_ms(lambda m=m: m(x1), 10 * repeats, "cpu")
    return step_ms, infer_ms


# --- main ---------------------------------------------------------------------------------
def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--windows", type=int, default=96, help="training windows (62 x 400)")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--repeats", type=int, default=2, help="interleaved repeats of each fit")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (cuda when present)")
    p.add_argument("--precision", default="32", choices=["32", "bf16"])
    p.add_argument("--latency-reps", type=int, default=20)
    p.add_argument("--tsstdn-threads", default="1,2", help="thread counts of part 4")
    p.add_argument("--tsstdn-batch", type=int, default=32)
    p.add_argument("--tsstdn-repeats", type=int, default=3)
    p.add_argument("--only", default=None, help="comma-separated class names to run")
    p.add_argument(
        "--heavy",
        default="",
        help="comma-separated classes trained on the smaller --heavy-* workload (none by "
        "default: every classifier's default network trains on the full workload)",
    )
    p.add_argument("--heavy-windows", type=int, default=8)
    p.add_argument("--heavy-batch-size", type=int, default=4)
    p.add_argument("--heavy-epochs", type=int, default=1)
    p.add_argument("--skip-tsstdn-formulations", action="store_true")
    args = p.parse_args(argv)
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.set_num_threads(args.threads)

    data = make_eeg_emotion("seed62", n_subjects=max(1, -(-args.windows // 60)), random_state=0)
    pick = np.random.default_rng(0).permutation(len(data.y))[: args.windows]
    X, y = data.X[pick].astype(np.float32), data.y[pick]
    heavy = set(args.heavy.split(",")) if args.heavy else set()

    def workload(name):
        """(windows, skorch/bare keyword arguments, window-steps per fit) of a class."""
        if name in heavy:
            n, b, e = min(args.heavy_windows, len(y)), args.heavy_batch_size, args.heavy_epochs
        else:
            n, b, e = len(y), args.batch_size, args.epochs
        return n, dict(epochs=e, batch_size=b, device=device), windows_per_epoch(n, b) * e

    kw = workload("")[1]
    n_seen = workload("")[2]

    classes = discover_classifiers()
    if args.only:
        keep = set(args.only.split(","))
        classes = [c for c in classes if c.__name__ in keep]
    bd, bd_status = braindecode_status()
    print(f"classifiers: {[c.__name__ for c in classes]}; braindecode: {bd_status}", flush=True)

    # 1-2. throughput, interleaved; an untimed warm-up fit of each first (one-time costs:
    # imports, kernel selection, allocator growth)
    best = {}
    fitted = {}
    failed = {}  # a classifier that cannot train in this setting is reported, not fatal
    for cls in classes:
        n, kw_cls, _ = workload(cls.__name__)
        warm = dict(kw_cls, epochs=1)
        n_warm = min(n, 2 * kw_cls["batch_size"])
        est = make_estimator(cls, sfreq=data.sfreq, precision=args.precision, **warm)
        try:
            est.fit(X[:n_warm], y[:n_warm])
            bare_fit(est, X[:n_warm], y[:n_warm], precision=args.precision, **warm)
        except Exception as exc:
            failed[cls.__name__] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    if bd is not None and args.precision == "32":
        n_warm = min(len(y), 2 * args.batch_size)
        braindecode_fit(X[:n_warm], y[:n_warm], **dict(kw, epochs=1))
    for rep in range(args.repeats):
        for cls in classes:
            name = cls.__name__
            if name in failed:
                continue
            n, kw_cls, _ = workload(name)
            Xc, yc = X[:n], y[:n]
            est = make_estimator(cls, sfreq=data.sfreq, precision=args.precision, **kw_cls)
            try:
                dt, est = _timed(lambda est=est, a=Xc, b=yc: est.fit(a, b), device)
            except Exception as exc:
                failed[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
                continue
            best[(name, "skemotion")] = min(best.get((name, "skemotion"), np.inf), dt)
            fitted[name] = est
            bare_kw = dict(kw_cls, precision=args.precision)
            dt, _ = _timed(lambda e=est, a=Xc, b=yc, k=bare_kw: bare_fit(e, a, b, **k), device)
            best[(name, "bare")] = min(best.get((name, "bare"), np.inf), dt)
            if name == "EEGNetClassifier" and bd is not None and args.precision == "32":
                # braindecode's EEGNet right after ours, on the same windows and settings
                dt, _ = _timed(lambda a=Xc, b=yc, k=kw_cls: braindecode_fit(a, b, **k), device)
                key = ("EEGNet", "braindecode")
                best[key] = min(best.get(key, np.inf), dt)
            print(f"  rep {rep} {name}: done", flush=True)

    rows = []
    for cls in classes:
        name = cls.__name__
        if name in failed:
            continue
        ours, bare = best[(name, "skemotion")], best[(name, "bare")]
        est = fitted[name]
        n_params = sum(p.numel() for p in est.net_.module_.parameters() if p.requires_grad)
        X1 = X[:1]
        module = est.net_.module_.eval()
        x1 = module_input(est, X1, device)
        amp = {"32": None, "bf16": torch.bfloat16}[args.precision]
        with (
            torch.no_grad(),
            torch.autocast(
                torch.device(device).type, dtype=amp or torch.float32, enabled=amp is not None
            ),
        ):
            fwd = latency_ms(
                lambda m=module, x=x1: m(**x) if isinstance(x, dict) else m(x),
                args.latency_reps,
                device,
            )
        pred = latency_ms(lambda est=est, x=X1: est.predict_proba(x), args.latency_reps, device)
        steps = workload(name)[2]
        rows.append((name, n_params, steps / ours, steps / bare, ours / bare - 1.0, pred, fwd))
    bd_row = None
    if ("EEGNet", "braindecode") in best:
        bd_row = n_seen / best[("EEGNet", "braindecode")]

    # 4. TS-STDN formulations
    ts_rows = []
    if not args.skip_tsstdn_formulations:
        for threads in [int(t) for t in args.tsstdn_threads.split(",") if t]:
            times = tsstdn_step_times(threads, args.tsstdn_batch, args.tsstdn_repeats)
            ts_rows.append((threads, times))
        torch.set_num_threads(args.threads)

    # report
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    meta = (
        f"Machine: {cpu_model()}, {os.cpu_count()} cores, torch {torch.__version__}, device "
        f"{device}, precision {args.precision}, {args.threads} thread(s) (parts 1-3); load "
        f"average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min). "
        f"Workload: {len(y)} windows of 62 x 400, batch {args.batch_size}, {args.epochs} "
        f"epochs ({n_seen} window-steps per fit), best of {args.repeats} interleaved repeats"
        + (
            f"; {', '.join(sorted(heavy & {c.__name__ for c in classes}))}: "
            f"{workload(next(iter(heavy)))[0]} windows, batch {args.heavy_batch_size}, "
            f"{args.heavy_epochs} epoch(s)"
            if heavy & {c.__name__ for c in classes}
            else ""
        )
        + "."
    )
    lines = [
        "| classifier | parameters | skemotion (windows/s) | bare PyTorch (windows/s) | "
        "overhead | predict_proba, 1 window (ms) | forward, 1 window (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, n_params, ours, bare, over, pred, fwd in rows:
        lines.append(
            f"| {name} | {n_params:,} | {ours:.1f} | {bare:.1f} | {over * 100:+.1f} % | "
            f"{pred:.1f} | {fwd:.1f} |"
        )
    if bd_row is not None:
        lines.append(f"| braindecode EEGClassifier(EEGNet) | | {bd_row:.1f} | | | | |")
    for name, error in failed.items():
        lines.append(f"| {name} | failed: {error} | | | | | |")
    table = "\n".join(lines)
    ts_lines = [
        "| threads | training step, 2-D (ms/window) | training step, block-Toeplitz "
        "(ms/window) | speed-up | forward of 1 window, 2-D (ms) | forward of 1 window, "
        "block-Toeplitz (ms) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for threads, (step_ms, infer_ms) in ts_rows:
        old, new = step_ms.values()
        i_old, i_new = infer_ms.values()
        ts_lines.append(
            f"| {threads} | {old:.1f} | {new:.1f} | {old / new:.1f}x | {i_old:.1f} | {i_new:.1f} |"
        )
    ts_table = "\n".join(ts_lines)
    print(meta)
    print(f"braindecode: {bd_status}")
    print(table)
    print(ts_table)
    return rows, bd_row, ts_rows


if __name__ == "__main__":
    main()
