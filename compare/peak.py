"""The machine's own limit: measured matrix-multiply speed, and what ran it.

`matmul_peak` times a large square product C = A B with NumPy (the BLAS that
the hand-written loop uses) and keeps the best of a few runs: a peak is what
the machine *can* do, so interference from other processes should not lower
it.  `environment` records what the figures depend on: CPU, cores, the BLAS
library and its kernel (threadpoolctl), thread counts, OPENBLAS_* settings and
versions.
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np


def matmul_peak(dtype: str, size: int = 2048, repeats: int = 5, seed: int = 0) -> float:
    """Best GFLOP/s of a (size x size) @ (size x size) product in `dtype`."""
    rng = np.random.default_rng(seed)
    A = rng.random((size, size)).astype(dtype)
    B = rng.random((size, size)).astype(dtype)
    C = np.empty((size, size), dtype=dtype)
    np.matmul(A, B, out=C)  # warm-up: threads started, pages touched
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(A, B, out=C)
        best = min(best, time.perf_counter() - start)
    return 2.0 * size ** 3 / best / 1e9


# TensorFlow's own settings that change its speed (not every TF_* variable:
# other tools use that prefix too).
TF_SETTINGS = ("TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
               "TF_CPP_MIN_LOG_LEVEL")


def _has_cpu_flag(flag: str) -> bool | None:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return flag in line.split(":", 1)[1].split()
    except OSError:
        pass
    return None


def cpu_model() -> str:
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                fields[key.strip()] = fields.get(key.strip(), value.strip())
    except OSError:
        pass
    if "model name" in fields:  # family/model say which generation a VM's "AMD EPYC" is
        return (f"{fields['model name']} (family {fields.get('cpu family', '?')}, "
                f"model {fields.get('model', '?')})")
    return platform.processor() or platform.machine()


def blas_info() -> list[dict]:
    """threadpoolctl's view of the loaded BLAS/OpenMP libraries (kernel, threads)."""
    from threadpoolctl import threadpool_info

    keys = ("user_api", "internal_api", "prefix", "version", "architecture", "num_threads",
            "threading_layer")
    return [{key: info.get(key) for key in keys} for info in threadpool_info()]


def environment() -> dict:
    """Everything a benchmark figure depends on, for the JSON and the docs."""
    env = {
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_info(),
        "avx512": _has_cpu_flag("avx512f"),
        "env": {key: value for key, value in sorted(os.environ.items())
                if key.startswith(("OPENBLAS_", "OMP_", "MKL_")) or key in TF_SETTINGS},
    }
    return env


def tensorflow_environment() -> dict:
    """TensorFlow/Keras versions and their thread settings (imports TensorFlow)."""
    from keras_impl.runtime import keras, tf

    threading = tf.config.threading
    return {"tensorflow": tf.__version__, "keras": keras.__version__,
            "tf_intra_op_threads": threading.get_intra_op_parallelism_threads(),
            "tf_inter_op_threads": threading.get_inter_op_parallelism_threads()}
