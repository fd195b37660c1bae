"""keras_impl/compiled.py: the whole-epoch tf.function takes the textbook epoch's steps.

The benchmark's "keras_compiled" row is only a fair comparison if it trains
the same way: same rows in the same order, the partial last batch kept and
averaged over its own size, W <- W - lr grad.  In float64 the two agree to
round-off (different summation order inside TensorFlow's kernels, hence a
tolerance, not equality).  The twin uses another learning rate and must fail.
"""

from __future__ import annotations

import numpy as np

from handrolled import Network, NetworkSpec, init_weights
from handrolled.train import sgd_epoch

from test_fast import BATCH, LR, ROWS, make_data

TOL = 1e-12  # float64 round-off over 14 steps of a small network; measured ~1e-15


def max_diff_after_two_epochs(keras_lr: float, hidden: str = "16:sigmoid,12:relu",
                              inputs=40) -> float:
    import keras_impl
    from keras_impl.compiled import CompiledEpoch

    spec = NetworkSpec.from_text(hidden, inputs=inputs, dtype="float64", seed=2)
    X, Y = make_data(spec)
    X = X.reshape((X.shape[0], *spec.input_shape))  # images for a convolution
    weights = init_weights(spec)
    network = Network(spec, {k: v.copy() for k, v in weights.items()})
    model = keras_impl.build_model(spec, weights)
    epoch_fn = CompiledEpoch(model, spec, keras_lr, BATCH)
    rng, diffs = np.random.default_rng(5), []
    for epoch in range(2):
        order = rng.permutation(ROWS)
        hand = sgd_epoch(network, X, Y, BATCH, LR, order, epoch)
        comp = epoch_fn(X, Y, order)
        assert comp.dtype == np.float64 and comp.shape == hand.shape == (7,)
        diffs.append(np.max(np.abs(hand - comp)))
    kw = keras_impl.read_weights(model)
    diffs += [np.max(np.abs(network.params[k] - kw[k])) for k in kw]
    return max(diffs)


def test_compiled_keras_epoch_matches_textbook_float64():
    assert max_diff_after_two_epochs(LR) <= TOL


def test_twin_compiled_keras_with_another_lr_is_caught():
    assert max_diff_after_two_epochs(LR * 1.01) > TOL


def test_compiled_keras_epoch_matches_textbook_for_a_conv_network():
    # nn-compare bench times keras_compiled on convolutions too: 4-D X, gathered by
    # tf.gather along the rows, the same steps as the textbook epoch
    assert max_diff_after_two_epochs(LR, "conv(3,3,relu),maxpool(2),flatten", (8, 8, 1)) <= TOL
