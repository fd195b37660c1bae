"""The whole job of `nn-compare code`: settings -> the project's own run -> the folder.

    generated = generate(prepared, out, command=..., run=True)

1. Check that the templates write everything the network uses (one-line errors),
   and that `out` is new or empty (or --force).
2. Slice the data (the first `train_rows` training rows, `test_rows` test rows) and
   draw every epoch's row order (compare/training/data.py), as `train` does.
3. The project's own run on that slice (`train_side_by_side`: handrolled and Keras):
   the reference numbers, and the dropout masks Keras drew, step by step.
4. The programs (programs.py), the arrays (files.py), both programs run in the
   staging folder (`run`), their numbers judged against the reference
   (outputs.py), side_by_side.html, then the folder renamed into place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from handrolled.errors import SpecError
from handrolled.weights import init_state

from .. import console
from ..output import staged_directory
from ..training import epoch_orders, train_side_by_side
from ..training.data import TrainingData
from . import files, html, outputs
from .blocks import Block, program
from .programs import blocks as program_blocks, check_supported

DEFAULT_TRAIN_ROWS, DEFAULT_TEST_ROWS = 1000, 500


@dataclass
class Slice:
    """The data both programs load (a TrainingData-like object for train_side_by_side)."""

    name: str
    X_train: object
    y_train: object
    X_test: object
    y_test: object


@dataclass
class Generated:
    out: Path
    blocks: list[Block]
    reference: list[dict]                 # the project's run (handrolled side), per epoch
    keras_reference: list[dict]           # the project's Keras side, per epoch
    runs: dict = field(default_factory=dict)         # program -> outputs.Run
    judgements: dict = field(default_factory=dict)   # program -> outputs.Judgement

    @property
    def agree(self) -> bool | None:
        """None when the programs were not run."""
        if not self.judgements:
            return None
        return all(j.agree for j in self.judgements.values()) and \
            all(run.returncode == 0 for run in self.runs.values())


def data_slice(prepared, train_rows: int | None, test_rows: int | None) -> Slice:
    data = TrainingData.from_dataset(prepared.dataset, prepared.spec)
    train = train_rows or min(DEFAULT_TRAIN_ROWS, len(data.y_train))
    test = test_rows or min(DEFAULT_TEST_ROWS, len(data.y_test))
    return Slice(data.name, data.X_train[:train], data.y_train[:train], data.X_test[:test],
                 data.y_test[:test])


def check(prepared, out, force: bool = False) -> None:
    """Step 1, before any work: the templates write everything the network uses, and
    `out` can be written (one-line SpecErrors)."""
    check_supported(prepared.spec, prepared.config.training_optimizer)
    files.check_target(Path(out), force)


def generate(prepared, out, command: str, run: bool = True, force: bool = False,
             test_rows: int | None = None, progress=None, handrolled_epoch=None) -> Generated:
    from ..experiment import handrolled_loop

    config, spec = prepared.config, prepared.spec
    out = Path(out)
    check(prepared, out, force)
    data = data_slice(prepared, config.train_rows, test_rows)
    if config.batch > len(data.y_train):
        raise SpecError(f"batch size {config.batch} is larger than the {len(data.y_train)} "
                        f"training rows; accepted: 1 to {len(data.y_train)}")
    rows = len(data.y_train)
    orders = epoch_orders(rows, config.epochs, config.seed, config.shuffle)
    result = train_side_by_side(spec, prepared.weights, data, config.epochs, config.batch,
                                config.training_optimizer, shuffle=config.shuffle,
                                seed=config.seed, progress=progress,
                                handrolled_epoch=handrolled_epoch or handrolled_loop(config.loop))
    checked = TrainingData.from_dataset(data, spec)
    blocks = program_blocks(spec, config.training_optimizer, config.epochs, config.batch,
                            config.seed, command)
    contents = {"numpy_version.py": program(blocks, "numpy"),
                "keras_version.py": program(blocks, "keras"),
                "data.npz": files.npz_bytes(files.data_arrays(checked, orders)),
                "weights.npz": files.npz_bytes({**prepared.weights, **init_state(spec)})}
    if any(result.keras.dropout_masks):  # one {layer: mask} per step; {} without Dropout
        contents["dropout_masks.npz"] = files.npz_bytes(
            files.mask_arrays(result.keras.dropout_masks))
    generated = Generated(out, blocks, outputs.reference(result.handrolled),
                          outputs.reference(result.keras))
    with staged_directory(out, what=files.WHAT, replace=force) as target:  # all at once
        files.write_files(target.staging, contents)
        if run:
            sizes = {"train": len(data.y_train), "test": len(data.y_test)}
            for name in ("numpy_version.py", "keras_version.py"):
                with console.waiting(f"code: running {name}, as a student would"):
                    done = outputs.run_program(target.staging, name)
                generated.runs[name] = done
                generated.judgements[name] = outputs.judge(done.epochs, generated.reference,
                                                           spec.dtype, sizes, name)
        files.write_files(target.staging,
                          {"side_by_side.html": html.render(generated, spec, command)})
    return generated
