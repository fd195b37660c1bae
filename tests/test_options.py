"""Options declared once per argument (handrolled/options.py), checked for every
registered class of every family: layers, optimizers, schedules, regularizers and
the activations with parameters.

For each class a sample with its options away from their defaults is built from
text; then its text parses back to the same object, its get_config builds the same
object again, and its __init__'s signature is the declaration.  The registries are
iterated, so a new class without a sample here fails `test_every_registered_class
_has_a_sample`; the twins show the round trip catches a class whose get_config
disagrees with its declaration.
"""

from __future__ import annotations

import inspect
import re

import pytest

from handrolled import activations, layers, regularizers
from handrolled import optimizers
from handrolled.errors import SpecError
from handrolled.optimizers import schedules
from handrolled.options import REQUIRED, Declared, Option
from handrolled.text import split_call

# one text per registered name, with options away from their defaults
SAMPLES = {
    "layer": {
        "dense": ["dense(7,relu,kernel=l2(0.01),activity=l1(0.001))", "dense(3)"],
        "conv": ["conv(4,3x2,tanh,strides=2,padding=same,kernel=l1_l2(0.01,0.02),activity=l2(1))",
                 "conv(2,3)"],
        "maxpool": ["maxpool(3,strides=1,padding=same)", "maxpool"],
        "avgpool": ["avgpool(2x3,strides=1x2,padding=same)", "avgpool"],
        "flatten": ["flatten"],
        "activation": ["activation(leaky_relu(0.1))"],
        "batchnorm": ["batchnorm(momentum=0.9,epsilon=0.01)", "batchnorm"],
        "dropout": ["dropout(0.25,seed=3)"],
        "layernorm": ["layernorm(epsilon=0.01)", "layernorm"],
        "globalavgpool": ["globalavgpool"],
    },
    "optimizer": {
        "sgd": ["sgd(learning_rate=0.1,momentum=0.9,nesterov=true,weight_decay=0.01)", "sgd"],
        "rmsprop": ["rmsprop(learning_rate=0.01,rho=0.8,momentum=0.5,epsilon=1e-06,"
                    "centered=true,weight_decay=0.1)"],
        "adam": ["adam(learning_rate=exp_decay(0.01,100,0.9),beta_1=0.8,beta_2=0.99,"
                 "epsilon=1e-08,amsgrad=true,weight_decay=0.001)", "adam"],
        "adamw": ["adamw(learning_rate=0.01,weight_decay=0.01,beta_1=0.5,beta_2=0.9,"
                  "epsilon=1e-06,amsgrad=true)", "adamw"],
        "adagrad": ["adagrad(learning_rate=piecewise_constant(10/20,0.1/0.05/0.01),"
                    "initial_accumulator_value=0.2,epsilon=1e-06,weight_decay=0.5)"],
        "adam_textbook": ["adam_textbook(learning_rate=0.01,beta_1=0.5,beta_2=0.9,"
                          "epsilon=1e-06,weight_decay=0.001)"],
    },
    "learning-rate schedule": {
        "exp_decay": ["exp_decay(0.01,100,0.9,staircase=true)", "exp_decay(0.1,10,0.5)"],
        "piecewise_constant": ["piecewise_constant(100/200,0.1/0.05/0.01)"],
        "cosine_decay": ["cosine_decay(0.01,1000,alpha=0.1,warmup_target=0.02,"
                         "warmup_steps=100)", "cosine_decay(0.01,1000)"],
    },
    "regularizer": {
        "l1": ["l1(0.0004)"],
        "l2": ["l2(0.01)"],
        "l1_l2": ["l1_l2(0.01,0.02)", "l1_l2(0,0.5)"],
    },
    "activation": {
        "leaky_relu": ["leaky_relu(0.1)", "leaky_relu(0.2)"],
        "elu": ["elu(0.5)", "elu"],
        "piecewise": ["piecewise(-1:-1,0:0,1:2.5)"],
    },
}

REGISTRIES = {"layer": layers.base.LAYERS, "optimizer": optimizers.base.OPTIMIZERS,
              "learning-rate schedule": schedules.SCHEDULES,
              "regularizer": regularizers.REGULARIZERS}


def registered() -> dict[str, dict[str, type]]:
    """{family: {name: class}} from the registries themselves; for activations (a
    registry of factories) the classes whose instances declare options."""
    out = {family: {name: registry.lookup(name) for name in registry.names()}
           for family, registry in REGISTRIES.items()}
    declared = {}
    for name, example in activations.examples().items():
        activation = activations.get(example)
        if isinstance(activation, Declared):
            declared[name] = type(activation)
    out["activation"] = declared
    return out


def constructor_options(obj) -> dict:
    """What get_config says, as keyword arguments of the class (Keras' from_config)."""
    config = obj.get_config()
    if isinstance(obj, optimizers.Optimizer):
        config = {k: v for k, v in config.items() if k not in ("name", "applied")}
        if isinstance(config.get("learning_rate"), dict):    # a schedule, by its config
            schedule = dict(config["learning_rate"])
            cls = schedules.SCHEDULES.lookup(schedule.pop("class_name"))
            config["learning_rate"] = cls(**schedule)
    elif isinstance(obj, schedules.Schedule):
        config = {k: v for k, v in config.items() if k != "class_name"}
    return config


def round_trip_problems(obj) -> list[str]:
    """What breaks when `obj` is written and read back, by text and by get_config."""
    cls, problems = type(obj), []
    declared = [option.name for option in cls.OPTIONS]
    options = constructor_options(obj)
    if list(options) != declared:
        problems.append(f"{obj.text}: get_config has {list(options)}, declared {declared}")
    name, args = split_call(obj.text)
    if name != cls.owner():
        problems.append(f"{obj.text}: the text names {name}, the class is {cls.owner()}")
    from_text = cls.from_text(args)
    try:
        from_config = cls(**options)
    except (TypeError, SpecError) as error:
        return problems + [f"{obj.text}: get_config does not build it again: {error}"]
    for how, again in (("text", from_text), ("get_config", from_config)):
        if again.text != obj.text or again.get_config() != obj.get_config():
            problems.append(f"{obj.text}: read back from its {how} it is {again.text}, "
                            f"{again.get_config()}")
    signature = inspect.signature(cls.__init__).parameters
    expected = {o.name: inspect.Parameter.empty if o.default is REQUIRED else o.default
                for o in cls.OPTIONS}
    if {k: p.default for k, p in signature.items() if k != "self"} != expected:
        problems.append(f"{cls.__name__}.__init__{inspect.signature(cls.__init__)} is not "
                        f"the declaration {expected}")
    return problems


def build(family: str, text: str):
    """The object from its text, by the family's own entry point."""
    if family == "layer":
        name, args = split_call(text)
        return layers.get(name).from_text(args)
    return {"optimizer": optimizers.get, "learning-rate schedule": schedules.get,
            "regularizer": regularizers.get, "activation": activations.get}[family](text)


def test_every_registered_class_has_a_sample():
    assert {family: sorted(classes) for family, classes in registered().items()} == \
        {family: sorted(samples) for family, samples in SAMPLES.items()}


@pytest.mark.parametrize("family", list(SAMPLES))
def test_every_registered_class_round_trips(family):
    classes = registered()[family]
    for name, texts in SAMPLES[family].items():
        away = set()    # the options some sample sets away from their default
        for text in texts:
            obj = build(family, text)
            assert type(obj) is classes[name]
            assert round_trip_problems(obj) == []
            config = obj.declared_config()
            away |= {option for option in config if not obj.is_default(option, config)}
        assert away == {o.name for o in classes[name].OPTIONS}, \
            f"{name}: the samples should set every option away from its default once"


# ------------------------------------------------------------------ the twins
class ForgetsTheRegularizer(layers.Dense):
    """get_config written by hand, as before, and one option forgotten."""

    def get_config(self):
        return {"units": self.units, "activation": self.activation.text}


class ReportsTheWrongActivation(layers.Dense):
    """get_config that disagrees with what the layer computes with."""

    def get_config(self):
        return dict(super().get_config(), activation="linear")


@pytest.mark.parametrize("broken", [ForgetsTheRegularizer, ReportsTheWrongActivation])
def test_round_trip_catches_a_get_config_that_disagrees_with_the_declaration(broken):
    right = layers.Dense.from_text("4,relu,kernel=l2(0.01)")
    assert round_trip_problems(right) == []
    assert round_trip_problems(broken.from_text("4,relu,kernel=l2(0.01)")) != []


def test_round_trip_catches_an_init_that_is_not_the_declaration():
    class HandWrittenInit(layers.Dropout):
        def __init__(self, rate, seed=1):     # a default that is not the declared 0
            super().__init__(rate, seed)

    assert round_trip_problems(layers.Dropout(0.5)) == []
    assert any("is not the declaration" in p for p in round_trip_problems(HandWrittenInit(0.5)))


# ------------------------------------------------------- the declaration itself
def test_init_text_form_and_config_come_from_one_declaration():
    class Toy(Declared):
        name = "toy"
        OPTIONS = (Option("size", lambda v, what: int(v), positional=True),
                   Option("scale", lambda v, what: float(v), 1.0, positional=True),
                   Option("label", lambda v, what: str(v), "x", alias="l"))

    assert str(inspect.signature(Toy.__init__)) == "(self, size, scale=1.0, label='x')"
    toy = Toy.from_text("3,label=y")
    assert (toy.size, toy.scale, toy.label) == (3, 1.0, "y")
    assert toy.get_config() == {"size": 3, "scale": 1.0, "label": "y"}
    assert toy.text == "toy(3,label=y)" and Toy(3, 2.0).text == "toy(3,2.0)"
    assert Toy.form() == "toy(size,[scale],label=...)"
    assert Toy.from_text("3,l=z").label == "z"
    for args, message in [("", "toy needs size; expected toy(size,[scale],label=...)"),
                          ("1,2,3", "toy takes at most 2 positional arguments, got 3"),
                          ("1,colour=red", "toy has no option 'colour'; accepted: size, "
                                           "scale, label (l)"),
                          ("1,size=2", "toy: 'size' is given twice (by position and by "
                                       "name)"),
                          ("1,l=a,label=b", "toy: 'l' and 'label' are the same option")]:
        with pytest.raises(SpecError, match=re.escape(message)):
            Toy.from_text(args)


def test_an_optional_option_before_a_required_one_is_refused_when_declared():
    with pytest.raises(ValueError):
        class Wrong(Declared):
            OPTIONS = (Option("a", float, 1.0), Option("b", float))


def test_integer_and_positive_int_are_defined_once():
    import handrolled.layers.base
    import handrolled.optimizers.options
    import handrolled.options

    for module in (handrolled.layers.base, handrolled.optimizers.options):
        assert "positive_int" not in vars(module) and "_defaults" not in vars(module)
    assert handrolled.options.positive_int(8.0, "n") == 8
