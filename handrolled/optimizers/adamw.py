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
from ..options import Option, boolean, non_negative
from .options import beta, learning_rate_option


@register("adamw")
class AdamW(Adam):
    keras_name = "AdamW"
    OPTIONS = (learning_rate_option(0.001), Option("weight_decay", non_negative, 0.004),
               Option("beta_1", beta, 0.9), Option("beta_2", beta, 0.999),
               Option("epsilon", non_negative, 1e-7), Option("amsgrad", boolean, False))
