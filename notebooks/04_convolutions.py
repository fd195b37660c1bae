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
# # 4. Convolutions by hand vs Keras
#
# A Conv2D layer slides each filter over the image and takes, at every
# position, the sum of the window times the kernel (a cross-correlation):
#
#     y[n, i, j, f] = b[f] + sum over (u, v, c) of x[n, i*s + u, j*s + v, c] K[u, v, c, f]
#
# (NHWC images, kernel (kh, kw, in, out), as Keras stores them).  The hand-written
# layer (`handrolled/layers/conv2d.py`) does it with im2col: every window becomes
# a row, and the whole convolution is one matrix product.  Below: the formula as
# four loops, the project's layer, and Keras' Conv2D give the same numbers; then
# a small CNN's gradients and training, side by side.

# %%
import dataclasses

import numpy as np
from IPython.display import Image, display

from compare.check.layer.comparison import LAYER_TOLERANCES, compare_values
from compare.datasets import load_dataset
from compare.gradient_table import gradient_table
from compare.gradients import compare_gradients
from compare.report import plots, tables
from compare.training import train_side_by_side
from handrolled import NetworkSpec, init_weights
from handrolled import layers
from keras_impl import keras

rng = np.random.default_rng(0)
x = rng.normal(size=(2, 6, 6, 1))                      # two 6x6 one-channel images
conv = layers.get("conv")(filters=3, kernel_size=(3, 3)).built("conv1", x.shape[1:])
params = conv.init_params(rng, "glorot")
K, b = params["kernel"], params["bias"]                # (3, 3, 1, 3), (3,)

# %% [markdown]
# ## The formula, as loops

# %%
n, height, width, _ = x.shape
kh, kw, _, filters = K.shape
y_loops = np.zeros((n, height - kh + 1, width - kw + 1, filters))
for i in range(y_loops.shape[1]):
    for j in range(y_loops.shape[2]):
        window = x[:, i:i + kh, j:j + kw, :]           # (n, kh, kw, channels)
        for f in range(filters):
            y_loops[:, i, j, f] = (window * K[..., f]).sum(axis=(1, 2, 3)) + b[f]

# %% [markdown]
# ## The project's layer (im2col, one product) and Keras' Conv2D

# %%
y_layer, _ = conv.forward(params, x)
keras_conv = keras.layers.Conv2D(filters, (kh, kw), dtype="float64")
keras_conv.build(x.shape)
keras_conv.kernel.assign(K)
keras_conv.bias.assign(b)
y_keras = keras.ops.convert_to_numpy(keras_conv(x))
# judged by the rule `nn-compare check` applies to a layer's output (relative, floored)
rtol = LAYER_TOLERANCES["float64"].rtol
for name, y in (("the im2col layer", y_layer), ("Keras' Conv2D", y_keras)):
    difference, relative, agree, _ = compare_values("out", y, y_loops, rtol)
    print(f"largest |loops - {name}|: {difference:.1e} ({relative:.1e} relative, "
          f"allowed {rtol:.0e}): {'AGREE' if agree else 'DISAGREE'}")
    assert agree

# %% [markdown]
# ## A small CNN: gradients
#
# conv(4,3,relu) -> maxpool(2) -> flatten -> Dense(10) on MNIST digits.  The
# backward pass of the convolution is the transpose of its im2col product,
# scattered back onto the image; max pooling sends each window's gradient to its
# (first) maximum, as TensorFlow does.

# %%
ROWS = 128
data = load_dataset("mnist-sample", preprocess="scale", seed=0, dtype="float64")
data = dataclasses.replace(data, X_train=data.X_train[:ROWS], y_train=data.y_train[:ROWS])
spec = NetworkSpec.from_text("conv(4,3,relu),maxpool(2),flatten", inputs=data.input_shape,
                             classes=data.classes)
weights = init_weights(spec)
images = data.X_train[:16].reshape(-1, *spec.input_shape)
gradients = compare_gradients(spec, weights, images, data.Y_train[:16],
                              data="16 rows of mnist-sample")
print(gradient_table(gradients))
display(Image(plots.gradient_plot(gradients.to_dict())))
assert gradients.agree

# %% [markdown]
# ## Training side by side

# %%
result = train_side_by_side(spec, weights, data, epochs=2, batch_size=32, lr=0.5)
training = result.to_dict()
print(tables.training_table(training))
display(Image(plots.loss_plot(training)))
assert result.agree
