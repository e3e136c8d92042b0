"""pipe.jobs.kubectl.kustomization: everything a kustomization loads is a file of the clone, and kubectl
kustomize runs as every program whose output the pipe reads (pipe.common.process.capture)."""

import os
import time

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipe.common import log, process
from pipe.common.errors import PipeError
from pipe.jobs.kubectl import kustomization
from pipe.kube.cluster import find_kubectl
from test.support import leaks
from test.support.encodings import hostile_output

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
# What the pipe says when kubectl kustomize fails: the reason is in kubectl's framed lines above it.
FAILED = "kubectl kustomize k8s failed (exit status 1): see its message above."
# Unique to this file (registered secrets stay registered); '/' and '+' so that every encoder changes it.
SECRET = "kUsToMiZe/SeCrEt+0123456789abcdefGHIJ"
SCANNED = [leaks.Secret("a secret the pipe knows", SECRET)]
# Text that would pass for one of the pipe's own lines if it started a line of the output.
FORGED = [
    "\n✔ Deployed.",
    "\n✖ done",
    "\nINFO: applied",
    "\r✔ ok",
    "\x1b[32m✔ ok",
    "\u2028✖ x",
    "\x85INFO: y",
]


def setup_module():
    log.register_secret(SECRET)


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


def _render_dirs(tmp_path):
    """The kustomization's directory (k8s/) and the private directory the render writes into."""
    (tmp_path / "k8s").mkdir()
    work = tmp_path / "work"
    work.mkdir()
    return work


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
    work = _render_dirs(tmp_path)
    kubectl = _fake_kubectl(tmp_path, "sys.stdout.write('kind: ConfigMap\\n' * 200)")
    with pytest.raises(PipeError, match="kubectl kustomize k8s's output"):
        kustomization.render(tmp_path / "k8s", tmp_path, kubectl, {}, work)


def test_rendered_output_within_the_cap_is_returned_and_a_failure_shows_the_end_of_its_errors_above(
    tmp_path, capsys
):
    work = _render_dirs(tmp_path)
    kubectl = _fake_kubectl(tmp_path, "print('kind: ConfigMap')")
    assert kustomization.render(tmp_path / "k8s", tmp_path, kubectl, {}, work) == "kind: ConfigMap\n"
    failing = _fake_kubectl(tmp_path, "sys.stderr.write('x' * 100000 + '\\nthe real reason'); sys.exit(1)")
    with pytest.raises(PipeError) as raised:
        kustomization.render(tmp_path / "k8s", tmp_path, failing, {}, work)
    assert raised.value.message == FAILED
    shown = capsys.readouterr().out
    assert shown.endswith(f"{process.PROGRAM_FRAME}the real reason\n")
    assert len(shown) < process.CAPTURE_ERROR_BYTES + 1000  # the end of the errors, not all of them


def test_a_render_past_its_limit_is_stopped_and_the_limit_named(tmp_path, monkeypatch):
    monkeypatch.setattr(kustomization, "KUSTOMIZE_LIMIT_SECONDS", 0.5)
    work = _render_dirs(tmp_path)
    hanging = _fake_kubectl(tmp_path, "import time; time.sleep(600)")
    started = time.monotonic()
    with pytest.raises(process.Overran) as raised:
        kustomization.render(tmp_path / "k8s", tmp_path, hanging, {}, work)
    assert time.monotonic() - started < 0.5 + process.STOP_GRACE_SECONDS
    assert raised.value.message == (
        "kubectl kustomize k8s did not finish within 0.5 s (KUSTOMIZE_LIMIT_SECONDS); the pipe stopped it."
    )


# --- A failing render reported as every program's: its errors redacted as a whole, framed -----------------


def _assert_framed_and_masked(shown: str) -> None:
    for line in shown.splitlines():
        assert line.startswith(process.PROGRAM_FRAME) and log.pipe_mark(line) is None, line
    assert leaks.hits(shown.encode(), SCANNED) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.one_of(st.text(max_size=20), st.sampled_from([*FORGED, SECRET])), max_size=8).map(
        lambda pieces: "x-" + "".join(pieces) + SECRET
    )
)
def test_kubectls_own_error_about_a_hostile_kustomization_is_shown_redacted_and_framed(
    tmp_path_factory, capsys, field
):
    """The real kubectl quotes a kustomization's unknown field back in its error: a field holding a
    secret the pipe knows and text that tries to start a line of its own."""
    clone = tmp_path_factory.mktemp("clone")
    (clone / "k8s").mkdir()
    (clone / "k8s" / "cm.yaml").write_text(CM)
    (clone / "k8s" / "kustomization.yaml").write_text(yaml.safe_dump({"resources": ["cm.yaml"], field: 1}))
    kustomization.check(clone / "k8s", clone, "RESOURCE_PATH")
    capsys.readouterr()
    with pytest.raises(PipeError) as raised:
        kustomization.render(
            clone / "k8s", clone, find_kubectl(), dict(os.environ), tmp_path_factory.mktemp("work")
        )
    assert raised.value.message == FAILED
    shown = capsys.readouterr().out
    assert "unknown field" in shown and log.MASK in shown, shown
    _assert_framed_and_masked(shown)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hostile_output(SECRET), st.lists(st.sampled_from(FORGED), max_size=3))
def test_any_error_output_of_a_failing_render_is_redacted_as_a_whole_and_framed(
    tmp_path_factory, capsys, output, forged
):
    """What a kubectl could print: the secret in any encoding, wrapped over lines, with forged lines."""
    directory = tmp_path_factory.mktemp("render")
    (directory / "k8s").mkdir()
    (directory / "said").write_text(output + "".join(forged), encoding="utf-8", errors="surrogateescape")
    failing = _fake_kubectl(directory, "sys.stderr.buffer.write(open('said', 'rb').read()); sys.exit(1)")
    capsys.readouterr()
    with pytest.raises(PipeError) as raised:
        kustomization.render(directory / "k8s", directory, failing, {}, directory)
    assert raised.value.message == FAILED
    _assert_framed_and_masked(capsys.readouterr().out)
