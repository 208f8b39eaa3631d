"""Device and precision handling shared by every estimator that trains a network."""

from __future__ import annotations

import torch

__all__ = ["resolve_device", "inference_device", "check_precision", "PRECISIONS"]

PRECISIONS = ("32", "bf16", "16-mixed")


def resolve_device(estimator, device) -> str:
    """Validate ``device`` and return a concrete one (``"auto"``: CUDA when available).

    Raises a ``ValueError`` naming the estimator for an unknown device string, for CUDA asked
    on a machine without it, and for a CUDA index that does not exist.
    """
    name = type(estimator).__name__
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"{name}: argument device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got {device!r}."
        ) from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"{name}: argument device={device!r} asks for CUDA, but no CUDA device is "
                "available here; use device='auto' or 'cpu'."
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"{name}: argument device={device!r}: only {torch.cuda.device_count()} CUDA "
                "device(s) here."
            )
    elif dev.type != "cpu":
        raise ValueError(
            f"{name}: argument device must be 'auto', 'cpu' or 'cuda[:N]'; got {device!r}."
        )
    return str(dev)


def check_precision(estimator, precision: str, device: str) -> torch.dtype | None:
    """Validate ``precision`` for ``device``; return the autocast dtype (None for fp32)."""
    name = type(estimator).__name__
    if precision == "32":
        return None
    dev_type = torch.device(device).type
    if precision == "bf16":
        if dev_type == "cuda" and not torch.cuda.is_bf16_supported():
            raise ValueError(
                f"{name}: argument precision='bf16' is not supported by this CUDA device; "
                "use precision='16-mixed' or '32'."
            )
        return torch.bfloat16
    if precision == "16-mixed":
        if dev_type != "cuda":
            raise ValueError(
                f"{name}: argument precision='16-mixed' needs a CUDA device; got "
                f"device={device!r}. Use precision='bf16' or '32' on CPU."
            )
        return torch.float16
    raise ValueError(f"{name}: argument precision must be one of {PRECISIONS}; got {precision!r}.")


def inference_device(device) -> str:
    """Device for inference with a fitted model: the requested one where it exists, else CPU.

    A model fitted on a GPU (``device="cuda"``) must still transform or predict on a machine
    without one after unpickling.
    """
    if device != "cpu" and torch.cuda.is_available():
        return "cuda" if device == "auto" else str(torch.device(device))
    return "cpu"
