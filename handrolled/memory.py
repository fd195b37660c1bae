"""How much memory a network's rows take, before any is allocated.

One row of a batch holds, during a training step (every layer's forward cache is
kept until the backward pass has used it):

    every layer     z and a (2 x its output) and the gradient flowing back into
                    it (1 x its input); nothing for a layer whose output is a view
                    of its input (Flatten: VIEW = True)
    a convolution   also its im2col columns (oh ow kh kw C numbers: one copy of the
                    input per kernel offset) and, in the backward pass, their
                    gradient (as many again)

so a batch of n rows needs about n x itemsize x the sum over the layers
(`row_numbers`).  Inference keeps the same caches (`Network.forward`), so
evaluating 10,000 rows at once costs 10,000 rows' worth: book-ch19-cnn's second
convolution alone has 82,944 numbers of columns per row, 6.6 GB in float64.
`evaluation_rows` is how many rows to evaluate at a time within
EVALUATION_BUDGET, so that peak memory does not grow with the size of the set;
`check_batch_fits` refuses, before training, a batch that cannot fit.
"""

from __future__ import annotations

import math
import os

import numpy as np

from .errors import MachineError

EVALUATION_BUDGET = 256 * 2 ** 20   # bytes of activations per evaluation chunk


def row_numbers(layers) -> dict[str, int]:
    """{layer name: the numbers one row holds in it during a training step} (above)."""
    out = {}
    for layer in layers:
        if getattr(layer, "VIEW", False):  # its output and gradient are views (flatten)
            out[layer.name] = 0
            continue
        numbers = 2 * math.prod(layer.output_shape) + math.prod(layer.input_shape)
        windows = getattr(layer, "windows", None)  # convolution and pooling
        if windows is not None:
            copies = 2 if "kernel" in getattr(layer, "param_shapes", {}) else 1
            numbers += copies * (windows.out_h * windows.out_w * math.prod(windows.window)
                                 * windows.channels)
        out[layer.name] = numbers
    return out


def row_bytes(spec) -> dict[str, int]:
    """{layer name: bytes per row}, in the spec's dtype."""
    itemsize = np.dtype(spec.dtype).itemsize
    return {name: n * itemsize for name, n in row_numbers(spec.build_layers()).items()}


def evaluation_rows(spec, budget: int | None = None) -> int:
    """Rows to run through the network at a time within `budget` bytes (default
    EVALUATION_BUDGET; at least 1)."""
    budget = EVALUATION_BUDGET if budget is None else budget
    return max(1, budget // max(1, sum(row_bytes(spec).values())))


def available_bytes() -> int | None:
    """The memory a new allocation can have now: /proc/meminfo's MemAvailable, else the
    physical memory; None where neither can be read."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def gigabytes(n: float) -> str:
    return f"{n / 2 ** 30:.2f} GB" if n >= 2 ** 30 else f"{n / 2 ** 20:.0f} MB"


def check_batch_fits(spec, batch_size: int, available: int | None = None) -> None:
    """A MachineError, naming the layer that needs the most, when one training batch of
    `batch_size` rows needs more than the memory available (`available_bytes`)."""
    available = available_bytes() if available is None else available
    per_row = row_bytes(spec)
    needed = batch_size * sum(per_row.values())
    if available is None or needed <= available:
        return
    layer = max(per_row, key=per_row.get)
    raise MachineError(f"one training batch of {batch_size} rows needs about {gigabytes(needed)}, "
                    f"more than the {gigabytes(available)} of memory available; layer {layer} "
                    f"alone needs {gigabytes(batch_size * per_row[layer])}; use a smaller "
                    f"--batch or a smaller layer")
