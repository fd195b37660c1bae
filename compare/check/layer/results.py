"""What one call of a layer gives, in canonical terms, from any side (yours, Keras', a variant).

    StepResult(out, dx, grads={"kernel": ..}, state={"moving_mean": ..}, kept=None)

`dx` may be None or empty (a named bug's symptom: [p:-p] slicing at pad 0);
`kept` is dropout's kept fraction (the others leave it None).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class StepResult:
    out: np.ndarray
    dx: np.ndarray | None
    grads: dict = field(default_factory=dict)
    state: dict = field(default_factory=dict)
    kept: float | None = None

    def quantities(self) -> dict:
        """{quantity id: value}: 'out', 'dx', 'grad/kernel', 'state/moving_mean', 'kept'."""
        values = {"out": self.out, "dx": self.dx}
        values.update({f"grad/{k}": v for k, v in self.grads.items()})
        values.update({f"state/{k}": v for k, v in self.state.items()})
        if self.kept is not None:
            values["kept"] = np.asarray(self.kept)
        return values


def full_params(params: dict) -> dict:
    """params with a zero bias where the configuration has none (use_bias=False), so a
    handrolled layer (which always adds one) computes the layer without it."""
    if "kernel" in params and "bias" not in params:
        return {**params, "bias": np.zeros(params["kernel"].shape[-1], params["kernel"].dtype)}
    return params


def handrolled_steps(case, transform=None) -> list[StepResult]:
    """The case through handrolled's own layer: the right formulas (the variants' base).
    `transform(layer, params, step_index)` may swap params per step."""
    layer, params = case.layer, full_params(dict(case.params))
    results = []
    for step in case.steps:
        out, cache = layer.forward(params, step.x, step.training)
        dx, grads = layer.backward(params, step.dout, cache)
        if "bias" not in case.params:
            grads.pop("bias", None)
        state = layer.state_updates(cache)
        params.update(state)
        results.append(StepResult(out, dx, grads, {k: params[k] for k in layer.state_shapes}))
    return results
