"""Several Keras backends as witnesses: `--backend tensorflow,jax` on gradients, train, report.

    nn-compare gradients --backend tensorflow,jax
    nn-compare report --preset book-ch18-bn --backend tensorflow,jax

Keras fixes its backend when it is imported, so each backend runs in its own
process: the same command with `--backend NAME`, its results in a JSON file and
Keras' own arrays (the gradients) in an .npz (`--keras-arrays`, hidden).  The
hand-written side is the same in every child (same seed, same weights, same
batches), so what this module adds is the comparison of the backends with each
other:

* the hand-written side against each backend (each child's own verdict);
* each pair of backends, judged by the hand-written side's round-off: a gradient
  row by the limit its child allowed (the tolerance, or ROUNDOFF_FACTOR x the
  row's round-off, compare/tolerances.py), a training run step by step by the
  round-off band (compare/training/tolerances.py);
* a difference seen against one backend only, while the other backends agree
  with the hand-written side and disagree with it, is marked as that backend's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from itertools import combinations

import numpy as np
from tabulate import tabulate

from handrolled.errors import SpecError

from .exit_codes import AGREE, BAD_INPUT, DISAGREE
from .output import fmt
from .tolerances import max_diffs
from .training.verdict import IDENTICAL, WITHIN_ROUNDOFF, shown

BEYOND_ROUNDOFF = "differ beyond round-off"  # a pair of backends outside the round-off band

# options a child gets from the parent, never from the user's command line
CHILD_OPTIONS = ("--backend", "--json", "--keras-arrays", "--out")


# ------------------------------------------------------------------ the child's side
def save_keras_arrays(path: str, comparison=None) -> None:
    """What a child hands its parent beside its JSON: Keras' gradients by name (from a
    GradientComparison, if there is one) and the resolution floor its rows used."""
    from .tolerances import resolution_floor

    arrays, floor = {}, 0.0
    if comparison is not None:
        arrays = {f"gradients/{name}": value
                  for name, value in comparison.keras_gradients.items()}
        floor = resolution_floor(comparison.spec.dtype, comparison.spec.depth,
                                 comparison.loss_handrolled)
    np.savez(path, floor=np.float64(floor), **arrays)


# ------------------------------------------------------------------ the parent's side
def child_argv(argv: list[str], backend: str, json_path: str, arrays_path: str,
               out: str | None) -> list[str]:
    """The command line once more, for one backend (the parent's own --backend, --json,
    --out and --keras-arrays replaced)."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in CHILD_OPTIONS:
            skip = "=" not in arg
            continue
        kept.append(arg)
    kept += ["--backend", backend, "--json", json_path, "--keras-arrays", arrays_path]
    return kept + (["--out", out] if out is not None else [])


def run_child(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "compare", *argv], capture_output=True,
                          text=True, env=dict(os.environ))


def run_across_backends(args, command: str, backends: list[str], out_dir=None,
                        fresh: bool = False) -> int:
    """Run `command` once per backend, then print the comparison across backends."""
    argv = getattr(args, "argv", None)
    if argv is None:
        raise SpecError("several backends need the command line to rerun it per backend")
    from .report.backends import check_across_out, claim_fresh, write_across_report

    if out_dir is not None and not fresh:
        check_across_out(out_dir, backends)  # before any child runs
    results, arrays = {}, {}
    with tempfile.TemporaryDirectory(prefix="nn-compare-backends-") as tmp:
        claimed = None
        if out_dir is not None and fresh:  # reports/<time stamp>/<backend>/ for each child
            out_dir = claimed = claim_fresh(out_dir)
        for backend in backends:
            json_path = os.path.join(tmp, f"{backend}.json")
            arrays_path = os.path.join(tmp, f"{backend}.npz")
            out = None if out_dir is None else os.path.join(out_dir, backend)
            print(f"== keras on {backend} ==", flush=True)
            done = run_child(child_argv(argv, backend, json_path, arrays_path, out))
            if done.returncode not in (AGREE, DISAGREE) or not os.path.exists(json_path):
                sys.stderr.write(done.stderr)
                if claimed is not None:  # nothing half-written: the new folder goes
                    import shutil
                    shutil.rmtree(claimed, ignore_errors=True)
                return done.returncode or BAD_INPUT
            print(summary_lines(done.stdout), flush=True)
            with open(json_path) as file:
                results[backend] = json.load(file)
            with np.load(arrays_path) as saved:
                arrays[backend] = {key: saved[key] for key in saved.files}
    across = compare_backends(results, arrays)
    saved = None  # on disk before the verdict is shown
    if out_dir is not None:
        import shlex
        saved = write_across_report(out_dir, across, results,
                                    " ".join(["nn-compare", *map(shlex.quote, argv)]))
    if args.json:
        from .output import write_json
        write_json(args.json, {"backends": results, "across": across})
    print(across_text(across))
    if saved is not None:
        print(f"report across backends: {saved}")
    return AGREE if across["agree"] else DISAGREE


def summary_lines(stdout: str) -> str:
    """A child's verdict lines and where it saved its report, each with the indented
    lines that continue it (the console wraps long lines)."""
    keep, kept = [], False
    for line in stdout.splitlines():
        if line.startswith(("verdict:", "gradients:", "report:", "loss:", "note:")):
            keep.append(line)
            kept = True
        elif kept and line.startswith("  ") and line.strip():
            keep.append(line)
        else:
            kept = False
    return "\n".join(keep)


def _shown(verdict: str) -> str:
    """A training verdict in the console's words and case (compare/training/verdict.shown)."""
    return "DISAGREE (beyond round-off)" if verdict == BEYOND_ROUNDOFF else shown(verdict)


def compare_backends(results: dict, arrays: dict) -> dict:
    """{'gradients': rows, 'training': pairs, 'agree': ...} across the backends."""
    backends = list(results)
    across = {"backends": backends, "agree": all(r["agree"] for r in results.values())}
    gradients = {b: r if isinstance(r.get("gradients"), list) else r["gradients"]  # the
                 for b, r in results.items() if r.get("gradients")}  # gradients command's
    if len(gradients) == len(backends):
        across["gradients"] = gradient_rows(gradients, arrays)
        across["agree"] &= all(row["agree"] for row in across["gradients"])
    training = {b: r["training"] for b, r in results.items() if r.get("training")}
    if len(training) == len(backends):
        across["training"] = training_pairs(training)
        across["agree"] &= all(pair["agree"] for pair in across["training"]["pairs"])
    return across


def pairs(backends: list[str]) -> list[tuple[str, str]]:
    return list(combinations(backends, 2))


def gradient_rows(gradients: dict, arrays: dict) -> list[dict]:
    """One row per parameter: max rel diff of the hand-written side against each backend
    (from the children) and of each pair of backends (here, by the same max_diffs and
    the floor the children used), each judged by the row's limit."""
    backends = list(gradients)
    first = gradients[backends[0]]["gradients"]
    rows = []
    for i, row in enumerate(first):
        name = f"{row['layer']}/{row['param']}" if isinstance(row["layer"], str) \
            else f"{row['param']}{row['layer']}"
        limit = max(gradients[b]["gradients"][i]["limit"] for b in backends)
        out = {"name": name, "shape": row["shape"], "limit": limit, "handrolled": {},
               "pairs": {}}
        for b in backends:
            theirs = gradients[b]["gradients"][i]
            out["handrolled"][b] = {"max_rel_diff": theirs["max_rel_diff"],
                                    "agree": theirs["agree"]}
        for a, b in pairs(backends):
            floor = float(max(arrays[a]["floor"], arrays[b]["floor"]))
            rel = max_diffs(arrays[a][f"gradients/{name}"], arrays[b][f"gradients/{name}"],
                            floor)[1]
            out["pairs"][f"{a} vs {b}"] = {"max_rel_diff": rel, "agree": bool(rel <= limit)}
        out["whose"] = whose(out["handrolled"], out["pairs"])
        out["agree"] = all(v["agree"] for v in [*out["handrolled"].values(),
                                                 *out["pairs"].values()])
        rows.append(out)
    return rows


def whose(handrolled: dict, backend_pairs: dict) -> str:
    """Which side a difference belongs to: '' (none), a backend's name (it alone differs
    from the hand-written side and from the other backends, which agree with it),
    'handrolled' (every backend agrees with the others and differs from it), or
    'unclear'."""
    off = [b for b, cell in handrolled.items() if not cell["agree"]]
    if not off and all(cell["agree"] for cell in backend_pairs.values()):
        return ""
    if len(off) == len(handrolled) and all(cell["agree"] for cell in backend_pairs.values()):
        return "handrolled"
    if len(off) == 1 and len(handrolled) > 1:
        lone = off[0]
        against = [cell["agree"] for pair, cell in backend_pairs.items()
                   if lone in pair.split(" vs ")]
        if not any(against):
            return lone
    return "unclear"


def training_pairs(training: dict) -> dict:
    """Per backend: the hand-written side against it (the child's verdict and largest step
    difference); per pair of backends: their largest step-loss difference and whether
    every step stays inside the round-off band (the larger of the two children's)."""
    backends = list(training)
    steps = {b: np.concatenate([np.asarray(e, float) for e in t["keras"]["step_loss"]])
             for b, t in training.items()}
    bands = {b: np.asarray(t["roundoff"]["band"], float) if t.get("roundoff") else None
             for b, t in training.items()}
    out = {"handrolled": {b: {"verdict": t["verdict"], "agree": t["agree"],
                              "max_step_loss_diff": t["max_step_loss_diff"]}
                          for b, t in training.items()},
           "pairs": []}
    for a, b in pairs(backends):
        n = min(len(steps[a]), len(steps[b]))
        diff = np.abs(steps[a][:n] - steps[b][:n])
        band = None
        if bands[a] is not None and bands[b] is not None:
            m = min(n, len(bands[a]), len(bands[b]))
            band = np.maximum(bands[a][:m], bands[b][:m])
            diff = diff[:m]
        largest = float(diff.max()) if diff.size else 0.0
        if largest == 0.0:
            verdict, agree = IDENTICAL, True
        elif band is not None and bool(np.all(diff <= band)):
            verdict, agree = WITHIN_ROUNDOFF, True
        else:
            verdict, agree = BEYOND_ROUNDOFF, False
        out["pairs"].append({"pair": f"{a} vs {b}", "max_step_loss_diff": largest,
                             "max_band": float(band.max()) if band is not None and band.size
                             else None, "verdict": verdict, "agree": agree})
    for pair in out["pairs"]:
        pair["whose"] = ""
    for b, cell in out["handrolled"].items():
        others = [p for p in out["pairs"] if b in p["pair"].split(" vs ")]
        if not cell["agree"] and others and not any(p["agree"] for p in others) and all(
                c["agree"] for o, c in out["handrolled"].items() if o != b):
            cell["whose"] = b
    return out


GRADIENTS_TITLE = ("Gradients across backends (max rel diff; a pair agrees within the row's "
                   "limit: the tolerance or the hand-written side's round-off)")
TRAINING_TITLE = ("Training across backends (every step's loss; round-off: the hand-written "
                  "side's band, compare/training/tolerances.py)")


def across_tables(across: dict, tablefmt: str = "simple") -> list[tuple[str, str]]:
    """(title, table) for the gradients and the training across backends, in tabulate's
    `tablefmt`: the terminal's, report.md's and report.html's."""
    backends = across["backends"]
    tables = []
    if "gradients" in across:
        pair_names = [f"{a} vs {b}" for a, b in pairs(backends)]
        headers = ["parameter", "shape",  # pairs in two-line headers: 120 columns
                   *[f"handrolled vs\n{b}" for b in backends],
                   *[name.replace(" vs ", " vs\n") for name in pair_names],
                   "limit", "agree", "whose"]
        if tablefmt != "simple":  # one-line headers off the terminal
            headers = [header.replace("\n", " ") for header in headers]
        body = [[row["name"], "x".join(map(str, row["shape"])),
                 *[_cell(row["handrolled"][b]) for b in backends],
                 *[_cell(row["pairs"][p]) for p in pair_names],
                 fmt(row["limit"]), "yes" if row["agree"] else "NO", row["whose"] or "-"]
                for row in across["gradients"]]
        tables.append((GRADIENTS_TITLE, tabulate(body, headers=headers, tablefmt=tablefmt,
                                                 disable_numparse=True)))
    if "training" in across:
        training = across["training"]
        body = [[f"handrolled vs {b}", fmt(cell["max_step_loss_diff"]),
                 _shown(cell["verdict"]), cell.get("whose") or "-"]
                for b, cell in training["handrolled"].items()]
        body += [[p["pair"], fmt(p["max_step_loss_diff"]), _shown(p["verdict"]),
                  p["whose"] or "-"] for p in training["pairs"]]
        tables.append((TRAINING_TITLE, tabulate(
            body, headers=["pair", "max step loss diff", "verdict", "whose"],
            tablefmt=tablefmt, disable_numparse=True)))
    return tables


def verdict_line(across: dict) -> str:
    return (f"verdict across backends ({', '.join(across['backends'])}): "
            f"{'AGREE' if across['agree'] else 'DISAGREE'}")


def across_text(across: dict) -> str:
    """The tables across backends, for the terminal."""
    from .console import wrap

    lines = []
    for title, table in across_tables(across):
        lines += [wrap(title), table, ""]
    lines.append(verdict_line(across))
    return "\n".join(lines)


def _cell(cell: dict) -> str:
    return fmt(cell["max_rel_diff"]) + ("" if cell["agree"] else " NO")
