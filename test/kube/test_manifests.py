import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from pipe.common.errors import PipeError
from pipe.kube import manifests

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
"""
SERVICE_AND_CONFIG = """
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
---
"""


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "k8s" / "nested").mkdir(parents=True)
    (tmp_path / "k8s" / "deployment.yaml").write_text(DEPLOYMENT)
    (tmp_path / "k8s" / "nested" / "service.yml").write_text(SERVICE_AND_CONFIG)
    (tmp_path / "k8s" / "README.md").write_text("not a manifest")
    return tmp_path


def test_a_directory_is_read_recursively_and_in_order(tree):
    files = manifests.find(tree / "k8s")
    assert [f.relative_to(tree).as_posix() for f in files] == [
        "k8s/deployment.yaml",
        "k8s/nested/service.yml",
    ]
    objects = manifests.load(files, tree)
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("Deployment", "web"),
        ("Service", "web"),
        ("ConfigMap", "settings"),
    ]


def test_labels_are_added_and_existing_ones_kept(tree):
    objects = manifests.load(manifests.find(tree / "k8s"), tree)
    objects[0]["metadata"]["labels"] = {"app": "web"}
    manifests.add_labels(objects, {"team": "payments"})
    assert objects[0]["metadata"]["labels"] == {"app": "web", "team": "payments"}
    assert all(o["metadata"]["labels"]["team"] == "payments" for o in objects)


def test_rollout_targets_are_the_workloads_with_their_namespace(tree):
    objects = manifests.load(manifests.find(tree / "k8s"), tree)
    objects.append(
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "data"}}
    )
    targets = manifests.rollout_targets(objects, "shop")
    assert [(str(t), t.namespace) for t in targets] == [
        ("deployment/web", "shop"),
        ("statefulset/db", "data"),
    ]
    assert [t.namespace for t in manifests.rollout_targets(objects[:1], None)] == ["default"]


def test_a_list_kind_is_expanded():
    objects = manifests.parse(
        "kind: List\napiVersion: v1\nitems:\n- {kind: ConfigMap, apiVersion: v1}\n", "x.yaml"
    )
    assert [o["kind"] for o in objects] == ["ConfigMap"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        # libyaml (the loader since 0.7) reports where it noticed the problem: the end of the text.
        ("kind: [unclosed", "x.yaml is not valid YAML at line 2: did not find expected ','"),
        ("a: 1\n b: 2\n", "x.yaml is not valid YAML at line 2"),
        ("- just\n- a list\n", "not a Kubernetes object"),
        ("apiVersion: v1\n", "not a Kubernetes object"),
    ],
)
def test_broken_manifests_give_one_line(text, problem):
    with pytest.raises(PipeError, match=problem):
        manifests.parse(text, "x.yaml")


def test_a_directory_without_manifests_is_refused(tmp_path):
    with pytest.raises(PipeError, match=r"holds no \.yaml"):
        manifests.find(tmp_path)


def test_written_manifests_read_back_the_same(tree, tmp_path):
    objects = manifests.load(manifests.find(tree / "k8s"), tree)
    written = manifests.write(objects, tmp_path / "out.yaml")
    assert manifests.parse(written.read_text(), "out.yaml") == objects


# --- a malformed object is one line, never a crash (issue 29, class 9) ----------------------------------

_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))
_any = st.recursive(
    _scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
_metadata = st.one_of(
    _any,
    st.fixed_dictionaries({}, optional={"name": _any, "namespace": _any, "labels": _any}),
)
_object = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["Deployment", "ConfigMap"]) | _any,
        "apiVersion": st.sampled_from(["apps/v1", "v1"]),
    },
    optional={"metadata": _metadata},
)
_document = st.one_of(
    _object,
    st.fixed_dictionaries({"kind": st.just("List"), "items": st.lists(_object, max_size=3) | _any}),
)


@given(documents=st.lists(_document, min_size=1, max_size=3))
def test_a_malformed_manifest_is_one_line_and_a_parsed_one_can_be_labelled(documents):
    text = yaml.safe_dump_all(documents)
    try:
        objects = manifests.parse(text, "k8s/app.yaml")
    except PipeError as refused:
        assert refused.message.startswith("k8s/app.yaml holds "), refused.message
        return
    manifests.add_labels(objects, {"app.kubernetes.io/managed-by": "aws-oidc-deploy"})
    manifests.rollout_targets(objects, None)
    assert all(
        obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "aws-oidc-deploy" for obj in objects
    )


# --- where each object starts: document layouts as people write them ------------------------------------

_SEPARATORS = ["---", "--- ", "---  # next", "---\t"]
_BEFORE_CONTENT = st.lists(st.sampled_from(["", "# a comment", "   ", "#---"]), max_size=3)


@st.composite
def _layouts(draw):
    """A multi-document file and the line (1-based) where each of its objects starts."""
    lines: list[str] = []
    expected: list[int] = []
    lines += draw(_BEFORE_CONTENT)
    for index in range(draw(st.integers(min_value=1, max_value=6))):
        if index or draw(st.booleans()):
            lines.append(draw(st.sampled_from(_SEPARATORS)))
            if draw(st.booleans()):  # an empty document: no object
                lines.append(draw(st.sampled_from(_SEPARATORS)))
        lines += draw(_BEFORE_CONTENT)
        name = f"o{index}"
        if draw(st.booleans()):
            lines.append(f"{{apiVersion: v1, kind: ConfigMap, metadata: {{name: {name}}}}}")
            expected.append(len(lines))
        else:
            lines.append("apiVersion: v1")
            expected.append(len(lines))
            lines += ["kind: ConfigMap", "# inside", "metadata:", f"  name: {name}"]
    if draw(st.booleans()):
        lines.append(draw(st.sampled_from(["---", "..."])))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"])), expected


@given(_layouts())
def test_each_object_is_placed_on_the_line_it_starts(layout):
    text, expected = layout
    origins: list[manifests.Origin] = []
    objects = manifests.parse(text, "k8s/app.yaml", origins)
    assert [obj["metadata"]["name"] for obj in objects] == [f"o{n}" for n in range(len(expected))]
    assert origins == [manifests.Origin("k8s/app.yaml", line) for line in expected]


def test_a_lists_items_start_where_each_item_does(tmp_path):
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "list.yaml").write_text(
        "kind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n"
        "-\n  # b\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b}\n"
    )
    origins: list[manifests.Origin] = []
    manifests.load(manifests.find(tmp_path / "k8s"), tmp_path, origins)
    assert origins == [manifests.Origin("k8s/list.yaml", 3), manifests.Origin("k8s/list.yaml", 8)]
