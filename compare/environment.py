"""What a result was measured on: versions, BLAS, CPU, threads, determinism.

The one place that describes the machine, for both JSON outputs:

    describe_environment()        -> results.json "environment" (nn-compare report/train)
    describe_timing_environment() -> bench.json "environment" (nn-compare bench): also the
                                     load, AVX-512 and the OPENBLAS_*/OMP_*/MKL_*/TF_* settings
    tensorflow_info()             -> TensorFlow/Keras versions, threads, op determinism

TensorFlow is described only if it is already imported (it is, whenever a
comparison or a Keras timing ran); this module never imports it on its own.
"""

from __future__ import annotations

import os
import platform
import sys

import numpy as np

# TensorFlow's own settings that change its speed (not every TF_* variable:
# other tools use that prefix too).
TF_SETTINGS = ("TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
               "TF_CPP_MIN_LOG_LEVEL")


def describe_environment() -> dict:
    """Versions, CPU and BLAS, plus TensorFlow's settings if it is loaded."""
    env = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        **_cpu_counts(),
        "numpy": np.__version__,
        "blas": blas_info(),
    }
    env.update(keras_info())
    env.update(tensorflow_info())
    return env


def keras_info() -> dict:
    """Keras' version and backend, and JAX's or torch's version where one runs it; {} if
    Keras has not been imported."""
    keras = sys.modules.get("keras")
    if keras is None:
        return {}
    backend = keras.backend.backend()
    info = {"keras": getattr(keras, "__version__", None), "keras_backend": backend}
    if backend in ("jax", "torch") and backend in sys.modules:
        info[backend] = getattr(sys.modules[backend], "__version__", None)
    return info


def describe_timing_environment() -> dict:
    """Everything a benchmark figure depends on (TensorFlow's part: add `tensorflow_info()`)."""
    return {
        **_cpu_counts(),
        "load_average": load_average(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_info(),
        "avx512": has_cpu_flag("avx512f"),
        "env": {key: value for key, value in sorted(os.environ.items())
                if key.startswith(("OPENBLAS_", "OMP_", "MKL_", "ONEDNN_", "NPY_"))
                or key in TF_SETTINGS},
    }


def peak_resident_mb() -> float | None:
    """The largest resident memory this process has had so far, in MB (getrusage's
    ru_maxrss: KB on Linux, bytes on macOS); None where it cannot be read."""
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2 ** 20 if sys.platform == "darwin" else 2 ** 10), 1)


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (None where the system has none)."""
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def _cpu_counts() -> dict:
    return {
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
    }


def _cpuinfo() -> dict[str, str] | None:
    """The first processor's fields in /proc/cpuinfo (Linux); None where it cannot be read."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        return None
    return fields


def cpu_model() -> str:
    """The CPU's model name, else platform.processor() or the machine type."""
    fields = _cpuinfo() or {}
    if "model name" in fields:  # family/model say which generation a VM's "AMD EPYC" is
        return (f"{fields['model name']} (family {fields.get('cpu family', '?')}, "
                f"model {fields.get('model', '?')})")
    return platform.processor() or platform.machine() or "unknown"


def has_cpu_flag(flag: str) -> bool | None:
    """Whether the CPU advertises `flag` (e.g. avx512f); None where that is unknown."""
    fields = _cpuinfo()
    if fields is None or "flags" not in fields:
        return None
    return flag in fields["flags"].split()


def blas_info() -> list[dict]:
    """NumPy's BLAS and the OpenMP pools as threadpoolctl sees them: library, kernel, threads."""
    from threadpoolctl import threadpool_info

    keep = ("user_api", "internal_api", "prefix", "version", "architecture", "num_threads",
            "threading_layer", "filepath")
    return [{key: pool.get(key) for key in keep} for pool in threadpool_info()]


def tensorflow_info() -> dict:
    """TensorFlow/Keras versions and settings; {} if TensorFlow has not been imported."""
    tf = sys.modules.get("tensorflow")
    keras = sys.modules.get("keras")
    if tf is None:
        return {}
    from tensorflow.python.framework import config as tf_config

    threads = tf.config.threading
    return {
        "tensorflow": tf.__version__,
        "keras": getattr(keras, "__version__", None),
        "keras_backend": keras.backend.backend() if keras else None,
        "tf_op_determinism": bool(tf_config.is_op_determinism_enabled()),
        # 0 means "TensorFlow picks" (one thread per core).
        "tf_intra_op_threads": threads.get_intra_op_parallelism_threads(),
        "tf_inter_op_threads": threads.get_inter_op_parallelism_threads(),
        "tf_onednn_opts": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)"),
    }
