"""Fuzzing the boundary to the user's process: whatever a user's function returns (arrays of
any dtype, nested containers, objects whose __array__, __len__, __iter__, __float__ or
__eq__ raise, exit or interrupt, generators, views, subclasses, deep nesting), the checker
gets either a value of exactly the promised form or a TargetError, never another
exception, and the process keeps serving.  All examples run in one process (one call
each), so hundreds of hostile returns cost a few seconds.  Reproducible (derandomize).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from compare.check import TargetError
from compare.check.process import UserProcess
from compare.check.wire import Handle

HOSTILE = '''import sys
import numpy as np

class Raises:
    def __array__(self, *a, **k):
        raise ValueError("no array")
    def __float__(self):
        raise ZeroDivisionError("no float")

class Exits:
    def __array__(self, *a, **k):
        sys.exit(0)
    def __float__(self):
        sys.exit(3)

class Interrupts:
    def __array__(self, *a, **k):
        raise KeyboardInterrupt
    def __len__(self):
        raise KeyboardInterrupt

class Base(BaseException):
    pass

class RaisesBase:
    def __array__(self, *a, **k):
        raise Base()

class BadLen(list):
    def __len__(self):
        sys.exit(0)

class BadIter(list):
    def __iter__(self):
        raise GeneratorExit

class BadEq(float):
    def __eq__(self, other):
        sys.exit(0)
    __hash__ = float.__hash__

class BadKey(str):
    def __hash__(self):
        raise RuntimeError("no hash")

class Sub(np.ndarray):
    def __array_finalize__(self, obj):
        pass

def deep(n):
    value = 1.0
    for _ in range(n):
        value = [value]
    return value

def hostile(source):
    return eval(source)
'''

LEAVES = [
    "np.ones(2)", "np.ones((2, 3), np.float32)", "np.ones(2, np.float16)",
    "np.ones(2, np.longdouble)", "np.ones(2, int)", "np.ones(2, bool)", "np.ones(2) * 1j",
    "np.array(['a'])", "np.array([object()])", "np.array([1.0, np.nan])",
    "np.array(np.inf)", "np.float64(2)", "np.int64(2)", "1", "1.5", "float('nan')",
    "True", "None", "'text'", "b'bytes'", "Raises()", "Exits()", "Interrupts()",
    "RaisesBase()", "BadLen([1.0])", "BadIter([1.0])", "BadEq(1.0)", "np.ma.masked_array([1.0])",
    "np.ones(3).view(Sub)", "memoryview(b'ab')", "(x for x in [1.0])", "range(3)",
    "deep(50)", "deep(5000)", "np.ones((2, 2))[:, 0]", "np.ones(2)[::-1]",
    "np.lib.stride_tricks.as_strided(np.ones(1), (3,), (0,))", "object()", "print",
    "sys", "np.datetime64('2020-01-01')", "np.zeros(0)",
]
SPECS = ["array", "float", "value", "handle", ("list", "array"), ("dict", "array"),
         ("tuple", ["array", "handle"]), ("optional", "array"), ("list", "value"),
         ("tuple", ["float", ("list", "array")])]

sources = st.recursive(
    st.sampled_from(LEAVES),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda xs: f"[{', '.join(xs)}]"),
        st.lists(inner, max_size=3).map(lambda xs: f"({', '.join(xs)},)"),
        st.tuples(st.sampled_from(["'k'", "'kernel'", "1", "BadKey('b')", "None"]), inner)
          .map(lambda kv: f"{{{kv[0]}: {kv[1]}}}"),
        inner.map(lambda x: f"BadLen([{x}])")),
    max_leaves=6)


def conforms(value, spec) -> bool:
    """An independent statement of what each spec promises the checker."""
    if spec == "array":
        return isinstance(value, np.ndarray) and type(value) is np.ndarray \
            and value.dtype in (np.float16, np.float32, np.float64)
    if spec == "float":
        return type(value) is float
    if spec == "handle":
        return isinstance(value, Handle)
    if spec == "value":
        return plain(value)
    kind, inner = spec
    if kind == "optional":
        return value is None or conforms(value, inner)
    if kind == "list":
        return type(value) is list and all(conforms(v, inner) for v in value)
    if kind == "dict":
        return type(value) is dict and all(type(k) is str and conforms(v, inner)
                                           for k, v in value.items())
    return (type(value) is tuple and len(value) == len(inner)
            and all(conforms(v, s) for v, s in zip(value, inner)))


def plain(value) -> bool:
    if value is None or type(value) in (bool, int, float, str):
        return True
    if type(value) is list:
        return all(plain(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str and plain(v) for k, v in value.items())
    return False


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "hostile.py"
    path.write_text(HOSTILE)
    with UserProcess(path, timeout=30) as process:
        yield process


@settings(derandomize=True, database=None, max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(source=sources, spec=st.sampled_from(SPECS))
def test_any_returned_value_is_the_promised_form_or_a_target_error(user, source, spec):
    try:
        value = user.call("hostile", source, returns=spec)
    except TargetError as error:
        assert "\n" not in str(error)  # one line
        for ours in ("Contract", "convert(", "as_floats", "child.py"):  # never our own slip
            assert ours not in str(error) and ours not in error.details, (source, spec, error)
        assert user.alive, f"{source!r} ended the process: {error}"
        return
    assert conforms(value, spec), (source, spec, value)


def test_the_fuzz_can_fail():  # the twin: a wrong form is caught by `conforms`
    assert not conforms(np.ones(2, int), "array")
    assert not conforms([np.ones(2)], ("tuple", ["array"]))
    assert not conforms({1: np.ones(2)}, ("dict", "array"))
    assert not conforms(np.float64(1.0), "float")
    assert not conforms((1.0,), "value")


@pytest.mark.parametrize("source", ["np.ones(2)", "[np.ones(2), np.ones(2, np.float32)]"])
def test_a_well_formed_value_comes_back_unchanged(user, source):  # the twin of refusals
    spec = "array" if source == "np.ones(2)" else ("list", "array")
    value = user.call("hostile", source, returns=spec)
    assert conforms(value, spec)
    arrays = value if isinstance(value, list) else [value]
    assert all(np.array_equal(a, np.ones(2)) for a in arrays)
    assert [a.dtype for a in arrays] == ([np.float64] if len(arrays) == 1
                                         else [np.float64, np.float32])
