"""The layer-based core gives the numbers the dense-only core gave.

The figures below were recorded from the default report (`nn-compare report`,
results.json) of the commit before the layer-based core (8186c97): 784-100
sigmoid-10 on mnist-sample, SGD lr 1.0, batch 32, 20 epochs, float64, seed 0.
The same run today must give them bit for bit on both sides, so `--hidden`
specs mean exactly what they meant.  Run as `train` (the report's training
part, without writing a report directory) for the first 3 of the 20 epochs:
each epoch's order is drawn in turn from one seeded generator, so they are
the first 3 epochs of the default run.
"""

import json

# results.json "training": handrolled "loss" and keras "loss" per epoch (training set)
LOSS_HANDROLLED = [
    0.3610628520878132,
    0.2720565419261209,
    0.22748798277048599,
    0.16275864064971216,
    0.13979687675835828,
    0.11436000646665935,
    0.09464999203109091,
    0.06677937540981632,
    0.06075899726460258,
    0.053930223057299956,
    0.04086238640959258,
    0.034138716210709505,
    0.03038244998457855,
    0.025618416706022773,
    0.024086434174572957,
    0.018947344159210906,
    0.016758675156999834,
    0.014466606287434071,
    0.014003094703152377,
    0.011803389519082903]
LOSS_KERAS = [
    0.3610628520878132,
    0.2720565419261209,
    0.22748798277048599,
    0.16275864064971216,
    0.13979687675835828,
    0.11436000646665936,
    0.09464999203109091,
    0.06677937540981635,
    0.060758997264602585,
    0.05393022305729994,
    0.04086238640959259,
    0.03413871621070952,
    0.030382449984578556,
    0.02561841670602277,
    0.024086434174572957,
    0.018947344159210927,
    0.016758675156999834,
    0.014466606287434068,
    0.014003094703152377,
    0.011803389519082906]
FIRST_STEP_LOSSES = [2.2513747793136574, 3.086699313032004, 5.112012392748702]  # handrolled step_loss[0][:3]


EPOCHS = 3


def test_default_run_gives_the_numbers_of_the_dense_only_core(cli, tmp_path):
    out = tmp_path / "r.json"
    code, _, err = cli("train", "--quiet", "--json", str(out), "--epochs", str(EPOCHS))
    assert code == 0, err
    training = json.loads(out.read_text())["training"]
    assert training["hidden"] == "100:sigmoid"
    assert training["handrolled"]["loss"] == LOSS_HANDROLLED[:EPOCHS]
    assert training["keras"]["loss"] == LOSS_KERAS[:EPOCHS]
    assert training["handrolled"]["step_loss"][0][:3] == FIRST_STEP_LOSSES
