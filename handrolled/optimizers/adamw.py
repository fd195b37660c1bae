"""AdamW: Adam with decoupled weight decay (keras/src/optimizers/adamw.py).

Keras' AdamW is Adam with weight_decay set (default 0.004); the base
optimizer applies the decay to every parameter before the Adam step, with
the same learning rate (backend/tensorflow/optimizer.py `_apply_weight_decay`):

    w <- w - w * wd * lr          wd = ops.cast(weight_decay): rounded to float32
    then Adam's update (adam.py) with the same lr

"Decoupled" (Loshchilov & Hutter): the decay does not pass through m and v,
unlike an L2 term added to the loss.  It applies to biases too, as Keras'
default does (nothing is excluded).
"""

from __future__ import annotations

from .adam import Adam
from .base import register
from .options import beta, boolean, non_negative


@register("adamw")
class AdamW(Adam):
    keras_name = "AdamW"
    OPTIONS = {"weight_decay": non_negative, "beta_1": beta, "beta_2": beta,
               "epsilon": non_negative, "amsgrad": boolean}

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay)
