"""One batch for a gradient check: seeded rows of a data set, or a synthetic batch.

    X, Y, description, notes = sample_batch(spec, "mnist-sample", rows=32, seed=0)

Used by `nn-compare gradients` and `nn-compare check`.  "synthetic" (or a data
set whose shape is not the network's, with a note saying so) gives
`compare.synthetic.synthetic_batch`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from handrolled import NetworkSpec

from .synthetic import synthetic_batch

SYNTHETIC = "synthetic"


def sample_batch(spec: NetworkSpec, dataset: str, rows: int, seed: int):
    """(X, Y, description, notes): `rows` seeded rows of the training set."""
    if dataset == SYNTHETIC:
        X, Y = synthetic_batch(spec, rows, seed)
        return X, Y, f"a seeded synthetic batch of {rows} rows", []
    X_all, Y_all, _ = training_set(dataset, seed)
    if X_all.shape[1] != spec.inputs or Y_all.shape[1] != spec.classes:
        X, Y = synthetic_batch(spec, rows, seed)
        note = (f"{dataset} has {X_all.shape[1]} inputs and {Y_all.shape[1]} classes but the "
                f"network has {spec.inputs} and {spec.classes}, so a seeded synthetic "
                f"batch is used.")
        return X, Y, f"a seeded synthetic batch of {rows} rows", [note]
    available = X_all.shape[0]
    notes = [] if rows <= available else [
        f"a batch of {rows} rows was asked for, but {dataset} has {available} training rows: "
        f"all {available} are used."]
    take = np.random.default_rng(seed).choice(available, size=min(rows, available), replace=False)
    return X_all[take], Y_all[take], f"{len(take)} rows of {dataset}", notes


@lru_cache(maxsize=4)
def training_set(dataset: str, seed: int):
    """The scaled float64 training set (X, one-hot Y, one row's input shape) of a data
    set, loaded once."""
    from handrolled.errors import unknown

    from .datasets import ACCEPTED, DATASET_NAMES, is_dataset_name, load_dataset

    if not is_dataset_name(dataset):
        raise unknown("dataset", dataset, (*DATASET_NAMES, SYNTHETIC), f"{ACCEPTED} or {SYNTHETIC}")
    ds = load_dataset(dataset, preprocess="scale", seed=seed, dtype="float64")
    return ds.X_train, ds.Y_train, ds.input_shape
