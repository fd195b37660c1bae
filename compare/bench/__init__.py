"""`nn-compare bench`: seconds per training epoch, by hand and in Keras, against the machine's peak.

    runner.py     the configurations, one timing runner per implementation, `run_bench`
    flops.py      matmul flops of an epoch (dense and convolution products)
    peak.py       `matmul_peak`: the measured matmul peak per dtype
    timing.py     `best_seconds`: the fastest of n calls (the peak and the breakdown)
    breakdown.py  where a fast step's time goes, phase by phase, and the `ceilings`
    table.py      the bench and breakdown tables

The machine is described by compare/environment.py (shared with results.json).
"""
