"""pipe.jobs.kubectl.kustomization: everything a kustomization loads is a file of the clone."""

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipe.common.errors import PipeError
from pipe.jobs.kubectl import kustomization

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"


@pytest.fixture
def clone(tmp_path):
    root = tmp_path / "clone"
    (root / "base").mkdir(parents=True)
    (root / "base" / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (root / "base" / "cm.yaml").write_text(CM)
    (root / "overlay").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "kustomization.yaml").write_text("resources: []\n")
    (tmp_path / "outside" / "app.env").write_text("A=1\n")
    return root


def _overlay(clone, text):
    (clone / "overlay" / "kustomization.yaml").write_text(text)
    kustomization.check(clone / "overlay", clone, "RESOURCE_PATH")


def test_an_overlay_of_a_base_in_the_clone_passes(clone):
    (clone / "overlay" / "patch.yaml").write_text(CM)
    (clone / "overlay" / "app.env").write_text("A=1\n")
    _overlay(
        clone,
        "resources: [../base]\npatches: [{path: patch.yaml}]\n"
        "configMapGenerator: [{name: x, envs: [app.env], files: [k=app.env]}]\n"
        "patchesStrategicMerge:\n- |\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c}\n",
    )


# Each field that loads something, pointed out of the clone or at the network.
FIELDS = [
    "resources: [{ref}]",
    "bases: [{ref}]",
    "components: [{ref}]",
    "crds: [{ref}]",
    "patchesStrategicMerge: [{ref}]",
    "patches: [{{path: {ref}}}]",
    "patchesJson6902: [{{path: {ref}}}]",
    "replacements: [{{path: {ref}}}]",
    "configurations: [{ref}]",
    "generators: [{ref}]",
    "configMapGenerator: [{{name: c, envs: [{ref}]}}]",
    "secretGenerator: [{{name: c, files: ['k={ref}']}}]",
    "configMapGenerator: [{{name: c, env: {ref}}}]",
    "openapi: {{path: {ref}}}",
]
ESCAPES = [
    "../../outside",
    "../../outside/app.env",
    "/etc/passwd",
    "https://example.invalid/x.yaml",
    "github.com/org/repo//deploy?ref=v1",
    "git@github.com:org/repo.git",
]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(FIELDS), st.sampled_from(ESCAPES))
def test_every_field_that_loads_is_held_to_the_clone(clone, field, ref):
    with pytest.raises(PipeError) as raised:
        _overlay(clone, field.format(ref=ref) + "\n")
    assert raised.value.message.startswith("RESOURCE_PATH")


def test_a_base_that_escapes_is_found_through_the_overlay(clone):
    (clone / "base" / "kustomization.yaml").write_text("resources: [cm.yaml, ../../outside]\n")
    with pytest.raises(PipeError, match="leads outside the clone"):
        _overlay(clone, "resources: [../base]\n")


def test_a_fifo_kustomization_or_patch_is_refused_without_blocking(clone):
    os.mkfifo(clone / "overlay" / "patch.yaml")
    with pytest.raises(PipeError, match=r"'patch.yaml' in patches, which is not a regular file"):
        _overlay(clone, "resources: [../base]\npatches: [{path: patch.yaml}]\n")
    (clone / "fifo").mkdir()
    os.mkfifo(clone / "fifo" / "kustomization.yaml")
    with pytest.raises(PipeError, match="is not a regular file"):
        kustomization.check(clone / "fifo", clone, "RESOURCE_PATH")


def test_a_cycle_is_read_once_and_depth_is_bounded(clone):
    (clone / "base" / "kustomization.yaml").write_text("resources: [../overlay]\n")
    _overlay(clone, "resources: [../base]\n")
    previous = None
    for level in range(kustomization.MAX_DEPTH + 1):
        directory = clone / f"level{level}"
        directory.mkdir()
        (directory / "kustomization.yaml").write_text(
            f"resources: [{'../' + previous if previous else ''}]\n"
        )
        previous = directory.name
    with pytest.raises(PipeError, match="nests over"):
        kustomization.check(clone / previous, clone, "RESOURCE_PATH")


def test_helm_charts_are_refused(clone):
    with pytest.raises(PipeError, match="helmCharts"):
        _overlay(clone, "helmCharts: [{name: x, repo: https://charts.example}]\n")


# --- Rendering: kubectl kustomize's output read within a size cap, its failure one line --------------------


def _fake_kubectl(tmp_path, body: str):
    """A stand-in for the kubectl binary's `kustomize` sub-command: a real program the pipe runs."""
    import stat
    import sys

    program = tmp_path / "kubectl"
    program.write_text(f"#!{sys.executable}\nimport sys\n{body}\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return str(program)


def test_rendered_output_over_the_cap_is_refused_not_held(tmp_path, monkeypatch):
    monkeypatch.setattr(kustomization, "MAX_RENDERED_BYTES", 1024)
    (tmp_path / "k8s").mkdir()
    work = tmp_path / "work"
    work.mkdir()
    kubectl = _fake_kubectl(tmp_path, "sys.stdout.write('kind: ConfigMap\\n' * 200)")
    with pytest.raises(PipeError, match="kubectl kustomize k8s's output"):
        kustomization.render(tmp_path / "k8s", tmp_path, kubectl, {}, work)


def test_rendered_output_within_the_cap_is_returned_and_a_failure_quotes_the_end_of_its_errors(tmp_path):
    (tmp_path / "k8s").mkdir()
    work = tmp_path / "work"
    work.mkdir()
    kubectl = _fake_kubectl(tmp_path, "print('kind: ConfigMap')")
    assert kustomization.render(tmp_path / "k8s", tmp_path, kubectl, {}, work) == "kind: ConfigMap\n"
    failing = _fake_kubectl(tmp_path, "sys.stderr.write('x' * 100000 + 'the real reason'); sys.exit(1)")
    with pytest.raises(PipeError) as raised:
        kustomization.render(tmp_path / "k8s", tmp_path, failing, {}, work)
    assert raised.value.message.endswith("the real reason") and len(raised.value.message) < 5000
