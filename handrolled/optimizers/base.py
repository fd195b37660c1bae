"""The optimizer contract, the registry, and the text form.

    opt = optimizers.get("adam(learning_rate=0.01,beta_1=0.8)")
    opt.build(params)          # params: {"dense1/kernel": array, ...}; state in params' dtype
    opt.apply(params, grads)   # one step, in place on the arrays in params; iterations += 1
    opt.state()                # {"dense1/kernel/m": array, ..., "iterations": 1}
    opt.text                   # 'adam(learning_rate=0.01,beta_1=0.8)'
    opt.get_config()           # the options as given, and under "applied" the constants
                               # the update really uses (after Keras' float32 roundings)

Each optimizer lives in its own file and writes only `update`, its
per-parameter step, with its equations in the docstring beside the code.

Updates run in place, without temporaries: `apply` hands `update` a
parameter in pieces of at most CHUNK numbers (flat views of w, g and the
slots), and `update` computes each equation with `out=` into `scratch`
arrays of that size, which stay in cache.  Every operation is the one the
equation names, in its order, rounded once, so the numbers are the same bits
as the one-line formula (tests/test_optimizers.py checks this); what changes
is that a step on a large parameter makes a few passes over its memory and
allocates nothing.
Everything a step shares (the learning rate of this step, weight decay, the
step counter, the checks) is here, in the order Keras' `optimizer.apply` runs
it (keras/src/optimizers/base_optimizer.py, backend/tensorflow/optimizer.py):

    lr = learning_rate                       a number, or schedule(iterations)
    w -= w * wd * lr                         every parameter, if weight_decay is set
    update(w, g, lr, slots)                  each parameter in turn
    iterations += 1

Two rules decide every rounding, and each optimizer follows them:

* A hyper-parameter Keras passes through `ops.cast(x, dtype)` (tf.cast of a
  Python float) is rounded to float32 first, even in a float64 model:
  tf.cast(0.9, tf.float64) = 0.8999999761581421.  `via_float32(x, dtype)`
  does the same (`keras_cast`; on JAX and torch Keras keeps float64: the
  conventions given to `build` say which, handrolled/conventions.py).
  One that Keras mixes into an op directly (`1 - beta_1`,
  `epsilon`, `rho`) is converted straight to the model's dtype: `exact`.
* The learning rate lives in a Keras variable of dtype floatx; the training
  code sets floatx to the model's dtype, so it is the number given, in the
  model's dtype (0.01 exactly in float64, float32(0.01) in float32).  A
  schedule computes in float32 (see schedules.py) and is then widened.

The text form uses Keras' keyword names, `lr` as an alias of learning_rate,
true/false for booleans, and a schedule as the learning rate:

    sgd(learning_rate=0.1,momentum=0.9,nesterov=true)
    adam(lr=exp_decay(0.01,1000,0.9))
    sgd(0.1)                   a single positional argument is the learning rate
"""

from __future__ import annotations

import numpy as np

from ..conventions import KERAS, Conventions, exact, via_float32  # noqa: F401 (exported)
from ..options import Declared
from ..registry import Registry
from ..text import split_call
from .schedules import Schedule

DTYPES = ("float32", "float64")
CHUNK = 1 << 15     # numbers per piece of a parameter: 256 KB of float64, in cache


# ------------------------------------------------------------ the contract
class Optimizer(Declared):
    """Base class.  A subclass declares OPTIONS (one `Option` per argument in Keras'
    signature order: learning_rate_option(default) first, WEIGHT_DECAY unless it has
    its own; handrolled/options.py derives __init__, the text and the form from them)
    and writes `slots`, `constants` and `update`; `register` gives it its name."""

    name: str = ""                 # the registry name, e.g. "adam" (set by `register`)
    keras_name: str = ""           # the keras.optimizers class of the twin ("" if none)
    POSITIONAL_ACCEPTED = 1        # sgd(0.1): the learning rate; the text writes keywords
    # how Keras rounds (handrolled/conventions.py): given to `build` by whoever builds the
    # optimizer for a network's parameters (the network's conventions)
    conventions: Conventions = KERAS

    learning_rate = None      # options every optimizer declares: a float or a Schedule,
    weight_decay = None       # and a float or None (no weight decay)

    def __init__(self, *args, **options):
        self.iterations = 0
        self.dtype: np.dtype | None = None
        self.applied: dict[str, np.floating] = {}     # what `update` multiplies by (built)
        self.slots_by_param: dict[str, dict[str, np.ndarray]] = {}
        self._shapes: dict[str, tuple] = {}
        self._scratch: list[np.ndarray] = []          # work arrays, see `scratch`
        self.set_options(*args, **options)

    # ------------------------------------------------- what a subclass writes
    def slots(self) -> tuple[str, ...]:
        """The names of the per-parameter state arrays, e.g. ("m", "v")."""
        return ()

    def initial_slot(self, slot: str, shape, dtype) -> np.ndarray:
        """A slot's starting value (zeros unless the optimizer says otherwise)."""
        return np.zeros(shape, dtype=dtype)

    def constants(self, dtype) -> dict[str, np.floating]:
        """The hyper-parameters as the update uses them in `dtype`, rounded as Keras rounds them."""
        return {}

    def update(self, w: np.ndarray, g: np.ndarray, lr: np.floating, s: dict) -> None:
        """One step for one parameter (or a piece of one: every update is elementwise),
        in place on `w` and on the slot arrays in `s`."""
        raise NotImplementedError

    def scratch(self, k: int, like: np.ndarray) -> np.ndarray:
        """Work array number k shaped like `like`, in the parameters' dtype: allocated
        once, reused by every update (its contents are garbage on entry)."""
        while len(self._scratch) <= k:
            self._scratch.append(np.empty(0, dtype=self.dtype))
        if self._scratch[k].size < like.size:
            self._scratch[k] = np.empty(like.size, dtype=self.dtype)
        return self._scratch[k][:like.size].reshape(like.shape)

    # ----------------------------------------------------------- building
    def keras_cast(self, value: float, dtype) -> np.floating:
        """A hyper-parameter Keras passes through `ops.cast`, as the conventions round it
        (`via_float32` on TensorFlow).  The one hook for code that rounds otherwise
        (compare/check/optimizer_variants.py: `exact`, as NumPy code by hand does)."""
        return self.conventions.cast(value, dtype)

    def build(self, params: dict, conventions: Conventions | None = None) -> "Optimizer":
        """Fresh state for `params` ({name: array}, one float dtype): every slot in
        that dtype, iterations 0, the constants rounded for that dtype under
        `conventions` (default: the ones it was last built with, else KERAS)."""
        if conventions is not None:
            self.conventions = conventions
        if not params:
            raise ValueError("build: no parameters")
        dtypes = {np.asarray(w).dtype for w in params.values()}
        if len(dtypes) != 1 or str(next(iter(dtypes))) not in DTYPES:
            raise ValueError(f"build: the parameters must share one dtype of {DTYPES}, "
                             f"got {sorted(str(d) for d in dtypes)}")
        self.dtype = next(iter(dtypes))
        self.applied = self.applied_constants(self.dtype)
        self._shapes = {name: np.shape(w) for name, w in params.items()}
        self.slots_by_param = {
            name: {slot: self.initial_slot(slot, np.shape(w), self.dtype) for slot in self.slots()}
            for name, w in params.items()}
        self.iterations = 0
        self._scratch = []
        return self

    def applied_constants(self, dtype) -> dict[str, np.floating]:
        """Every number a step multiplies by, in `dtype`, rounded as Keras rounds it:
        the learning rate (unless a schedule), the weight decay, then `constants`."""
        out = {}
        if not isinstance(self.learning_rate, Schedule):
            out["learning_rate"] = exact(self.learning_rate, dtype)   # a floatx variable
        if self.weight_decay is not None:
            # backend/tensorflow/optimizer.py: wd = tf.cast(self.weight_decay, variable.dtype)
            out["weight_decay"] = self.keras_cast(self.weight_decay, dtype)
        out.update(self.constants(dtype))
        return out

    @property
    def built(self) -> bool:
        return self.dtype is not None

    # ------------------------------------------------------------ a step
    def current_learning_rate(self) -> np.floating:
        """The learning rate the next `apply` uses, in the parameters' dtype: the
        number given, or the schedule at `iterations` (steps already taken)."""
        if not self.built:
            raise ValueError("current_learning_rate: build(params) first (it needs the dtype)")
        if isinstance(self.learning_rate, Schedule):
            return self.dtype.type(self.learning_rate(self.iterations))
        return self.applied["learning_rate"]

    def apply(self, params: dict, grads: dict) -> None:
        """One step: every array in `params` is changed in place; iterations += 1.

        Builds on first use.  A gradient is cast to its parameter's dtype first,
        as Keras does (`gradient = ops.cast(gradient, variable.dtype)`)."""
        if not self.built:
            self.build(params)
        if set(params) != set(self._shapes) or set(grads) != set(self._shapes):
            raise ValueError(f"apply: expected parameters and gradients named "
                             f"{sorted(self._shapes)}, got {sorted(params)} and {sorted(grads)}")
        for name, w in params.items():
            if not isinstance(w, np.ndarray) or w.dtype != self.dtype:
                raise ValueError(f"apply: parameter {name} must be a {self.dtype} ndarray "
                                 f"(it is updated in place)")
            if w.shape != self._shapes[name] or np.shape(grads[name]) != w.shape:
                raise ValueError(f"apply: {name} has shape {w.shape} and gradient shape "
                                 f"{np.shape(grads[name])}; built for {self._shapes[name]}")
        lr = self.current_learning_rate()
        if self.weight_decay is not None:
            wd = self.applied["weight_decay"]
            for w in params.values():
                for (piece,), _ in pieces([w], {}):
                    t = self.scratch(0, piece)
                    np.multiply(piece, wd, out=t)      # w <- w - (w * wd) * lr,
                    t *= lr                            # as variable * wd * lr
                    piece -= t
        for name, w in params.items():
            g = np.asarray(grads[name], dtype=self.dtype)
            for (w_piece, g_piece), slots in pieces([w, g], self.slots_by_param[name]):
                self.update(w_piece, g_piece, lr, slots)
        self.iterations += 1

    # ---------------------------------------------------------- reading
    def state(self, copy: bool = True) -> dict:
        """{"<param>/<slot>": copy of the array, ..., "iterations": int}.  copy=False:
        the slot arrays themselves (for a caller that is done with the optimizer)."""
        out: dict = {f"{name}/{slot}": array.copy() if copy else array
                     for name, slots in self.slots_by_param.items()
                     for slot, array in slots.items()}
        out["iterations"] = self.iterations
        return out

    def get_config(self) -> dict:
        """The options as given (a schedule as its config), and under "applied" the
        constants the update multiplies by, as Python floats, for the built dtype
        (float64 if not built yet)."""
        config = {"name": self.name}
        for key, value in self.options().items():
            config[key] = value.get_config() if isinstance(value, Schedule) else value
        dtype = self.dtype if self.built else np.dtype("float64")
        config["applied"] = {key: float(value)
                             for key, value in self.applied_constants(dtype).items()}
        return config

    def __repr__(self) -> str:
        return f"<optimizer {self.text}>"


def pieces(arrays: list, slots: dict):
    """([array pieces], {slot: piece}) over CHUNK-sized flat views of `arrays` and the
    slot arrays, all of one shape; the whole arrays at once if one is not C-contiguous."""
    together = [*arrays, *slots.values()]
    if not all(a.flags.c_contiguous for a in together):
        yield arrays, slots
        return
    flat = [a.reshape(-1) for a in together]
    size = flat[0].size
    for start in range(0, size, CHUNK):
        views = [a[start:start + CHUNK] for a in flat]
        yield views[:len(arrays)], dict(zip(slots, views[len(arrays):]))


# ------------------------------------------------------------------ registry
OPTIMIZERS = Registry("optimizer")
register = OPTIMIZERS.register
names = OPTIMIZERS.names


def get(text) -> Optimizer:
    """A fresh optimizer from its text: 'adam', 'adam(learning_rate=0.01,beta_1=0.8)',
    'sgd(lr=exp_decay(0.1,100,0.5),momentum=0.9)'.  An Optimizer is returned as it is."""
    if isinstance(text, Optimizer):
        return text
    name, args = split_call(str(text), "optimizer", "'adam' or 'sgd(learning_rate=0.1)'")
    return OPTIMIZERS.lookup(name).from_text(args)
