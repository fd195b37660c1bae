"""Layer targets (`nn-compare check` on a file declaring LAYER): each layer kind agrees
with the real Keras layer in channels-last function style and channels-first class style,
each agreement has a failing twin, every named bug is named in text and JSON, and a
misbehaving target is one line, exit 2.

The targets live in tests/targets/layers/; each has a BUG switch that `set_bug` flips
inside its own process, so one process serves a correct run and all its twins (a process
per run would cost a second each).  The checker never reads BUG: only numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from compare.check.kinds import CheckOptions
from compare.check.layer.comparison import compare_cases
from compare.check.layer.run import run_layer_check
from compare.check.process import UserProcess

TARGETS = Path(__file__).parent / "targets" / "layers"


def copy_with(tmp_path, name, layer):
    """tests/targets/layers/<name> with another LAYER line."""
    text = (TARGETS / name).read_text()
    start = text.index("\nLAYER = ") + 1
    end = text.index("\n", start)
    path = tmp_path / f"{Path(name).stem}_{layer.split('(')[0]}.py"
    path.write_text(text[:start] + f"LAYER = {layer!r}" + text[end:])
    return path


def runs(path, bugs, dtype=None):
    """{bug: outcome} for each BUG setting, all in one user process."""
    outcomes = {}
    with UserProcess(path) as user:
        for bug in bugs:
            user.call("set_bug", bug)
            outcomes[bug] = run_layer_check(user, CheckOptions(dtype=dtype))
    return outcomes


def assert_agrees(outcome):
    assert outcome.agree, outcome.format()
    assert outcome.diagnosis == [] and outcome.to_dict()["diagnosis"] == []
    assert "verdict: AGREE" in outcome.format()


def assert_named(outcome, bug):
    text, data = outcome.format(), outcome.to_dict()
    assert not outcome.agree, text
    assert "verdict: DISAGREE" in text
    assert [f["bug"] for f in data["diagnosis"]] == [bug], text
    assert f"{bug}: " in text.split("verdict: DISAGREE")[1]
    json.dumps(data)                                       # JSON-safe


# ------------------------------------------------------------------ every kind agrees

KINDS = ["conv(4,3)", "dense(3,relu)", "maxpool(2)", "avgpool(3)", "batchnorm", "dropout(0.5)",
         "flatten", "activation(tanh)"]


@pytest.mark.parametrize("style", ["handrolled_functions.py", pytest.param(
    "handrolled_class_nchw.py", marks=pytest.mark.slow)])  # ~1 s each: the second style slow
@pytest.mark.parametrize("layer", KINDS)
def test_handrolled_layers_agree_and_their_twin_does_not(tmp_path, layer, style):
    """The project's own layers as targets (channels-last functions with `config`;
    channels-first NCHW classes with oihw kernels and PyTorch-like names) agree; the twin
    with dx 1% off disagrees, names no bug, and says where the difference is."""
    outcomes = runs(copy_with(tmp_path, style, layer), [None, "dx_off"])
    assert_agrees(outcomes[None])
    twin = outcomes["dx_off"]
    assert not twin.agree and twin.diagnosis == []
    assert any(s.startswith("dx differs") for s in twin.unexplained), twin.format()
    bad = {q["quantity"] for q in twin.to_dict()["quantities"] if not q["agree"]}
    assert bad == {"dx"}


def test_user_names_and_layout_are_in_the_table(tmp_path):
    outcome = runs(copy_with(tmp_path, "handrolled_class_nchw.py", "batchnorm"), [None])[None]
    names = [q["quantity"] for q in outcome.to_dict()["quantities"]]
    assert names == ["out", "dx", "grad weight_bn", "grad bias_bn", "state running_mean",
                     "state running_var"]
    assert "(channels_first; LAYER_CLASS" in outcome.format().split("grid:")[0]


# ------------------------------------------------------------------ named bugs

CONV_BUGS = ["conv_flipped_kernel", "conv_kernel_transposed", "same_padding_symmetric",
             "conv_dx_empty_at_pad0", "conv_bias_not_summed",
             "conv_bias_averaged_over_positions"]
MAXPOOL_BUGS = ["same_padding_symmetric", "maxpool_grad_to_all_ties", "maxpool_grad_to_last_tie"]
AVGPOOL_BUGS = ["same_padding_symmetric", "avgpool_counts_padding"]
BATCHNORM_BUGS = ["batchnorm_per_position", "batchnorm_no_mean_term",
                  "batchnorm_no_variance_term", "batchnorm_unbiased_variance",
                  "batchnorm_unbiased_moving_variance", "batchnorm_momentum_reversed",
                  "batchnorm_first_batch_start", "batchnorm_eps_outside_sqrt",
                  "batchnorm_inference_batch_statistics"]
DROPOUT_BUGS = ["dropout_not_scaled", "dropout_scaled_at_inference",
                "dropout_scaled_in_both_modes", "dropout_rate_as_keep_probability"]


@pytest.mark.parametrize("name, layer, bugs", [
    pytest.param("cs231n_conv.py", None, CONV_BUGS, marks=pytest.mark.slow),      # ~5 s
    ("cs231n_pool.py", None, MAXPOOL_BUGS),
    ("cs231n_pool.py", "avgpool(3)", AVGPOOL_BUGS),
    pytest.param("cs231n_batchnorm.py", None, BATCHNORM_BUGS, marks=pytest.mark.slow),  # ~9 s
    ("class_dropout.py", None, DROPOUT_BUGS),
])
def test_each_named_bug_is_named_and_the_correct_code_is_not(tmp_path, name, layer, bugs):
    path = TARGETS / name if layer is None else copy_with(tmp_path, name, layer)
    outcomes = runs(path, [None, *bugs])
    assert_agrees(outcomes[None])
    for bug in bugs:
        assert_named(outcomes[bug], bug)


def test_flatten_order_of_channels_first_code_is_a_convention(tmp_path):
    outcomes = runs(TARGETS / "flatten_nchw.py", [None, "wrong_order"])
    right = outcomes[None]
    assert right.agree and right.diagnosis == []
    assert [c["name"] for c in right.to_dict()["conventions"]] == ["flatten_channels_first_order"]
    twin = outcomes["wrong_order"]                        # (W, H, C): no convention has it
    assert not twin.agree and twin.conventions == [] and twin.diagnosis == []


def test_float32_agrees_and_its_twin_does_not():
    outcomes = runs(TARGETS / "cs231n_conv.py", [None, "conv_flipped_kernel"], dtype="float32")
    assert_agrees(outcomes[None])
    assert outcomes[None].tolerance.rtol == 1e-3
    assert_named(outcomes["conv_flipped_kernel"], "conv_flipped_kernel")


# ------------------------------------------------------------------ round-off, measured

@pytest.mark.slow  # ~6 s
def test_measured_round_off_of_correct_layers_is_far_inside_the_tolerance(tmp_path):
    """What comparison.LAYER_TOLERANCES' comment states: correct code (handrolled's own
    batch normalization, up to an 8x12x12x3 input, and the CS231n-style convolution)
    differs from Keras by at most 5.5e-13 in float64 and 4.3e-5 in float32 (measured):
    at least 10x inside the tolerances, so round-off cannot raise a false alarm."""
    worst = {}
    for dtype in ("float64", "float32"):
        for path in (copy_with(tmp_path, "handrolled_class_nchw.py", "batchnorm"),
                     TARGETS / "cs231n_conv.py"):
            outcome = runs(path, [None], dtype=dtype)[None]
            worst[dtype] = max([worst.get(dtype, 0.0)] + [r.max_rel for r in outcome.rows
                                                            if r.max_rel is not None])
    assert worst["float64"] < 1e-10 and worst["float32"] < 1e-4, worst


@pytest.mark.slow  # ~2 s
def test_batchnorm_after_a_convolution_on_a_large_input_stays_inside_the_tolerance(
        monkeypatch):
    """The issue's worry: batch normalization over 21,632 values per channel (32x26x26x8).
    Handrolled's layer vs Keras' measured 3.8e-13 (float64) and 1.3e-4 (float32); the
    tolerances are 1e-9 and 1e-3."""
    from handrolled.spec import parse_layer
    from compare.check.layer import grid
    from compare.check.layer.comparison import LAYER_TOLERANCES
    from compare.check.layer.keras_side import keras_steps
    from compare.check.layer.results import handrolled_steps

    monkeypatch.setitem(grid.INPUTS, "batchnorm", lambda config: [
        ("32x26x26x8", ("large",), (32, 26, 26, 8), grid._batchnorm_maker)])
    for dtype in ("float64", "float32"):
        case = grid.build_cases([grid.Config(parse_layer("batchnorm"))], seed=0)[0].cast(dtype)
        rows = compare_cases([handrolled_steps(case)], [keras_steps(case, dtype)], 1.0)
        worst = max(row.max_rel for row in rows)
        assert worst < LAYER_TOLERANCES[dtype].rtol / 5, (dtype, worst)


def test_undeviated_batchnorm_variant_is_handrolleds_layer():
    """variants.batchnorm_steps() without deviations computes what handrolled's
    BatchNormalization does (the base of every batch-norm bug variant)."""
    from handrolled.spec import parse_layer
    from compare.check.layer.grid import build_cases, Config
    from compare.check.layer.results import handrolled_steps
    from compare.check.layer.variants import batchnorm_steps

    for case in build_cases([Config(parse_layer("batchnorm"))], seed=3):
        for ours, theirs in zip(batchnorm_steps(case), handrolled_steps(case)):
            for key, value in theirs.quantities().items():
                np.testing.assert_allclose(ours.quantities()[key], value, rtol=1e-11,
                                           atol=1e-13)
        deviated = batchnorm_steps(case, ddof=1)             # its twin
        assert not np.allclose(deviated[0].out, handrolled_steps(case)[0].out)


# ------------------------------------------------------------------ command line and API

def test_cli_exit_codes_and_json(cli, tmp_path):
    code, out, _ = cli("check", str(TARGETS / "flatten_nchw.py"))
    assert code == 0 and "verdict: AGREE" in out
    buggy = tmp_path / "conv_bug.py"
    buggy.write_text((TARGETS / "cs231n_conv.py").read_text().replace(
        "BUG = None", 'BUG = "conv_flipped_kernel"'))
    report = tmp_path / "out.json"
    code, out, _ = cli("check", str(buggy), "--json", str(report))
    data = json.loads(report.read_text())
    assert code == 1 and data["kind"] == "layer" and not data["agree"]
    assert data["diagnosis"][0]["bug"] == "conv_flipped_kernel"
    assert data["data_format"] == "channels_first" and data["kernel_layout"] == "oihw"


def test_assert_layer_matches_keras(tmp_path):
    from compare.testing import assert_layer_matches_keras

    assert assert_layer_matches_keras(TARGETS / "flatten_nchw.py").agree
    buggy = tmp_path / "dropout_bug.py"
    buggy.write_text((TARGETS / "class_dropout.py").read_text().replace(
        "BUG = None", 'BUG = "dropout_not_scaled"'))
    with pytest.raises(AssertionError, match="dropout_not_scaled: not scaled"):
        assert_layer_matches_keras(buggy)


FLATTEN = 'LAYER = "flatten"\n'
MISBEHAVING = [  # a process each (~0.6 s): the last four run with the slow tests
    ("def forward(x, params, training):\n    raise ValueError('boom')\n"
     "def backward(dout, cache):\n    return dout, {}\n", "raised ValueError: boom"),
    ("def forward(x, params, training):\n    return x, None\n"
     "def backward(dout, cache):\n    return dout, {}\n", "output of shape"),
    ("import numpy as np\ndef forward(x, params, training):\n"
     "    return x.reshape(len(x), -1) * np.nan, None\n"
     "def backward(dout, cache):\n    return dout, {}\n", "NaN or infinity"),
    ("def forward(x, params, training):\n    return x.reshape(len(x), -1) * 1j, None\n"
     "def backward(dout, cache):\n    return dout, {}\n", "complex"),
    pytest.param("def forward(x, params, training):\n    return x.reshape(len(x), -1), x.shape\n"
                 "def backward(dout, shape):\n    return dout.reshape(shape), {'w': dout}\n",
                 "returned gradients for ['w']; expected exactly []", marks=pytest.mark.slow),
    pytest.param("def forward(x, params, training):\n    return x.reshape(len(x), -1), x.shape\n"
                 "def backward(dout, shape):\n    return dout[:, :3], {}\n",
                 "returned dx of shape", marks=pytest.mark.slow),
    pytest.param("def forward(x, params, training):\n    return x.reshape(len(x), -1), x.shape\n",
                 "backward is missing", marks=pytest.mark.slow),
    pytest.param("LAYER_CLASS = 3\n", "LAYER_CLASS must be a class", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("body, fragment", MISBEHAVING)
def test_misbehaving_target_is_one_line_exit_2(cli, tmp_path, body, fragment):
    path = tmp_path / "bad.py"
    path.write_text(FLATTEN + body)
    code, out, err = cli("check", str(path))
    assert code == 2 and out == "", (out, err)
    last = err.strip().splitlines()[-1]          # above it, only the user's own traceback
    assert last.startswith("nn-compare: error:") and fragment in last, err
    assert "compare/check" not in err, err       # no traceback of the checker


def test_unknown_layer_text_and_layout_are_exit_2(cli, tmp_path):
    for declared, fragment in (('LAYER = "convolution(3)"', "unknown layer"),
                               ('LAYER = "conv(4,3)"\nKERNEL_LAYOUT = "ohwi"', "KERNEL_LAYOUT"),
                               ('LAYER = ["conv(4,3)", "conv(4,5)"]', "no `config` parameter")):
        path = tmp_path / "bad.py"
        path.write_text(declared + "\ndef forward(x, p, t): pass\ndef backward(d, c): pass\n")
        code, _, err = cli("check", str(path))
        assert code == 2 and fragment in err and len(err.strip().splitlines()) == 1, err


def test_the_docs_example_agrees_and_its_pad0_twin_is_named():
    """docs/checking/layer.md's example (CS231n-style code, 8 lines of adaptation) and the
    same code at padding 0, whose [pad:-pad] slicing empties dx; the page quotes the code."""
    examples = Path(__file__).parents[1] / "docs" / "checking" / "examples"
    with UserProcess(examples / "layer_conv.py") as user:
        assert_agrees(run_layer_check(user, CheckOptions()))
    with UserProcess(examples / "layer_conv_pad0.py") as user:
        assert_named(run_layer_check(user, CheckOptions()), "conv_dx_empty_at_pad0")
    code = (examples / "layer_conv.py").read_text()
    adaptation = code[code.index("# ---- the adaptation"):].strip()
    assert adaptation in (examples.parent / "layer.md").read_text()
    assert len([line for line in adaptation.splitlines()[1:] if line.strip()]) <= 10


def test_the_docs_from_scratch_class_agrees_and_its_stride_2_twin_is_named(tmp_path):
    """The per-layer class of docs/checking/layer.md (a from-scratch class owning its
    weights, 8 lines of adaptation) agrees; at stride 2 with 'same' padding its symmetric
    padding is named."""
    path = TARGETS / "scratch_class_conv.py"
    text = path.read_text()
    twin = tmp_path / "scratch_stride2.py"
    twin.write_text(text.replace('LAYER = "conv(4,3,padding=same)"',
                                 'LAYER = "conv(4,3,strides=2,padding=same)"')
                    .replace("stride=1, padding=1", "stride=2, padding=1"))
    for target, bug in ((path, None), (twin, "same_padding_symmetric")):
        with UserProcess(target) as user:
            outcome = run_layer_check(user, CheckOptions())
        assert_agrees(outcome) if bug is None else assert_named(outcome, bug)
    adaptation = text[text.index("# ---- the adaptation"):].strip()
    assert adaptation in (Path(__file__).parents[1] / "docs/checking/layer.md").read_text()
    assert len([line for line in adaptation.splitlines()[1:] if line.strip()]) <= 10


LISTED = '''
import numpy as np
from handrolled import layers
LAYER = ["dense(3)", "dense(2,relu)"]
OFF = 1.0

def forward(x, params, training, config):
    layer = layers.get("dense")(config["units"], config["activation"]).built("d", x.shape[1:])
    p = dict(params, bias=params.get("bias", np.zeros(config["units"])))
    out, cache = layer.forward(p, x, training)
    return out * (OFF if config["units"] == 2 else 1.0), (layer, p, cache, config)

def backward(dout, cache):
    layer, p, inner, config = cache
    dx, grads = layer.backward(p, dout, inner)
    if not config["use_bias"]:
        del grads["bias"]
    return dx, grads
'''


def test_a_list_of_layer_texts_is_checked_text_by_text(tmp_path):
    """LAYER as a list (code taking `config`): every text is a configuration; the twin is
    off only in the second one, and the report locates it there."""
    right, twin = tmp_path / "listed.py", tmp_path / "listed_twin.py"
    right.write_text(LISTED)
    twin.write_text(LISTED.replace("OFF = 1.0", "OFF = 1.001"))
    with UserProcess(right) as user:
        outcome = run_layer_check(user, CheckOptions())
    assert_agrees(outcome)
    assert [c["label"].split(",")[0] for c in outcome.to_dict()["cases"]][::2] == [
        "dense(3)", "dense(2", "dense(3) use_bias=False"]
    with UserProcess(twin) as user:
        outcome = run_layer_check(user, CheckOptions())
    assert not outcome.agree
    bad = {outcome.cases[row.case].split(", ")[0] for row in outcome.rows if not row.agree}
    assert bad == {"dense(2,relu)"}, outcome.format()


def test_a_kind_without_an_input_grid_is_one_line_naming_the_kinds_it_checks(monkeypatch):
    from compare.check.errors import TargetError
    from compare.check.layer.contract import _layer_specs
    from compare.check.layer.grid import INPUTS

    assert _layer_specs("flatten")[0].kind == "flatten"  # a kind with a grid is taken
    monkeypatch.delitem(INPUTS, "flatten")  # as a new layer kind has none yet
    with pytest.raises(TargetError, match="no input grid for layer kind flatten yet; "
                                          "it checks conv, maxpool"):
        _layer_specs("flatten")
