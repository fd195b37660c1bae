"""The loss, the optimizers and the training loop of numpy_version.py, with their Keras lines.

The loss is handrolled/loss.py's own functions, embedded (`source`).  The
optimizers are still templates: their handrolled update methods read state the
Optimizer base class prepares, so they do not run standalone as they are.

One template per optimizer, registered under the handrolled optimizer's name
(`OPTIMIZERS.lookup("adam")`), written from the optimizer's docstring in
handrolled/optimizers/: Keras' order of operations and Keras' roundings (a
hyper-parameter Keras casts with `ops.cast` is rounded through float32 first,
even in a float64 model; see handrolled/optimizers/base.py).  Only the
optimizer a network trains with is written into its program.
"""

from __future__ import annotations

import inspect

from handrolled import loss as softmax_loss
from handrolled.errors import SpecError
from handrolled.optimizers import Schedule
from handrolled.registry import Registry

from .numpy_layers import source, written

OPTIMIZERS = Registry("optimizer for `nn-compare code`")

LOSS_NUMPY = source(softmax_loss.log_softmax, softmax_loss.mean_cross_entropy,
                    softmax_loss.grad_logits) + '''


def loss_and_delta(logits, Y):
    """Softmax + categorical cross-entropy, and its gradient with respect to the logits
    (eq. 3), from the functions above."""
    log_p = log_softmax(logits)
    return mean_cross_entropy(log_p, Y), grad_logits(np.exp(log_p), Y)
'''
LOSS_KERAS = "loss = keras.losses.CategoricalCrossentropy(from_logits=True)"


def check_loss(loss: str) -> None:
    if loss != "categorical_crossentropy":
        raise SpecError(f"nn-compare code writes the loss categorical_crossentropy; "
                        f"'{loss}' is not written yet")


def optimizer_template(optimizer):
    """The template of a handrolled optimizer (SpecErrors for what is not written)."""
    template = written(OPTIMIZERS, optimizer.name, "optimizers")
    if isinstance(optimizer.learning_rate, Schedule):
        raise SpecError("nn-compare code does not write learning-rate schedules yet; "
                        "give a number as the learning rate")
    return template


def float32_rounded(value: float) -> str:
    return f"DTYPE(np.float32({value!r}))"


def keras_optimizer_line(optimizer) -> str:
    """`optimizer = keras.optimizers.Adam(learning_rate=0.001, ...)`: the learning rate,
    then the options that differ from Keras' defaults."""
    defaults = {name: p.default for name, p in
                inspect.signature(type(optimizer).__init__).parameters.items()
                if p.default is not inspect.Parameter.empty}
    options = [f"learning_rate={float(optimizer.learning_rate)!r}"]
    for key, value in optimizer.options().items():
        if key == "learning_rate" or value is None or (key in defaults and
                                                       value == defaults[key] and
                                                       type(value) is type(defaults[key])):
            continue
        options.append(f"{key}={float(value)!r}" if key == "momentum" else f"{key}={value!r}")
    return f"optimizer = keras.optimizers.{optimizer.keras_name}({', '.join(options)})"


def constants(optimizer, lines: list[str]) -> str:
    head = [f"LEARNING_RATE = DTYPE({float(optimizer.learning_rate)!r})"]
    if optimizer.weight_decay is not None:
        head.append(f"WEIGHT_DECAY = {float32_rounded(optimizer.weight_decay)}"
                    f"   # Keras casts it through float32 (tf.cast)")
    return "\n".join(head + lines)


def step_method(optimizer, slots: str, before: str, update: str) -> str:
    """`step(weights, grads)` in Keras' order: decay every parameter, then each update."""
    decay = ('''
        for name in grads:                     # decoupled weight decay, before the update
            weights[name] -= weights[name] * WEIGHT_DECAY * LEARNING_RATE''' if
             optimizer.weight_decay is not None else "")
    return f'''
    def __init__(self, weights, names):
{slots}
    def step(self, weights, grads):{before}{decay}
        for name, g in grads.items():
{update}'''


def zeros(*slots: str) -> str:
    return "".join(f"        self.{slot} = {{name: np.zeros_like(weights[name]) for name in names}}\n"
                   for slot in slots) or "        pass\n"


@OPTIMIZERS.register("sgd")
class SGD:
    @staticmethod
    def code(opt) -> str:
        if opt.momentum == 0:
            return constants(opt, []) + '''


class SGD:
    """w <- w - lr dL/dw"""''' + step_method(opt, zeros(), "", '''\
            weights[name] -= g * LEARNING_RATE''')
        update = ('''\
            m = self.m[name]
            m[...] = m * MOMENTUM - g * LEARNING_RATE         # m <- m mu - g lr
            weights[name] += m * MOMENTUM - g * LEARNING_RATE  # Nesterov: w <- w + (m mu - g lr)'''
                  if opt.nesterov else '''\
            m = self.m[name]
            m[...] = m * MOMENTUM - g * LEARNING_RATE         # m <- m mu - g lr
            weights[name] += m                                # w <- w + m''')
        return constants(opt, [f"MOMENTUM = {float32_rounded(opt.momentum)}"
                               f"   # Keras casts it through float32 (ops.cast)"]) + '''


class SGD:
    """Keras' momentum: m <- m mu - g lr (m starts at 0), w <- w + m"""''' + \
            step_method(opt, zeros("m"), "", update)


@OPTIMIZERS.register("rmsprop")
class RMSprop:
    @staticmethod
    def code(opt) -> str:
        slots = ["v"] + (["mom"] if opt.momentum > 0 else []) + (["g_avg"] if opt.centered else [])
        update = ['''\
            v = self.v[name]
            v[...] = RHO * v + (1 - RHO) * np.square(g)      # v <- rho v + (1 - rho) g^2''']
        if opt.centered:
            update.append('''\
            g_avg = self.g_avg[name]
            g_avg[...] = RHO * g_avg + (1 - RHO) * g
            denominator = v - np.square(g_avg) + EPSILON''')
        else:
            update.append('''\
            denominator = v + EPSILON                         # epsilon inside the root''')
        update.append('''\
            increment = (LEARNING_RATE * g) / np.sqrt(denominator)''')
        update.append('''\
            mom = self.mom[name]
            mom[...] = MOMENTUM * mom + increment
            weights[name] -= mom''' if opt.momentum > 0 else '''\
            weights[name] -= increment''')
        lines = [f"RHO = {float(opt.rho)!r}", f"EPSILON = {float(opt.epsilon)!r}"]
        if opt.momentum > 0:
            lines.append(f"MOMENTUM = {float(opt.momentum)!r}")
        return constants(opt, lines) + '''


class RMSprop:
    """Divide the gradient by a running root mean square of its past values (no bias
    correction):  v <- rho v + (1 - rho) g^2,  w <- w - lr g / sqrt(v + epsilon)"""''' + \
            step_method(opt, zeros(*slots), "", "\n".join(update))


@OPTIMIZERS.register("adam")
class Adam:
    @staticmethod
    def code(opt, cls: str = "Adam") -> str:
        slots = ("m", "v", "v_hat") if opt.amsgrad else ("m", "v")
        lines = [f"BETA_1, BETA_2 = {float(opt.beta_1)!r}, {float(opt.beta_2)!r}",
                 f"EPSILON = {float(opt.epsilon)!r}",
                 "# in beta**t Keras casts the betas through float32 first (ops.cast), even in "
                 "float64",
                 f"BETA_1_IN_POWER = {float32_rounded(opt.beta_1)}",
                 f"BETA_2_IN_POWER = {float32_rounded(opt.beta_2)}"]
        before = '''
        self.t += 1
        beta_1_power = np.power(BETA_1_IN_POWER, DTYPE(self.t))
        beta_2_power = np.power(BETA_2_IN_POWER, DTYPE(self.t))
        alpha = LEARNING_RATE * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)'''
        update = '''\
            m, v = self.m[name], self.v[name]
            m += (g - m) * (1 - BETA_1)                       # m <- beta_1 m + (1 - beta_1) g
            v += (np.square(g) - v) * (1 - BETA_2)            # v <- beta_2 v + (1 - beta_2) g^2'''
        if opt.amsgrad:
            update += '''
            np.maximum(self.v_hat[name], v, out=self.v_hat[name])
            v = self.v_hat[name]                              # amsgrad: the largest v so far'''
        update += '''
            weights[name] -= (m * alpha) / (np.sqrt(v) + EPSILON)'''
        slot_lines = zeros(*slots) + "        self.t = 0\n"
        return constants(opt, lines) + f'''


class {cls}:
    """Keras' Adam, the paper's "epsilon-hat" form: the bias corrections folded into the
    step size, t = the step number (from 1),
        alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)
        w <- w - alpha m / (sqrt(v) + epsilon)       (epsilon added to sqrt(v), not sqrt(v_hat))
    """''' + step_method(opt, slot_lines, before, update)


@OPTIMIZERS.register("adamw")
class AdamW:
    @staticmethod
    def code(opt) -> str:
        return Adam.code(opt, "AdamW")


@OPTIMIZERS.register("adagrad")
class Adagrad:
    @staticmethod
    def code(opt) -> str:
        slots = (f"        self.acc = {{name: np.full_like(weights[name], INITIAL_ACCUMULATOR) "
                 f"for name in names}}\n")
        return constants(opt, [
            f"INITIAL_ACCUMULATOR = {float32_rounded(opt.initial_accumulator_value)}"
            f"   # through float32 (initializers.Constant)",
            f"EPSILON = {float(opt.epsilon)!r}"]) + '''


class Adagrad:
    """acc <- acc + g^2 (from its initial value),  w <- w - lr g / sqrt(acc + epsilon)"""''' + \
            step_method(opt, slots, "", '''\
            acc = self.acc[name]
            acc += np.square(g)
            weights[name] -= (LEARNING_RATE * g) / np.sqrt(acc + EPSILON)''')


TRAINING_NUMPY = '''
def evaluate(X, Y, y):
    """The loss and accuracy of the whole set, in inference mode."""
    logits = forward(X)
    loss, _ = loss_and_delta(logits, Y)
    return loss, float(np.mean(logits.argmax(axis=1) == y))


optimizer = {optimizer}(weights, trainable)
step = 0
for epoch, order in enumerate(orders):                       # the same row order as Keras
    for start in range(0, len(order), BATCH):                # the last batch may be shorter
        rows = order[start:start + BATCH]
        logits = forward(X_train[rows], training=True, step=step)   # eqs. 1-2, layer by layer
        loss, delta = loss_and_delta(logits, Y_train[rows])         # eq. 3
        grads = backward(delta)                                     # eqs. 4-5, top down
        optimizer.step(weights, grads)
        step += 1
    train_loss, train_accuracy = evaluate(X_train, Y_train, y_train)
    test_loss, test_accuracy = evaluate(X_test, Y_test, y_test)
    print({report})
'''

TRAINING_KERAS = '''
for epoch, order in enumerate(orders):                       # the same row order as NumPy
    model.fit(X_train[order], Y_train[order], batch_size=BATCH, epochs=1, shuffle=False,
              verbose=0)
    train_loss, train_accuracy = model.evaluate(X_train, Y_train, batch_size=len(X_train),
                                                verbose=0)
    test_loss, test_accuracy = model.evaluate(X_test, Y_test, batch_size=len(X_test), verbose=0)
    print({report})
'''

# the per-epoch line both programs print (compare/codegen/outputs.py parses it)
REPORT = ('f"epoch {epoch + 1}: loss {train_loss:.15f} accuracy {train_accuracy:.15f} "\n'
          '          f"test_loss {test_loss:.15f} test_accuracy {test_accuracy:.15f}"')


def training_numpy(optimizer) -> str:
    return TRAINING_NUMPY.replace("{optimizer}", optimizer_class(optimizer)).replace(
        "{report}", REPORT)


def optimizer_class(optimizer) -> str:
    return optimizer_template(optimizer).__name__


def training_keras() -> str:
    return TRAINING_KERAS.replace("{report}", REPORT)
