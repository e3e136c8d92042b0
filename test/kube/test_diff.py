"""pipe.kube.diff on the real control plane (test/support/controlplane), as the cluster admin: the
plan's kinds of change and their words, Secret data masked everywhere, and 2,000 objects in two
kubectl calls. pipe.kube.fields on its own: no Secret value in any words it makes."""

import base64
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipe.common import process
from pipe.kube import diff, fields, manifests
from pipe.kube.cluster import Connection
from test.support import controlplane, leaks

KUBECTL = str(Path(sys.executable).parent / "kubectl")
# Planted in a Secret: it must never be printed nor reach a plan, in any encoding.
PLANTED_BEFORE = "before-Pl4nted-s3cret-value-0001"
PLANTED_AFTER = "after-Pl4nted-s3cret-value-0002"
_namespaces = itertools.count(1)


def _manifest(image: str, replicas: int, password: str, extra: str = "") -> str:
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, labels: {{set: a}}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: web, image: "{image}"}}]}}
---
apiVersion: v1
kind: Secret
metadata: {{name: web-secret, labels: {{set: a}}}}
stringData: {{password: "{password}"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: web-settings, labels: {{set: a}}}}
data: {{GREETING: hello}}
{extra}"""


OLD_CONFIG = """---
apiVersion: v1
kind: ConfigMap
metadata: {name: old-settings, labels: {set: a}}
data: {A: b}
"""
NEW_CONFIG = OLD_CONFIG.replace("old-settings", "new-settings")


@pytest.fixture
def namespace(control_plane):
    name = f"diff-{next(_namespaces)}"
    control_plane.create(
        "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    )
    yield name
    control_plane.request("DELETE", f"/api/v1/namespaces/{name}")


@pytest.fixture
def connection(control_plane, tmp_path):
    config = control_plane.files.path("admin.kubeconfig")
    environment = {"KUBECONFIG": str(config), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "KUBERC": "off"}
    return Connection(None, tmp_path, config, environment)


def _apply(text: str, connection: Connection, namespace: str, *options: str) -> None:
    path = connection.workdir / "admin-apply.yaml"
    path.write_text(text)
    completed = subprocess.run(
        [KUBECTL, "apply", "-f", str(path), "-n", namespace, *options],
        env=connection.environment,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]


def _secret_hits(text: str) -> list[str]:
    planted = [leaks.Secret("planted before", PLANTED_BEFORE), leaks.Secret("planted after", PLANTED_AFTER)]
    return leaks.hits(text.encode(), planted)


def test_a_plan_says_created_changed_unchanged_and_deleted_with_secrets_masked(
    connection, namespace, tmp_path, capfd
):
    _apply(_manifest("nginx:1.27", 2, PLANTED_BEFORE, OLD_CONFIG), connection, namespace)
    objects = manifests.parse(_manifest("nginx:1.28", 3, PLANTED_AFTER, NEW_CONFIG), "m.yaml")

    changes = diff.plan(objects, KUBECTL, connection, namespace, tmp_path, ["--prune", "--selector=set=a"])

    seen = {(change.kind, change.name): change for change in changes}
    assert [change.change for change in changes] == ["changed", "changed", "unchanged", "created", "deleted"]
    assert seen["Deployment", "web"].details == ("image web: nginx:1.27 → nginx:1.28", "replicas 2 → 3")
    assert seen["Deployment", "web"].source == 0 and seen["Deployment", "web"].namespace == namespace
    assert seen["Secret", "web-secret"].details == ("data.password (value hidden)",)
    assert seen["Secret", "web-secret"].secret
    assert seen["ConfigMap", "new-settings"].source == 3
    assert seen["ConfigMap", "old-settings"].source is None  # --prune deletes it: no manifest
    # Nothing changed in the cluster.
    assert seen["Deployment", "web"].change == "changed"
    assert diff.running_images(diff.live(objects[:1], KUBECTL, connection, namespace, tmp_path)) == [
        ("Deployment/web", "web", "nginx:1.27")
    ]
    printed = capfd.readouterr()
    assert _secret_hits(printed.out + printed.err + repr(changes)) == []
    # kubectl's output held them (the last-applied annotation, base64 data): never printed, but there.
    assert _secret_hits((tmp_path / "plan-after.json").read_text())


def test_a_delete_plan_names_what_exists(connection, namespace, tmp_path):
    _apply(_manifest("nginx:1.27", 1, PLANTED_BEFORE), connection, namespace)
    objects = manifests.parse(_manifest("nginx:1.27", 1, PLANTED_BEFORE, OLD_CONFIG), "m.yaml")
    changes = diff.plan([], KUBECTL, connection, namespace, tmp_path, removing=objects)
    assert [(change.change, change.name, change.source) for change in changes] == [
        ("deleted", "web", 0),
        ("deleted", "web-secret", 1),
        ("deleted", "web-settings", 2),
    ]


def test_a_refused_plan_is_one_line_and_kubectls_message_is_redacted(connection, namespace, tmp_path, capfd):
    objects = manifests.parse(_manifest("nginx:1.27", 1, PLANTED_AFTER), "m.yaml")
    objects[0]["spec"]["replicas"] = PLANTED_AFTER  # the server refuses it and quotes the value
    with pytest.raises(Exception, match="kubectl apply for the plan failed"):
        diff.plan(objects, KUBECTL, connection, namespace, tmp_path)
    printed = capfd.readouterr()
    assert process.PROGRAM_FRAME in printed.out
    assert _secret_hits(printed.out + printed.err) == []


def test_two_thousand_changed_objects_take_two_kubectl_calls(connection, namespace, tmp_path, monkeypatch):
    count = 2000
    before = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{n}"}, "data": {"n": "0"}}
        for n in range(count)
    ]
    _apply(
        json.dumps({"apiVersion": "v1", "kind": "List", "items": before}),
        connection,
        namespace,
        "--server-side",
    )
    after = [obj | {"data": {"n": "1"}} for obj in before]
    calls = []
    real_capture = process.capture
    monkeypatch.setattr(process, "capture", lambda *args: calls.append(args[0]) or real_capture(*args))

    started = time.monotonic()
    changes = diff.plan(after, KUBECTL, connection, namespace, tmp_path)
    seconds = time.monotonic() - started

    assert len(calls) == 2
    assert [change.details for change in changes] == [("data.n",)] * count
    controlplane.FIGURES.append(f"plan of {count} changed ConfigMaps (pipe.kube.diff): {seconds:.1f} s")
    assert seconds < diff.DIFF_LIMIT_SECONDS


# --- pipe.kube.fields: words, never a Secret's value ---------------------------------------------------

_WORDS = "data.password (value hidden)"
# A value whose start is in the words themselves would be "found" there, cut short: not a leak.
_secret_values = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=8, max_size=40
).filter(lambda value: value[:-2] not in _WORDS)


def _secret(value: str, key: str = "password") -> dict:
    encoded = base64.b64encode(value.encode()).decode()
    last_applied = json.dumps({"kind": "Secret", "stringData": {key: value}})
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "annotations": {fields.LAST_APPLIED: last_applied}},
        "data": {key: encoded},
    }


@given(before=_secret_values, after=_secret_values)
def test_no_words_about_a_secret_hold_its_values(before, after):
    words = "\n".join(fields.describe(_secret(before), _secret(after)))
    found = leaks.hits(words.encode(), [leaks.Secret("before", before), leaks.Secret("after", after)])
    assert found == []
    if before != after:
        assert words == _WORDS


def test_named_lists_are_matched_by_name_and_long_lists_of_paths_are_counted():
    def pod(env: list) -> dict:
        return {"kind": "Pod", "spec": {"containers": [{"name": "app", "image": "x:1", "env": env}]}}

    before = pod([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
    after = pod([{"name": "B", "value": "3"}, {"name": "A", "value": "1"}])
    assert fields.describe(before, after) == ["spec.containers[app].env[B].value"]
    many = pod([{"name": f"V{n}", "value": "x"} for n in range(20)])
    words = fields.describe(pod([]), many)
    assert len(words) == fields.MAX_PATHS + 1 and words[-1] == f"… and {20 - fields.MAX_PATHS} more fields"


def test_a_field_left_out_of_a_client_side_applied_manifest_shows_as_removed(connection, namespace, tmp_path):
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {KEEP: a, DROP: b}\n"
    _apply(config, connection, namespace)
    objects = manifests.parse(config.replace(", DROP: b", ""), "c.yaml")
    assert diff.plan(objects, KUBECTL, connection, namespace, tmp_path)[0].details == ("data.DROP (removed)",)
    server_side = diff.plan(objects, KUBECTL, connection, namespace, tmp_path, ["--server-side"])
    assert server_side[0].change == "unchanged"  # kubectl-client-side-apply owns it: SSA leaves it


def test_objects_without_a_namespace_are_found_where_kubectl_puts_them(connection, control_plane, tmp_path):
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: diff-no-namespace}\ndata: {A: b}\n"
    path = tmp_path / "c.yaml"
    path.write_text(config)
    subprocess.run([KUBECTL, "apply", "-f", str(path)], env=connection.environment, timeout=120, check=True)
    try:
        objects = manifests.parse(config, "c.yaml")
        assert [change.change for change in diff.plan(objects, KUBECTL, connection, None, tmp_path)] == [
            "unchanged"
        ]
        assert diff.plan([], KUBECTL, connection, None, tmp_path, removing=objects)[0].change == "deleted"
    finally:
        control_plane.request("DELETE", "/api/v1/namespaces/default/configmaps/diff-no-namespace")
