"""The settings of one training comparison, and the named presets.

    config = resolve_config(args)     # a preset, overridden by the options given

`default` -- what `nn-compare report` (and `make report`) runs: the book's
network 784-100 sigmoid-10 on mnist-sample (4,000 train / 1,000 test), pixels
scaled to [0, 1], SGD with learning rate 1.0 on batches of 32, 20 epochs,
rows shuffled per epoch (seeded): 2,500 steps.  Measured with float64, seeds
0-3 (`nn-compare train --seed S`): test accuracy 94.6, 93.3, 94.5, 93.3 % on
both sides (the target was at least 92 %).

`book-ch16` ... `book-ch19-cnn` -- the networks of the book's Part 3, written
from its description (no code or data of the book): chapter 16's 100-30
sigmoid network with RMSprop 0.001 and batches of 25, on a generated two-class
2-D set (`spiky-2d`); chapter 17's, with activity l1(0.0004) on both hidden
layers; chapter 18's deep 1200-500-200 sigmoid network with SGD 0.1 on digits,
and its cure (`book-ch18-bn`: relu, BatchNormalization after each hidden layer,
Adam); chapter 19's CNN with BatchNormalization and Dropout(0.5) and Adam, on
Fashion-MNIST (the first 1,000 rows: float64 convolutions are slow on this CPU,
TensorFlow's more than ours, and Adam amplifies round-off: see docs/howto/presets.md;
`--dataset cifar10:DIR` for the book's CIFAR-10, `--train-rows` for more).

`book` -- the final configuration of "Programming Machine Learning": 100
sigmoid hidden units, learning rate 1, batch 256, 10 epochs, inputs
standardized with one mean and standard deviation, the book's weight
initialisation, batches taken in order (the book's `prepare_batches`, no
shuffling), and the test set split into validation and test halves
(`X_validation, X_test = np.split(X_test_all, 2)`).
"""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, fields, replace

from handrolled.errors import SpecError, unknown


@dataclass(frozen=True)
class TrainingConfig:
    hidden: str = "100:sigmoid"
    loss: str = "categorical_crossentropy"
    optimizer: str | None = None     # None: SGD at `lr`; else its text, e.g. "adam"
    train_rows: int | None = None    # the first N training rows only (None: all)
    dataset: str = "mnist-sample"
    preprocess: str = "scale"
    epochs: int = 20
    batch: int = 32
    lr: float = 1.0
    dtype: str = "float64"
    seed: int = 0
    init: str = "glorot"
    order: str = "shuffle"           # or "sequential"
    validation_halves: bool = False  # split the test set into validation + test halves
    loop: str = "fast"               # the hand-written epoch: "fast" or "textbook" (LOOPS)
    preset: str = "default"
    from_keras: str | None = None    # a saved Keras model: its layers and starting weights

    @property
    def shuffle(self) -> bool:
        return self.order == "shuffle"

    @property
    def training_optimizer(self):
        """What train_side_by_side takes: the optimizer's text, or SGD's learning rate."""
        return self.optimizer if self.optimizer else self.lr

    def to_dict(self) -> dict:
        return asdict(self)

    def command(self, name: str = "report") -> str:
        """The command line that reproduces this run, every setting spelled out."""
        parts = ["nn-compare", name, "--preset", self.preset]
        for option in ("from_keras", "hidden", "loss", "optimizer", "dataset", "train_rows",
                       "preprocess", "epochs", "batch", "lr", "dtype", "seed", "init", "order",
                       "loop"):
            value = getattr(self, option)
            if value is None or (option == "lr" and self.optimizer) or \
                    (option == "hidden" and self.from_keras):
                continue  # no optimizer: SGD at --lr; an optimizer carries its own rate;
                # a Keras model carries its layers
            flag = "layers" if option == "hidden" else option.replace("_", "-")
            parts += [f"--{flag}", shlex.quote(str(value))]
        return " ".join(parts)


BOOK_CH17_HIDDEN = ("dense(100,sigmoid,activity=l1(0.0004)),"
                    "dense(30,sigmoid,activity=l1(0.0004))")
BOOK_CH19_CNN = ("conv(16,3,relu),batchnorm,dropout(0.5),conv(32,3,relu),batchnorm,dropout(0.5),"
                 "flatten,dense(1000,relu),batchnorm,dropout(0.5),dense(512,relu),batchnorm,"
                 "dropout(0.5)")

PRESETS = {
    "default": TrainingConfig(),
    "book": TrainingConfig(preset="book", preprocess="standardize", epochs=10, batch=256,
                           lr=1.0, init="book", order="sequential", validation_halves=True),
    # Part 3, written from the book's description (not its code), on data this project has
    "book-ch16": TrainingConfig(preset="book-ch16", hidden="100:sigmoid,30:sigmoid",
                                dataset="spiky-2d", optimizer="rmsprop(learning_rate=0.001)",
                                batch=25, epochs=100),
    "book-ch17": TrainingConfig(preset="book-ch17", hidden=BOOK_CH17_HIDDEN, dataset="spiky-2d",
                                optimizer="rmsprop(learning_rate=0.001)", batch=25, epochs=100),
    "book-ch18": TrainingConfig(preset="book-ch18", hidden="1200:sigmoid,500:sigmoid,200:sigmoid",
                                lr=0.1, batch=32, epochs=10),
    "book-ch18-bn": TrainingConfig(preset="book-ch18-bn",
                                   hidden="dense(1200,relu),batchnorm,dense(500,relu),batchnorm,"
                                          "dense(200,relu),batchnorm",
                                   optimizer="adam", batch=32, epochs=10),
    "book-ch19-cnn": TrainingConfig(preset="book-ch19-cnn", hidden=BOOK_CH19_CNN,
                                    dataset="fashion-mnist", optimizer="adam", batch=32,
                                    epochs=2, train_rows=1000),
}
ORDERS = ("shuffle", "sequential")
# handrolled/fast.py computes bit-identical numbers to the textbook loop in
# handrolled/train.py (tests/test_fast.py), so the report times the fast one.
LOOPS = ("fast", "textbook")


def resolve_config(args) -> TrainingConfig:
    """The preset named by args.preset, with every option the user gave on top.

    Options left out arrive as None (the parser's default) and keep the preset's value.
    """
    if args.preset not in PRESETS:
        raise unknown("preset", args.preset, PRESETS)
    given = {f.name: getattr(args, f.name) for f in fields(TrainingConfig)
             if f.name != "preset" and getattr(args, f.name, None) is not None}
    if "optimizer" in given and "lr" in given:
        raise SpecError("--lr is the learning rate of plain SGD; with --optimizer give it "
                        "inside, e.g. --optimizer 'adam(learning_rate=0.01)'")
    if "optimizer" in given:
        from handrolled import optimizers

        given["optimizer"] = optimizers.get(given["optimizer"]).text  # checked, canonical
    return replace(PRESETS[args.preset], **given)
