"""Weights: seeded initialisation, validation, and the book's layout.

Weights are a dict {'W1': array, 'b1': array, 'W2': ..., ...} whose keys and
shapes come from `NetworkSpec.param_shapes()`.  Both implementations use the
same keys, so comparing them is one loop.

Two initialisation schemes:

* "glorot" (default): W ~ U(-r, r), r = sqrt(6 / (n_in + n_out)), b = 0 --
  the rule of Keras' Dense default (GlorotUniform + Zeros).
* "book": the scheme of "Programming Machine Learning": one matrix per layer
  with the bias as row 0, shape (n_in + 1, n_out), all of it ~ N(0, 1 / (n_in + 1)),
  so the biases start random too.

The book stores each layer as one matrix with the bias in row 0;
`to_bias_row` and `from_bias_row` convert between the two layouts.
"""

from __future__ import annotations

import zipfile

import numpy as np

from .errors import SpecError
from .spec import NetworkSpec, param_names

Params = dict[str, np.ndarray]

def init_weights(spec: NetworkSpec, scheme: str = "glorot", seed: int | None = None) -> Params:
    """Fresh weights for `spec`, drawn from NumPy's seeded generator."""
    initialise = _SCHEMES.get(scheme)
    if initialise is None:
        raise SpecError(f"unknown init scheme '{scheme}'; accepted: {', '.join(INIT_SCHEMES)}")
    params = initialise(spec, np.random.default_rng(spec.seed if seed is None else seed))
    return {name: value.astype(spec.dtype) for name, value in params.items()}


def _glorot(spec: NetworkSpec, rng: np.random.Generator) -> Params:
    """W ~ U(-r, r), r = sqrt(6 / (n_in + n_out)); b = 0 (Keras' Dense default)."""
    params = {}
    for l in range(1, spec.depth + 1):
        n_in, n_out = spec.sizes[l - 1], spec.sizes[l]
        limit = np.sqrt(6.0 / (n_in + n_out))
        params[f"W{l}"] = rng.uniform(-limit, limit, size=(n_in, n_out))
        params[f"b{l}"] = np.zeros(n_out)
    return params


def _book(spec: NetworkSpec, rng: np.random.Generator) -> Params:
    """[b; W] ~ N(0, 1 / (n_in + 1)) per layer, in the book's bias-row layout."""
    matrices = []
    for l in range(1, spec.depth + 1):
        rows = spec.sizes[l - 1] + 1
        matrices.append(rng.standard_normal((rows, spec.sizes[l])) * np.sqrt(1.0 / rows))
    return from_bias_row(spec, matrices)


_SCHEMES = {"glorot": _glorot, "book": _book}
INIT_SCHEMES = tuple(_SCHEMES)


def validate(spec: NetworkSpec, params: Params) -> Params:
    """Check names, shapes and finiteness; return the weights cast to spec.dtype."""
    expected = spec.param_shapes()
    missing = [name for name in expected if name not in params]
    extra = [name for name in params if name not in expected]
    if missing or extra:
        raise SpecError(f"weights have keys {sorted(params)}; expected {list(expected)} "
                        f"for a {spec.describe()} network")
    checked = {}
    for name, shape in expected.items():
        value = np.asarray(params[name])
        if value.shape != shape:
            raise SpecError(f"weight {name} has shape {value.shape}; expected {shape} "
                            f"for a {spec.describe()} network")
        if value.dtype.kind not in "fiu":  # complex would lose its imaginary part silently
            raise SpecError(f"weight {name} has dtype {value.dtype}; expected real numbers "
                            f"(float or int)")
        if not np.all(np.isfinite(value)):
            raise SpecError(f"weight {name} contains NaN or inf; weights must be finite")
        with np.errstate(over="ignore"):  # checked just below, in one line
            checked[name] = np.ascontiguousarray(value, dtype=spec.dtype)
        if not np.all(np.isfinite(checked[name])):
            raise SpecError(f"weight {name} has values beyond the range of {spec.dtype} "
                            f"(max {np.finfo(spec.dtype).max:.3g}); weights must fit the dtype")
    return checked


def as_list(params: Params) -> list[np.ndarray]:
    """[W1, b1, W2, b2, ...]: the order of `keras.Model.get_weights()`."""
    return [params[name] for name in param_names(len(params) // 2)]


def from_list(spec: NetworkSpec, arrays: list[np.ndarray]) -> Params:
    """Inverse of `as_list`, validated against `spec`."""
    names = list(spec.param_shapes())
    if len(arrays) != len(names):
        raise SpecError(f"got {len(arrays)} weight arrays; expected {len(names)} "
                        f"({', '.join(names)}) for a {spec.describe()} network")
    return validate(spec, dict(zip(names, arrays)))


def to_bias_row(params: Params) -> list[np.ndarray]:
    """Keras layout -> the book's: [[b_l; W_l] of shape (n_in + 1, n_out) per layer]."""
    depth = len(params) // 2
    return [np.vstack([params[f"b{l}"][None, :], params[f"W{l}"]]) for l in range(1, depth + 1)]


def from_bias_row(spec: NetworkSpec, matrices: list[np.ndarray]) -> Params:
    """The book's layout -> Keras': row 0 of each matrix is b_l, the rest is W_l."""
    if len(matrices) != spec.depth:
        raise SpecError(f"got {len(matrices)} bias-row matrices; expected {spec.depth} "
                        f"(one per layer) for a {spec.describe()} network")
    params = {}
    for l, matrix in enumerate(matrices, start=1):
        matrix = np.asarray(matrix)
        expected = (spec.sizes[l - 1] + 1, spec.sizes[l])
        if matrix.shape != expected:
            raise SpecError(f"bias-row matrix {l} has shape {matrix.shape}; expected {expected} "
                            f"(n_in + 1, n_out) for a {spec.describe()} network")
        params[f"W{l}"] = matrix[1:]
        params[f"b{l}"] = matrix[0]
    return validate(spec, params)


def load_weights(path, spec: NetworkSpec) -> Params:
    """Weights from an .npz: keys W1, b1, ... (Keras layout) or w1, w2, ... (the book's
    bias-row matrices, as `np.savez("w.npz", w1=w1, w2=w2)` writes them), validated."""
    arrays = _read_npz(path)
    if arrays and all(key.startswith("w") and key[1:].isdigit() for key in arrays):
        return from_bias_row(spec, [arrays[f"w{l}"] for l in range(1, len(arrays) + 1)
                                    if f"w{l}" in arrays])
    return validate(spec, arrays)


_NPZ_FORM = "expected an .npz (np.savez) with W1, b1, ... or the book's w1, w2, ..."


def _read_npz(path: str) -> dict:
    """The named arrays of an .npz; a SpecError for anything else, read or not."""
    try:
        with open(path, "rb") as handle:
            magic = handle.read(6)
    except FileNotFoundError:
        raise SpecError(f"weights file {path} does not exist") from None
    except IsADirectoryError:
        raise SpecError(f"weights file {path} is a directory; {_NPZ_FORM}") from None
    except OSError as error:
        raise SpecError(f"cannot read weights file {path}: {error.strerror}") from None
    if magic == b"\x93NUMPY":  # np.save: one bare array
        raise SpecError(f"weights file {path} is an .npy holding one unnamed array; "
                        f"{_NPZ_FORM}")
    if not magic.startswith(b"PK"):  # an .npz is a zip archive
        raise SpecError(f"weights file {path} is not an .npz archive; {_NPZ_FORM}")
    try:
        with np.load(path) as archive:
            return {key: archive[key] for key in archive.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        reason = "it holds Python objects, which are not loaded" if "pickle" in str(error) \
            else f"{type(error).__name__}: {error}"
        raise SpecError(f"weights file {path} is a damaged or unsupported .npz ({reason}); "
                        f"{_NPZ_FORM}") from None
