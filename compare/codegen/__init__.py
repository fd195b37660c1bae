"""`nn-compare code`: the same network written as two short standalone programs.

    numpy_version.py    plain NumPy: the layers, forward, backward, the loss, the
                        optimizer's update and the training loop, equations as comments
    keras_version.py    the same network in idiomatic Keras (Sequential, compile, fit)
    data.npz, weights.npz (, dropout_masks.npz)   what both programs load
    side_by_side.html   the two programs block by block, with the numbers each printed

Modules, one job each:

    blocks.py           `Block`: one step of the story, its NumPy code beside its Keras code
    numpy_layers.py     per layer kind (a registry, like handrolled.layers): the
                        handrolled/layers functions the program embeds, the glue class
                        around them, its Keras line; the activations' own methods
    numpy_training.py   the loss (embedded from handrolled/loss.py), one template per
                        optimizer, the training loop
    programs.py         the blocks of a network: both programs are read off them
    files.py            the arrays both programs load; the folder written atomically
    outputs.py          running the programs, parsing their per-epoch lines, judging them
    html.py             side_by_side.html (self-contained: inline CSS, nothing external)
    generate.py         the whole job: settings -> the project's own run -> the folder
"""
