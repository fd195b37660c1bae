"""Fault injection: Ctrl-C and kill -9 at seeded moments, a full disk, a read-only or
forbidden path.  After each: the old complete result or the new complete one, never a
mix; nothing half-written or orphaned; one error line and exit 2; the rerun completes.
"""

from __future__ import annotations

import errno
import json
import os
import random
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_cli_bad_input import idx_dir, one_line, tiny_data  # noqa: F401 (a fixture)

import compare.output as output
import compare.report as report
from compare.output import staged_directory
from compare.report import write_report
from compare.sweep import executors, plan as sweep_plan, store
from compare.sweep.run import run_sweep
from handrolled import MachineError, SpecError

ROOT = Path(__file__).resolve().parents[1]
NAMES = [f"plot{i}.png" for i in range(4)] + ["report.md", "report.html", "results.json"]
DEAD_PID = 4_999_999  # above Linux's largest pid (2**22): never a live process


def fake_files(results: dict) -> dict[str, str]:
    """A report's files, each stamped with the run that wrote it (rendering real plots
    takes seconds; the transaction does not care what the files hold)."""
    return {name: f"{name} of run {results.get('run', 0)}\n" * 500 for name in NAMES}


def report_run(folder: Path) -> int:
    """The run a report folder comes from; fails on a mix of runs or a missing file."""
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(NAMES + [output.MARKER]), f"{folder} holds {names}"
    runs = {p.read_text().split("of run ")[1].split("\n")[0] for p in folder.iterdir()
            if p.name != output.MARKER}
    assert len(runs) == 1, f"{folder} mixes runs {runs}"
    return int(runs.pop())


def hidden_leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


@pytest.fixture
def fake_render(monkeypatch):
    monkeypatch.setattr(report, "render_files", fake_files)


def test_the_invariant_check_sees_a_mixed_folder(fake_render, tmp_path):  # the twin
    write_report(tmp_path / "r", {"run": 1})
    assert report_run(tmp_path / "r") == 1
    (tmp_path / "r" / "report.md").write_text(fake_files({"run": 2})["report.md"])
    with pytest.raises(AssertionError, match="mixes runs"):
        report_run(tmp_path / "r")


def test_ctrl_c_at_every_step_leaves_the_old_report_whole(fake_render, tmp_path, monkeypatch):
    """Ctrl-C at each file write and at the swap itself: the old report, untouched
    (a stray file of the user's included), and no hidden folder left behind."""
    out = tmp_path / "r"
    write_report(out, {"run": 1})
    real_write, real_exchange = output.write_atomic, output._exchange
    for step in range(len(NAMES) + 1):
        calls = []

        def interrupt(*args, step=step, calls=calls):
            calls.append(args)
            if len(calls) > step:
                raise KeyboardInterrupt
            return real_write(*args)

        monkeypatch.setattr(report, "write_atomic", interrupt)
        monkeypatch.setattr(output, "_exchange", lambda a, b: interrupt(None, None)
                            if step == len(NAMES) else real_exchange(a, b))
        with pytest.raises(KeyboardInterrupt):
            write_report(out, {"run": 2})
        assert report_run(out) == 1 and hidden_leftovers(tmp_path) == []
    monkeypatch.setattr(report, "write_atomic", real_write)
    monkeypatch.setattr(output, "_exchange", real_exchange)
    (out / "report.md").unlink()  # a report with a file missing is replaced all the same
    write_report(out, {"run": 2})  # the rerun replaces the folder as a whole
    assert report_run(out) == 2 and hidden_leftovers(tmp_path) == []


def test_a_folder_that_is_not_a_report_is_never_replaced(fake_render, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("the user's")
    with pytest.raises(SpecError, match=r"--out .*mine holds files that are not a report "
                                        r"\(notes.txt\) and would be replaced as a whole"):
        write_report(tmp_path / "mine", {"run": 1})
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]
    write_report(tmp_path / "empty", {"run": 1})  # the twin: a new or empty folder is fine
    assert report_run(tmp_path / "empty") == 1


@pytest.mark.parametrize("names", [["plot1.png", "holiday.png"], ["results.json", "loss.png"]])
def test_a_folder_of_report_like_files_the_project_did_not_write_is_never_replaced(
        fake_render, tmp_path, names):
    """issue 27: a folder of the user's PNGs counted as "a report" and was deleted."""
    mine = tmp_path / "pics"
    mine.mkdir()
    for name in names:
        (mine / name).write_bytes(b"\x89PNG the user's " + name.encode())
    with pytest.raises(SpecError, match="holds files that are not a report"):
        write_report(mine, {"run": 1})
    assert sorted(p.name for p in mine.iterdir()) == sorted(names)
    assert hidden_leftovers(tmp_path) == []


def test_a_report_the_user_added_to_or_edited_is_no_longer_replaced(fake_render, tmp_path):
    out = tmp_path / "r"
    write_report(out, {"run": 1})
    write_report(out, {"run": 2})  # the twin: the project's own folder is replaced
    assert report_run(out) == 2
    (out / "plot0.png").write_text("the user's own plot")   # an edited file
    with pytest.raises(SpecError, match=r"not a report \(plot0.png\)"):
        write_report(out, {"run": 3})
    (out / "plot0.png").unlink()
    (out / "notes.md").write_text("the user's notes")        # an added file
    with pytest.raises(SpecError, match=r"not a report \(notes.md\)"):
        write_report(out, {"run": 3})
    assert (out / "notes.md").read_text() == "the user's notes"
    (out / output.MARKER).write_text("{}")                   # a marker that lists nothing
    with pytest.raises(SpecError, match="not a report"):
        write_report(out, {"run": 3})


@pytest.mark.parametrize("replace", [True, False])
def test_a_folder_the_user_makes_during_the_run_is_checked_at_the_swap(tmp_path, replace):
    """issue 27: `code --out gen` replaced a folder created while it ran (the check was
    at the start only).  With replace=False (code without --force) any content refuses;
    with replace=True, content the project did not write does."""
    out = tmp_path / "gen"
    with pytest.raises(SpecError, match="not empty any more" if not replace else
                       "holds files that are not a report"):
        with staged_directory(out, replace=replace) as target:
            (target.staging / "numbers.txt").write_text("ours")
            out.mkdir()
            (out / "thesis.tex").write_text("the user's")   # meanwhile, the user
    assert [p.name for p in out.iterdir()] == ["thesis.tex"]
    assert hidden_leftovers(tmp_path) == []


def test_twin_an_empty_folder_made_during_the_run_is_taken(tmp_path):
    out = tmp_path / "gen"
    with staged_directory(out, replace=False) as target:
        (target.staging / "numbers.txt").write_text("ours")
        out.mkdir()
    assert sorted(p.name for p in out.iterdir()) == sorted(["numbers.txt", output.MARKER])


def test_the_swap_puts_back_a_folder_that_changed_after_the_check(tmp_path, monkeypatch):
    """The check and the swap are two steps: a file arriving between them is seen in the
    swapped-out folder, which is swapped back."""
    out = tmp_path / "r"
    with staged_directory(out) as target:
        (target.staging / "a.txt").write_text("run 1")
    real_check = output.check_replaceable

    def then_the_user_writes(folder, what, option="--out"):
        real_check(folder, what, option)
        if not (Path(folder) / "late.txt").exists():
            (Path(folder) / "late.txt").write_text("the user's")

    monkeypatch.setattr(output, "check_replaceable", then_the_user_writes)
    with pytest.raises(SpecError, match=r"late.txt"):
        with staged_directory(out) as target:
            (target.staging / "a.txt").write_text("run 2")
    assert (out / "late.txt").read_text() == "the user's" and \
        (out / "a.txt").read_text() == "run 1"
    assert hidden_leftovers(tmp_path) == []


def test_a_report_folder_gets_the_permissions_mkdir_would_give(fake_render, tmp_path):
    (tmp_path / "made").mkdir()
    write_report(tmp_path / "r", {"run": 1})
    assert (tmp_path / "r").stat().st_mode == (tmp_path / "made").stat().st_mode


def test_without_an_atomic_swap_the_old_folder_is_moved_aside_then_deleted(
        fake_render, tmp_path, monkeypatch):
    monkeypatch.setattr(output, "_exchange", lambda a, b: False)  # e.g. macOS
    write_report(tmp_path / "r", {"run": 1})
    write_report(tmp_path / "r", {"run": 2})
    assert report_run(tmp_path / "r") == 2 and hidden_leftovers(tmp_path) == []


def test_leftovers_of_a_killed_run_are_cleaned_or_put_back(fake_render, tmp_path):
    # Killed between the two renames of the fallback: the old report waits aside.
    aside = tmp_path / f".r.{DEAD_PID}.abc123de.partial-old"
    write_report(aside, {"run": 1})
    dead_staging = tmp_path / f".r.{DEAD_PID}.xyz_1234.partial"
    dead_staging.mkdir()
    live_staging = tmp_path / f".r.{os.getpid()}.live1234.partial"  # a run still writing
    live_staging.mkdir()
    output.remove_stale(tmp_path, "r")  # what the next run into "r" does first
    assert report_run(tmp_path / "r") == 1  # put back, complete
    assert hidden_leftovers(tmp_path) == [live_staging.name]
    write_report(tmp_path / "r", {"run": 2})
    assert report_run(tmp_path / "r") == 2 and hidden_leftovers(tmp_path) == [live_staging.name]
    (tmp_path / f".x.json.{DEAD_PID}.k3j4m5n6.tmp").write_text("half a fi")
    (tmp_path / f".notes.{DEAD_PID}.draft.tmp").write_text("the user's")  # not ours
    output.write_json(tmp_path / "x.json", {})
    assert hidden_leftovers(tmp_path) == sorted([live_staging.name,
                                                 f".notes.{DEAD_PID}.draft.tmp"])


CHILD = """
import signal, sys, time
# A process inherits an ignored SIGINT (pytest-xdist's workers ignore it), and Python
# then installs no handler of its own: Ctrl-C must raise KeyboardInterrupt here.
signal.signal(signal.SIGINT, signal.default_int_handler)
import compare.report as report
sys.path.insert(0, "tests")
from test_faults import fake_files
report.render_files = fake_files
out, run = sys.argv[1], 1
print("ready", flush=True)
while True:
    try:  # the whole loop body: a SIGINT anywhere in it is caught
        run += 1
        report.write_report(out, {"run": run})
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.stdin.readline()  # the test checks the folder, then lets it go on
        print("go", flush=True)  # back in the loop: the next SIGINT may come
"""


def line_of(child, seconds: float = 60) -> str:
    """The child's next line, or a failure (not a hang) if none comes in time."""
    ready, _, _ = select.select([child.stdout], [], [], seconds)
    assert ready, f"no line from the child in {seconds} s"
    return child.stdout.readline()


def test_report_under_sigint_and_sigkill_at_seeded_moments(fake_render, tmp_path):
    """A process rewriting one report in a loop, hit by SIGINT three times and by
    SIGKILL once at seeded random moments: after each, the folder holds one whole run."""
    out, rng = tmp_path / "r", random.Random(14)
    write_report(out, {"run": 1})
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(out)], cwd=ROOT, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert line_of(child) == "ready\n"
        seen = set()
        for _ in range(3):
            time.sleep(rng.uniform(0.05, 0.3))
            child.send_signal(signal.SIGINT)
            assert line_of(child) == "interrupted\n"
            seen.add(report_run(out))
            assert hidden_leftovers(tmp_path) == []  # Ctrl-C cleans up after itself
            child.stdin.write("\n")
            child.stdin.flush()
            assert line_of(child) == "go\n"
        time.sleep(rng.uniform(0.05, 0.3))
        child.kill()
        child.wait(10)
        seen.add(report_run(out))
        assert len(seen) > 1  # the kills did land while it was replacing the folder
    finally:
        child.kill()
        child.wait(10)
    write_report(out, {"run": 0})  # the rerun completes and clears what the kill left
    assert report_run(out) == 0 and hidden_leftovers(tmp_path) == []


def no_space(*args):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_during_a_report_is_one_line_and_keeps_the_old_report(
        fake_render, tmp_path, monkeypatch):
    write_report(tmp_path / "r", {"run": 1})
    monkeypatch.setattr(os, "fsync", no_space)  # the write path, as a full disk answers
    with pytest.raises(MachineError, match=r"cannot write .*plot0.png: No space left on "
                                           r"device; free some space"):
        write_report(tmp_path / "r", {"run": 2})
    assert report_run(tmp_path / "r") == 1 and hidden_leftovers(tmp_path) == []


@pytest.mark.parametrize("command", ["gradients", "train"])
def test_a_full_disk_is_exit_2_one_line_and_no_verdict(fake_render, cli, idx_dir, tmp_path,
                                                       monkeypatch, command):
    """The verdict shows only once the results are on disk."""
    args = {"gradients": ["gradients", "--hidden", "3:relu", "--no-fd", "--dataset",
                          f"idx:{idx_dir}", "--batch", "8", "--quiet"],  # no progress lines
            "train": ["train", *tiny_data(idx_dir), "--out", str(tmp_path / "r")]}[command]
    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", no_space)
        code, out, err = cli(*args, "--json", str(tmp_path / "r.json"))
    assert code == 2 and "No space left on device" in one_line(err)
    assert "verdict" not in out and list(tmp_path.iterdir()) == []
    if command == "train":
        return  # the twin below is the same write path
    # The twin: the same run with room on the disk.
    code, out, err = cli(*args, "--json", str(tmp_path / "r.json"))
    assert code == 0 and "verdict: AGREE" in out and (tmp_path / "r.json").exists()


def test_a_fifo_is_never_written_through(cli, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    code, out, err = cli("activations", "relu", "--json", str(fifo))
    assert code == 2 and "is a FIFO; expected a regular file path" in one_line(err)
    with pytest.raises(SpecError, match="is a FIFO"):
        output.write_atomic(fifo, "x")
    code, out, err = cli("sweep", "--activations", "relu", "--out", str(fifo))
    assert code == 2 and "is a FIFO; expected a directory" in one_line(err)


def test_an_os_error_nobody_caught_is_still_one_line(cli, monkeypatch):
    import compare.commands.activations as command

    def denied(args):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/some/file")

    monkeypatch.setattr(command, "run", denied)
    code, out, err = cli("activations", "relu")
    assert code == 2 and one_line(err) == ("nn-compare: error: cannot use /some/file: "
                                           "Permission denied; choose a location you can "
                                           "write to")


@pytest.fixture
def small_fs(tmp_path):
    """A real 128 KiB file system (tmpfs), where the machine lets the tests mount one."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root on Linux")
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_real_full_and_a_read_only_file_system(fake_render, small_fs, monkeypatch):
    write_report(small_fs / "r", {"run": 1})  # 112 KiB in 4 KiB pages: a second one does not fit
    with pytest.raises(MachineError, match="No space left on device"):
        write_report(small_fs / "r", {"run": 2})
    assert report_run(small_fs / "r") == 1 and hidden_leftovers(small_fs) == []
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    with pytest.raises(MachineError, match=f"cannot write to {small_fs}: Read-only file "
                                           f"system; the file system is read-only"):
        write_report(small_fs / "r", {"run": 3})
    with pytest.raises(MachineError, match="Read-only file system"):
        output.write_json(small_fs / "r.json", {})
    assert report_run(small_fs / "r") == 1


# --- sweeps -------------------------------------------------------------------------

def fake_row(config) -> dict:
    """What run_configuration returns, without training (the log does not care)."""
    return {"activation": config.activation, "depth": config.depth, "seed": config.seed,
            "lr": config.lr, "handrolled_accuracy": 0.5, "keras_accuracy": 0.5,
            "seconds": 0.0, "handrolled_seconds": 0.0, "keras_seconds": 0.0, "agree": True,
            "max_loss_diff": 0.0, "diverged": False, "key": config.key}


@pytest.fixture
def ran(monkeypatch):
    """Configurations run (fake rows) by the sweeps of a test, in order."""
    keys = []

    def run(config):
        keys.append(config.key)
        return fake_row(config)

    monkeypatch.setattr(executors, "run_configuration", run)
    return keys


def small_plan(seeds: int = 3):
    return sweep_plan.SweepPlan(["relu"], [1], seeds, {"relu": 0.1},
                                dict(units=3, epochs=1, batch=8, dataset="x", preprocess="raw",
                                     dtype="float64", train_rows=None))


def test_damaged_log_lines_are_named_set_aside_and_run_again(ran, tmp_path, capsys):
    configs = small_plan(4).configurations()
    good = json.dumps(store.signed(fake_row(configs[0]))).encode()
    missing = json.dumps({k: v for k, v in fake_row(configs[1]).items() if k != "agree"})
    (tmp_path / "sweep.jsonl").write_bytes(b"\n".join([
        good, b'{"activation": "relu", \xff\xfe}', missing.encode(),
        json.dumps(fake_row(configs[3])).encode()[:40]]))  # the last one torn by a kill
    sweep = run_sweep(small_plan(4), tmp_path, quiet=True)
    err = capsys.readouterr().err
    for line, problem in [(2, "not UTF-8"), (3, "field 'agree' missing"),
                          (4, "not a JSON object (cut short?)")]:
        assert f"sweep.jsonl line {line} is damaged ({problem})" in err
    assert ran == [c.key for c in configs[1:]] and sweep.from_log == 1
    assert len((tmp_path / "sweep.jsonl.damaged").read_bytes().splitlines()) == 3
    run_sweep(small_plan(4), tmp_path, quiet=True)  # healed: no warning, nothing to run
    assert capsys.readouterr().err == "" and len(ran) == 3


def plan_reading(dataset: str, modules=(), seeds: int = 2):
    """small_plan, keyed by the content of an idx: folder and activation modules."""
    return sweep_plan.SweepPlan(["relu"], [1], seeds, {"relu": 0.1}, dict(
        units=3, epochs=1, batch=8, dataset=dataset, preprocess="raw", dtype="float64",
        train_rows=None, activation_modules=tuple(map(str, modules)),
        inputs=sweep_plan.inputs_digest(dataset, modules)))


def test_a_changed_data_file_or_activation_module_reruns_its_rows(ran, tmp_path):
    """issue 27: after the files of an idx: folder were replaced (or a module edited, same
    name), a rerun said "0 run now" and mixed old and new results in one table."""
    data, module = tmp_path / "data", tmp_path / "acts.py"
    data.mkdir()
    (data / "train-images-idx3-ubyte").write_bytes(b"first images")
    module.write_text("# version 1\n")
    dataset, out = f"idx:{data}", tmp_path / "sweep"
    assert run_sweep(plan_reading(dataset, [module]), out, quiet=True).run_now == 2
    assert run_sweep(plan_reading(dataset, [module]), out, quiet=True).run_now == 0  # twin
    (data / "train-images-idx3-ubyte").write_bytes(b"other images")
    assert run_sweep(plan_reading(dataset, [module]), out, quiet=True).run_now == 2
    module.write_text("# version 2\n")
    again = run_sweep(plan_reading(dataset, [module]), out, quiet=True)
    assert again.run_now == 2 and again.from_log == 0 and len(ran) == 6


def test_a_forged_or_edited_log_row_is_refused_and_runs_again(ran, tmp_path, capsys):
    """issue 27: a hand-written sweep.jsonl row with an 87-point accuracy gap counted as
    "agree 1/1".  Variants: a row edited after it was written, and a row signed anew
    whose fields contradict its key."""
    configs = small_plan(3).configurations()
    run_sweep(small_plan(3), tmp_path, quiet=True)
    rows = [json.loads(line) for line in (tmp_path / "sweep.jsonl").read_text().splitlines()]
    rows[0]["keras_accuracy"] = 0.07                 # edited: its digest no longer fits
    rows[1] = store.signed({**{k: v for k, v in rows[1].items() if k != "digest"},
                            "seed": 2})              # seed 2's numbers under seed 1's key
    (tmp_path / "sweep.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    sweep = run_sweep(small_plan(3), tmp_path, quiet=True)
    err = capsys.readouterr().err
    assert "line 1 is damaged (its digest does not match its fields" in err
    assert "line 2 is damaged (its seed 2 is not its key's 1)" in err
    assert sweep.run_now == 2 and sweep.from_log == 1
    assert ran[3:] == [configs[0].key, configs[1].key]
    assert all(row["keras_accuracy"] == 0.5 for row in sweep.rows)


def test_a_second_sweep_on_one_folder_waits_and_computes_nothing_twice(ran, tmp_path, capsys):
    """The first sweep holds the folder's lock while it runs: the second waits, then
    finds the first one's rows in the log."""
    configs, results = small_plan().configurations(), []
    with store.SweepLock(tmp_path):  # the first sweep, running
        second = threading.Thread(target=lambda: results.append(
            run_sweep(small_plan(), tmp_path, quiet=True)))
        second.start()
        deadline = time.time() + 10
        while "waiting for the sweep" not in capsys.readouterr().err:
            assert time.time() < deadline and second.is_alive()
            time.sleep(0.02)
        log = store.ResultsLog(tmp_path)
        for config in configs:  # the first sweep's rows arrive
            log.append(fake_row(config))
        assert second.is_alive()
    second.join(10)
    assert ran == [] and results[0].from_log == 3
    # The twin: with nobody else working there, the same sweep runs its configurations.
    run_sweep(small_plan(), tmp_path / "alone", quiet=True)
    assert len(ran) == 3


def test_a_full_disk_or_a_forbidden_sweep_log_is_one_line(ran, cli, idx_dir, tmp_path,
                                                         monkeypatch):
    args = ["sweep", "--activations", "relu", "--seeds", "1", "--dataset", f"idx:{idx_dir}",
            "--quiet", "--no-plot", "--out", str(tmp_path)]
    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", no_space)
        code, out, err = cli(*args)
    assert code == 2 and out == ""
    assert one_line(err).endswith(f"cannot append to the sweep log {tmp_path / 'sweep.jsonl'}: "
                                  f"No space left on device; free some space or choose "
                                  f"another location")

    def forbidden(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(store, "open", forbidden, raising=False)
    (tmp_path / "sweep.jsonl").write_text("")
    code, out, err = cli(*args)
    assert code == 2 and "cannot read the sweep log" in one_line(err)
    assert "Permission denied" in err


def children(pid: int) -> set[int]:
    """The live processes whose parent is `pid` (Linux /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pids) -> set[int]:
    """Those of `pids` still running (a zombie has finished)."""
    running = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            running.add(pid)
    return running


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_a_sweep_takes_its_workers_with_it(idx_dir, tmp_path):
    sweep = subprocess.Popen([sys.executable, "-m", "compare", "sweep", "--workers", "2",
                              "--activations", "relu,abs", "--seeds", "1", "--units", "3",
                              "--epochs", "1", "--batch", "8", "--dataset", f"idx:{idx_dir}",
                              "--quiet", "--no-plot", "--out", str(tmp_path)], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, workers = time.time() + 60, set()
        while len(workers) < 2:
            assert time.time() < deadline and sweep.poll() is None
            workers = {pid for pid in children(sweep.pid) if b"spawn_main" in cmdline(pid)}
            time.sleep(0.05)
        time.sleep(1.0)  # the workers are past their start-up
        sweep.kill()
        sweep.wait(10)
        deadline = time.time() + 5
        while alive(workers) and time.time() < deadline:
            time.sleep(0.05)
        assert not alive(workers), "workers outlived their sweep"
    finally:
        sweep.kill()
        for pid in alive(workers):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("protected", [True, False])
def test_die_with_parent_is_what_ends_the_worker(tmp_path, protected):
    """The twin of the test above, without TensorFlow: a process that does not call
    die_with_parent outlives a killed parent; one that does, does not."""
    script = tmp_path / "parent.py"
    script.write_text(WORKER_SCRIPT)
    parent = subprocess.Popen([sys.executable, str(script), "yes" if protected else "no"],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
    worker = int(parent.stdout.readline())
    try:
        assert parent.stdout.readline() == "ready\n"  # the worker, past its start-up
        parent.kill()
        parent.wait(10)
        deadline = time.time() + (3 if protected else 1)
        while alive({worker}) and time.time() < deadline:
            time.sleep(0.05)
        assert alive({worker}) == (set() if protected else {worker})
    finally:
        if alive({worker}):
            os.kill(worker, signal.SIGKILL)


WORKER_SCRIPT = """
import multiprocessing, os, sys, time
from compare.sweep import executors

def work(protected, parent):
    if protected:
        executors.die_with_parent(parent)
    print("ready", flush=True)
    time.sleep(60)

if __name__ == "__main__":
    worker = multiprocessing.get_context("spawn").Process(
        target=work, args=(sys.argv[1] == "yes", os.getpid()))
    worker.start()
    print(worker.pid, flush=True)
    time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("protected", [True, False])
def test_kill_9_of_code_takes_the_program_it_runs_with_it(tmp_path, protected):
    """issue 27: killing `nn-compare code` left `python keras_version.py` running.  The
    parent runs a program through codegen's run_program (protected) or a plain
    subprocess.run (the twin, which outlives it)."""
    (tmp_path / "keras_version.py").write_text(
        "import os, time\nopen('pid', 'w').write(str(os.getpid()))\ntime.sleep(60)\n")
    script = tmp_path / "parent.py"
    script.write_text(CODE_PARENT)
    parent = subprocess.Popen([sys.executable, str(script), "yes" if protected else "no",
                               str(tmp_path)], cwd=ROOT, env=dict(os.environ,
                                                                  PYTHONPATH=str(ROOT)))
    pid_file, deadline = tmp_path / "pid", time.time() + 30
    while not (pid_file.exists() and pid_file.read_text()):
        assert time.time() < deadline and parent.poll() is None
        time.sleep(0.05)
    program = int(pid_file.read_text())
    try:
        parent.kill()
        parent.wait(10)
        deadline = time.time() + (3 if protected else 1)
        while alive({program}) and time.time() < deadline:
            time.sleep(0.05)
        assert alive({program}) == (set() if protected else {program})
    finally:
        if alive({program}):
            os.kill(program, signal.SIGKILL)


CODE_PARENT = """
import subprocess, sys
from pathlib import Path
from compare.codegen.outputs import run_program

folder = Path(sys.argv[2])
if sys.argv[1] == "yes":
    run_program(folder, "keras_version.py")
else:
    subprocess.run([sys.executable, "keras_version.py"], cwd=folder)
"""


def cmdline(pid: int) -> bytes:
    """A process's command line; b"" once it has gone (it may end while we look)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


# --- stdout ---------------------------------------------------------------------------
@pytest.mark.parametrize("stdout, words", [
    ("/dev/full", "nn-compare: error: cannot write to stdout: No space left on device"),
    ("closed", "nn-compare: error: stdout is closed")])
def test_a_stdout_that_cannot_take_the_output_is_named_in_one_line(tmp_path, stdout, words):
    """issue 27: "cannot use a file: ..." did not say which (a closed fd 1: silence, exit 0)."""
    def run(target):
        command = [sys.executable, "-m", "compare", "check", "--help"]
        if target == "closed":
            return subprocess.run(command, cwd=ROOT, stderr=subprocess.PIPE, text=True,
                                  pass_fds=(), preexec_fn=lambda: os.close(1))
        with open(target, "w") as handle:
            return subprocess.run(command, cwd=ROOT, stdout=handle, stderr=subprocess.PIPE,
                                  text=True)

    done = run(stdout)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(words), done.stderr
    kept = run(tmp_path / "help.txt")  # the twin: a file that takes it
    assert kept.returncode == 0 and kept.stderr == ""
    assert "usage: nn-compare check" in (tmp_path / "help.txt").read_text()
