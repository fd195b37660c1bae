"""Optimizers and learning-rate schedules by hand, each matched to its Keras 3 twin.

    from handrolled import optimizers
    opt = optimizers.get("adam(learning_rate=0.01,beta_1=0.8)")
    opt.build(params)               # {"dense1/kernel": array, ...}
    opt.apply(params, grads)        # one step, in place; opt.iterations += 1
    opt.state()                     # {"dense1/kernel/m": ..., "iterations": 1}

    sgd(learning_rate=0.01,momentum=0.0,nesterov=false)       sgd.py
    rmsprop(learning_rate=0.001,rho=0.9,momentum=0.0,epsilon=1e-07,centered=false)
    adam(learning_rate=0.001,beta_1=0.9,beta_2=0.999,epsilon=1e-07,amsgrad=false)
    adamw(learning_rate=0.001,weight_decay=0.004,...)          (Adam's options)
    adagrad(learning_rate=0.001,initial_accumulator_value=0.1,epsilon=1e-07)
    adam_textbook(...)              m_hat / (sqrt(v_hat) + eps): no Keras twin
    learning_rate=exp_decay(...) | piecewise_constant(...) | cosine_decay(...)   schedules.py

The defaults are Keras 3's; every optimizer also takes weight_decay (none by
default, 0.004 for adamw), as every Keras optimizer does.  base.py holds the
contract, the order of a step and the float32 roundings Keras applies.
"""

from . import schedules
from .base import DTYPES, Optimizer, exact, get, names, register, via_float32
from .schedules import CosineDecay, ExponentialDecay, PiecewiseConstantDecay, Schedule
# importing each file registers its optimizer, in this order
from .sgd import SGD
from .rmsprop import RMSprop
from .adam import Adam
from .adamw import AdamW
from .adagrad import Adagrad
from .adam_textbook import AdamTextbook


def for_training(lr_or_optimizer) -> Optimizer:
    """A fresh optimizer to train with: from its text, a new one like a given
    optimizer (its state is its own), or SGD at a bare learning rate."""
    if isinstance(lr_or_optimizer, Optimizer):
        return get(lr_or_optimizer.text)
    if isinstance(lr_or_optimizer, str):
        return get(lr_or_optimizer)
    return SGD(learning_rate=lr_or_optimizer)

__all__ = ["schedules", "DTYPES", "Optimizer", "exact", "get", "names", "register",
           "via_float32", "Schedule", "ExponentialDecay", "PiecewiseConstantDecay",
           "CosineDecay", "for_training", "SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "AdamTextbook"]
