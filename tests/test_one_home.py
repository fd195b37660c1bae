"""Each layer's formulas have one home, its file under handrolled/layers/, and the program
`nn-compare code` writes embeds that very code.

- No line of a layer function's formulas appears in another module of the packages
  (outside the fused fast paths, handrolled/fast*.py, which tests pin bit-for-bit).
- No class named like a layer is defined outside handrolled/layers and keras_impl.
- The glue classes codegen writes around the embedded functions compute nothing.
- numpy_version.py for the dense, conv and batchnorm+dropout networks holds every
  forward and backward function of their layer files, source text equal.
Each check has a twin showing it reports a restated or edited formula.  Source text
only: nothing trains here (the programs' numbers: tests/test_codegen.py).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import textwrap
from pathlib import Path

import pytest

from compare.codegen import numpy_layers
from compare.codegen.blocks import program
from compare.codegen.programs import blocks
from handrolled import NetworkSpec
import handrolled.layers
from handrolled.layers import avgpool, batchnorm, normalization, pooling, windows

ROOT = Path(__file__).resolve().parents[1]
# every file of handrolled/layers but the contract and the initializers: a new layer's too
LAYER_MODULES = tuple(importlib.import_module(f"handrolled.layers.{info.name}")
                      for info in pkgutil.iter_modules(handrolled.layers.__path__)
                      if info.name not in ("base", "initializers"))
PACKAGES = ("handrolled", "keras_impl", "compare")
# lines that several formulas share by nature, not restatements
SHARED = {"m = x.size // x.shape[-1]",             # the values per feature (BN and a pitfall)
          "delta = dy * f.derivative(z, a)"}       # eq. 5 in Dense and in Conv2D
OPERATORS = re.compile(r"[@*/+\-]|np\.")


def normalized(line: str) -> str:
    """A line of code without its comment, `self.` and spacing: `z = x@W+b`."""
    return re.sub(r"\s+", "", line.split("#")[0].replace("self.", ""))


def formula_lines(module) -> dict[str, str]:
    """{normalized line: line} of the formulas of a layer file: the bodies (not the
    docstrings) of its module-level functions and of the Windows geometry, each line
    that computes something (an operator or a NumPy call, 12 characters or more)."""
    text = inspect.getsource(module)
    lines = text.splitlines()
    found = {}
    tree = ast.parse(text)
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    functions += [method for node in tree.body if isinstance(node, ast.ClassDef)
                  and node.name == "Windows" for method in node.body
                  if isinstance(method, ast.FunctionDef)]
    for function in functions:
        body = function.body[1:] if ast.get_docstring(function) else function.body
        for statement in body:
            for line in lines[statement.lineno - 1:statement.end_lineno]:
                code = line.split("#")[0].strip()
                if len(code) >= 12 and OPERATORS.search(code) and code not in SHARED:
                    found[normalized(code)] = code
    return found


def package_files():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if not (package == "handrolled" and path.name.startswith("fast")):
                yield path


def restated(text: str, formulas: dict[str, str]) -> list[str]:
    """The lines of `text` (code or string templates alike) that restate a formula."""
    return [line.strip() for line in text.splitlines()
            if any(c in line for c in "@*/+-(") and normalized(line) in formulas]


def test_no_layer_formula_is_restated_outside_its_file():
    homes = {}    # normalized formula line -> its file
    for module in LAYER_MODULES:
        formulas = formula_lines(module)
        assert formulas, module.__name__   # the scan sees the formulas
        homes.update({line: Path(inspect.getfile(module)).resolve() for line in formulas})
    found = [f"{path.relative_to(ROOT)}: {line}"
             for path in package_files()
             for line in restated(path.read_text(), homes)
             if homes[normalized(line)] != path.resolve()]
    assert found == []


def test_twin_a_restated_template_is_found():
    """What codegen held before: batch norm restated as a string template."""
    template = '''
    def forward(self, weights, x, training, step):
        mu, var = x.mean(axis=0), x.var(axis=0)
        inv = 1 / np.sqrt(var + self.epsilon) * gamma
        m = x.size // x.shape[-1]

    def backward(self, weights, dy, grads):
        x, mu, var = self.cache
        rstd = 1 / np.sqrt(var + self.epsilon)
        return (gamma * rstd / m) * (m * dy - d_beta - x_hat * d_gamma)
'''
    formulas = {**formula_lines(batchnorm), **formula_lines(normalization)}
    assert restated(template, formulas) == [
        "inv = 1 / np.sqrt(var + self.epsilon) * gamma", "rstd = 1 / np.sqrt(var + self.epsilon)"]


# every registered layer's class (a new one's too), and the window geometry pooling shares;
# not Activation, the name handrolled/activations/core.py gives the activation contract
LAYER_CLASSES = (*(handrolled.layers.get(kind).__name__ for kind in handrolled.layers.names()
                   if kind != "activation"), "Pooling2D", "Windows")


def class_definitions(names=LAYER_CLASSES, files=None, root=ROOT) -> list[str]:
    """'path: Name' for every class definition of a layer's name in the packages (the
    files that hold 'class <Name>' at all, parsed: a class written inside a string, as
    the glue of the generated program, is text, not a definition)."""
    pattern = re.compile(r"\bclass\s+(%s)\b" % "|".join(names))
    return [f"{path.relative_to(root).as_posix()}: {node.name}"
            for path in (files or package_files())
            if pattern.search(text := path.read_text())
            for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.ClassDef) and node.name in names]


def test_each_layer_class_is_defined_once():
    found = class_definitions()
    outside = [d for d in found if not d.startswith(("handrolled/layers/", "keras_impl/"))]
    assert outside == []
    assert sorted(d.split(": ")[1] for d in found
                  if d.startswith("handrolled/layers/")) == sorted(LAYER_CLASSES)


def test_twin_a_second_layer_class_is_found(tmp_path):
    copy, text = tmp_path / "copy.py", tmp_path / "text.py"
    copy.write_text("class BatchNormalization:\n    pass\n")
    text.write_text('CODE = """\nclass BatchNormalization:\n    pass\n"""\n')
    assert class_definitions(files=[copy, text], root=tmp_path) == [
        "copy.py: BatchNormalization"]


def computations(code: str, embedded: set[str]) -> list[str]:
    """The arithmetic (anything but +, which joins names) and NumPy calls in `code`,
    outside the functions named in `embedded`."""
    tree = ast.parse(code)
    skip = {id(node) for top in tree.body if isinstance(top, ast.FunctionDef)
            and top.name in embedded for node in ast.walk(top)}
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.Add):
            found.append(ast.unparse(node))
        elif isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "np":
            found.append(ast.unparse(node))
    return found


def test_codegen_glue_computes_nothing():
    """Around handrolled's functions, codegen writes glue only: the classes that hand a
    layer its arrays and store its gradients do no arithmetic of their own."""
    assert computations(numpy_layers.HELPERS["layer"], set()) == []
    assert computations(numpy_layers.HELPERS["functions"], set()) == []  # FunctionLayer
    for kind in numpy_layers.LAYERS.names():
        template = numpy_layers.LAYERS.lookup(kind)
        embedded = {f.__name__ for f in template.functions}
        assert computations(template.code, embedded) == [], kind


def test_twin_a_glue_class_with_a_formula_is_reported():
    old_dense = '''
class Dense:
    def forward(self, weights, x, training, step):
        W, b = weights[self.name + "/kernel"], weights[self.name + "/bias"]
        z = x @ W + b
        return self.f(z)
'''
    assert computations(old_dense, set()) == ["x @ W"]


NETWORKS = {  # the three networks of tests/test_codegen.py
    "dense": ("8:sigmoid", (12,)),
    "conv": ("conv(3,2,padding=same),activation(relu),avgpool(2,padding=same),maxpool(2),"
             "flatten,dense(6,tanh)", (4, 3, 1)),
    "batchnorm-dropout": ("dense(8,relu),batchnorm,dropout(0.25)", (12,)),
}


def numpy_program(name: str) -> tuple[str, list]:
    text, shape = NETWORKS[name]
    spec = NetworkSpec.from_text(text, inputs=shape, classes=4, seed=0)
    written = blocks(spec, "adam(learning_rate=0.01)", 1, 4, 0, "nn-compare code")
    return program(written, "numpy"), spec.build_layers()


def layer_functions(layers) -> list:
    """Every forward and backward function of the files of `layers` (found in the files
    themselves, not in codegen's lists), and what they call from handrolled/layers."""
    functions = []
    for layer in layers:
        module = inspect.getmodule(type(layer))
        functions += [f for name, f in vars(module).items() if inspect.isfunction(f)
                      and f.__module__ == module.__name__
                      and name.endswith(("_forward", "_backward"))]
    return list(dict.fromkeys(functions))


def differing(program_text: str, functions) -> list[str]:
    """The functions whose source the program does not hold once and verbatim."""
    lines = program_text.splitlines()
    defined = {}
    for node in ast.parse(program_text).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):   # whole lines: comments too
            first = node.lineno - 1 - len(node.decorator_list)
            defined.setdefault(node.name, []).append(
                "\n".join(lines[first:node.end_lineno]))
    return [f.__name__ for f in functions
            if defined.get(f.__name__) != [textwrap.dedent(inspect.getsource(f)).strip()]]


HELPERS = {  # what a layer file's functions call from the other files
    "conv": [windows.output_size, windows.pad_amounts, windows.Windows],
    "maxpool": [windows.Windows],
    "avgpool": [windows.Windows, pooling.window_values, pooling.scatter_values,
                avgpool.window_counts],
    "batchnorm": [batchnorm.feature_sum, batchnorm.batch_statistics,
                  batchnorm.moving_averages, normalization.normalize,
                  normalization.standardized],
}


@pytest.mark.parametrize("name", list(NETWORKS))
def test_the_program_holds_the_layers_own_functions(name):
    text, layers = numpy_program(name)
    functions = layer_functions(layers)
    kinds = {layer.kind for layer in layers}
    assert len(functions) == 2 * len(kinds)     # a forward and a backward per kind
    helpers = [f for kind in kinds for f in HELPERS.get(kind, [])]
    assert differing(text, list(dict.fromkeys(functions + helpers))) == []
    for f in {type(layer.activation) for layer in layers if layer.activation is not None}:
        for method in (f.value, f.derivative):   # the activations' own methods, verbatim
            assert inspect.getsource(method).rstrip() in text, (f, method)


def test_twin_an_edited_function_in_the_program_is_reported():
    text, layers = numpy_program("batchnorm-dropout")
    edited = text.replace("var = feature_sum(np.square(x - mu)) / m",
                          "var = feature_sum(np.square(x - mu)) / (m - 1)")
    assert edited != text
    assert differing(edited, [batchnorm.batch_statistics, *layer_functions(layers)]) == [
        "batch_statistics"]
