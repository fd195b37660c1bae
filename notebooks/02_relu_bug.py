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
# # 2. The ReLU-derivative bug: how `check` finds it, and why the network went linear
#
# A reader swapped the book's sigmoid for ReLU and got 95% accuracy instead of
# about 98.6%.  Their derivative was
#
#     def relu_gradient(z):
#         return (z >= 0) * 1
#
# and they called it, as the book calls `sigmoid_gradient`, with the layer's
# **output** h = relu(z) instead of its input z.  The code runs, the loss goes
# down, nothing crashes.  `nn-compare check FILE` compares the file's gradients
# with Keras' on one batch and names the bug.

# %%
import importlib.util
import time
from pathlib import Path

import numpy as np

import compare
from compare.check import format_report, load_target, run_check

EXAMPLES = Path(compare.__file__).resolve().parent.parent / "examples"
BUGGY, RIGHT = EXAMPLES / "book_network_relu_bug.py", EXAMPLES / "book_network.py"

# %%
start = time.perf_counter()
buggy = run_check(load_target(str(BUGGY)), dataset="mnist-sample", batch=16,
                  finite_differences=False)  # the command line adds a finite-difference witness
seconds = time.perf_counter() - start
print(format_report(buggy))
print(f"\n(check took {seconds:.1f} s)")
assert not buggy.agree

# %% [markdown]
# The first layer's gradient disagrees with Keras and the second agrees: the bug
# sits in the hidden layer's backward pass, and the diagnosis names the
# derivative evaluated at the output.  The same check on the book's own network
# passes:

# %%
right = run_check(load_target(str(RIGHT)), dataset="mnist-sample", batch=16,
                  finite_differences=False)
print(f"book_network.py: {'AGREE' if right.agree else 'DISAGREE'}")
assert right.agree

# %% [markdown]
# ## Why it made the network behave like a linear one
#
# h = relu(z) is never negative, so `h >= 0` is true everywhere: the "derivative"
# is 1 for every unit and every row.  Backpropagation then multiplies the error
# by 1 where it should multiply by relu'(z), which is 0 for every unit that is
# off.  The backward pass is the one of a network whose hidden layer is
# **linear**, a(z) = z, while the forward pass still uses relu.

# %%
spec = importlib.util.spec_from_file_location("relu_bug", BUGGY)
relu_bug = importlib.util.module_from_spec(spec)
spec.loader.exec_module(relu_bug)

rng = np.random.default_rng(0)
X = rng.normal(size=(64, 784))
w1 = rng.normal(scale=0.05, size=(785, 100))
w2 = rng.normal(scale=0.05, size=(101, 10))
z = relu_bug.prepend_bias(X) @ w1
h = relu_bug.relu(z)
print(f"relu'(z) as written, at the output h: {relu_bug.relu_gradient(h).mean():.0%} ones")
print(f"relu'(z) at the input z, as it should be: {relu_bug.relu_gradient(z).mean():.0%} ones")

# %% [markdown]
# So the buggy gradient is exactly what you get from the chain rule with f' = 1,
# the derivative of a linear layer:

# %%
Y = np.eye(10)[rng.integers(0, 10, size=64)]
buggy_w1_gradient, _ = relu_bug.gradients(X, Y, [w1, w2])
y_hat = relu_bug.softmax(relu_bug.prepend_bias(h) @ w2)
delta = (y_hat - Y) @ w2[1:].T * 1.0  # f'(z) = 1: a linear hidden layer
linear_w1_gradient = relu_bug.prepend_bias(X).T @ delta / len(X)
gap = np.abs(buggy_w1_gradient - linear_w1_gradient).max()
print(f"largest |buggy gradient - linear layer's gradient|: {gap:.1e}")
assert gap < 1e-15

# %% [markdown]
# The units that are off still get their weights updated as if they were on:
# the layer learns as a linear map followed by a relu it cannot see.  The
# check's activation statistics above say the same ("behaves as a linear
# layer").  That is where the reader's lost accuracy went (95% instead of about
# 98.6%, on the full MNIST): a linear hidden layer cannot learn what a relu one
# can.
