"""Task definitions: the TASK_DEFINITION file read and held to RegisterTaskDefinition's input before
the sign-in, images set by container, and the comparison that finds an identical registered revision.

A task definition holds environment values and secrets' `valueFrom` (ARNs that name where secrets
are, sometimes the values themselves by mistake): no message here quotes a value, only the field's
path, and every such value is registered with the log's redaction before anything is printed.
"""

import contextlib
import re
from collections.abc import Mapping
from typing import Any

from pipe.common import bounded_read, private_dir
from pipe.common.errors import PipeError
from pipe.common.log import logger, register_secret

# ECS's quota on a task definition is 64 KiB of JSON; a file far above it is a mistake.
TASK_DEFINITION_FILE_BYTES = 1024 * 1024
# The API reference's rules (RegisterTaskDefinition, ContainerDefinition): family and container
# names "up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens"; image
# "up to 255 letters, numbers, hyphens, underscores, colons, periods, forward slashes, and number
# signs" — and `@` of a digest reference (repository@sha256:...), which the same page shows.
NAME = re.compile(r"[A-Za-z0-9_-]{1,255}", re.ASCII)
IMAGE = re.compile(r"[A-Za-z0-9_\-:./#@]{1,255}", re.ASCII)
NAME_RULE = "1 to 255 letters, digits, hyphens and underscores"
IMAGE_RULE = "1 to 255 letters, digits and - _ : . / # @ (an image reference such as repo/app:1.2)"
# What DescribeTaskDefinition answers that RegisterTaskDefinition does not take: a file saved from
# `aws ecs describe-task-definition` holds them, and they are dropped with a note.
DESCRIBED_ONLY = (
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
    "deleteRequestedAt",
)
# Fields the pipe sets itself (TASK_DEFINITION_TAGS): tags are not part of a revision's content.
NOT_CONTENT = ("tags",)
_KINDS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "structure": (dict, "an object"),
    "map": (dict, "an object"),
    "list": (list, "a list"),
    "string": (str, "a string"),
    "boolean": (bool, "true or false"),
    "integer": (int, "a whole number"),
    "long": (int, "a whole number"),
    "double": ((int, float), "a number"),
    "float": ((int, float), "a number"),
}


def _input_shape() -> Any:
    from pipe.aws.clients import botocore_session

    model = botocore_session().get_service_model("ecs")
    return model.operation_model("RegisterTaskDefinition").input_shape


def shape_problem(value: Any, shape: Any, path: str) -> str | None:
    """The first place where `value` does not fit botocore's model of `shape`, as '<path> must be …',
    never quoting a value (a loop over the document: no recursion on user input)."""
    stack: list[tuple[Any, Any, str]] = [(value, shape, path)]
    while stack:
        item, kind, where = stack.pop()
        expected, described = _KINDS.get(kind.type_name, (object, "a value"))
        wrong_bool = isinstance(item, bool) and kind.type_name in ("integer", "long", "double", "float")
        if not _fits(item, expected) or wrong_bool:
            return f"{where} must be {described}"
        enum = getattr(kind, "enum", None)
        if enum and item not in enum:
            return f"{where} must be one of {', '.join(enum)}"
        if kind.type_name == "structure":
            unknown = sorted(set(item) - set(kind.members))
            if unknown:
                return f"{where + '.' if where else ''}{_safe_key(unknown[0])} is not a field RegisterTaskDefinition takes"
            missing = [name for name in kind.required_members if name not in item]
            if missing:
                return f"{where + '.' if where else ''}{missing[0]} is required"
            stack.extend(
                (child, kind.members[name], f"{where + '.' if where else ''}{name}")
                for name, child in reversed(list(item.items()))
            )
        elif kind.type_name == "list":
            stack.extend(
                (child, kind.member, f"{where}[{index}]") for index, child in reversed(list(enumerate(item)))
            )
        elif kind.type_name == "map":
            stack.extend((child, kind.value, f"{where}.{_safe_key(key)}") for key, child in item.items())
    return None


def _fits(item: object, expected: type | tuple[type, ...]) -> bool:
    return isinstance(item, expected)


def _safe_key(key: str) -> str:
    # A key names a field, but it is the user's text: shown only when it looks like a field name.
    return key if re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", key) else "(a key that is not a field name)"


def ecs_problem(definition: Mapping[str, Any]) -> str | None:
    """What RegisterTaskDefinition refuses beyond the model's types (the API reference's rules)."""
    if not NAME.fullmatch(definition["family"]):
        return f"family must be {NAME_RULE}"
    containers = definition["containerDefinitions"]
    if not containers:
        return "containerDefinitions must hold at least one container"
    seen: set[str] = set()
    for index, container in enumerate(containers):
        name, image = container.get("name"), container.get("image")
        if name is None or not NAME.fullmatch(name):
            return f"containerDefinitions[{index}].name must be {NAME_RULE}"
        if name in seen:
            return f"containerDefinitions[{index}].name repeats the name of another container"
        seen.add(name)
        if image is None or not IMAGE.fullmatch(image):
            return f"containerDefinitions[{index}].image must be {IMAGE_RULE}"
        compatible = definition.get("requiresCompatibilities") or ["EC2"]
        needs_memory = "EC2" in compatible and "memory" not in definition
        if needs_memory and "memory" not in container and "memoryReservation" not in container:
            return (
                f"containerDefinitions[{index}] needs memory or memoryReservation (or the task a memory): "
                "the EC2 launch type requires one"
            )
    if not any(container.get("essential", True) for container in containers):
        return "containerDefinitions must hold at least one essential container"
    return None


def protect(document: Any) -> None:
    """Register every environment value and secret reference anywhere in `document` (a task
    definition, an ECS answer: container overrides of a task hold them too) with the log's redaction."""
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        for key, value in item.items():
            if key in ("environment", "secrets") and isinstance(value, list):
                for pair in value:
                    if isinstance(pair, dict):
                        register_secret(str(pair.get("value") or pair.get("valueFrom") or ""))
            elif key == "credentialsParameter" and isinstance(value, str):
                register_secret(value)
            else:
                stack.append(value)


def guard(ecs: Any) -> None:
    """Have every answer of `ecs` (a client) protected before botocore logs its body (DEBUG: true
    logs each answer whole, before parsing it)."""

    def before_parse(response_dict: dict[str, Any], **_: Any) -> None:
        body = response_dict.get("body")
        if isinstance(body, bytes) and b"ontainer" in body:
            with contextlib.suppress(ValueError, PipeError):
                protect(bounded_read.load_json(body, "an ECS answer"))

    from pipe.aws import sdk_private

    sdk_private.before_answer_is_logged(ecs, "ecs", before_parse)


def load(raw: str, env: Mapping[str, str]) -> dict[str, Any]:
    """TASK_DEFINITION: a JSON file in the clone, as `aws ecs register-task-definition
    --cli-input-json` takes it (or as describe-task-definition saved it), held to RegisterTaskDefinition."""
    path = private_dir.in_clone("TASK_DEFINITION", raw, env)
    what = f"TASK_DEFINITION {raw.strip()!r}"
    if path.is_dir():
        raise PipeError(f"{what} is a directory; point it at the task definition's JSON file.")
    try:
        text = bounded_read.read_bytes(path, TASK_DEFINITION_FILE_BYTES, what)
        document = bounded_read.load_json(text, what)
    except FileNotFoundError:
        raise PipeError(
            f"{what} does not exist in {private_dir.clone_dir(env)}; build it before this step."
        ) from None
    except OSError as error:
        raise PipeError(f"{what} cannot be read: {error.strerror or error}.") from None
    except ValueError:  # JSON or UTF-8 decoding; the message would quote the file
        raise PipeError(f"{what} is not JSON text; write the task definition as a JSON object.") from None
    if isinstance(document, dict) and set(document) == {"taskDefinition"} | (set(document) & {"tags"}):
        document = {
            **document["taskDefinition"],
            **({"tags": document["tags"]} if "tags" in document else {}),
        }
    if not isinstance(document, dict):
        raise PipeError(f"{what} must hold a JSON object (the task definition), not a list or a value.")
    dropped = [name for name in DESCRIBED_ONLY if name in document]
    document = {name: value for name, value in document.items() if name not in DESCRIBED_ONLY}
    problem = shape_problem(document, _input_shape(), "") or ecs_problem(document)
    if problem:
        raise PipeError(f"{what} is not valid for RegisterTaskDefinition: {problem}.")
    if document.get("tags"):
        raise PipeError(
            f"{what} holds tags: set them with TASK_DEFINITION_TAGS instead (one place for them)."
        )
    protect(document)
    if dropped:
        logger.info(
            "%s holds fields only DescribeTaskDefinition answers (%s): left out of the registration.",
            what,
            ", ".join(dropped),
        )
    return document


def registerable(described: Mapping[str, Any]) -> dict[str, Any]:
    """A described revision as RegisterTaskDefinition would take it."""
    return {
        name: value
        for name, value in described.items()
        if name in _input_shape().members and name not in NOT_CONTENT and name not in DESCRIBED_ONLY
    }


def with_images(definition: Mapping[str, Any], images: Mapping[str, str], source: str) -> dict[str, Any]:
    """`definition` with each named container's image replaced; a name that is not there is refused."""
    containers = [dict(container) for container in definition["containerDefinitions"]]
    names = [container["name"] for container in containers]
    for name, image in images.items():
        if name not in names:
            raise PipeError(
                f"IMAGES names container {name!r}, which {source} does not have; its containers are: "
                f"{', '.join(names)}."
            )
        containers[names.index(name)]["image"] = image
    return {**definition, "containerDefinitions": containers}


def images_of(definition: Mapping[str, Any]) -> dict[str, str]:
    return {c["name"]: c.get("image", "") for c in definition.get("containerDefinitions") or []}


# Values ECS fills in when a revision is registered without them (DescribeTaskDefinition answers
# them): equal to leaving them out.
_CONTAINER_DEFAULTS: dict[str, Any] = {"essential": True, "cpu": 0}
_TASK_DEFAULTS: dict[str, Any] = {"networkMode": "bridge", "enableFaultInjection": False}


def _normal(value: Any, defaults: Mapping[str, Any] | None = None) -> Any:
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            item = _normal(item)
            if item in (None, [], {}) or (defaults is not None and defaults.get(key, object()) == item):
                continue
            kept[key] = item
        return kept
    if isinstance(value, list):
        return [_normal(item) for item in value]
    return value


def content(definition: Mapping[str, Any]) -> dict[str, Any]:
    """What makes two revisions the same: the register-able fields, without empty values and the
    defaults ECS fills in, containers' environment and secrets as sets (their order means nothing)."""
    normal: dict[str, Any] = _normal(
        {k: v for k, v in definition.items() if k not in NOT_CONTENT and k not in DESCRIBED_ONLY},
        _TASK_DEFAULTS,
    )
    containers = []
    for container in definition.get("containerDefinitions") or []:
        one = _normal(container, _CONTAINER_DEFAULTS)
        for listed in ("environment", "secrets"):
            if listed in one:
                one[listed] = sorted(one[listed], key=lambda pair: sorted(pair.items()))
        containers.append(one)
    normal["containerDefinitions"] = containers
    return normal


def same(one: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    return content(one) == content(other)
