"""The `nn-compare bench` tables (tabulate), for the terminal and docs/PERFORMANCE.md."""

from __future__ import annotations

from tabulate import tabulate

from .runner import CH19_ROWS, DENSE_ROWS, OTHER_ROWS, ratios_to_baseline
from .breakdown import PHASES, ceilings, shares


# Networks longer than this are named by a letter in the table and spelled out below it,
# so the table fits the console's 120 columns whatever the network.
LONGEST_NETWORK = 24


def network_labels(rows: list[dict]) -> dict[str, str]:
    """{network text: its label in the table}: itself when every one is short, else A, B, ..."""
    networks = list(dict.fromkeys(r["hidden"] for r in rows))
    if all(len(network) <= LONGEST_NETWORK for network in networks):
        return {network: network for network in networks}
    return {network: chr(ord("A") + i) if i < 26 else f"N{i + 1}"
            for i, network in enumerate(networks)}


def bench_table(result: dict, tablefmt: str = "simple") -> str:
    """One row per configuration and implementation; the column 'vs hand' is
    epoch seconds / handrolled's (2.0x: twice as slow as handrolled).  Every line
    fits the console's 120 columns: long networks are lettered, notes wrap."""
    from ..console import wrap

    rows = result["rows"]
    common_rows = result.get("rows_per_epoch")
    labels = network_labels(rows)
    body = [[labels[r["hidden"]], r["batch"], r["dtype"], r["impl"],
             *([] if common_rows else [r["rows"]]), f"{r['epoch_seconds']:.3f}",
             f"{r['epoch_seconds_min']:.3f}-{r['epoch_seconds_max']:.3f}",
             f"{1e3 * r['step_seconds']:.3f}", f"{r['gflops']:.1f}", f"{r['percent_of_peak']:.0f}",
             "-" if ratio is None else f"{ratio:.2f}x",
             "-" if r.get("memory_mb") is None else f"{r['memory_mb']:,.0f}",
             "-" if r.get("blas_threads") is None else r["blas_threads"]]
            for r, ratio in zip(rows, ratios_to_baseline(rows))]
    headers = ["network", "batch", "dtype", "impl", *([] if common_rows else ["rows"]),
               "epoch s", "min-max", "step ms", "GFLOP/s", "% peak", "vs hand", "MB", "threads"]
    table = _tight(body, headers, tablefmt)
    peak = result["peak_gflops"]
    env = result["environment"]
    blas = "; ".join(f"{b.get('internal_api')} {b.get('version')} {b.get('architecture')} "
                     f"kernel, {b.get('num_threads')} threads" for b in env["blas"])
    shapes = ", ".join(dict.fromkeys("x".join(map(str, r.get("input_shape", (28, 28, 1))))
                                     for r in rows))
    on_rows = (f"on {common_rows} synthetic rows of shape {shapes}" if common_rows else
               f"on synthetic rows of shape {shapes} (rows per epoch in the 'rows' column)")
    lettered = [f"network {label}: {network}" for network, label in labels.items()
                if label != network]
    notes = [
        *lettered,
        "columns: vs hand = epoch seconds / handrolled's (2.00x: twice as slow as "
        "handrolled); min-max = the spread of the timed epochs; threads = the hand-written "
        "side's BLAS threads",
        *network_notes(rows, common_rows),
        f"matmul peak ({result['peak_size']}^2 NumPy product, best of 5 before and 5 after, "
        f"with 1 and with all BLAS threads): float32 {peak['float32']:.1f} GFLOP/s, float64 "
        f"{peak['float64']:.1f} GFLOP/s",
        f"machine: {env['cpu']}, {env['cpus_usable']} usable cores, AVX-512 "
        f"{'yes' if env.get('avx512') else 'no'}; BLAS: {blas}; "
        f"OPENBLAS settings: {_openblas(env)}",
        f"load average before and after: {_loads(result)}",
        *([f"peak resident memory of the process (ru_maxrss): "
           f"{result['peak_memory_mb']:,.0f} MB; column MB: the resident memory each "
           f"implementation holds (set up, warmed up) plus its epochs' largest rise above "
           f"that, TensorFlow's libraries in none (compare/bench/memory.py)"]
          if result.get("peak_memory_mb") else []),
        f"threads: {_threads_text(result)}",
        *kernel_notes(env),
    ]
    title = (f"Training epochs {on_rows}: median of {result['repeats']} "
             f"epoch{'s' if result['repeats'] != 1 else ''} after a warm-up"
             f"{_load_text(result)}")
    return "\n".join([wrap(title), table, *(wrap(note) for note in notes)])


def _tight(body, headers, tablefmt: str) -> str:
    """tabulate without its 2 extra columns of padding around each header (the columns
    are already 2 apart), so the table fits 120 columns."""
    import tabulate as tabulate_module

    padding, tabulate_module.MIN_PADDING = tabulate_module.MIN_PADDING, 0
    try:
        return tabulate(body, headers=headers, tablefmt=tablefmt, disable_numparse=True)
    finally:
        tabulate_module.MIN_PADDING = padding


def _load_text(result: dict) -> str:
    competitors = result.get("load", {}).get("competitors", 0)
    if not competitors:
        return ""
    return (f", with {competitors} CPU-bound competitor process{'es' if competitors > 1 else ''} "
            f"running (--load {competitors})")


def _loads(result: dict) -> str:
    load = result.get("load", {})
    before = load.get("load_average_before")
    after = load.get("load_average_after", result["environment"].get("load_average"))
    return " -> ".join(", ".join(f"{x:.2f}" for x in values)
                       for values in (before, after) if values) or "unknown"


def _threads_text(result: dict) -> str:
    threads = result.get("threads")
    if not threads:
        return "as the libraries start"
    intra, inter = threads["tf_intra_op_threads"], threads["tf_inter_op_threads"]
    tensorflow = (f"TensorFlow {intra or 'its default'} intra-op, {inter or 'its default'} "
                  f"inter-op" if intra or inter else
                  "TensorFlow's default intra-op and inter-op pools, sized by it from the "
                  "machine's cores")
    return (f"hand-written side's BLAS threads {threads['blas']} (column 'threads', "
            f"compare/threads.py); {tensorflow}"
            + ("" if threads["tensorflow_applied"] is not False else
               " (TensorFlow had already started with its own pools)"))


def network_notes(rows: list[dict], common_rows: int | None = None) -> list[str]:
    """What the figures of a network that is not dense-only mean, and why its epochs
    may have fewer rows than the dense ones'."""
    others = list(dict.fromkeys(r["hidden"] for r in rows if not r.get("dense", True)))
    if not others:
        return []
    notes = [f"note: {', '.join(others)}: not a dense network, so handrolled runs the "
             f"layer-by-layer fast epoch (handrolled/fast_conv.py; handrolled.fast's fused "
             f"loop is for dense networks); its GFLOP/s count the convolution (im2col) and "
             f"dense products, pooling and flatten none (compare/bench/flops.py)"]
    if not common_rows:
        notes.append(f"note: rows per epoch differ: without --rows, a dense network trains "
                     f"on {DENSE_ROWS} rows and any other on {OTHER_ROWS} (a NumPy "
                     f"convolution epoch is slow; --suite cnn's book-ch19-cnn network on "
                     f"{CH19_ROWS}); --rows sets every configuration")
    return notes


def _openblas(env: dict) -> str:
    settings = {k: v for k, v in env["env"].items() if k.startswith("OPENBLAS_")}
    return ", ".join(f"{k}={v}" for k, v in settings.items()) or "none"


def kernel_notes(env: dict) -> list[str]:
    """What a pinned OpenBLAS kernel means for the figures (TensorFlow does not use it)."""
    coretype = env["env"].get("OPENBLAS_CORETYPE")
    if not coretype:
        return []
    return [f"note: OPENBLAS_CORETYPE={coretype} pins NumPy's OpenBLAS to its {coretype} "
            f"kernel on any CPU (TensorFlow does not use OpenBLAS), so the handrolled figures "
            f"and the peak may be held back; with a current NumPy, `env -u OPENBLAS_CORETYPE "
            f"-u OPENBLAS_L2_SIZE nn-compare bench` lets OpenBLAS pick (docs/PERFORMANCE.md)"]


def breakdown_table(breakdowns: list[dict], peak_gflops: dict, tablefmt: str = "simple") -> str:
    """Milliseconds per step in each phase and its share of the step; then the
    step's % of the matmul peak and the ceilings above it (breakdown.ceilings)."""
    columns = [*PHASES, "other", "step"]
    body, notes = [], []
    for b in breakdowns:
        seconds, share = b["seconds_per_step"], shares(b)
        cells = [f"{1e3 * seconds[c]:.3f} ({share[c]:.0f}%)" for c in columns[:-1]]
        if b.get("excess", 0) > 0:
            notes.append(f"note: {b['hidden']} batch {b['batch']} {b['dtype']}: the phases, "
                         f"each timed alone, add up to {100 * b['excess']:.0f}% more than the "
                         f"whole step: the machine was too noisy for this breakdown (shares "
                         f"are of the phases' sum, other is 0); rerun it on a quieter machine")
        limits = ceilings(b, peak_gflops[b["dtype"]])
        body.append([b["hidden"], b["batch"], b["dtype"], *cells, f"{1e3 * seconds['step']:.3f}",
                     *(f"{limits[k]:.0f}" for k in ("step", "phases", "matmul"))])
    headers = ["network", "batch", "dtype", *(f"{c} ms" for c in columns),
               "% peak", "phases only", "matmul only"]
    return ("Where a handrolled step goes (best of many isolated runs per phase); % of the "
            "matmul peak for the step, and if only the phases, or only the products, took time\n"
            + tabulate(body, headers=headers, tablefmt=tablefmt, disable_numparse=True)
            + "".join(f"\n{note}" for note in notes))
