"""Weights: seeded initialisation, validation, and the book's layout.

Weights are a dict {'dense1/kernel': array, 'dense1/bias': array, ...} whose
keys and shapes come from `NetworkSpec.param_shapes()`: layer name and
variable name, as Keras names the same variables.  Both implementations use
the same keys, so comparing them is one loop.  The book's names W1, b1, W2,
... (the l-th layer with parameters) are accepted wherever weights come in.

Two initialisation schemes (`handrolled.layers.initializers`): "glorot"
(Keras' default) and "book" (the scheme of "Programming Machine Learning",
biases random too).

The book stores each layer as one matrix with the bias in row 0;
`to_bias_row` and `from_bias_row` convert between the two layouts (a
convolution kernel is flattened to (kh kw C_in, filters) below its bias row).
"""

from __future__ import annotations

import math
import re
import struct
import tokenize
import zipfile
import zlib

import numpy as np

from .errors import ReportedError, SpecError, unknown
from .files import read_head
from .layers.initializers import SCHEMES
from .spec import NetworkSpec

Params = dict[str, np.ndarray]
INIT_SCHEMES = tuple(SCHEMES)


def init_weights(spec: NetworkSpec, scheme: str = "glorot", seed: int | None = None) -> Params:
    """Fresh weights for `spec`, drawn layer by layer from NumPy's seeded generator."""
    if scheme not in SCHEMES:
        raise unknown("init scheme", scheme, INIT_SCHEMES)
    rng = np.random.default_rng(spec.seed if seed is None else seed)
    params = {}
    for layer in spec.build_layers():
        for variable, value in layer.init_params(rng, scheme).items():
            params[f"{layer.name}/{variable}"] = value.astype(spec.dtype)
    return params


def init_state(spec: NetworkSpec) -> Params:
    """The non-trainable state's starting values (BatchNormalization: mean 0, variance 1)."""
    state = {}
    for layer in spec.build_layers():
        for variable, value in layer.init_state().items():
            state[f"{layer.name}/{variable}"] = value.astype(spec.dtype)
    return state


_LEGACY = re.compile(r"^[Wb][1-9][0-9]*$")


def rename_legacy(spec: NetworkSpec, params: Params) -> Params:
    """W1, b1, ... -> the spec's names, when every key is a book-style name."""
    if params and all(isinstance(k, str) and _LEGACY.match(k) for k in params):
        legacy = spec.legacy_names()
        if set(params) == set(legacy):
            return {legacy[key]: value for key, value in params.items()}
        raise SpecError(f"weights have keys {sorted(params)}; expected {list(legacy)} "
                        f"(or {list(spec.param_shapes())}) for a {spec.describe()} network")
    return params


def to_legacy(spec: NetworkSpec, params: Params) -> Params:
    """The spec's names -> W1, b1, ... (the book's numbering of layers with parameters)."""
    params = rename_legacy(spec, params)
    return {legacy: params[name] for legacy, name in spec.legacy_names().items()}


def validate(spec: NetworkSpec, params: Params) -> Params:
    """Check names, shapes and finiteness; return the weights cast to spec.dtype."""
    given = {new: old for new, old in zip(rename_legacy(spec, params), params)}
    return _checked(spec, rename_legacy(spec, params), spec.param_shapes(), given)


def validate_state(spec: NetworkSpec, state: Params) -> Params:
    """The same checks for the non-trainable state (moving statistics)."""
    return _checked(spec, state, spec.state_shapes(), {})


def _checked(spec: NetworkSpec, params: Params, expected: dict, given: dict) -> Params:
    missing = [name for name in expected if name not in params]
    extra = [name for name in params if name not in expected]
    if missing or extra:
        raise SpecError(f"weights have keys {sorted(map(str, params))}; expected "
                        f"{list(expected)} for a {spec.describe()} network")
    checked = {}
    for name, shape in expected.items():
        value = np.asarray(params[name])
        label = name if given.get(name, name) == name else f"{given[name]} ({name})"
        if value.shape != shape:
            raise SpecError(f"weight {label} has shape {value.shape}; expected {shape} "
                            f"for a {spec.describe()} network")
        if value.dtype.kind not in "fiu":  # complex would lose its imaginary part silently
            raise SpecError(f"weight {label} has dtype {value.dtype}; expected real numbers "
                            f"(float or int)")
        if not np.all(np.isfinite(value)):
            raise SpecError(f"weight {label} contains NaN or inf; weights must be finite")
        with np.errstate(over="ignore"):  # checked just below, in one line
            checked[name] = np.ascontiguousarray(value, dtype=spec.dtype)
        if not np.all(np.isfinite(checked[name])):
            raise SpecError(f"weight {label} has values beyond the range of {spec.dtype} "
                            f"(max {np.finfo(spec.dtype).max:.3g}); weights must fit the dtype")
    return checked


def as_list(params: Params) -> list[np.ndarray]:
    """The arrays in the order of the dict (param_shapes' order)."""
    return list(params.values())


def from_list(spec: NetworkSpec, arrays: list[np.ndarray]) -> Params:
    """Inverse of `as_list`, validated against `spec`."""
    names = list(spec.param_shapes())
    if len(arrays) != len(names):
        raise SpecError(f"got {len(arrays)} weight arrays; expected {len(names)} "
                        f"({', '.join(names)}) for a {spec.describe()} network")
    return validate(spec, dict(zip(names, arrays)))


def _kernel_layers(spec: NetworkSpec) -> list[str]:
    """Names of the layers with a kernel and a bias, in order."""
    return [name[:-len("/kernel")] for name in spec.param_shapes() if name.endswith("/kernel")]


def to_bias_row(params: Params) -> list[np.ndarray]:
    """Keras layout -> the book's: [[b; W] of shape (fan_in + 1, units) per layer]."""
    layers = [name[:-len("/kernel")] for name in params if name.endswith("/kernel")]
    out = []
    for layer in layers:
        kernel, bias = params[f"{layer}/kernel"], params[f"{layer}/bias"]
        out.append(np.vstack([bias[None, :], kernel.reshape(-1, bias.shape[0])]))
    return out


def from_bias_row(spec: NetworkSpec, matrices: list[np.ndarray]) -> Params:
    """The book's layout -> Keras': row 0 of each matrix is the bias, the rest the kernel."""
    layers, shapes = _kernel_layers(spec), spec.param_shapes()
    if len(matrices) != len(layers):
        raise SpecError(f"got {len(matrices)} bias-row matrices; expected {len(layers)} "
                        f"(one per layer) for a {spec.describe()} network")
    params = {}
    for l, (layer, matrix) in enumerate(zip(layers, matrices), start=1):
        matrix = np.asarray(matrix)
        kernel_shape = shapes[f"{layer}/kernel"]
        expected = (int(np.prod(kernel_shape[:-1])) + 1, kernel_shape[-1])
        if matrix.shape != expected:
            raise SpecError(f"bias-row matrix {l} has shape {matrix.shape}; expected {expected} "
                            f"(n_in + 1, n_out) for a {spec.describe()} network")
        params[f"{layer}/kernel"] = matrix[1:].reshape(kernel_shape)
        params[f"{layer}/bias"] = matrix[0]
    return validate(spec, params)


def load_weights(path, spec: NetworkSpec) -> Params:
    """Weights from an .npz: the parameter names (dense1/kernel, ...), W1, b1, ... (Keras
    layout) or w1, w2, ... (the book's bias-row matrices, as `np.savez("w.npz", w1=w1,
    w2=w2)` writes them), validated."""
    arrays = _read_npz(path, accepted_shapes(spec), len(spec.param_shapes()))
    if arrays and all(key.startswith("w") and key[1:].isdigit() for key in arrays):
        return from_bias_row(spec, [arrays[f"w{l}"] for l in range(1, len(arrays) + 1)
                                    if f"w{l}" in arrays])
    return validate(spec, arrays)


def accepted_shapes(spec: NetworkSpec) -> dict[str, tuple[int, ...]]:
    """Every name a weights file may use for `spec`, with its shape: the parameter names,
    W1, b1, ... and the book's bias-row w1, w2, ..."""
    shapes = spec.param_shapes()
    accepted = dict(shapes)
    accepted.update({legacy: shapes[name] for legacy, name in spec.legacy_names().items()})
    for l, layer in enumerate(_kernel_layers(spec), start=1):
        kernel = shapes[f"{layer}/kernel"]
        accepted[f"w{l}"] = (math.prod(kernel[:-1]) + 1, kernel[-1])
    return accepted


_NPZ_FORM = ("expected an .npz (np.savez) with the parameter names (dense1/kernel, ...), "
             "W1, b1, ... or the book's w1, w2, ...")
MAX_NPY_HEADER = 10_000  # bytes of one array's .npy header (NumPy's own limit)
_NPZ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
               TypeError, KeyError, NotImplementedError, RuntimeError, SyntaxError,
               RecursionError, UnicodeDecodeError, zlib.error, struct.error,
               tokenize.TokenError)  # numpy tokenizes an .npy header; an unclosed one


def _read_npz(path: str, accepted: dict[str, tuple[int, ...]], most: int) -> dict:
    """The named arrays of an .npz; a SpecError for anything else, read or not.

    Memory stays bounded by the network's own size, whatever the file claims: each
    member's name, declared size and .npy header (shape, dtype) are read first, and
    only an array whose name and shape the network expects is decompressed.  Any
    other member becomes a zero-byte stand-in of its declared shape and dtype, so
    `validate` still names what is wrong (its keys, its shape, its dtype).  More members
    than the network has arrays (`most`) are refused before any is read."""
    magic = read_head(path, "weights file", 6, _NPZ_FORM)
    if magic == b"\x93NUMPY":  # np.save: one bare array
        raise SpecError(f"weights file {path} is an .npy holding one unnamed array; "
                        f"{_NPZ_FORM}")
    if not magic.startswith(b"PK"):  # an .npz is a zip archive
        raise SpecError(f"weights file {path} is not an .npz archive; {_NPZ_FORM}")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > most:
                raise SpecError(f"weights file {path} holds {len(members):,} arrays; the "
                                f"network has {most}; {_NPZ_FORM}")
            arrays = {}
            for info in members:
                key = info.filename.removesuffix(".npy")
                arrays[key] = _read_member(archive, info, accepted.get(key), path)
            return arrays
    except ReportedError:
        raise
    except _NPZ_ERRORS as error:
        reason = f"{type(error).__name__}: {' '.join(str(error).split())}"
        raise SpecError(f"weights file {path} is a damaged or unsupported .npz ({reason}); "
                        f"{_NPZ_FORM}") from None


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, shape, path) -> np.ndarray:
    """One member's array if the network expects its name and shape, else a stand-in."""
    if not info.filename.endswith(".npy"):
        return np.empty(0)  # not an array at all: `validate` reports the name
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"{info.filename} has .npy format version {version}")
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        found, _, dtype = read_header(member, max_header_size=MAX_NPY_HEADER)
    if dtype.hasobject:
        raise SpecError(f"weights file {path} is a damaged or unsupported .npz (it holds "
                        f"Python objects, which are not loaded); {_NPZ_FORM}")
    if found != shape or dtype.kind not in "fiu":  # `validate` refuses it, by name
        return np.lib.stride_tricks.as_strided(np.zeros(1, dtype), found, (0,) * len(found))
    needed = dtype.itemsize * math.prod(found)
    if info.file_size > MAX_NPY_HEADER + needed:
        raise SpecError(f"weights file {path}: {info.filename} declares {info.file_size:,} "
                        f"bytes; a {found} {dtype} array takes {needed:,}, so it is refused "
                        f"unread")
    with archive.open(info) as member:
        array = np.lib.format.read_array(member, allow_pickle=False,
                                         max_header_size=MAX_NPY_HEADER)
        if member.read(MAX_NPY_HEADER + 1):  # to the end: the zip's CRC is checked there
            raise ValueError(f"{info.filename} has bytes after its {found} array")
    return array
