"""OpenAPI v3 documents (/openapi/v3 and /openapi/v3/<api|apis/group>/<version>) built from schemas.py,
and the unknown-field check behind server-side field validation (fieldValidation=Strict|Warn)."""

import functools
import hashlib
import json
from typing import Any

from . import resources
from .schemas import META, all_schemas

PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)


def _query(name: str, description: str, schema_type: str = "string") -> dict:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": {"type": schema_type, "uniqueItems": True},
    }


_DRY_RUN = _query("dryRun", "When present, indicates that modifications should not be persisted.")
_FIELD_MANAGER = _query(
    "fieldManager", "fieldManager is a name associated with the actor or entity making these changes."
)
_FIELD_VALIDATION = _query(
    "fieldValidation",
    "fieldValidation instructs the server on how to handle objects with unknown or duplicate fields.",
)
_FORCE = _query("force", 'Force is going to "force" Apply requests.', "boolean")
_PRETTY = _query("pretty", "If 'true', then the output is pretty printed.")
_WATCH_PARAMS = [
    _query("allowWatchBookmarks", "allowWatchBookmarks requests watch events with type BOOKMARK.", "boolean"),
    _query("continue", "The continue option should be set when retrieving more results from the server."),
    _query("fieldSelector", "A selector to restrict the list of returned objects by their fields."),
    _query("labelSelector", "A selector to restrict the list of returned objects by their labels."),
    _query("limit", "limit is a maximum number of responses to return for a list call.", "integer"),
    _query(
        "resourceVersion",
        "resourceVersion sets a constraint on what resource versions a request may be served from.",
    ),
    _query(
        "resourceVersionMatch",
        "resourceVersionMatch determines how resourceVersion is applied to list calls.",
    ),
    _query("sendInitialEvents", "`sendInitialEvents=true` may be set together with `watch=true`.", "boolean"),
    _query("timeoutSeconds", "Timeout for the list/watch call.", "integer"),
    _query("watch", "Watch for changes to the described resources.", "boolean"),
]


def _body(schema_name: str) -> dict:
    return {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}


def _responses(schema_name: str, *codes: str) -> dict:
    content = {"application/json": _body(schema_name), "application/yaml": _body(schema_name)}
    return {code: {"description": "OK" if code == "200" else "Created", "content": content} for code in codes}


def _operation(kind: resources.Kind, action: str, operation_id: str, **extra) -> dict:
    operation = {
        "tags": [kind.group.replace(".", "") + "_" + kind.version if kind.group else "core_v1"],
        "description": f"{action} {kind.kind}",
        "operationId": operation_id,
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": kind.group, "version": kind.version, "kind": kind.kind},
    }
    operation.update(extra)
    return operation


def _read_replace_patch(kind: resources.Kind, schema: str, suffix: str) -> dict:
    """get, put and patch of one object (or of its status subresource)."""
    return {
        "get": _operation(kind, "get", f"read{suffix}", responses=_responses(schema, "200")),
        "put": _operation(
            kind,
            "put",
            f"replace{suffix}",
            parameters=[_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION],
            requestBody={"content": {"*/*": _body(schema)}, "required": True},
            responses=_responses(schema, "200", "201"),
        ),
        "patch": _operation(
            kind,
            "patch",
            f"patch{suffix}",
            parameters=[_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION, _FORCE],
            requestBody={
                "content": {media: _body(f"{META}.Patch") for media in PATCH_TYPES},
                "required": True,
            },
            responses=_responses(schema, "200", "201"),
        ),
    }


def _paths_for(kind: resources.Kind) -> dict:
    prefix = f"/apis/{kind.group}/{kind.version}" if kind.group else f"/api/{kind.version}"
    collection = (
        f"{prefix}/namespaces/{{namespace}}/{kind.resource}"
        if kind.namespaced
        else f"{prefix}/{kind.resource}"
    )
    item = f"{collection}/{{name}}"
    schema = kind.schema_name
    list_schema = f"{kind.schema_package}.{kind.kind}List"
    op_suffix = kind.kind + ("Namespaced" if kind.namespaced else "")
    path_params = [
        {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "uniqueItems": True}}
    ]
    namespace_param = [
        {
            "name": "namespace",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "uniqueItems": True},
        }
    ]
    create = _operation(
        kind,
        "post",
        f"create{op_suffix}",
        parameters=[_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION],
        requestBody={"content": {"*/*": _body(schema)}, "required": True},
        responses=_responses(schema, "200", "201", "202"),
    )
    if kind.stored is False:
        return {
            collection: {
                "post": create,
                "parameters": [_PRETTY] + (namespace_param if kind.namespaced else []),
            }
        }
    paths = {
        collection: {
            "get": _operation(
                kind,
                "list",
                f"list{op_suffix}",
                parameters=_WATCH_PARAMS,
                responses=_responses(list_schema, "200"),
            ),
            "post": create,
            "delete": _operation(
                kind,
                "deletecollection",
                f"deletecollection{op_suffix}",
                parameters=[_DRY_RUN, *_WATCH_PARAMS],
                responses=_responses(f"{META}.Status", "200"),
            ),
            "parameters": [*namespace_param, _PRETTY] if kind.namespaced else [_PRETTY],
        },
        item: {
            **_read_replace_patch(kind, schema, op_suffix),
            "delete": _operation(
                kind,
                "delete",
                f"delete{op_suffix}",
                parameters=[
                    _DRY_RUN,
                    _query(
                        "gracePeriodSeconds",
                        "The duration in seconds before the object should be deleted.",
                        "integer",
                    ),
                    _query("propagationPolicy", "Whether and how garbage collection will be performed."),
                ],
                requestBody={"content": {"*/*": _body(f"{META}.DeleteOptions")}},
                responses=_responses(f"{META}.Status", "200", "202"),
            ),
            "parameters": path_params + (namespace_param if kind.namespaced else []) + [_PRETTY],
        },
    }
    for subresource in kind.subresources:
        if subresource == "status":
            paths[f"{item}/status"] = {
                **_read_replace_patch(kind, schema, f"{op_suffix}Status"),
                "parameters": path_params + (namespace_param if kind.namespaced else []) + [_PRETTY],
            }
    return paths


def _referenced(schemas: dict, roots: list[str]) -> dict:
    """The schemas `roots` need, following $ref."""
    wanted: dict = {}
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in wanted or name not in schemas:
            continue
        wanted[name] = schemas[name]
        pending.extend(_refs(schemas[name]))
    return dict(sorted(wanted.items()))


def _refs(node: Any) -> list[str]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.append(value.rsplit("/", 1)[-1])
            else:
                found.extend(_refs(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_refs(value))
    return found


def _document_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


@functools.cache
def documents() -> dict[str, bytes]:
    """'api/v1' -> OpenAPI v3 JSON of that group-version."""
    schemas = all_schemas()
    result = {}
    for group, version in resources.group_versions():
        paths: dict = {}
        roots = [f"{META}.Status", f"{META}.Patch", f"{META}.DeleteOptions"]
        for kind in resources.kinds_in(group, version):
            paths.update(_paths_for(kind))
            roots.append(kind.schema_name)
            if kind.stored:
                roots.append(f"{kind.schema_package}.{kind.kind}List")
        document = {
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": "v1.36.0"},
            "paths": paths,
            "components": {"schemas": _referenced(schemas, roots)},
        }
        result[_document_path(group, version)] = json.dumps(document, sort_keys=True).encode()
    return result


def document_hash(path: str) -> str:
    return hashlib.sha512(documents()[path]).hexdigest()[:128].upper()


def index() -> dict:
    return {
        "paths": {
            path: {"serverRelativeURL": f"/openapi/v3/{path}?hash={document_hash(path)}"}
            for path in documents()
        }
    }


# ---------------------------------------------------------------- field validation


def unknown_fields(kind: resources.Kind, obj: dict, *, prune: bool = False) -> list[str]:
    """Dotted paths of the fields in obj its schema does not know (what fieldValidation=Strict rejects).
    prune=True also removes them, as a real server's typed decoding drops them."""
    schemas = all_schemas_cached()
    found: list[str] = []
    _walk(schemas, {"$ref": f"#/components/schemas/{kind.schema_name}"}, obj, "", found, prune)
    return found


@functools.cache
def all_schemas_cached() -> dict:
    return all_schemas()


def _resolve(schemas: dict, schema: dict) -> dict:
    while True:
        if "$ref" in schema:
            schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
        elif "allOf" in schema and len(schema["allOf"]) == 1:
            schema = schema["allOf"][0]
        else:
            return schema


def _walk(schemas: dict, schema: dict, value: Any, path: str, found: list[str], prune: bool) -> None:
    schema = _resolve(schemas, schema)
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(value, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        if properties is not None:
            for key, item in list(value.items()):
                child = f"{path}.{key}" if path else key
                if key in properties:
                    _walk(schemas, properties[key], item, child, found, prune)
                else:
                    found.append(child)
                    if prune:
                        del value[key]
        elif isinstance(additional, dict):
            for key, item in value.items():
                _walk(schemas, additional, item, f"{path}[{key}]" if path else key, found, prune)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for position, item in enumerate(value):
            _walk(schemas, schema["items"], item, f"{path}[{position}]", found, prune)


# ---------------------------------------------------------------- OpenAPI v2 (empty)

PROTOBUF_V2_RESPONSE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
_TITLE, _VERSION = "Kubernetes", "v1.36.3"


def _length_delimited(number: int, payload: bytes) -> bytes:
    length, encoded = len(payload), b""
    while True:
        byte = length & 0x7F
        length >>= 7
        encoded += bytes([byte | (0x80 if length else 0)])
        if not length:
            break
    return bytes([number << 3 | 2]) + encoded + payload


def v2_protobuf() -> bytes:
    """gnostic openapi_v2.Document{swagger: "2.0", info: {title, version}, paths: {}}."""
    info = _length_delimited(1, _TITLE.encode()) + _length_delimited(2, _VERSION.encode())
    return _length_delimited(1, b"2.0") + _length_delimited(2, info) + _length_delimited(8, b"")


def v2_json() -> dict:
    return {"swagger": "2.0", "info": {"title": _TITLE, "version": _VERSION}, "paths": {}}
