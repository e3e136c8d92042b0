"""The TASK_DEFINITION file's checks, IMAGES items and the revision comparison, with hostile values."""

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipe.common.errors import PipeError
from pipe.jobs.ecs import settings as ecs_settings
from pipe.jobs.ecs import taskdef
from test.support.ecs.model import TaskDefinition
from test.support.ecs.validation import check_registration, described

PLANTED = "planted-Env-Value+9876543210"
NAMES = st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=20)
IMAGES = st.text(string.ascii_letters + string.digits + "_-:./#@", min_size=1, max_size=40)
JSON = st.recursive(
    # Every text a value holds is the planted one: no refusal may quote it.
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.just(PLANTED),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [
        "family",
        "containerDefinitions",
        "cpu",
        "memory",
        "networkMode",
        "volumes",
        "name",
        "image",
        "essential",
        "environment",
        "portMappings",
        "healthCheck",
        "requiresCompatibilities",
        "x\ny",
    ]
)


def good(**extra) -> dict:
    return {
        "family": "shop",
        "containerDefinitions": [
            {
                "name": "web",
                "image": "repo/shop:1",
                "memory": 256,
                "environment": [{"name": "K", "value": PLANTED}],
            }
        ],
        **extra,
    }


def load(tmp_path, document) -> dict:
    (tmp_path / "task.json").write_text(json.dumps(document), encoding="utf-8")
    return taskdef.load("task.json", {"BITBUCKET_CLONE_DIR": str(tmp_path)})


def test_a_good_file_loads(tmp_path):
    assert load(tmp_path, good())["family"] == "shop"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (good(memory=[1]), "memory must be a string"),
        (good(family="shop prod"), "family must be 1 to 255 letters"),
        ({"family": "shop"}, "containerDefinitions is required"),
        (good(containerDefinitions=[]), "containerDefinitions must hold at least one container"),
        (
            good(containerDefinitions=[{"name": "web", "image": "a", "memory": "x"}]),
            "containerDefinitions[0].memory must be a whole number",
        ),
        (good(containerDefinitions=[{"name": "web", "image": "a"}]), "containerDefinitions[0] needs memory"),
        (
            good(containerDefinitions=[{"name": "web", "image": "a b", "memory": 1}]),
            "containerDefinitions[0].image must be",
        ),
        (good(networkMode="host-ish"), "networkMode must be one of bridge, host, awsvpc, none"),
        (good(tags=[{"key": "a", "value": "b"}]), "holds tags: set them with TASK_DEFINITION_TAGS"),
        (good(secretField=PLANTED), "secretField is not a field RegisterTaskDefinition takes"),
        ([good()], "must hold a JSON object"),
    ],
)
def test_a_file_ecs_would_refuse_is_one_line_naming_the_field(tmp_path, document, expected):
    with pytest.raises(PipeError) as caught:
        load(tmp_path, document)
    assert expected in caught.value.message
    assert PLANTED not in caught.value.message


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=FIELDS, value=JSON, inside=st.booleans())
def test_any_value_in_any_field_is_taken_or_refused_without_quoting_it(tmp_path, field, value, inside):
    """Hostile JSON anywhere: the file is taken (and then ECS's stand-in takes it too) or refused
    with a PipeError that quotes no value the file holds."""
    document = good()
    if inside:
        document["containerDefinitions"][0][field] = value
    else:
        document[field] = value
    try:
        loaded = load(tmp_path, document)
    except PipeError as error:
        assert PLANTED not in error.message
        return
    check_registration(loaded)  # what the pipe takes, the stand-in (ECS's rules) takes


@given(raw=st.text(max_size=80))
def test_an_images_item_is_container_equals_image_or_refused(raw):
    try:
        name, image = ecs_settings.image_pair(raw)
    except ValueError as error:
        assert "container=image" in str(error)
        return
    assert taskdef.NAME.fullmatch(name) and taskdef.IMAGE.fullmatch(image)
    assert "\n" not in name + image and " " not in name + image


@given(names=st.lists(NAMES, min_size=1, max_size=4, unique=True), image=IMAGES, pick=st.data())
def test_images_replace_only_the_named_containers(names, image, pick):
    definition = {
        "family": "f",
        "containerDefinitions": [{"name": n, "image": "old:1", "memory": 8} for n in names],
    }
    chosen = pick.draw(st.sampled_from(names))
    changed = taskdef.with_images(definition, {chosen: image}, "the file")
    assert taskdef.images_of(changed) == {n: (image if n == chosen else "old:1") for n in names}
    assert definition["containerDefinitions"][0]["image"] == "old:1"  # not changed in place
    with pytest.raises(PipeError, match="IMAGES names container"):
        taskdef.with_images(definition, {"not-" + names[0] + "-there": image}, "the file")


@given(
    names=st.lists(NAMES, min_size=1, max_size=3, unique=True),
    image=IMAGES,
    env=st.dictionaries(NAMES, st.text(max_size=10), max_size=3),
)
def test_a_described_revision_is_the_same_as_what_was_registered(names, image, env):
    """DescribeTaskDefinition fills in defaults and read-only fields: still the same content, so a
    rerun finds the revision its first run registered."""
    body = {
        "family": "shop",
        "containerDefinitions": [
            {
                "name": n,
                "image": image,
                "memory": 64,
                "environment": [{"name": k, "value": v} for k, v in env.items()],
            }
            for n in names
        ],
    }
    answer = described(TaskDefinition("shop", 3, json.loads(json.dumps(body)), []))
    assert taskdef.same(body, taskdef.registerable(answer))
    other = json.loads(json.dumps(body))
    other["containerDefinitions"][0]["image"] = image + "x"
    assert not taskdef.same(other, taskdef.registerable(answer))
    if env:
        reordered = json.loads(json.dumps(body))
        reordered["containerDefinitions"][0]["environment"].reverse()
        assert taskdef.same(reordered, body)
