# Two commands for users:  `make report`  and  `make test`.
# Both create .venv and install the project (once; again when pyproject.toml changes).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: report test slow-tests backend-tests torch-tests property-tests perturbed-tests install notebooks docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[tensorflow,test]"
	touch $(STAMP)

install: $(STAMP)

report: $(STAMP)
	$(BIN)/nn-compare report

# -n auto: pytest-xdist, one worker per core (the suite is written to run in parallel).
# The tests marked slow (each a few seconds or more: whole commands, bug matrices) run in
# `make slow-tests`, which CI runs too.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto -m "not slow"

slow-tests: $(STAMP)
	$(BIN)/python -m pytest -q -n auto -m slow

# The hand-written side against Keras on JAX (tests/test_backend_agreement.py, skipped
# under TensorFlow), and the comparison across backends (tests/test_backends.py); installs
# JAX into the environment beside TensorFlow.
BACKEND_TESTS := tests/test_backend_agreement.py tests/test_backends.py
backend-tests: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[jax]"
	KERAS_BACKEND=jax $(BIN)/python -m pytest -q -n auto $(BACKEND_TESTS)

# The hand-written side against Keras on PyTorch (tests/test_backend_torch.py, skipped on
# other backends), in an environment of its own (TORCH_VENV) with torch's CPU-only wheel
# and no TensorFlow: the index's default torch wheel brings GB of GPU libraries.
TORCH_VENV ?= .venv-torch
TORCH_TESTS := tests/test_backend_torch.py tests/test_backends.py
torch-tests:
	test -x $(TORCH_VENV)/bin/python || $(PYTHON) -m venv $(TORCH_VENV)
	$(TORCH_VENV)/bin/python -c "import torch" 2>/dev/null || $(TORCH_VENV)/bin/python -m pip \
	    install --quiet torch --index-url https://download.pytorch.org/whl/cpu
	$(TORCH_VENV)/bin/python -m pip install --quiet -e ".[torch,test]"
	KERAS_BACKEND=torch $(TORCH_VENV)/bin/python -m pytest -q -n auto $(TORCH_TESTS)

# the property tests (tests/test_properties.py) with many more drawn examples (minutes)
property-tests: $(STAMP)
	NN_PROPERTY_PROFILE=long $(BIN)/python -m pytest -q -n auto tests/test_properties.py

# The training and optimizer tests again on perturbed third-party kernels: the switches that
# changed last bits here (docs/PORTABILITY.md): NumPy without its AVX2 loops (X86_V3: tanh,
# and float32 exp, log, sin) and oneDNN held to AVX (TensorFlow's float32 matmul, conv,
# moments); TF_ENABLE_ONEDNN_OPTS=0 changed nothing here but may elsewhere.  Every verdict and
# test must hold.  Never OPENBLAS_CORETYPE: the BLAS is chosen for the machine.
PERTURBED_TESTS := tests/test_optimizers.py tests/test_training_verdict.py tests/test_same_numbers.py \
	tests/test_optimizer_training.py
# of test_optimizer_training's side-by-side runs (~7 s each) only the schedules through powf
PERTURBED_ONLY := not test_optimizer_training or exp_decay
perturbed-tests: $(STAMP)
	NPY_DISABLE_CPU_FEATURES=X86_V3 ONEDNN_MAX_CPU_ISA=AVX TF_ENABLE_ONEDNN_OPTS=0 \
		$(BIN)/python -m pytest -q -n auto -k "$(PERTURBED_ONLY)" $(PERTURBED_TESTS)

# The notebooks' source is notebooks/NN_*.py (jupytext py:percent); this writes the paired
# .ipynb beside each (not committed), which any Jupyter front end opens.  --to ipynb, not
# --sync: --sync would rewrite the committed .py files (it adds jupytext's version lines).
notebooks: $(STAMP)
	$(BIN)/jupytext --to ipynb notebooks/[0-9][0-9]_*.py
	@echo "open them with: $(BIN)/python -m pip install jupyterlab && $(BIN)/jupyter lab notebooks/"

# The documentation site (mkdocs.yml; docs/hooks.py writes the command-line reference from the
# parsers): built strictly, so a broken link or reference fails, into site/ (not committed).
DOCS_STAMP := $(VENV)/.docs-installed
$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) site reports .pytest_cache .hypothesis *.egg-info notebooks/*.ipynb
