"""`nn-compare sweep`: train both implementations over activations x depths x seeds.

    plan.py      what to run: the configurations and their keys
    worker.py    one configuration -> one result row (runs in a worker process)
    executors.py local processes or a Dask cluster, yielding rows as they finish
    store.py     the append-only results log (resumable) and sweep.json / sweep.csv
    summary.py   the table (mean +- std per implementation) and the plot
    run.py       the resumable loop: skip what the log holds, run the rest, append each row
"""

from .plan import Configuration, SweepPlan, parse_lr  # noqa: F401
from .store import ResultsLog  # noqa: F401
