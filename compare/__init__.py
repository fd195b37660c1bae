"""compare: proves with numbers that `handrolled` and `keras_impl` agree.

Gradients (`compare.gradients`), finite differences (`compare.finite_diff`),
tolerances (`compare.tolerances`) and the `nn-compare` command line (`compare.cli`).
Importing `compare` itself is cheap; the modules that need TensorFlow import it.
"""
