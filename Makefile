# Quick start: `make demo` and `make test`, from a fresh clone, with nothing but python3 installed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test unit check lint demo bench sample-token image lock clean controlplane mutate

# Tests run side by side (pytest-xdist): those that wait for a real time-out overlap. More workers than
# cores, since many of them wait rather than compute; `make test WORKERS=2` on a smaller machine.
WORKERS ?= 4
SIDE_BY_SIDE := -n $(WORKERS) --dist load
# make check's tests compute rather than wait: one worker per core.
CHECK_WORKERS ?= auto

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps --editable .
	touch $@

## Every check CI runs: lint, then every test: unit, end-to-end, and the built image in a container
## (test/container/with-docker.sh installs and starts a Docker engine and builds the image first).
## A cold control-plane build goes on in the background meanwhile; the kubectl tests wait for it.
test: $(STAMP) lint
	test/support/controlplane/build.sh --background
	test/support/helm/build.sh --background
	test/container/with-docker.sh $(PY) -m pytest $(SIDE_BY_SIDE)

## Everything but the container tests, no Docker needed. A cold control-plane build goes on in the
## background, as in make test: the tests that do not need it run meanwhile, the kubectl tests wait for it.
unit: $(STAMP)
	test/support/controlplane/build.sh --background
	test/support/helm/build.sh --background
	$(PY) -m pytest $(SIDE_BY_SIDE) -m "not container"

## The two-minute loop: lint, then every test that needs no server (no Docker, no Kubernetes control
## plane, no AWS stand-in); the markers are set in test/conftest.py.
check: lint
	$(PY) -m pytest -n $(CHECK_WORKERS) -q -m "not container and not controlplane and not standin"

## The Kubernetes control plane the kubectl tests run against (kube-apiserver, controller-manager,
## scheduler, etcd, kwok), built from the Go module proxy once per version into
## /var/cache/aws-oidc-deploy/kube (cold: about 30 minutes on 2 cores), then taken from there at once.
controlplane:
	test/support/controlplane/build.sh

## Build the image from the Dockerfile with a Docker engine started here, and print its size.
image: $(STAMP)
	test/container/with-docker.sh true

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/hadolint Dockerfile
	$(VENV)/bin/shellcheck test/container/with-docker.sh test/support/gobuild.sh test/support/controlplane/build.sh test/support/helm/build.sh image/helm/build.sh .ci/run .ci/integration/run-pipe
	$(PY) scripts/check_pipeline_yaml.py

## Mutation testing (not CI: it takes minutes) of the modules where a silent bug costs most, against
## their unit tests; configured in pyproject.toml [tool.mutmut]. Record the score in CONTRIBUTING.md.
mutate: $(STAMP)
	rm -rf mutants
	$(VENV)/bin/mutmut run --max-children 2
	$(PY) scripts/mutation_score.py

## The pipe against the embedded AWS stand-in, with a sample token: whoami, then trust-policy.
demo: $(STAMP)
	$(PY) -m test.support.demo

## Our whoami, EKS tokens and s3-sync against the awscli recipes they replace, same stand-ins, same run;
## then what the pipe costs to start (trust-policy, whoami, the smallest s3-sync), from the working tree
## and in the built image as users run it (test/container/with-docker.sh starts an engine and builds it).
bench: $(STAMP)
	$(PY) bench/whoami.py
	$(PY) bench/kubectl_credentials.py
	$(PY) bench/s3_sync.py
	$(PY) bench/startup.py
	$(PY) bench/program_output.py
	test/container/with-docker.sh $(PY) bench/startup_image.py

## A sample OIDC token (signed by a throwaway key) for trying the pipe by hand.
sample-token: $(STAMP)
	@$(PY) -m test.support.tokens

# What bitbucket-pipes-toolkit depends on for its test helper alone: the pipe never imports them, and the
# image, which installs requirements.txt with --no-deps, goes without them (docs/image.md, "What the image installs").
NEVER_IMPORTED := docker GitPython gitdb smmap

## Re-resolve the image's exact pins from the direct dependencies in pyproject.toml.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet .
	{ echo "# Exact pins for the image (python:3.13-slim). Regenerate with 'make lock' and review the diff."; \
	  echo "# Installed with --no-deps: every dependency is here but $(NEVER_IMPORTED), never imported."; \
	  .venv-lock/bin/pip freeze --exclude aws-oidc-deploy $(addprefix --exclude ,$(NEVER_IMPORTED)); } > requirements.txt
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info mutants
