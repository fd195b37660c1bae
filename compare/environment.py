"""What a result was measured on: versions, BLAS, CPU, threads, determinism.

    describe_environment()  -> a JSON-ready dict for results.json and the report

TensorFlow is described only if it is already imported (it is, whenever a
comparison ran); this module never imports it on its own.
"""

from __future__ import annotations

import os
import platform
import sys

import numpy as np


def describe_environment() -> dict:
    env = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "numpy": np.__version__,
        "blas": blas_info(),
    }
    env.update(_tensorflow_info())
    return env


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else platform.processor()."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_info() -> list[dict]:
    """NumPy's BLAS as threadpoolctl sees it: library, version, kernel, threads."""
    from threadpoolctl import threadpool_info

    keep = ("user_api", "internal_api", "version", "architecture", "num_threads",
            "threading_layer", "filepath")
    return [{key: pool.get(key) for key in keep} for pool in threadpool_info()]


def _tensorflow_info() -> dict:
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
