"""The numbers of examples/my_activations.py's functions in a gradient check and a short
training run, as JSON on the last line: `python tests/activation_numbers.py in-process|child`.

in-process: the module loaded here (handrolled.activations.load_activation_module, the
library's own way); child: in a process of its own (compare.user_activations, what every
command does).  tests/test_activation_process.py compares the two: they must be equal."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

EXAMPLE = str(Path(__file__).resolve().parents[1] / "examples" / "my_activations.py")


def main(mode: str) -> dict:
    if mode == "in-process":
        from handrolled.activations import load_activation_module
        load_activation_module(EXAMPLE)
    else:
        from compare.user_activations import load
        load([EXAMPLE])
    from handrolled import NetworkSpec, init_weights

    from compare.batch import sample_batch
    from compare.datasets import load_dataset
    from compare.gradients import compare_gradients
    from compare.training import train_side_by_side

    spec = NetworkSpec.from_text("8:softsign,6:bent_identity", inputs=(28, 28, 1), classes=10,
                                 dtype="float64", seed=3)
    X, Y, _, _ = sample_batch(spec, "synthetic", 16, 3)
    comparison = compare_gradients(spec, init_weights(spec), X, Y).to_dict()
    data = load_dataset("spiky-2d", seed=0, dtype="float64")
    data = dataclasses.replace(data, X_train=data.X_train[:64], y_train=data.y_train[:64])
    spec = NetworkSpec.from_text("5:softsign", inputs=data.input_shape,
                                 classes=int(data.classes), dtype="float64", seed=1)
    result = train_side_by_side(spec, init_weights(spec), data, 2, 8, 0.1, shuffle=True,
                                seed=1)
    return {"gradients": comparison,
            "steps": {side: [float(x) for epoch in history.step_losses for x in epoch]
                      for side, history in (("handrolled", result.handrolled),
                                            ("keras", result.keras))},
            "weights": {side: {k: v.tolist() for k, v in history.weights.items()}
                        for side, history in (("handrolled", result.handrolled),
                                              ("keras", result.keras))},
            "verdict": result.verdict}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
