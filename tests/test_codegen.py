"""`nn-compare code`: the generated NumPy and Keras programs print the project's numbers.

For a dense, a convolutional and a batch-norm + dropout network, each with its
own optimizer, the generated programs run for 2 epochs (the NumPy one in a
Python that can import nothing but NumPy, the Keras one in this process) and
must print what `train_side_by_side` (the project's own run) computes, to the
training tolerance.  Twins: a program with a wrong line disagrees; an import
of anything else is reported.  Tiny data (blobs), tiny networks.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import runpy
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from compare.codegen import outputs
from compare.codegen.generate import generate
from compare.experiment import Prepared
from compare.output import MARKER
from compare.presets import PRESETS
from handrolled import NetworkSpec, SpecError, init_weights
from training_blobs import blobs

SPECS = {  # name: (layers, optimizer, input shape); every layer kind, three optimizers
    "dense-sgd": ("8:sigmoid", None, (12,)),
    "conv-rmsprop": ("conv(3,2,padding=same),activation(relu),avgpool(2,padding=same),"
                     "maxpool(2),flatten,dense(6,tanh)", "rmsprop(learning_rate=0.01)",
                     (4, 3, 1)),
    "batchnorm-dropout-adam": ("dense(8,relu),batchnorm,dropout(0.25)",
                               "adam(learning_rate=0.01)", (12,)),
}


def prepared(name: str, dtype: str = "float64") -> Prepared:
    hidden, optimizer, shape = SPECS[name]
    data = blobs(train=40, test=16, inputs=12, classes=4, dtype=dtype)
    config = replace(PRESETS["default"], hidden=hidden, optimizer=optimizer, lr=0.5, epochs=2,
                     batch=16, dtype=dtype, dataset="blobs")
    spec = NetworkSpec.from_text(hidden, inputs=shape, classes=4, dtype=dtype, seed=0)
    return Prepared(config, data, spec, init_weights(spec))


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Every spec's folder, written once (the project's run inside), programs not run yet."""
    root = tmp_path_factory.mktemp("code")
    return {name: generate(prepared(name), root / name, command=f"test {name}", run=False)
            for name in SPECS}


@pytest.fixture(scope="module")
def numpy_only(tmp_path_factory) -> Path:
    """A folder holding NumPy alone (links to its package), for `python -I -S`."""
    folder = tmp_path_factory.mktemp("numpy-only")
    package = Path(np.__file__).parent
    for item in [package, *package.parent.glob("numpy.libs")]:
        (folder / item.name).symlink_to(item)
    return folder


def run_numpy_program(folder: Path, numpy_only: Path, program: str = "numpy_version.py"):
    """The program in an isolated Python (-I -S) whose only importable package is NumPy."""
    code = (f"import sys; sys.path.insert(0, {str(numpy_only)!r}); import runpy; "
            f"runpy.run_path({program!r}, run_name='__main__')")
    done = subprocess.run([sys.executable, "-I", "-S", "-c", code], cwd=folder,
                          capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
    assert done.returncode == 0, done.stderr[-3000:]
    return outputs.parse(done.stdout)


def run_keras_program(folder: Path):
    """keras_version.py in this process (TensorFlow is loaded already), floatx restored."""
    import keras

    saved, policy, here = keras.config.floatx(), keras.config.dtype_policy(), os.getcwd()
    printed = io.StringIO()
    try:
        os.chdir(folder)
        with contextlib.redirect_stdout(printed):
            runpy.run_path("keras_version.py", run_name="__main__")
    finally:
        os.chdir(here)
        keras.config.set_floatx(saved)
        keras.config.set_dtype_policy(policy)
    return outputs.parse(printed.getvalue())


def judged(epochs, generated, name):
    return outputs.judge(epochs, generated.reference, "float64", {"train": 40, "test": 16}, name)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SPECS))
def test_both_programs_print_the_projects_numbers(name, written, numpy_only):
    generated = written[name]
    assert len(generated.reference) == 2
    for program, epochs in (("numpy_version.py", run_numpy_program(generated.out, numpy_only)),
                            ("keras_version.py", run_keras_program(generated.out))):
        judgement = judged(epochs, generated, program)
        assert judgement.agree, judgement.problems
        assert judgement.largest["loss"] <= 1e-12, judgement.largest
    # the project's two sides agree with each other too (its own verdict, restated)
    assert judged(generated.keras_reference, generated, "keras side").agree


@pytest.mark.slow
@pytest.mark.parametrize("mutation", [
    ("dense-sgd", "return (p - Y) / p.shape[0]", "return p - Y"),
    ("batchnorm-dropout-adam", "(x * (1 / (1 - rate))) * keep", "x * keep"),
    ("conv-rmsprop", "denominator = v + EPSILON", "denominator = v * v + EPSILON"),
])
def test_a_wrong_line_in_the_numpy_program_disagrees(mutation, written, numpy_only, tmp_path):
    """The twin: the same check reports a program with a textbook slip."""
    name, right, wrong = mutation
    folder = tmp_path / name
    shutil.copytree(written[name].out, folder)
    text = (folder / "numpy_version.py").read_text()
    assert right in text
    (folder / "numpy_version.py").write_text(text.replace(right, wrong))
    judgement = judged(run_numpy_program(folder, numpy_only), written[name], "mutated")
    assert not judgement.agree and judgement.problems


def imported_modules(path: Path) -> set[str]:
    """Every top-level module a program imports (statements anywhere, __import__ and
    importlib calls included)."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add((node.module or ".").split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr",
                                                    getattr(node.func, "id", "")) in (
                "__import__", "import_module"):
            found.add("<dynamic import>")
    return found


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SPECS))
def test_the_programs_import_only_numpy_or_keras(name, written):
    folder = written[name].out
    assert imported_modules(folder / "numpy_version.py") == {"numpy"}
    # os: KERAS_BACKEND set before keras is imported; the backend's own package
    assert imported_modules(folder / "keras_version.py") <= {"numpy", "keras", "os",
                                                              "tensorflow", "jax", "torch"}


def test_the_import_check_reports_another_import(tmp_path):
    program = tmp_path / "p.py"
    program.write_text("import numpy as np\ndef f():\n    from compare import cli\n"
                       "    return __import__('handrolled')\n")
    assert imported_modules(program) == {"numpy", "compare", "<dynamic import>"}


@pytest.mark.slow
def test_the_folder_holds_what_both_programs_load(written):
    generated = written["batchnorm-dropout-adam"]
    names = {p.name for p in generated.out.iterdir()}
    assert names == {"numpy_version.py", "keras_version.py", "data.npz", "weights.npz",
                     "dropout_masks.npz", "side_by_side.html", MARKER}
    weights = np.load(generated.out / "weights.npz")
    assert {"dense1/kernel", "batchnorm2/gamma", "batchnorm2/moving_variance",
            "dense4/bias"} <= set(weights.files)
    masks = np.load(generated.out / "dropout_masks.npz")
    assert len(masks.files) == 2 * 3  # 2 epochs x 3 steps (40 rows, batch 16), one layer
    html = (generated.out / "side_by_side.html").read_text()
    shown = "".join(piece.split(">", 1)[-1] for piece in html.split("<"))  # tags removed
    assert "keras.layers.Dropout(0.25, name=&quot;dropout3&quot;)" in shown
    for external in ("<script", "src=", "href=", "url(", "@import", "<link"):
        assert external not in html.lower(), external  # self-contained


@pytest.mark.parametrize("args, words", [
    (["--network", "dense(8,elu)"], ["activations", "elu"]),
    (["--network", "dense(8,relu,kernel=l2(0.01))"], ["regularizers"]),
    (["--optimizer", "adam_textbook"], ["optimizers", "adam_textbook"]),
    (["--optimizer", "sgd(lr=exp_decay(0.1,10,0.9))"], ["schedules"]),
    (["--loss", "mean_squared_error"], ["loss", "mean_squared_error"]),
])
def test_what_the_templates_do_not_write_is_a_one_line_error(args, words, cli, tmp_path,
                                                             monkeypatch):
    monkeypatch.setattr("compare.commands.code.ProgressBar", None)  # fails before any run
    code, out, err = cli("code", *args, "--dataset", "spiky-2d", "--out",
                         str(tmp_path / "out"))
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert all(word in err for word in words), err
    assert not (tmp_path / "out").exists() and list(tmp_path.iterdir()) == []


def test_a_non_empty_folder_is_refused_without_force(cli, tmp_path, monkeypatch):
    monkeypatch.setattr("compare.commands.code.ProgressBar", None)
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    code, _, err = cli("code", "--dataset", "spiky-2d", "--out", str(out))
    assert code == 2 and "--force" in err and (out / "mine.txt").read_text() == "keep me"


@pytest.mark.parametrize("target, message", [("file", "is a file; expected a directory"),
                                             ("file/sub", "is a file, not a directory"),
                                             ("", "--out needs a directory path")])
def test_a_bad_out_path_fails_before_the_data_is_read(target, message, cli, tmp_path,
                                                     monkeypatch):
    monkeypatch.setattr("compare.experiment.prepare", None)  # never reached
    (tmp_path / "file").write_text("mine")
    out = str(tmp_path / target) if target else ""
    code, _, err = cli("code", "--out", out)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert (tmp_path / "file").read_text() == "mine" and len(list(tmp_path.iterdir())) == 1


@pytest.mark.parametrize("out", [".", "mine"])
def test_force_never_replaces_a_folder_nn_compare_did_not_write(out, cli, tmp_path,
                                                                 monkeypatch):
    """issue 27: `code --force --out .` failed only after the whole run."""
    monkeypatch.setattr("compare.experiment.prepare", None)  # never reached
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "train.py").write_text("the user's")
    code, _, err = cli("code", "--force", "--out", out)
    assert code == 2 and "holds files that are not nn-compare code's output" in err, err
    assert (tmp_path / "mine" / "train.py").read_text() == "the user's"


def test_twin_force_replaces_a_folder_nn_compare_code_wrote(tmp_path):
    from compare.codegen.files import WHAT, check_target
    from compare.output import write_marker

    (tmp_path / "gen").mkdir()
    (tmp_path / "gen" / "numpy_version.py").write_text("print(1)\n")
    write_marker(tmp_path / "gen", WHAT)
    check_target(tmp_path / "gen", force=True)  # accepted
    (tmp_path / "gen" / "numpy_version.py").write_text("print(2)\n")  # edited by the user
    with pytest.raises(SpecError, match="not nn-compare code's output"):
        check_target(tmp_path / "gen", force=True)


def test_code_prints_its_help(cli):
    code, out, err = cli("code", "--help")
    assert code == 0 and out.startswith("usage: nn-compare code") and "--no-run" in out


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def console_of(page: Path, folder: Path) -> list[str]:
    """Render `page` in headless Chromium (the README's command) and return what its
    console printed (errors included); the screenshot must come out."""
    shot = folder / "shot.png"
    done = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-quic", "--no-first-run", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync",
                           f"--user-data-dir={folder / 'profile'}", "--enable-logging=stderr",
                           "--v=0", f"--screenshot={shot}", "--window-size=1200,900",
                           page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and shot.read_bytes()[1:4] == b"PNG", done.stderr[-2000:]
    return [line for line in done.stderr.splitlines() if ":CONSOLE" in line]


needs_chromium = pytest.mark.skipif(chromium() is None, reason="no chromium on PATH (apt-get "
                                    "install chromium); README 'For teachers' documents this check")


@needs_chromium
def test_side_by_side_renders_in_headless_chromium(written, tmp_path):
    assert console_of(written["conv-rmsprop"].out / "side_by_side.html", tmp_path) == []


@needs_chromium
def test_the_chromium_check_reports_a_page_error(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><script>not_defined();</script></body></html>")
    assert any("not_defined" in line for line in console_of(page, tmp_path))


# ------------------------------------------------- hostile text in the generated programs
# Variants of a break attempt's tries (issue 27): text that ends the docstring and adds a
# statement, a backslash that is not a valid escape, a trailing backslash, a newline, HTML.
INJECTION = 'x"""; __import__("pathlib").Path("INJECTED").touch(); """'
HOSTILE_TEXTS = [INJECTION, "gen\\xq", "ends with a backslash\\",
                 "two\nlines ''' \\N{BULLET} <script>alert(1)</script>"]


CONV = NetworkSpec.from_text("conv(2,2),flatten,dense(4,relu),dropout(0.5)", inputs=(3, 3, 1),
                             classes=3, seed=0)


def program_texts(command: str, spec=CONV, optimizer="adam(learning_rate=0.01)",
                  epochs=1, batch=4) -> dict[str, str]:
    from compare.codegen.blocks import program
    from compare.codegen.programs import blocks

    written_blocks = blocks(spec, optimizer, epochs, batch, 0, command)
    return {name: program(written_blocks, side) for name, side in
            (("numpy_version.py", "numpy"), ("keras_version.py", "keras"))}


def injected(text: str, command: str, harmless: str) -> str | None:
    """Why `text` (a program written with `command` in it) is not data-safe, or None:
    it must parse, its docstring must hold the command exactly, and it must hold the
    same statements as `harmless`, the program written from a harmless command."""
    try:
        tree = ast.parse(text)
    except SyntaxError as error:
        return f"does not parse: {error}"
    if command not in (ast.get_docstring(tree, clean=False) or ""):
        return "the docstring does not hold the command"
    plain = ast.parse(harmless)
    if [type(node) for node in tree.body] != [type(node) for node in plain.body]:
        return "its statements differ from a harmless command's"
    return None


@pytest.mark.parametrize("command", HOSTILE_TEXTS)
def test_hostile_text_is_data_in_both_programs(command):
    harmless = program_texts("nn-compare code --out gen")
    for name, text in program_texts(command).items():
        assert injected(text, command, harmless[name]) is None, name


def test_the_injection_check_reports_text_written_raw(monkeypatch):
    """The twin: written without escaping (as before issue 27), each hostile text is caught."""
    monkeypatch.setattr("compare.codegen.programs.docstring_text", lambda text: text)
    harmless = program_texts("nn-compare code --out gen")
    for command in (INJECTION, "gen\\xq", "ends with a backslash\\"):
        problems = [injected(text, command, harmless[name])
                    for name, text in program_texts(command).items()]
        assert all(problems), (command, problems)


def test_hostile_out_and_dataset_folders_write_programs_that_run_safely(tmp_path, numpy_only,
                                                                          monkeypatch):
    """--out and an idx: folder name reach the programs through the command line: the
    numpy program runs, nothing is created outside --out, and the page shows the text."""
    from compare.commands.code import short_command

    monkeypatch.chdir(tmp_path)
    out = tmp_path / f"gen\\xq{INJECTION}"
    made = prepared("dense-sgd")
    config = replace(made.config, dataset=f"idx:{tmp_path}/{INJECTION}")
    command = short_command(config, out)
    generated = generate(replace(made, config=config), out, command=command, run=False)
    harmless = program_texts("nn-compare code --out gen", made.spec,
                             made.config.training_optimizer, 2, 16)
    for name in ("numpy_version.py", "keras_version.py"):
        assert injected((out / name).read_text(), command, harmless[name]) is None, name
    assert len(run_numpy_program(out, numpy_only)) == 2
    assert "<script>" not in (out / "side_by_side.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no INJECTED
    assert "INJECTED" not in [p.name for p in out.iterdir()]
    assert generated.out == out


@pytest.mark.parametrize("text", ['dense(4,relu""")', "conv(2,2,padding=same\"\"\"),flatten",
                                  "8:relu\\", "dense(4,tanh),dropout(0.5\"\"\";x=1)"])
def test_a_hostile_network_text_is_refused_or_written_as_data(text):
    try:
        spec = NetworkSpec.from_text(text, inputs=(3, 3, 1), classes=3, seed=0)
    except SpecError:
        return  # refused with one line: nothing is written
    harmless = program_texts("nn-compare code --out gen", spec, None, 1, 4)
    for name, program in program_texts(f"nn-compare code --hidden {text}", spec, None, 1,
                                       4).items():
        assert injected(program, f"nn-compare code --hidden {text}", harmless[name]) is None
