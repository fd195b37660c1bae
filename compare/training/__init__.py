"""Training both implementations side by side, from the same weights, on the same batches.

    result = train_side_by_side(spec, weights, dataset, epochs=20, batch_size=32, lr=2.0)
    result.verdict, result.agree, result.to_dict()   # the "training" of results.json

How the comparison is kept fair and exact:

* one order per epoch: a seeded permutation drawn once (or 0, 1, 2, ... with
  shuffle=False, the book's sequential slices) and handed to both sides;
* the hand-written side runs `handrolled_epoch` (default `handrolled.train.sgd_epoch`),
  the Keras side a real `model.fit` (`keras_impl.train.fit_epoch`) on the rows
  gathered in that order;
* epoch time: by hand, the `handrolled_epoch` call; Keras, the epoch inside
  `fit` (see keras_impl/train.py: each call's set-up is recorded apart as
  "fit_call_seconds") plus the gather of the epoch's rows;
* after every epoch both are evaluated the same way, in NumPy, from their own
  logits on the full sets: mean cross-entropy ("loss", on the training set)
  and accuracy = mean(argmax(logits) == label); evaluation is not timed;
* all hand-written epochs run first, then all Keras epochs, so neither
  library's worker threads compete with the other's during a timed epoch.

* the hand-written side runs twice more on the same batches with each
  batch's rows reversed (from weights times 1 + eps and 1 - eps, a learning-rate
  schedule one float32 ulp up and down): the round-off envelope the verdict is
  judged against (verdict.py); where the difference leaves it, Keras once more
  (from weights times 1 + eps, rows reversed unless the network has Dropout),
  its own round-off joins the envelope, and the verdict is taken again.

A loss that becomes NaN or inf, or grows a thousandfold, stops that side after
the epoch in which it happened; the result records where (`Divergence`) and
keeps what ran.

The modules, in the order of a run:

    tolerances.py    `RoundoffRule`, `ROUNDOFF_RULES`: how far above round-off is a disagreement
    data.py          `TrainingData` (checked arrays), `check_settings`, `epoch_orders`,
                     `reversed_within_batches` (the round-off run's orders)
    runtime.py       `Stopwatch`, `Runtime`, `runtime_summary`, `runtime_ratios`
    history.py       `History` (one side's run), `evaluate`, `find_divergence`, `Divergence`
    runs.py          `run_handrolled`, `run_keras`
    verdict.py       `judge` -> `Verdict`: identical, agree within round-off, disagree from
                     step N, or diverged on both sides
    result.py        `TrainingResult`: the differences and the verdict
    side_by_side.py  `train_side_by_side`: the above, in order
"""

from .data import TrainingData, check_settings, epoch_orders  # noqa: F401
from .history import Divergence, History, evaluate, find_divergence  # noqa: F401
from .result import TrainingResult  # noqa: F401
from .runs import run_handrolled, run_keras  # noqa: F401
from .side_by_side import train_side_by_side  # noqa: F401
from .tolerances import (ROUNDOFF_RULES, TRAINING_TOLERANCES, RoundoffRule,  # noqa: F401
                         TrainingTolerance)
from .verdict import Verdict, judge  # noqa: F401
