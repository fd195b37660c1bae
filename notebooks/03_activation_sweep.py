# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 3. Many activations, one per neuron, changing over time: the sweep
#
# A hidden layer need not use one activation for all its units.
#
# * `mix(relu,abs,sin)`: unit j computes its own function, fixed (units taken in
#   turn: relu, abs, sin, relu, ...; or drawn once with `;random`);
# * `stochastic(relu,abs,sin;every=step)`: every unit draws its function again at
#   every training step (or epoch), from a seed, so that both implementations
#   draw the same.
#
# Both are written by hand (`handrolled/activations/mix.py`, `stochastic.py`) and
# in Keras (`keras_impl.layers.PerUnitActivation`).  `nn-compare sweep` trains
# each activation, depth and seed on both sides and tabulates the test
# accuracy.  Here a small sweep on a few hundred digits.

# %%
import tempfile
from pathlib import Path

from IPython.display import Image, display

from compare.sweep import SweepPlan, summary
from compare.sweep.run import run_sweep
from handrolled import activations

UNITS = 8
mix = activations.get("mix(relu,abs,sin)")
print("mix: the function of each unit, always")
print("   ", [mix.functions[k].text for k in mix.mask(UNITS).argmax(axis=0)])
stochastic = activations.get("stochastic(relu,abs,sin;every=step)")
print("stochastic: the function of each unit, step by step")
for step in range(4):
    stochastic.on_step(epoch=0, step=step)
    print(f"    step {step}:", [stochastic.functions[k].text
                                for k in stochastic.mask(UNITS).argmax(axis=0)])

# %% [markdown]
# ## The sweep
#
# One hidden layer of 32 units, 160 training digits, each activation trained on both sides from the
# same weights and batches.  The table gives the test accuracy of each side, and
# whether the two runs agree.

# %%
ACTIVATIONS = ["relu", "mix(relu,abs,sin)", "stochastic(relu,abs,sin;every=step)"]
plan = SweepPlan(activations=ACTIVATIONS, depths=[1], seeds=1,
                 lr={name: 0.1 for name in ACTIVATIONS},
                 settings=dict(units=32, epochs=2, batch=32, dataset="mnist-sample",
                               preprocess="scale", dtype="float64", train_rows=160))
out = Path(tempfile.mkdtemp(prefix="sweep-"))
sweep = run_sweep(plan, out, workers=1, quiet=True)
print(summary.table(sweep.summary))
display(Image(filename=str(summary.plot(sweep.summary, out / "sweep.png"))))
assert sweep.agree

# %% [markdown]
# What it shows: the per-neuron layers train like any other, and the hand-written
# and Keras runs agree to round-off even when the function of every unit changes
# at every step (both sides draw the same assignment from the seed and the step
# number).  Whether a mixture *helps* needs more data, more epochs and several
# seeds than this notebook spends: run `nn-compare sweep --activations
# 'relu,sin,"mix(relu,abs,sin)"' --depths 1,2 --seeds 3` for that.
