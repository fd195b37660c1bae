"""Training side by side: agreement, its failing twins, determinism, divergence, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from training_blobs import blobs

from compare.training.runtime import runtime_ratios, runtime_summary
from compare.training import (ROUNDOFF_RULES, TrainingData, epoch_orders, run_handrolled,
                              train_side_by_side)
from compare.training.verdict import DISAGREE, DIVERGED, IDENTICAL, WITHIN_ROUNDOFF
from handrolled import NetworkSpec, init_weights
from handrolled.errors import SpecError
from handrolled.train import sgd_epoch

# 300 rows in batches of 32: nine full batches and a last one of 12 rows.
ROWS, BATCH = 300, 32


def spec_for(hidden="16:sigmoid,8:tanh", dtype="float64", seed=0):
    return NetworkSpec.from_text(hidden, inputs=12, classes=4, dtype=dtype, seed=seed)


def train(spec, epochs=2, lr=0.5, **kwargs):
    data = kwargs.pop("data", None) or blobs(ROWS, 100, dtype=spec.dtype)
    return train_side_by_side(spec, init_weights(spec), data, epochs=epochs, batch_size=BATCH,
                              lr=lr, seed=spec.seed, **kwargs)


# ------------------------------------------------------------------ agreement
@pytest.fixture(scope="module")
def float64_run():
    return train(spec_for())


def test_float64_training_agrees_step_by_step(float64_run):
    r = float64_run
    assert r.agree, r.to_dict()
    assert [len(s) for s in r.handrolled.step_losses] == [10, 10]  # partial batch kept
    assert [len(s) for s in r.keras.step_losses] == [10, 10]
    assert r.max_loss_diff <= 1e-9 and r.max_step_loss_diff <= 1e-9
    assert r.max_weight_diff <= 1e-9
    assert r.handrolled.test_accuracy == r.keras.test_accuracy
    assert r.handrolled.train_accuracy == r.keras.train_accuracy
    assert r.handrolled.loss[-1] < r.handrolled.loss[0]  # it learned something


def test_results_json_training_keys(float64_run):
    d = float64_run.to_dict()
    for key in ("agree", "handrolled", "keras", "max_loss_diff", "final_accuracy_diff",
                "max_weight_diff"):
        assert key in d
    for side in ("handrolled", "keras"):
        for key in ("loss", "train_accuracy", "test_accuracy", "epoch_seconds"):
            assert len(d[side][key]) == 2
        assert len(d[side]["step_loss"][0]) == 10
    rule = d["roundoff"]["rule"]
    assert (rule["dtype"], rule["floor_ulps"], rule["factor"], rule["accuracy_rows"]) == (
        "float64", 8, 10, 0)
    assert d["verdict"] == "identical" and d["outcome"]["outcome"] == IDENTICAL


def off_by_a_millionth(network, X, Y, batch_size, lr, **kwargs):
    """A wrong update: the learning rate off by one part in a million."""
    return sgd_epoch(network, X, Y, batch_size, lr * (1 + 1e-6), **kwargs)


def ignores_the_order(network, X, Y, batch_size, lr, order=None, **kwargs):
    """A wrong batch order: sequential slices while Keras gets the permutation."""
    return sgd_epoch(network, X, Y, batch_size, lr, order=None, **kwargs)


def drops_the_last_batch(network, X, Y, batch_size, lr, order=None, **kwargs):
    """The last partial batch thrown away (what some hand-written loops do)."""
    order = np.arange(len(X)) if order is None else order
    keep = order[:len(order) - len(order) % batch_size]
    return sgd_epoch(network, X[keep], Y[keep], batch_size, lr, order=None, **kwargs)


@pytest.mark.slow
@pytest.mark.parametrize("wrong_epoch", [off_by_a_millionth, ignores_the_order,
                                         drops_the_last_batch])
def test_twin_a_wrong_hand_written_loop_disagrees(wrong_epoch):
    r = train(spec_for(), handrolled_epoch=wrong_epoch)
    assert not r.agree and r.judgement.outcome == DISAGREE
    assert r.verdict.startswith("disagree from step ")


def test_float32_accuracies_within_half_a_point():
    r = train(spec_for(dtype="float32"))
    assert r.agree and r.judgement.outcome in (IDENTICAL, WITHIN_ROUNDOFF), r.judgement
    assert r.max_accuracy_diff <= 0.005
    assert r.handrolled.weights["dense1/kernel"].dtype == np.float32
    assert all(s.dtype == np.float64 for s in r.keras.step_losses)


def test_twin_float32_with_a_wrong_update_disagrees():
    r = train(spec_for(dtype="float32"),
              handrolled_epoch=lambda net, X, Y, b, lr, **kw: sgd_epoch(net, X, Y, b, 2 * lr, **kw))
    assert not r.agree and r.judgement.outcome == DISAGREE
    assert r.judgement.step == 2  # the first update was wrong; step 2's loss shows it
    assert r.max_loss_diff > ROUNDOFF_RULES["float32"].factor * r.max_roundoff_envelope


# ---------------------------------------------------------------- determinism
def handrolled_twice(seed_a, seed_b):
    spec, data = spec_for(), TrainingData.from_dataset(blobs(ROWS, 100), spec_for())
    runs = [run_handrolled(spec, init_weights(spec), data, epoch_orders(ROWS, 2, seed, True),
                           BATCH, 0.5) for seed in (seed_a, seed_b)]
    return runs


def test_two_handrolled_runs_with_the_same_seed_are_bit_identical():
    a, b = handrolled_twice(3, 3)
    assert all(np.array_equal(x, y) for x, y in zip(a.step_losses, b.step_losses))
    assert all(np.array_equal(a.weights[k], b.weights[k]) for k in a.weights)
    assert a.test_accuracy == b.test_accuracy


def test_twin_another_seed_gives_other_numbers():
    a, b = handrolled_twice(3, 4)
    assert not np.array_equal(a.step_losses[0], b.step_losses[0])


def test_epoch_orders_are_seeded_permutations_or_sequential():
    first, again = epoch_orders(10, 3, 7, True), epoch_orders(10, 3, 7, True)
    assert all(np.array_equal(x, y) for x, y in zip(first, again))
    assert not np.array_equal(first[0], first[1])  # a new permutation every epoch
    assert sorted(first[2]) == list(range(10))
    assert list(epoch_orders(10, 2, 7, False)) == [None, None]


def test_training_does_not_change_the_callers_weights():
    spec = spec_for()
    weights = init_weights(spec)
    before = {k: v.copy() for k, v in weights.items()}
    data = TrainingData.from_dataset(blobs(ROWS, 100), spec)
    run_handrolled(spec, weights, data, [None], BATCH, 0.5)
    assert all(np.array_equal(before[k], weights[k]) for k in weights)


# ------------------------------------------------------------------ divergence
def test_divergence_stops_both_sides_and_names_the_step():
    r = train(spec_for("16:relu"), epochs=3, lr=1e30)
    assert not r.agree and r.diverged and r.judgement.outcome == DIVERGED
    h, k = r.handrolled.diverged, r.keras.diverged
    assert (h.epoch, h.step) == (k.epoch, k.step) == (1, h.step)
    assert len(r.handrolled.loss) == 1  # what ran is kept
    assert f"epoch 1, step {h.step}" in h.message("handrolled")
    assert r.verdict == (f"training diverged on both sides at epoch 1, step {h.step}; try a "
                         f"learning rate below 1e+29")
    assert r.to_dict()["handrolled"]["diverged"]["epoch"] == 1


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs, words", [
    (dict(epochs=0), "epochs must be a positive integer"),
    (dict(batch_size=0), "batch size must be between 1 and the 300 training rows"),
    (dict(batch_size=301), "batch size must be between 1 and the 300 training rows"),
    (dict(lr=0.0), "learning rate must be a positive number"),
    (dict(lr=-1.0), "learning rate must be a positive number"),
    (dict(lr=float("nan")), "learning rate must be a positive number"),
])
def test_bad_settings_are_spec_errors(kwargs, words):
    spec = spec_for()
    settings = dict(epochs=1, batch_size=BATCH, lr=0.5) | kwargs
    with pytest.raises(SpecError, match=words):
        train_side_by_side(spec, init_weights(spec), blobs(ROWS, 100), **settings)


def test_data_that_does_not_fit_the_network_is_a_spec_error():
    spec = NetworkSpec.from_text("8:sigmoid", inputs=20, classes=4)
    with pytest.raises(SpecError, match="blobs has 12 inputs per row but the network"):
        train_side_by_side(spec, init_weights(spec), blobs(), 1, BATCH, 0.5)
    spec = NetworkSpec.from_text("8:sigmoid", inputs=12, classes=3)  # labels go up to 3
    with pytest.raises(SpecError, match="labels run from 0 to 3; expected 0 to 2"):
        train_side_by_side(spec, init_weights(spec), blobs(), 1, BATCH, 0.5)


# --------------------------------------------------------------------- runtime
def test_runtime_summary_separates_the_first_epoch():
    r = runtime_summary([5.0, 1.0, 3.0, 2.0], rows=100, steps_per_epoch=4)
    assert (r.first_epoch_seconds, r.steady_epoch_seconds) == (5.0, 2.0)  # median of later
    assert r.step_seconds == 0.5 and r.samples_per_second == 50.0 and r.total_seconds == 11.0
    single = runtime_summary([5.0], rows=100, steps_per_epoch=4)
    assert single.steady_epoch_seconds is None and single.samples_per_second is None
    ratios = runtime_ratios(runtime_summary([1.0, 1.0], 100, 4), r)
    assert ratios["steady_epoch_seconds"] == 0.5 and ratios["first_epoch_seconds"] == 0.2


def test_runtime_is_recorded_for_both(float64_run):
    for history in (float64_run.handrolled, float64_run.keras):
        assert len(history.epoch_seconds) == 2 and all(s > 0 for s in history.epoch_seconds)
        assert history.runtime.epochs == 2
    assert len(float64_run.keras.call_seconds) == 2


def peak_bytes(work) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_epoch_orders_are_drawn_lazily_and_equal_drawing_them_up_front():
    """issue 27: `train --epochs 67100 --train-rows 4000` drew 2.1 GB of orders up front."""
    from compare.training.data import reversed_within_batches

    orders = epoch_orders(4000, 67100, 3, True)
    assert len(orders) == 67100
    assert peak_bytes(lambda: [order.sum() for _, order in zip(range(20), orders)]) < 1 << 20
    rng = np.random.default_rng(3)
    eager = [rng.permutation(4000) for _ in range(5)]
    assert all(np.array_equal(a, b) for a, b in zip(eager, orders))
    assert np.array_equal(orders[4], eager[4]) and np.array_equal(orders[-67100], eager[0])
    flipped = reversed_within_batches(orders, 4000, 32)
    assert len(flipped) == 67100
    assert np.array_equal(flipped[1], reversed_within_batches([eager[1]], 4000, 32)[0])


def test_twin_the_memory_measure_sees_orders_drawn_up_front():
    rng = np.random.default_rng(3)
    assert peak_bytes(lambda: [rng.permutation(4000) for _ in range(200)]) > 4 << 20


def test_the_per_step_records_are_bounded_in_bytes():
    from compare.training.data import check_steps

    check_steps(4000, 67100, 32)  # 8.4 million steps: 268 MB
    with pytest.raises(SpecError, match=r"bytes of per-step losses; at most 1,073,741,824"):
        check_steps(4000, 67100, 1)
