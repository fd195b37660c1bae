"""report.md: the whole comparison as Markdown, with the PNGs beside it."""

from __future__ import annotations

from . import tables

PLOT_TITLES = {"loss.png": "Loss: both curves overlaid, and their difference per step "
                           "against the round-off envelope",
               "accuracy.png": "Accuracy per epoch",
               "gradients.png": "Gradient differences per parameter tensor",
               "runtime.png": "Runtime per implementation"}


def headline(results: dict, command: bool = True) -> list[str]:
    """Verdict and what was compared, as plain lines (shared with the HTML, which shows
    the reproduce command apart: command=False)."""
    training, dataset, config = results["training"], results["dataset"], results["config"]
    verdict = results["verdict"]
    parts = []
    if "gradients" in results:
        parts.append(f"gradients {'agree' if results['gradients']['agree'] else 'DISAGREE'}")
    parts.append(f"training: {training['verdict']}")
    final = [training[side]["test_accuracy"][-1] if training[side]["test_accuracy"] else None
             for side in tables.SIDES]
    accuracy = ", ".join(f"{side} {tables._percent(value)} %"
                         for side, value in zip(tables.SIDES, final))
    validation = f" / {dataset['validation_rows']} validation" if "validation_rows" in dataset \
        else ""
    return [
        f"Verdict: {verdict} ({'; '.join(parts)})",
        f"Network {training['network']}, {training['dtype']}, seed {training['seed']}",
        f"Data {dataset['name']}: {dataset['train_rows']} train / {dataset['test_rows']} test"
        f"{validation}, preprocessing {dataset['preprocess']}",
        f"{_optimizer(training)}, batch {training['batch_size']}, "
        f"{training['epochs']} epochs, {training['steps_per_epoch']} steps per epoch, "
        f"order {training['order']}, init {config['init']} (preset {config['preset']})",
        f"Final test accuracy: {accuracy}",
        *([_why(training["outcome"])] if (training.get("outcome") or {}).get("reason") else []),
        *([f"Reproduce: {results['command']}"] if command else []),
    ]


def _optimizer(training: dict) -> str:
    if training.get("lr") is not None:
        return f"SGD: learning rate {training['lr']:g}"
    return f"optimizer {training['optimizer']}"


def environment_rows(results: dict) -> list[tuple[str, str]]:
    env = dict(results["environment"])
    blas = env.pop("blas", [])
    rows = [(key, _value(value)) for key, value in env.items()]
    for pool in blas:
        rows.append((f"thread pool ({_value(pool.get('user_api'))})", _thread_pool(pool)))
    rows.append(("data source", _value(results["dataset"].get("source"))))
    return rows


def _thread_pool(pool: dict) -> str:
    """threadpoolctl's description of one pool, the fields it could not read left out:
    "openblas 0.3.30, kernel Haswell, 2 threads, pthreads: /path/libopenblas.so"."""
    known = {key: value for key, value in pool.items() if value is not None}
    parts = [" ".join(str(known[key]) for key in ("internal_api", "version") if key in known)]
    parts += [f"kernel {known['architecture']}"] if "architecture" in known else []
    parts += [f"{known['num_threads']} threads"] if "num_threads" in known else []
    parts += [str(known["threading_layer"])] if "threading_layer" in known else []
    return ", ".join(part for part in parts if part) + f": {_value(known.get('filepath'))}"


def _value(value) -> str:
    """An environment value as the reader wants it: "not set" for None (an unset
    variable, an unknown version), never Python's `None`."""
    return "not set" if value is None else str(value)


LOSS_NOTE = ("Loss: the network's loss (its data loss, without the regularizers' penalties) "
             "on the whole training set after each epoch, in inference mode.")


def optimizer_section(training: dict) -> tuple[str, str] | None:
    """(a sentence naming both sides' optimizer, the update's equations), or None."""
    equations = training.get("optimizer_equations")
    if not equations:
        return None
    keras = f"`{equations['keras']}`" if equations["keras"] else "no Keras twin"
    return (f"`{training['optimizer']}`: {keras} on the Keras side, "
            f"`{equations['handrolled']}` by hand, which follows Keras' order of operations "
            f"and roundings; the update both compute:", equations["text"])


def render_markdown(results: dict, plot_files: list[str]) -> str:
    training = results["training"]
    out = ["# handrolled vs Keras", ""]
    out += [f"- {line}" for line in headline(results)] + [""]
    if "gradients" in results:
        g = results["gradients"]
        out += ["## Gradients on the first training batch", "",
                f"Batch of {g['batch']} rows; loss handrolled {g['loss']['handrolled']:.17g}, "
                f"keras {g['loss']['keras']:.17g}.", "",
                tables.saved_gradient_table(g, "github"), "",
                f"Tolerance {g['tolerance']['dtype']}: handrolled vs keras relative <= "
                f"{g['tolerance']['rtol']:g}, vs finite differences <= "
                f"{g['tolerance']['fd_rtol']:g}. Verdict: "
                f"{'AGREE' if g['agree'] else 'DISAGREE'}.", ""]
    out += ["## Training side by side", "",
            f"{LOSS_NOTE} "
            "Accuracies in percent, computed the same way for both (the class each side's "
            "logits give, in NumPy). h = handrolled, k = keras.", "",
            tables.training_table(training, "github"), ""]
    out += [f"- {line}" for line in tables.training_summary(training)] + [""]
    optimizer = optimizer_section(training)
    if optimizer:
        intro, equations = optimizer
        out += ["## Optimizer", "", intro, "", "```", equations, "```", ""]
    out += ["## Runtime", "", tables.runtime_table(training, "github"), ""]
    out += [f"- {line}" for line in tables.runtime_notes(training)] + [""]
    out += ["## Plots", ""]
    for name in plot_files:
        out += [f"### {PLOT_TITLES.get(name, name)}", "", f"![{name}]({name})", ""]
    out += ["## Environment", "", "| what | value |", "|---|---|"]
    out += [f"| {key} | {value} |" for key, value in environment_rows(results)]
    return "\n".join(out) + "\n"


def _why(outcome: dict) -> str:
    """The reason under a disagreement or divergence; an agreement's note as it is."""
    reason = outcome["reason"]
    return reason[0].upper() + reason[1:] if reason.startswith("note:") else f"Why: {reason}"
