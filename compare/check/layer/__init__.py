"""Check a user's own layer (Conv2D, pooling, BatchNormalization, Dropout, Dense, Flatten,
Activation) against the real Keras layer: the "layer" target kind.

    contract    what the file declares; its layout and names <-> canonical terms
    grid        the configurations and inputs (Cases)
    user_side   the user's layer on a case, through the UserProcess
    keras_side  the Keras layer on a case (GradientTape; state)
    results     StepResult, and handrolled's own layer on a case
    variants    named bugs as NumPy variants
    comparison  rows: yours vs expected; the tolerances
    diagnosis   which variant reproduces your numbers; where the rest differs
    outcome     the table, the verdict, JSON
    run         run_layer_check, registered as the "layer" kind in kind.py

See docs/checking/layer.md.
"""
