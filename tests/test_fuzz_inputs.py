"""Fuzzing the four readers of what users hand over: the IDX reader, the weights loader,
the network text/JSON parser and the check-target loader.

Random bytes and mutated valid files (hypothesis, derandomized: the same examples on
every run) must give either the project's own one-line error (SpecError, of which
TargetError is one) or the correct result, checked against an independent oracle;
never another exception, never a hang (hypothesis' deadline), and never more memory
than MEMORY_BOUND (tracemalloc's peak over the call), whatever sizes the input claims.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import struct
import tracemalloc
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from handrolled import NetworkSpec, SpecError, load_weights, validate
from handrolled.spec import network_from_json, parse_layers
from handrolled.usercode import marking_interrupts

hypothesis_settings = settings(
    derandomize=True, database=None, max_examples=40, deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
# the failing twins: stop at the first failure found, no shrinking
twin_settings = settings(hypothesis_settings, phases=[Phase.generate], print_blob=False)
# each check-target example starts the target's own process (~0.3 s): fewer examples
process_settings = settings(hypothesis_settings, max_examples=15)

MEMORY_BOUND = 4 << 20  # bytes: the files are a few KB, and no claim inside may cost more


@contextlib.contextmanager
def bounded_memory(bound: int = MEMORY_BOUND):
    """Fails if the block's peak of traced allocations (Python and NumPy) exceeds `bound`."""
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= bound, f"peak {peak:,} bytes > {bound:,}"


def outcome(call):
    """The call's result, or the SpecError it raised (one line once the CLI prints it);
    any other exception fails the test, with the input hypothesis found."""
    with bounded_memory():
        try:
            return call()
        except SpecError as error:
            assert str(error).strip()
            return error


mutations = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=4)


def mutate(data: bytes, changes, cut: int | None) -> bytes:
    """Replace a few bytes (positions modulo the length), then cut the tail if asked."""
    data = bytearray(data)
    for position, value in changes:
        if data:
            data[position % len(data)] = value
    return bytes(data if cut is None else data[:cut])


# ------------------------------------------------------------------ the IDX reader

def idx_oracle(data: bytes) -> np.ndarray | None:
    """What an images file means, by the format's definition alone; None if it is not one."""
    if len(data) < 16 or struct.unpack(">I", data[:4])[0] != 2051:
        return None
    shape = struct.unpack(">3I", data[4:16])
    if 0 in shape or len(data) != 16 + int(np.prod(shape, dtype=object)):
        return None
    return np.frombuffer(data, np.uint8, offset=16).reshape(shape)


def images_file(shape, seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)
    return struct.pack(">IIII", 2051, *shape) + pixels.tobytes()


def idx_fuzz(read, directory: Path, chosen=hypothesis_settings):
    """The IDX fuzz against `read(path, magic)`: mutated or random bytes, plain or gzip."""
    @chosen
    @given(shape=st.tuples(*[st.integers(1, 5)] * 3), changes=mutations,
           cut=st.none() | st.integers(0, 200), noise=st.none() | st.binary(max_size=80),
           gz=st.booleans())
    def fuzz(shape, changes, cut, noise, gz):
        data = noise if noise is not None else mutate(images_file(shape, 0), changes, cut)
        path = directory / ("images.gz" if gz else "images")
        path.write_bytes(gzip.compress(data) if gz else data)
        result = outcome(lambda: read(path, 2051))
        expected = idx_oracle(data)
        if expected is None:
            assert isinstance(result, SpecError)
        else:
            np.testing.assert_array_equal(result, expected)
    return fuzz


def test_idx_reader_on_mutated_and_random_files(tmp_path):
    from compare.datasets.idx import read_idx

    idx_fuzz(read_idx, tmp_path)()


def test_twin_the_idx_fuzz_catches_a_reader_without_checks(tmp_path):
    def unchecked(path, magic):  # trusts the header's shape and the file's length
        data = (gzip.open if path.suffix == ".gz" else open)(path, "rb").read()
        return np.frombuffer(data, np.uint8, offset=16)

    with pytest.raises(Exception):
        idx_fuzz(unchecked, tmp_path, twin_settings)()


@hypothesis_settings
@given(changes=mutations, cut=st.none() | st.integers(0, 120))
def test_idx_reader_on_damaged_gzip(tmp_path, changes, cut):
    from compare.datasets.idx import IMAGES_MAGIC, read_idx

    good = images_file((3, 4, 5), 1)
    path = tmp_path / "images.gz"
    path.write_bytes(mutate(gzip.compress(good), changes, cut))
    result = outcome(lambda: read_idx(path, IMAGES_MAGIC))
    if not isinstance(result, SpecError):  # a mutation gzip does not notice (its header
        np.testing.assert_array_equal(result, idx_oracle(good))  # flags, mtime): same data


@pytest.mark.parametrize("n, words", [(200, "is truncated"),   # 200 MB: within the limit
                                      (1000, "bytes of memory as float64")])  # 1 GB: not
def test_idx_header_claiming_hundreds_of_megabytes_reads_only_what_is_there(tmp_path, n,
                                                                            words):
    from compare.datasets.idx import IMAGES_MAGIC, read_idx

    path = tmp_path / "images.gz"  # announces n x 1,000 x 1,000 bytes, holds 100
    path.write_bytes(gzip.compress(struct.pack(">IIII", 2051, n, 1000, 1000) + bytes(100)))
    result = outcome(lambda: read_idx(path, IMAGES_MAGIC))
    assert words in str(result)


# ------------------------------------------------------------------ the weights loader

SPEC = NetworkSpec.from_text("3:relu", inputs=4, classes=2)
GOOD = {name: np.random.default_rng(2).normal(size=shape)
        for name, shape in SPEC.param_shapes().items()}


def npz_bytes(compressed: bool) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **GOOD)
    return buffer.getvalue()


def weights_fuzz(load, directory: Path, chosen=hypothesis_settings):
    """The weights fuzz against `load(path, spec)`: mutated .npz (both kinds) or random bytes."""
    @chosen
    @given(compressed=st.booleans(), changes=mutations, cut=st.none() | st.integers(0, 3000),
           noise=st.none() | st.binary(max_size=200).map(lambda b: b"PK" + b))
    def fuzz(compressed, changes, cut, noise):
        path = directory / "w.npz"
        path.write_bytes(noise if noise is not None else
                         mutate(npz_bytes(compressed), changes, cut))
        result = outcome(lambda: load(str(path), SPEC))
        if not isinstance(result, SpecError):  # loaded: then it is exactly what was saved
            assert result.keys() == GOOD.keys()
            for name in GOOD:
                np.testing.assert_array_equal(result[name], GOOD[name])
    return fuzz


def test_weights_loader_on_mutated_and_random_files(tmp_path):
    weights_fuzz(load_weights, tmp_path)()


def test_twin_the_weights_fuzz_catches_np_load(tmp_path):
    def naive(path, spec):
        with np.load(path) as archive:
            return validate(spec, dict(archive))

    with pytest.raises(Exception):
        weights_fuzz(naive, tmp_path, twin_settings)()


def test_weights_bombs_stay_within_the_bound_where_np_load_does_not(tmp_path):
    import bad_input_cases as cases

    spec = NetworkSpec.from_text("3:relu", inputs=784)
    trailing = cases.weights_bomb(tmp_path)  # 8 KB on disk, a member of 8 MB inside
    assert "refused unread" in str(outcome(lambda: load_weights(trailing, spec)))
    big = cases.npz(tmp_path / "big.npz", {  # W1 announces (and holds) 8 MB, not (784, 3)
        **cases.good_members(), "W1": cases.npy_bytes((1024, 1024), data=bytes(8 << 20))})
    assert "has shape (1024, 1024); expected (784, 3)" in str(
        outcome(lambda: load_weights(big, spec)))
    with pytest.raises(AssertionError, match="peak"):  # the twin: the measure can fail
        with bounded_memory(), np.load(big) as archive:
            archive["W1"]


# ------------------------------------------------------------------ the network parser

TOKENS = ["3", "100", ":", ",", "(", ")", "=", ";", "relu", "abs", "sin", "sigmoid",
          "leaky_relu(0.1)", "mix", "stochastic", "random", "seed", "every=step", "dense",
          "conv", "maxpool", "avgpool", "flatten", "activation", "strides", "padding",
          "same", "valid", "2", "-1", "0", "1e9", "99999999999999999999", " "]


@hypothesis_settings
@given(text=st.lists(st.sampled_from(TOKENS), max_size=24).map("".join) |
       st.text(max_size=40))
def test_network_text_parser(text):
    result = outcome(lambda: NetworkSpec.from_text(text, inputs=(6, 6, 1), classes=3))
    if not isinstance(result, SpecError):  # its canonical text parses back to itself
        again = parse_layers(",".join(layer.text for layer in result.hidden))
        assert again == result.hidden


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3), max_leaves=8)
json_layers = st.fixed_dictionaries(
    {"type": st.sampled_from(["dense", "conv", "maxpool", "flatten", "dropout", "batchnorm",
                              "activation", "nonsense"])},
    optional={"units": json_values | st.integers(), "filters": json_values,
              "kernel_size": json_values, "activation": json_values | st.sampled_from(TOKENS),
              "rate": json_values, "strides": json_values, "padding": json_values})


@hypothesis_settings
@given(source=st.lists(json_layers | json_values, max_size=4).map(
    lambda layers: json.dumps({"layers": layers})) | json_values.map(json.dumps) |
    st.text(max_size=30))
def test_network_json_parser(source):
    result = outcome(lambda: network_from_json(source, "net.json"))
    if not isinstance(result, SpecError):
        assert all(layer == parse_layers(layer.text)[0] for layer in result)


# ------------------------------------------------------------------ the check-target loader

CORRECT = (Path(__file__).parent / "targets" / "correct_small_inputs.py").read_bytes()
contract_values = (st.integers() | st.floats() | st.text(max_size=6) | st.none() |
                   st.lists(st.tuples(st.integers(-3, 10**7) | st.text(max_size=4),
                                      st.sampled_from(["relu", "softmax", "tanh", "nope", ""])),
                            max_size=4))


@pytest.mark.slow
@process_settings
@given(inputs=contract_values | st.integers(-5, 10**40), layers=contract_values,
       layout=st.sampled_from(["bias_row", "separate", "other"]) | contract_values,
       gradients=st.sampled_from(["def gradients(X, Y, w):\n    return w\n",
                                  "gradients = 3\n", "", "import sys\nsys.exit(0)\n",
                                  "raise KeyboardInterrupt\n"]))
def test_check_target_loader_on_any_contract(tmp_path, inputs, layers, layout, gradients):
    from compare.check import load_target

    path = tmp_path / "target.py"
    path.write_text(f"INPUTS = {inputs!r}\nLAYERS = {layers!r}\nLAYOUT = {layout!r}\n"
                    f"{gradients}")
    with marking_interrupts():  # as on the command line: their KeyboardInterrupt is theirs
        result = outcome(lambda: load_target(path))
    if not isinstance(result, SpecError):
        result.close()
        assert result.spec.inputs == inputs and result.layout == layout


@pytest.mark.slow
@process_settings
@given(changes=mutations, noise=st.none() | st.binary(max_size=100))
def test_check_target_loader_on_mutated_and_random_files(tmp_path, changes, noise):
    from compare.check import load_target

    path = tmp_path / "target.py"
    path.write_bytes(noise if noise is not None else mutate(CORRECT, changes, None))
    result = outcome(lambda: load_target(path))
    if not isinstance(result, SpecError):
        result.close()
        assert result.user.is_callable("gradients")
