"""Dependencies point one way: handrolled (NumPy only) <- keras_impl <- compare.

Read from the source with `ast` (nothing is imported), so an import inside a
function, added to keep start-up fast, is caught as well as one at the top.
The twins feed the same check files with a forbidden import and assert that
it reports them.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# handrolled is the reference a learner reads next to the book: NumPy and the
# standard library only (not even keras_impl or scipy).
HANDROLLED_ALLOWED = frozenset(sys.stdlib_module_names) | {"numpy", "handrolled"}
# keras_impl may use handrolled and any library, but never the package that judges it.
KERAS_IMPL_FORBIDDEN = frozenset({"compare"})


def imported_modules(path: Path, package_dir: Path) -> list[tuple[int, str]]:
    """(line, absolute top-level module) for every import in `path`, a file under `package_dir`.

    A relative import resolves to the package itself, unless it climbs above the
    package's folder: that one is reported as ".." so that no rule can allow it.
    Calls of importlib.import_module("x") / __import__("x") with a literal name count too.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    folders_below_root = len(path.relative_to(package_dir).parts) - 1
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.append((node.lineno, node.module.split(".")[0]))
        elif isinstance(node, ast.ImportFrom):  # level 1 is the file's own folder
            inside = node.level - 1 <= folders_below_root
            found.append((node.lineno, package_dir.name if inside else ".."))
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            found.append((node.lineno, node.args[0].value.split(".")[0]))
    return found


def _is_dynamic_import(call: ast.Call) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return (name in ("import_module", "__import__") and bool(call.args)
            and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)
            and not call.args[0].value.startswith("."))


def violations(package_dir: Path) -> list[str]:
    """Every import in `package_dir` that breaks its package's rule, as 'file:line module'."""
    package = package_dir.name
    bad = []
    for path in sorted(package_dir.rglob("*.py")):
        for line, module in imported_modules(path, package_dir):
            if package == "handrolled":
                wrong = module not in HANDROLLED_ALLOWED
            else:
                wrong = module in KERAS_IMPL_FORBIDDEN or module == ".."
            if wrong:
                bad.append(f"{path.relative_to(package_dir.parent)}:{line} imports {module}")
    return bad


@pytest.mark.parametrize("package", ["handrolled", "keras_impl"])
def test_package_imports_point_one_way(package):
    package_dir = ROOT / package
    files = list(package_dir.rglob("*.py"))
    assert len(files) >= 5, f"found only {files} under {package_dir}: is the path right?"
    # the check sees the imports the package really has (it is not blind)
    seen = {module for path in files for _, module in imported_modules(path, package_dir)}
    assert "numpy" in seen and package in seen
    assert violations(package_dir) == []


def test_keras_impl_does_import_keras_and_handrolled():
    """The keras_impl rule is a deny-list: make sure the parser sees what it must allow."""
    package_dir = ROOT / "keras_impl"
    seen = {module for path in package_dir.rglob("*.py")
            for _, module in imported_modules(path, package_dir)}
    assert {"keras", "tensorflow", "handrolled"} <= seen


# Failing twins: each source, dropped into a copy of the package's folder, must be reported.
HANDROLLED_BAD = {
    "keras": "import keras\n",
    "tensorflow": "def f():\n    import tensorflow as tf\n    return tf\n",
    "scipy": "from scipy.special import expit\n",
    "compare": "from compare.tolerances import max_diffs\n",
    "keras_impl": "from keras_impl import build_model\n",
    "..": "from ... import compare\n",  # climbs above handrolled/activations/ and handrolled/
    "sklearn": "import importlib\nmod = importlib.import_module('sklearn.datasets')\n",
}
KERAS_IMPL_BAD = {
    "compare": "from compare import tolerances\n",
    "compare_lazy": "def f():\n    import compare.gradients\n",
    "compare_dynamic": "__import__('compare.output')\n",
    "..": "from .. import compare\n",
}


@pytest.mark.parametrize("name, source", HANDROLLED_BAD.items(), ids=list(HANDROLLED_BAD))
def test_handrolled_check_catches_forbidden_import(tmp_path, name, source):
    package_dir = tmp_path / "handrolled"
    (package_dir / "activations").mkdir(parents=True)
    (package_dir / "ok.py").write_text("import numpy as np\nimport os\nfrom .spec import X\n"
                                       "from handrolled.errors import SpecError\n")
    (package_dir / "activations" / "bad.py").write_text(source)
    found = violations(package_dir)
    assert len(found) == 1 and found[0].startswith("handrolled/activations/bad.py:"), found


@pytest.mark.parametrize("name, source", KERAS_IMPL_BAD.items(), ids=list(KERAS_IMPL_BAD))
def test_keras_impl_check_catches_compare_import(tmp_path, name, source):
    package_dir = tmp_path / "keras_impl"
    package_dir.mkdir()
    (package_dir / "ok.py").write_text("import keras\nimport tensorflow as tf\n"
                                       "from handrolled import NetworkSpec\n"
                                       "from .runtime import tf\n")
    (package_dir / "bad.py").write_text(source)
    found = violations(package_dir)
    assert len(found) == 1 and found[0].startswith("keras_impl/bad.py:"), found


# ------------------------------------------------------------------ no mutation of modules
# Conventions are values passed in (handrolled/conventions.py), never settings changed on a
# module: no file of the three packages assigns to (or setattr/delattr on) an attribute of
# anything it imported, at module level or in a function, and none swaps a live object's
# class (`obj.__class__ = cls`).  Third-party switches with no other handle, each restored
# or process-wide by design, are listed here with their reason:
MUTATION_ALLOWED = {
    # Keras' lazy TensorFlow module told TensorFlow is absent (a Keras bug, see the file)
    ("keras_impl/backends/quiet.py", "module_utils.tensorflow._available"),
    # tabulate has no argument for its header padding; set and restored around one call
    ("compare/bench/table.py", "tabulate_module.MIN_PADDING"),
    # the command's stdout wrapped for the run of one command, restored in `finally`
    ("compare/cli.py", "sys.stdout"),
}


def _imported_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.asname or alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _root(node: ast.AST) -> ast.AST:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node


def mutations(path: Path) -> list[tuple[int, str]]:
    """(line, target) for every assignment, augmented assignment, `del`, setattr or delattr
    on an attribute reached from an imported name (`regularizers.CONVENTIONS.x = ...`,
    `hr.Optimizer.keras_cast = ...`, `setattr(module, ...)`), and every `__class__` swap."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    imported = _imported_names(tree)
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in \
                ("setattr", "delattr") and node.args:
            if isinstance(_root(node.args[0]), ast.Name) and \
                    _root(node.args[0]).id in imported:
                found.append((node.lineno, ast.unparse(node.args[0])))
        for target in targets:
            for item in target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]:
                if not isinstance(item, ast.Attribute):
                    continue
                root = _root(item)
                if item.attr == "__class__" or (isinstance(root, ast.Name) and
                                                root.id in imported):
                    found.append((node.lineno, ast.unparse(item)))
    return found


def found_mutations(root: Path, packages=("handrolled", "keras_impl", "compare")):
    """(file, line, target) for every mutation in the packages' files under `root`."""
    return [(path.relative_to(root).as_posix(), line, target)
            for package in packages for path in sorted((root / package).rglob("*.py"))
            for line, target in mutations(path)]


def mutation_violations(found) -> list[str]:
    return [f"{where}:{line} changes {target}" for where, line, target in found
            if (where, target) not in MUTATION_ALLOWED]


def test_no_module_is_mutated_from_outside():
    found = found_mutations(ROOT)
    assert mutation_violations(found) == []
    # the allowed list is not stale: each entry is still found where it says
    assert MUTATION_ALLOWED <= {(where, target) for where, _, target in found}


# the twins: what the project did before conventions were values, planted in a copy
MUTATION_BAD = {
    "setattr": "from handrolled import regularizers\n\ndef match(measured):\n"
               "    for name, value in vars(measured).items():\n"
               "        setattr(regularizers.CONVENTIONS, name, value)\n",
    "class_attribute": "from handrolled import optimizers as hr\n\n"
                       "hr.Optimizer.keras_cast = staticmethod(hr.exact)\n",
    "toggle": "from handrolled import regularizers\n\ndef f():\n"
              "    regularizers.CONVENTIONS.l2_factor_float32 = False\n",
    "from_import": "from handrolled.regularizers import CONVENTIONS\n\n"
                   "CONVENTIONS.activity_per_row = False\n",
    "class_swap": "def make(network, cls):\n    network.layers[0].__class__ = cls\n",
    "augmented": "import handrolled.spec\n\nhandrolled.spec.MAX_PARAMETERS += 1\n",
}


@pytest.mark.parametrize("name, source", MUTATION_BAD.items(), ids=list(MUTATION_BAD))
def test_mutation_check_catches_a_planted_example(tmp_path, name, source):
    (tmp_path / "compare").mkdir()
    (tmp_path / "compare" / "ok.py").write_text(
        "import numpy as np\nfrom handrolled import Network\n\n"
        "def f(network, conventions):\n    network.conventions = conventions\n"
        "    network.layers[0] = None\n    np.seterr(all='ignore')\n    x = np.zeros(2)\n"
        "    x[0] = 1\n")
    (tmp_path / "compare" / "bad.py").write_text(source)
    found = mutation_violations(found_mutations(tmp_path, packages=("compare",)))
    assert len(found) == 1 and found[0].startswith("compare/bad.py:"), found
