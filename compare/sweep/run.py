"""The resumable sweep: what the log already holds, what is left, and running it.

    sweep = run_sweep(plan, "reports/sweep", workers=2)
    sweep.rows, sweep.summary, sweep.run_now, sweep.from_log, sweep.agree

One sweep at a time works on OUT (store.SweepLock; a second one waits, then
finds the first one's rows).  A configuration whose key is in OUT/sweep.jsonl
is done and is not run again; the rest run (in this process, in local worker processes, or on a Dask
cluster), and each row is appended to the log the moment it finishes, before
sweep.json and sweep.csv are rewritten from everything finished so far.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from .plan import SweepPlan
from .store import ResultsLog, SweepLock, write_outputs
from .summary import summarize


@dataclass
class SweepRun:
    """Every finished configuration, in the plan's order, and where each came from."""

    rows: list[dict]
    summary: list[dict]
    run_now: int    # configurations run by this call
    from_log: int   # configurations an earlier run had finished
    log: ResultsLog

    @property
    def agree(self) -> bool:
        return all(r["agree"] for r in self.rows)


def run_sweep(plan: SweepPlan, out: str | os.PathLike, workers: int = 1,
              scheduler: str | None = None, quiet: bool = False) -> SweepRun:
    """Run the configurations of `plan` that OUT/sweep.jsonl does not hold yet.

    `scheduler`: a Dask scheduler's address (else `workers` local processes);
    it is checked and connected to before anything runs (a SpecError: exit 2).
    A progress bar goes to stderr unless `quiet`."""
    log = ResultsLog(out)
    if scheduler is not None:  # --scheduler '' is a mistake, not "run locally"
        from .executors import check_address
        check_address(scheduler)  # even when nothing is left to run: a typo is a typo
    with SweepLock(log.directory):
        return _run_locked(plan, log, workers, scheduler, quiet)


def _run_locked(plan: SweepPlan, log: ResultsLog, workers: int, scheduler: str | None,
                quiet: bool) -> SweepRun:
    activations, depths = plan.activations, plan.depths
    modules = plan.settings.get("activation_modules", ())
    configs = plan.configurations()
    done = log.rows()
    pending = [c for c in configs if c.key not in done]
    rows = {c.key: done[c.key] for c in configs if c.key in done}
    runner = _runner(pending, workers, scheduler)  # the scheduler: exit 2 before anything runs

    def save():
        ordered = [rows[c.key] for c in configs if c.key in rows]
        summary = summarize(ordered, activations, depths)
        write_outputs(log.directory, ordered, summary, {
            "activations": activations, "depths": depths, "seeds": plan.seeds, "lr": plan.lr,
            "settings": dict(plan.settings, activation_modules=list(modules)),
            "configurations": len(configs), "finished": len(ordered)})
        return ordered, summary

    from tqdm import tqdm

    from .. import console

    if pending and not quiet:  # the bar moves only as configurations finish
        console.say(f"sweep: {len(pending)} configuration(s) to run; each worker starts Keras "
                    f"on {plan.settings.get('backend', 'tensorflow')} first (it takes a few "
                    f"seconds) ...")
    bar = tqdm(total=len(configs), initial=len(configs) - len(pending), unit="config",
               desc="sweep", disable=quiet, file=sys.stderr)
    try:
        for row in runner:
            log.append(row)  # on disk before anything else: a kill now loses nothing
            rows[row["key"]] = row
            save()
            bar.update(1)
    finally:
        bar.close()
        if hasattr(runner, "close"):
            runner.close()
    ordered, summary = save()
    return SweepRun(ordered, summary, len(pending), len(configs) - len(pending), log)


def _runner(pending, workers: int, scheduler: str | None):
    from .executors import connect, profiler_hang_risk, run_dask, run_local

    if not pending:
        return iter(())
    if scheduler is not None:
        client = connect(scheduler)
        _warn_profiler_hang(profiler_hang_risk(client))
        return run_dask(pending, client)
    return run_local(pending, workers)


def _warn_profiler_hang(workers: list[str]) -> None:
    """A warning, not an error: the sweep may well finish, but if it hangs, this says why."""
    if workers:
        print(f"warning: Dask worker(s) {', '.join(workers)} may hang: their stack profiler "
              f"can deadlock with TensorFlow on Python 3.11 before 3.11.12 (CPython "
              f"gh-106883), or they could not be checked; start them with "
              f"DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False or on a newer Python",
              file=sys.stderr)
