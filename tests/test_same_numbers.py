"""The layer-based core gives the numbers of a dense-only loop, run now, bit for bit.

The default run (784-100 sigmoid-10 on mnist-sample, SGD lr 1.0, batch 32,
float64, seed 0) through `nn-compare train`, for the first 3 epochs (each
epoch's order is drawn in turn from one seeded generator, so they are the
first 3 epochs of the default run), against the book's network written out
here as plain NumPy (`dense_only_losses`: eqs. 1-5 with W1, b1, W2, b2 and
nothing else) from the same starting weights and batches.  Both paths run now,
on this machine: NumPy's loops decide both sides' last bits alike, so the
per-step losses must be equal bit for bit, and `--hidden` specs mean exactly
what the dense-only core meant.  No stored figure: a constant recorded on one
CPU is not what another CPU's kernels give (TensorFlow's, NumPy's SIMD loops,
the BLAS).  The Keras side is held to the run's own verdict (exit 0).
"""

import json

import numpy as np
import pytest

EPOCHS = 3


def dense_only_losses(prepared, epochs: int, sigmoid_prime=lambda a: a * (1.0 - a)):
    """Per-step training losses of the book's 784-100 sigmoid-10 network by plain SGD."""
    from compare.training.data import epoch_orders
    from handrolled.loss import one_hot

    config, data, spec = prepared.config, prepared.dataset, prepared.spec
    W1, b1 = (prepared.weights[k].copy() for k in ("dense1/kernel", "dense1/bias"))
    W2, b2 = (prepared.weights[k].copy() for k in ("dense2/kernel", "dense2/bias"))
    X = data.X_train.reshape(len(data.X_train), -1)
    Y = one_hot(data.y_train, spec.classes).astype(X.dtype)
    lr, batch = float(config.lr), config.batch
    losses = []
    for order in epoch_orders(len(X), epochs, config.seed, True):
        for start in range(0, len(X), batch):
            rows = order[start:start + batch]
            x, y, n = X[rows], Y[rows], len(rows)
            z1 = x @ W1 + b1                                    # eq. 1
            with np.errstate(over="ignore"):
                a1 = 1.0 / (1.0 + np.exp(-z1))                  # eq. 2, sigmoid
            z2 = a1 @ W2 + b2                                   # the logits
            shifted = z2 - z2.max(axis=1, keepdims=True)
            log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            losses.append(-float(np.sum(y * log_p)) / n)        # mean cross-entropy
            d2 = (np.exp(log_p) - y) / n                        # eq. 3
            gW2, gb2 = a1.T @ d2, d2.sum(axis=0)                # eq. 4
            d1 = (d2 @ W2.T) * sigmoid_prime(a1)                # eq. 5
            gW1, gb1 = x.T @ d1, d1.sum(axis=0)
            for w, g in ((W1, gW1), (b1, gb1), (W2, gW2), (b2, gb2)):
                w -= g * lr
    return losses


def default_prepared():
    from compare.experiment import prepare
    from compare.presets import TrainingConfig

    prepared = prepare(TrainingConfig(epochs=EPOCHS))
    assert prepared.spec.hidden_text == "100:sigmoid" and prepared.spec.dtype == "float64"
    return prepared


@pytest.mark.slow
def test_default_run_gives_the_numbers_of_a_dense_only_loop(cli, tmp_path):
    out = tmp_path / "r.json"
    code, _, err = cli("train", "--quiet", "--json", str(out), "--epochs", str(EPOCHS))
    assert code == 0, err                                   # Keras: the run's own verdict
    training = json.loads(out.read_text())["training"]
    assert training["hidden"] == "100:sigmoid"
    layered = [loss for epoch in training["handrolled"]["step_loss"] for loss in epoch]
    reference = dense_only_losses(default_prepared(), EPOCHS)
    assert len(layered) == len(reference) == EPOCHS * 125
    assert layered == reference
    # twin: the same loop with sigma' rounded another way, a - a^2 for a (1 - a), is not
    # bit-identical: the comparison sees the last bit
    twin = dense_only_losses(default_prepared(), 1, sigmoid_prime=lambda a: a - a * a)
    assert twin[0] == reference[0] and twin[:125] != reference[:125]
