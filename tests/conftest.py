"""Shared fixtures: small seeded batches and a helper to run the CLI in-process."""

from __future__ import annotations

import os

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

# One thread per test process: `make test` runs one pytest-xdist worker per core,
# so a second BLAS or TensorFlow thread per worker only competes for a core that
# another worker is using -- and OpenBLAS's waiting threads spin, which made the
# suite ~3x slower on a busy machine (measured: a 784-256x4 gradient check took
# 92 s with the default threads vs 28 s with one, with other processes running).
# Set in the environment too, for the CLI subprocesses that tests start and for
# TensorFlow, which reads TF_NUM_*_THREADS when it creates its thread pools.
# (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are never touched.)
TEST_THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
for _name, _value in TEST_THREADS.items():
    os.environ.setdefault(_name, _value)
threadpool_limits(1)  # NumPy is already imported: limit its BLAS now as well

from handrolled import NetworkSpec, activations, one_hot


def make_batch(spec: NetworkSpec, rows: int = 16, seed: int = 1):
    """Seeded inputs with both signs (so relu/abs see both sides) and one-hot labels."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, spec.inputs)).astype(spec.dtype)
    Y = one_hot(rng.integers(0, spec.classes, size=rows), spec.classes, spec.dtype)
    return X, Y


@pytest.fixture(autouse=True, scope="session")
def _private_data_cache(tmp_path_factory):
    """compare.datasets caches into a temporary folder during tests, never ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HANDROLLED_CACHE_DIR", str(tmp_path_factory.mktemp("data-cache")))
        yield


@pytest.fixture
def clean_registry():
    """Unregisters every activation a test registered (user activations are global)."""
    before = set(activations.names())
    yield
    for name in set(activations.names()) - before:
        activations.unregister_user_activation(name)


@pytest.fixture
def batch():
    return make_batch


@pytest.fixture
def cli(capsys):
    """Run `nn-compare ARGS` in this process; return (exit code, stdout, stderr)."""
    from compare.cli import main

    def run(*args: str):
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse exits on bad options
            code = exit_.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


# ------------------------------------------------------------------ without TensorFlow
# An install without TensorFlow (pip install -e ".[jax,test]", docs/backends.md) runs the
# tests that never reach Keras, and the backend tests (which run on whatever backend is
# installed); a module that reaches Keras otherwise holds it to TensorFlow's figures, and is
# skipped there with the reason.
BACKEND_NEUTRAL = {"test_backends.py", "test_backend_agreement.py", "test_backend_torch.py"}
REACHES_KERAS = ("keras", "tensorflow", "compare_gradients", "train_side_by_side", "cli(",
                 "run_check", "subprocess", "nn-compare", "compare.experiment", "notebook")


def pytest_collection_modifyitems(config, items):
    import importlib.util
    from pathlib import Path

    if importlib.util.find_spec("tensorflow") is not None:
        return
    skip = pytest.mark.skip(reason="reaches Keras and holds it to TensorFlow's figures; "
                                   "TensorFlow is not installed (pip install -e \".[tensorflow]\")")
    reaches: dict[Path, bool] = {}
    for item in items:
        path = Path(str(item.fspath))
        if path.name in BACKEND_NEUTRAL:
            continue
        if path not in reaches:
            text = path.read_text()
            reaches[path] = any(marker in text for marker in REACHES_KERAS)
        if reaches[path]:
            item.add_marker(skip)
