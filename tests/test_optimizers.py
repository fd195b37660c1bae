"""The hand-written optimizers and schedules against Keras 3, number for number.

Both sides start from the same parameters (a (5, 3) kernel and a (3,) bias),
take the same 20 random gradients (mixed magnitudes, 1e-4 to 1, so that
epsilon matters), and must end with the same parameters AND optimizer state
(m, v, ... read from Keras by name): to 1e-12 relative in float64 (they are
in fact bit-identical where every operation is IEEE arithmetic), to float32
tolerance in float32.  A schedule computed with powf or cosf (exp_decay,
cosine_decay) is the C library's on both sides, but another C library or CPU
may round its last bit another way: those are held to within one float32 ulp
of Keras' schedule, and the parameters to what a one-ulp learning rate moves
them (SCHEDULE_TOLERANCE); no test pins a third-party kernel's last bit.  Every rounding
Keras does (docs: /work/shared/KERAS_FORMULAS.md, read again in the installed
keras/src/optimizers/*.py) is pinned twice: by the agreement, and by a
failing twin that rounds the other way and must disagree under the same check.
"""

from __future__ import annotations

import functools
import inspect

import numpy as np
import pytest

from handrolled import optimizers as hr
from handrolled.errors import SpecError
from handrolled.optimizers import schedules
from handrolled.optimizers.base import exact, via_float32

keras = pytest.importorskip("keras_impl.runtime").keras
from keras_impl.optimizers import keras_optimizer, keras_schedule, read_state  # noqa: E402
from keras_impl.train import floatx  # noqa: E402

STEPS = 20
TOLERANCE = {"float64": 1e-12, "float32": 1e-5}
# a learning rate one float32 ulp (2^-23 relative) off at every one of the STEPS steps moves
# a parameter by at most 2^-23 of its whole path; the paths here are at most ~10 times the
# parameters' size (measured on an AVX-512 Xeon whose float32 power rounded a step's rate the
# other way: 4.38e-8), so 1e-6 relative holds any one-ulp schedule, and not a schedule read
# one step late (> 1e-3, test_a_schedule_one_step_late_is_outside_the_schedule_tolerance)
SCHEDULE_TOLERANCE = {"float64": 1e-6, "float32": 1e-5}
COMPUTED_SCHEDULES = ("exp_decay", "cosine_decay")  # powf / cosf: the C library's last bit


def tolerance(text: str, dtype: str) -> float:
    computed = any(name in text for name in COMPUTED_SCHEDULES)
    return (SCHEDULE_TOLERANCE if computed else TOLERANCE)[dtype]
NAMES = ("dense1/kernel", "dense1/bias")


# ------------------------------------------------------------------ the runs
@functools.lru_cache(maxsize=None)
def problem(dtype: str):
    """Starting parameters and STEPS gradients, the same for both sides."""
    rng = np.random.default_rng(7)
    start = {"dense1/kernel": rng.normal(size=(5, 3)), "dense1/bias": rng.normal(size=3)}
    grads = [{name: rng.normal(size=w.shape) * 10.0 ** rng.uniform(-4, 0, w.shape)
              for name, w in start.items()} for _ in range(STEPS)]
    cast = lambda d: {k: v.astype(dtype) for k, v in d.items()}  # noqa: E731
    return cast(start), [cast(g) for g in grads]


def keras_variables(start: dict, dtype: str) -> dict:
    """keras.Variables at paths "dense1/kernel", "dense1/bias" (as a Dense layer names them)."""
    variables = {}
    for name, value in start.items():
        layer, variable = name.split("/")
        with keras.name_scope(layer):
            variables[name] = keras.Variable(value.copy(), name=variable, dtype=dtype)
    return variables


@functools.lru_cache(maxsize=None)
def keras_run(text: str, dtype: str):
    """Keras' parameters and state after STEPS steps of `text`'s twin."""
    start, grads = problem(dtype)
    with floatx(dtype):
        variables = keras_variables(start, dtype)
        optimizer = keras_optimizer(hr.get(text), dtype)
        order = list(variables)
        for g in grads:
            optimizer.apply([g[name] for name in order], [variables[name] for name in order])
    params = {name: np.array(v.numpy()) for name, v in variables.items()}
    return params, read_state(optimizer, variables)


def handrolled_run(optimizer: hr.Optimizer, dtype: str):
    start, grads = problem(dtype)
    params = {name: w.copy() for name, w in start.items()}
    optimizer.build(params)
    for g in grads:
        optimizer.apply(params, g)
    return params, optimizer.state()


def relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-300))


def differences(optimizer: hr.Optimizer, keras_text: str, dtype: str) -> tuple[float, float]:
    """(largest relative parameter difference, largest relative state difference)."""
    params, state = handrolled_run(optimizer, dtype)
    k_params, k_state = keras_run(keras_text, dtype)
    assert state["iterations"] == k_state["iterations"] == STEPS
    param_diff = max(relative(params[n], k_params[n]) for n in NAMES)
    shared = [key for key in state if key in k_state and key != "iterations"]
    state_diff = max((relative(state[k], k_state[k]) for k in shared), default=0.0)
    return param_diff, state_diff


def agrees(optimizer, keras_text, dtype="float64") -> bool:
    param_diff, state_diff = differences(optimizer, keras_text, dtype)
    return max(param_diff, state_diff) <= tolerance(keras_text, dtype)


# --------------------------------------------------------- agreement with Keras
AGREE = [
    "sgd(learning_rate=0.1)",
    "sgd(learning_rate=0.1,momentum=0.9)",
    "sgd(learning_rate=0.1,momentum=0.9,nesterov=true)",
    "sgd(learning_rate=exp_decay(0.1,5,0.5),momentum=0.9)",
    "rmsprop(learning_rate=0.01)",
    "rmsprop(learning_rate=0.01,momentum=0.5)",
    "rmsprop(learning_rate=0.01,momentum=0.5,centered=true)",
    "rmsprop(learning_rate=cosine_decay(0.01,15,alpha=0.1),centered=true)",
    "adam(learning_rate=0.01)",
    "adam(learning_rate=0.01,beta_1=0.8,amsgrad=true)",
    "adam(learning_rate=cosine_decay(0.01,15,alpha=0.1,warmup_target=0.02,warmup_steps=4))",
    "adamw(learning_rate=0.01)",
    "adamw(learning_rate=exp_decay(0.01,3,0.7,staircase=true),weight_decay=0.1,amsgrad=true)",
    "adagrad(learning_rate=0.1)",
    "adagrad(learning_rate=piecewise_constant(3/10,0.1/0.05/0.01))",
    "sgd(learning_rate=piecewise_constant(3/10,0.1/0.05/0.01),momentum=0.9,weight_decay=0.01)",
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("text", AGREE)
def test_optimizer_matches_keras(text, dtype):
    optimizer = hr.get(text)
    params, state = handrolled_run(optimizer, dtype)
    k_params, k_state = keras_run(text, dtype)
    assert set(state) == set(k_state)              # the same slots, read by name
    assert all(params[n].dtype == np.dtype(dtype) for n in NAMES)
    assert all(state[k].dtype == np.dtype(dtype) for k in state if k != "iterations")
    for name in NAMES:
        assert relative(params[name], k_params[name]) <= tolerance(text, dtype), name
    for key in state:
        if key == "iterations":
            assert state[key] == k_state[key] == STEPS
        else:
            assert relative(state[key], k_state[key]) <= tolerance(text, dtype), key
    start, _ = problem(dtype)                       # and the steps did move the parameters
    assert all(relative(params[n], start[n]) > 1e-4 for n in NAMES)


def test_float64_runs_are_bit_identical():
    """Not only within 1e-12: the same IEEE operations in the same order give the same
    bits (not where a schedule calls powf or cosf: their last bit is the C library's)."""
    exact_ones = [text for text in AGREE if tolerance(text, "float64") == TOLERANCE["float64"]]
    assert len(exact_ones) >= 10
    for text in exact_ones:
        assert differences(hr.get(text), text, "float64") == (0.0, 0.0), text


class LateScheduleSGD(hr.SGD):
    """Reads the schedule after counting the step: schedule(iterations + 1)."""

    def current_learning_rate(self):
        return self.dtype.type(self.learning_rate(self.iterations + 1))


def test_a_schedule_one_step_late_is_outside_the_schedule_tolerance():
    """Failing twin of SCHEDULE_TOLERANCE: a rate one step off is far more than one ulp."""
    text = "sgd(learning_rate=exp_decay(0.1,5,0.5),momentum=0.9)"
    assert agrees(hr.get(text), text)
    param_diff, _ = differences(twin(LateScheduleSGD, text), text, "float64")
    assert param_diff > 1e3 * SCHEDULE_TOLERANCE["float64"]


# ------------------------------------------------------------ failing twins
class EpsilonInsideAdam(hr.Adam):
    def update(self, w, g, lr, s):
        c = self.applied
        alpha = self.step_size(lr)
        m, v = s["m"], s["v"]
        m += (g - m) * c["1 - beta_1"]
        v += (np.square(g) - v) * c["1 - beta_2"]
        w -= (m * alpha) / np.sqrt(v + c["epsilon"])          # wrong: epsilon inside


class EpsilonOutsideRMSprop(hr.RMSprop):
    def update(self, w, g, lr, s):
        c = self.applied
        v = s["v"]
        np.add(c["rho"] * v, c["1 - rho"] * np.square(g), out=v)
        w -= (lr * g) / (np.sqrt(v) + c["epsilon"])           # wrong: epsilon outside


class PyTorchMomentumSGD(hr.SGD):
    """v <- mu v + g; w <- w - lr v (PyTorch's convention)."""

    def update(self, w, g, lr, s):
        v = s["m"]
        np.add(self.applied["momentum"] * v, g, out=v)
        w -= lr * v


# how each constant is computed from the options, before it is rounded
GIVEN = {"beta_1 (in beta_1**t)": lambda o: o.beta_1, "beta_2 (in beta_2**t)": lambda o: o.beta_2,
         "1 - beta_1": lambda o: 1 - o.beta_1, "1 - rho": lambda o: 1 - o.rho,
         "epsilon": lambda o: o.epsilon, "momentum": lambda o: o.momentum,
         "weight_decay": lambda o: o.weight_decay, "learning_rate": lambda o: o.learning_rate}


def with_constant(cls, key: str, rounding):
    """A twin of `cls` that applies constant `key` rounded the other way."""

    class Twin(cls):
        def build(self, params):
            super().build(params)
            self.applied[key] = rounding(GIVEN[key](self), self.dtype)
            return self

    Twin.__name__ = f"{cls.__name__}_{rounding.__name__}"
    return Twin


def twin(cls, text):
    return cls.from_text(text[text.index("(") + 1:-1])


def test_textbook_adam_disagrees_with_keras():
    keras_text = "adam(learning_rate=0.01)"
    assert agrees(hr.get(keras_text), keras_text)
    param_diff, state_diff = differences(hr.get("adam_textbook(learning_rate=0.01)"),
                                         keras_text, "float64")
    assert param_diff > 1e-6                        # far beyond rounding
    assert state_diff < 1e-14                       # m and v are the same; only the step differs


def test_adam_epsilon_inside_the_root_disagrees():
    text = "adam(learning_rate=0.01)"
    assert not agrees(twin(EpsilonInsideAdam, text), text)


def test_rmsprop_epsilon_outside_the_root_disagrees():
    text = "rmsprop(learning_rate=0.01)"
    assert not agrees(twin(EpsilonOutsideRMSprop, text), text)


def test_pytorch_momentum_equals_keras_only_while_lr_is_constant():
    constant = "sgd(learning_rate=0.1,momentum=0.9)"
    param_diff, _ = differences(twin(PyTorchMomentumSGD, constant), constant, "float64")
    assert param_diff < 1e-13                      # the same steps, rounded differently
    decaying = "sgd(learning_rate=exp_decay(0.1,5,0.5),momentum=0.9)"
    param_diff, _ = differences(twin(PyTorchMomentumSGD, decaying), decaying, "float64")
    assert param_diff > 1e-3


# The roundings of KERAS_FORMULAS.md, each pinned by a twin that rounds the other way.
ROUNDING_TWINS = [
    # (optimizer class, constant, the wrong rounding, Keras text)
    (hr.Adam, "beta_1 (in beta_1**t)", exact, "adam(learning_rate=0.01)"),
    (hr.Adam, "beta_2 (in beta_2**t)", exact, "adam(learning_rate=0.01)"),
    (hr.Adam, "1 - beta_1", via_float32, "adam(learning_rate=0.01)"),
    (hr.Adam, "epsilon", via_float32, "adam(learning_rate=0.01,epsilon=0.1)"),
    (hr.SGD, "momentum", exact, "sgd(learning_rate=0.1,momentum=0.9)"),
    (hr.RMSprop, "1 - rho", via_float32, "rmsprop(learning_rate=0.01)"),
    (hr.RMSprop, "epsilon", via_float32, "rmsprop(learning_rate=0.01,epsilon=0.1)"),
    (hr.Adagrad, "epsilon", via_float32, "adagrad(learning_rate=0.1,epsilon=0.1)"),
    (hr.AdamW, "weight_decay", exact, "adamw(learning_rate=0.01,weight_decay=0.1)"),
    (hr.Adam, "learning_rate", via_float32, "adam(learning_rate=0.01)"),
]


@pytest.mark.parametrize("cls, key, rounding, text", ROUNDING_TWINS,
                         ids=[f"{c.__name__}-{k}-{r.__name__}" for c, k, r, _ in ROUNDING_TWINS])
def test_rounding_the_other_way_disagrees(cls, key, rounding, text):
    right = twin(cls, text)
    right.build(problem("float64")[0])
    wrong_cls = with_constant(cls, key, rounding)
    wrong = twin(wrong_cls, text)
    wrong.build(problem("float64")[0])
    assert wrong.applied[key] != right.applied[key]   # the twin really rounds differently
    assert agrees(twin(cls, text), text)
    assert not agrees(wrong, text)


class ExactStartAdagrad(hr.Adagrad):
    def initial_slot(self, slot, shape, dtype):
        return np.full(shape, exact(self.initial_accumulator_value, dtype), dtype=dtype)


def test_adagrad_starts_from_the_float32_rounded_accumulator():
    """Keras' Constant initializer is ops.cast(value, dtype): 0.1 starts as 0.10000000149."""
    text = "adagrad(learning_rate=0.1)"
    assert agrees(hr.get(text), text)
    assert not agrees(twin(ExactStartAdagrad, text), text)


# ------------------------------------------------------------- the schedules
SCHEDULES = [
    "exp_decay(0.01,30,0.9)",
    "exp_decay(0.01,30,0.9,staircase=true)",
    "piecewise_constant(30/60,0.1/0.05/0.01)",
    "cosine_decay(0.01,150)",
    "cosine_decay(0.01,150,alpha=0.1,warmup_target=0.02,warmup_steps=20)",
]
SCHEDULE_STEPS = 200


@functools.lru_cache(maxsize=None)
def keras_schedule_values(text: str) -> np.ndarray:
    import tensorflow as tf

    schedule = keras_schedule(schedules.get(text))
    values = [schedule(tf.constant(step, tf.int64)).numpy() for step in range(SCHEDULE_STEPS)]
    return np.array(values)


def ulps_apart(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How many float32 units in the last place lie between a and b (finite, same sign)."""
    bits = lambda x: np.asarray(x, np.float32).view(np.int32).astype(np.int64)  # noqa: E731
    return np.abs(bits(a) - bits(b))


@pytest.mark.parametrize("text", SCHEDULES)
def test_schedule_matches_keras_at_every_step(text):
    """Within one float32 ulp at every step: the last bit of powf and cosf is the C
    library's (the same one TensorFlow calls here; another machine may round it the
    other way), so it is not pinned.  Twins below: one step off, or a step not clipped."""
    keras_values = keras_schedule_values(text)
    assert keras_values.dtype == np.float32        # a Python float starts a float32 schedule
    mine = np.array([schedules.get(text)(step) for step in range(SCHEDULE_STEPS)])
    assert mine.dtype == np.float32
    assert ulps_apart(mine, keras_values).max() <= 1
    assert len(set(mine.tolist())) > 2             # it does change over these steps


@pytest.mark.parametrize("text", SCHEDULES)
def test_a_schedule_read_one_step_late_is_more_than_an_ulp_away(text):
    """Failing twin of the one-ulp check: schedule(step + 1), the step counted before it
    is read, is many ulps away wherever the schedule changes."""
    late = np.array([schedules.get(text)(step + 1) for step in range(SCHEDULE_STEPS)])
    assert ulps_apart(late, keras_schedule_values(text)).max() > 1


def test_a_cosine_not_held_at_its_end_is_more_than_an_ulp_away():
    """Failing twin: without min(step, decay_steps) the cosine climbs back after step 150."""
    f32 = np.float32
    free = np.array([f32(0.01) * (f32(0.5) * (f32(1) + schedules.cos32(
        f32(np.pi) * (f32(step) / f32(150))))) for step in range(SCHEDULE_STEPS)])
    assert ulps_apart(free, keras_schedule_values("cosine_decay(0.01,150)")).max() > 1


def test_one_ulp_away_moves_every_value_by_one_ulp():
    s = schedules.get("exp_decay(0.01,30,0.9)")
    for direction in (1, -1):
        nudged = schedules.OneUlpAway(s, direction)
        values = np.array([s(t) for t in range(60)])
        moved = np.array([nudged(t) for t in range(60)])
        assert np.all(ulps_apart(values, moved) == 1)
        assert np.all(np.sign(moved - values) == direction)
        assert nudged.text == s.text and nudged(0).dtype == np.float32


def test_schedule_is_read_before_the_step_is_counted():
    """Step 0 uses schedule(0): Keras reads the schedule at `iterations`, then counts."""
    opt = hr.get("sgd(learning_rate=piecewise_constant(0/1,1.0/0.5/0.25))")
    params = {"w": np.zeros(1)}
    opt.build(params)
    rates = []
    for _ in range(4):
        rates.append(float(opt.current_learning_rate()))
        opt.apply(params, {"w": np.ones(1)})
    assert rates == [1.0, 0.5, 0.25, 0.25]
    np.testing.assert_array_equal(params["w"], [-2.0])


# ------------------------------------------------------ Keras facts, pinned
def test_tf_cast_of_a_python_float_rounds_through_float32():
    assert float(keras.ops.cast(0.9, "float64")) == float(np.float32(0.9)) != 0.9
    assert float(keras.ops.cast(0.9, "float64")) == float(via_float32(0.9, "float64"))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_learning_rate_lives_in_a_floatx_variable(dtype):
    k_opt = keras_optimizer(hr.get("adam(learning_rate=0.01)"), dtype)
    assert k_opt.learning_rate.dtype == dtype
    assert float(k_opt.learning_rate.numpy()) == float(np.dtype(dtype).type(0.01))
    with floatx("float64"):
        assert keras_schedule(schedules.get("exp_decay(0.01,10,0.9)"))(3).dtype == "float32"


def test_defaults_are_the_installed_keras_defaults():
    for cls in (hr.SGD, hr.RMSprop, hr.Adam, hr.AdamW, hr.Adagrad):
        ours = inspect.signature(cls.__init__).parameters
        theirs = inspect.signature(getattr(keras.optimizers, cls.keras_name).__init__).parameters
        for name, parameter in ours.items():
            if name != "self":
                assert theirs[name].default == parameter.default, (cls.__name__, name)
        keras_keys = [n for n in theirs if n in ours and n != "self"]   # in Keras' order
        assert keras_keys == [n for n in ours if n != "self"], cls.__name__
    for cls in (schedules.ExponentialDecay, schedules.PiecewiseConstantDecay,
                schedules.CosineDecay):
        ours = inspect.signature(cls.__init__).parameters
        theirs = inspect.signature(
            getattr(keras.optimizers.schedules, cls.keras_name).__init__).parameters
        for name, parameter in ours.items():
            if name != "self":
                assert theirs[name].default == parameter.default, (cls.__name__, name)


def test_keras_names_slots_after_the_variable_path():
    start, _ = problem("float64")
    with floatx("float64"):
        variables = keras_variables(start, "float64")
        k_opt = keras_optimizer("adam(amsgrad=true)", "float64")
        k_opt.build(list(variables.values()))
    paths = {v.path for v in k_opt.variables}
    assert f"{k_opt.name}/dense1_kernel_momentum" in paths
    assert f"{k_opt.name}/dense1_bias_velocity_hat" in paths


def test_read_state_maps_by_name_not_position():
    start, grads = problem("float64")
    with floatx("float64"):
        variables = keras_variables(start, "float64")
        k_opt = keras_optimizer("rmsprop(momentum=0.5,centered=true)", "float64")
        order = list(variables)[::-1]                   # built in the other order
        k_opt.apply([grads[0][n] for n in order], [variables[n] for n in order])
    state = read_state(k_opt, variables)
    reversed_names = dict(reversed(list(variables.items())))
    assert {k: v.tolist() for k, v in read_state(k_opt, reversed_names).items()
            if k != "iterations"} == {k: v.tolist() for k, v in state.items()
                                      if k != "iterations"}
    assert state["dense1/kernel/v"].shape == (5, 3) and state["dense1/bias/g_avg"].shape == (3,)
    assert state["iterations"] == 1
    with pytest.raises(ValueError, match="no velocity slot"):
        with floatx("float64"):
            with keras.name_scope("other"):
                stranger = keras.Variable(np.zeros(3), name="bias", dtype="float64")
        read_state(k_opt, {**variables, "other/bias": stranger})


def test_read_state_on_a_models_variables():
    """In a model the paths carry the model's name (sequential/dense1/kernel): still found."""
    from keras_impl.model import named_variables

    with floatx("float64"):
        # dtype given explicitly: the global dtype policy may be cached as float32 already
        model = keras.Sequential([keras.Input((4,), dtype="float64"),
                                  keras.layers.Dense(3, name="dense1", dtype="float64"),
                                  keras.layers.Dense(2, name="dense2", dtype="float64")])
        variables = named_variables(model)
        k_opt = keras_optimizer("sgd(momentum=0.9)", "float64")
        k_opt.apply([np.ones(v.shape) for v in variables.values()], list(variables.values()))
    assert variables["dense1/kernel"].path.endswith("/dense1/kernel")
    state = read_state(k_opt, variables)
    assert sorted(state) == ["dense1/bias/m", "dense1/kernel/m", "dense2/bias/m",
                             "dense2/kernel/m", "iterations"]
    np.testing.assert_array_equal(state["dense2/bias/m"], [-0.01, -0.01])


def test_adam_textbook_has_no_keras_twin():
    with pytest.raises(SpecError, match="no Keras twin") as caught:
        keras_optimizer("adam_textbook")
    assert "\n" not in str(caught.value)


# ----------------------------------------------------------- the text form
def test_text_round_trips_and_keeps_keras_names():
    cases = {
        "adam": "adam",
        "Adam(lr=0.01, beta_1=0.8)": "adam(learning_rate=0.01,beta_1=0.8)",
        "sgd(0.1)": "sgd(learning_rate=0.1)",
        "SGD(momentum=0.9,nesterov=TRUE)": "sgd(momentum=0.9,nesterov=true)",
        "rmsprop(centered=true,rho=0.8)": "rmsprop(rho=0.8,centered=true)",
        "adamw(weight_decay=0.004)": "adamw",
        "adagrad(initial_accumulator_value=0.2,epsilon=1e-6)":
            "adagrad(initial_accumulator_value=0.2,epsilon=1e-06)",
        "adam(lr=exp_decay(0.01, 1000, 0.9))": "adam(learning_rate=exp_decay(0.01,1000,0.9))",
        "sgd(learning_rate=piecewise_constant(100/200,0.1/0.05/0.01))":
            "sgd(learning_rate=piecewise_constant(100/200,0.1/0.05/0.01))",
        "adam(lr=CosineDecay(0.01,1000,warmup_steps=100,alpha=0.1,warmup_target=0.02))":
            "adam(learning_rate=cosine_decay(0.01,1000,alpha=0.1,warmup_target=0.02,"
            "warmup_steps=100))",
        "sgd(lr=ExponentialDecay(initial_learning_rate=0.1,decay_steps=10,decay_rate=0.5))":
            "sgd(learning_rate=exp_decay(0.1,10,0.5))",
    }
    for text, canonical in cases.items():
        assert hr.get(text).text == canonical, text
        assert hr.get(canonical).text == canonical


def test_bare_name_is_keras_defaults_and_config_shows_the_roundings():
    config = hr.get("adam").get_config()
    assert config["learning_rate"] == 0.001 and config["beta_1"] == 0.9
    assert config["applied"]["beta_1 (in beta_1**t)"] == float(np.float32(0.9))
    assert config["applied"]["1 - beta_1"] == 1 - 0.9
    assert hr.get("adamw").get_config()["applied"]["weight_decay"] == float(np.float32(0.004))
    assert hr.get("sgd(momentum=0.9)").get_config()["applied"]["momentum"] == float(
        np.float32(0.9))
    opt = hr.get("adam(learning_rate=0.01)")
    opt.build({"w": np.zeros(2, dtype=np.float32)})
    assert opt.get_config()["applied"]["learning_rate"] == float(np.float32(0.01))


BAD_TEXT = {
    "adamax": "unknown optimizer 'adamax' (did you mean 'adam'?); accepted: sgd, rmsprop, "
              "adam, adamw, adagrad, adam_textbook",
    "adam(beta1=0.9)": "adam has no option 'beta1'; accepted: learning_rate (lr), beta_1, "
                       "beta_2, epsilon, amsgrad, weight_decay",
    "sgd(momentum=1.5)": "sgd momentum must be a number in [0, 1], got '1.5'",
    "adam(beta_2=1)": "adam beta_2 must be a number in [0, 1), got '1'",
    "adam(amsgrad=yes)": "adam amsgrad must be true or false, got 'yes'",
    "adam(lr=0.1,learning_rate=0.1)": "adam: 'lr' and 'learning_rate' are the same option",
    "adam(0.1,0.9)": "adam takes at most one positional argument",
    "adam(learning_rate=-1)": "adam learning_rate must be a number in [0, inf], got '-1'",
    "adam(learning_rate=fast)": "adam learning_rate must be a number >= 0 or a schedule",
    "adam(learning_rate=step_decay(0.1))": "unknown learning-rate schedule 'step_decay' (did "
                                           "you mean 'exp_decay'?); "
                                           "accepted: exp_decay, piecewise_constant, "
                                           "cosine_decay",
    "sgd(lr=exp_decay(0.1,10))": "exp_decay needs decay_rate; expected "
                                 "exp_decay(initial_learning_rate,decay_steps,decay_rate,"
                                 "staircase=...)",
    "sgd(lr=exp_decay(0.1,0,0.5))": "exp_decay decay_steps must be a positive integer",
    "sgd(lr=piecewise_constant(100/200,0.1/0.05))": "piecewise_constant needs one value more "
                                                    "than boundaries",
    "sgd(lr=piecewise_constant(200/100,0.1/0.05/0.01))": "boundaries must increase",
    "sgd(lr=piecewise_constant(100,,0.1))": "empty argument",
    "sgd(lr=cosine_decay(0.01,100,beta=2))": "cosine_decay has no option 'beta'; accepted: "
                                             "initial_learning_rate, decay_steps, alpha, "
                                             "warmup_target, warmup_steps",
    "adam(lr=0.1": "malformed optimizer 'adam(lr=0.1'",
    "adamw(weight_decay=none)": "adamw weight_decay must be a number",
}


@pytest.mark.parametrize("text, message", BAD_TEXT.items(), ids=list(BAD_TEXT))
def test_bad_text_is_one_line_spec_error(text, message):
    with pytest.raises(SpecError) as caught:
        hr.get(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


# ------------------------------------------------------------- the contract
def test_apply_is_in_place_and_counts_steps():
    params = {"dense1/kernel": np.ones((2, 2)), "dense1/bias": np.zeros(2)}
    kernel = params["dense1/kernel"]
    opt = hr.get("sgd(learning_rate=0.5)")
    opt.apply(params, {"dense1/kernel": np.ones((2, 2)), "dense1/bias": np.ones(2)})  # builds
    assert params["dense1/kernel"] is kernel
    np.testing.assert_array_equal(kernel, 0.5)
    assert opt.state() == {"iterations": 1}
    with pytest.raises(ValueError, match="named"):
        opt.apply(params, {"dense1/kernel": np.ones((2, 2))})
    with pytest.raises(ValueError, match="shape"):
        opt.apply(params, {"dense1/kernel": np.ones((2, 3)), "dense1/bias": np.ones(2)})
    with pytest.raises(ValueError, match="one dtype"):
        hr.get("adam").build({"a": np.zeros(2), "b": np.zeros(2, dtype=np.float32)})


def test_state_is_in_the_parameters_dtype_and_a_copy():
    opt = hr.get("adam(amsgrad=true)")
    params = {"w": np.ones(3, dtype=np.float32)}
    opt.build(params)
    opt.apply(params, {"w": np.ones(3)})              # float64 gradient: cast, as Keras does
    state = opt.state()
    assert sorted(state) == ["iterations", "w/m", "w/v", "w/v_hat"]
    assert all(state[k].dtype == np.float32 for k in ("w/m", "w/v", "w/v_hat"))
    assert params["w"].dtype == np.float32
    state["w/m"][:] = 99
    assert opt.state()["w/m"][0] != 99
