"""What the two programs load, and the folder they live in, written atomically.

    data.npz            X_train, y_train, X_test, y_test (the slice used), orders (epochs, rows)
    weights.npz         the starting weights and moving statistics, "dense1/kernel", ...
    dropout_masks.npz   (with Dropout) the keep masks Keras drew: "<layer>/step<n>"

Everything is written into a temporary folder beside the target that then takes its
place in one step (compare/output.py `staged_directory`): an interrupted run leaves
nothing half-written.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from handrolled.errors import MachineError, SpecError

from ..output import check_directory_target, check_replaceable, os_error

WHAT = "nn-compare code's output"   # what the folder is (its marker, compare/output.py)


def npz_bytes(arrays: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def data_arrays(data, orders: list) -> dict:
    """`data`: a compare.training.TrainingData; `orders`: one row order per epoch
    (None: in order)."""
    rows = data.X_train.shape[0]
    return {"X_train": data.X_train, "y_train": data.y_train, "X_test": data.X_test,
            "y_test": data.y_test,
            "orders": np.stack([np.arange(rows) if order is None else np.asarray(order)
                                for order in orders]).astype(np.int64)}


def mask_arrays(masks: list[dict]) -> dict:
    """Keras' masks, one {layer: keep} per training step -> {"<layer>/step<n>": keep}."""
    return {f"{layer}/step{step}": keep for step, by_layer in enumerate(masks)
            for layer, keep in by_layer.items()}


def check_target(out, force: bool) -> None:
    """Before any work: a folder that can be created (compare.output's checks), new or
    empty unless --force, and with --force one that nn-compare code wrote (checked again
    when the folder moves in: compare/output.py `staged_directory`)."""
    check_directory_target(out, "--out")
    out = Path(out)
    if out.is_dir() and any(out.iterdir()) and not force:
        raise SpecError(f"--out {out} exists and is not empty; give a new folder or --force "
                        f"to replace it")
    check_replaceable(out, WHAT)  # --force replaces only a folder nn-compare code wrote
    if not os.access(out.resolve().parent, os.W_OK):
        raise MachineError(f"--out {out}: the folder {out.resolve().parent} is not writable")


def write_files(folder: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        try:
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        except OSError as error:
            raise os_error("write", path, error) from None
