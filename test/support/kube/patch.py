"""Patch formats kubectl sends: strategic merge, JSON merge (RFC 7386), JSON patch (RFC 6902), and
a simplified server-side apply (three-way merge against what the same field manager applied last)."""

import copy
from typing import Any

from .resources import RETAIN_KEYS_FIELDS, merge_key_for


class PatchError(ValueError):
    """The patch cannot be applied: the server answers 422 (or 400 for a malformed patch)."""


# ---------------------------------------------------------------- JSON merge patch (RFC 7386)


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# ---------------------------------------------------------------- JSON patch (RFC 6902)


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _index(container: list, token: str, *, adding: bool) -> int:
    if adding and token == "-":
        return len(container)
    try:
        index = int(token)
    except ValueError:
        raise PatchError(f"invalid array index {token!r}") from None
    limit = len(container) if adding else len(container) - 1
    if index < 0 or index > limit:
        raise PatchError(f"array index {index} out of bounds")
    return index


def _parent(document: Any, parts: list[str]) -> Any:
    node = document
    for token in parts[:-1]:
        if isinstance(node, dict):
            if token not in node:
                raise PatchError(f"path component {token!r} not found")
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, adding=False)]
        else:
            raise PatchError(f"cannot descend into {token!r}")
    return node


def _get(document: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return document
    parent = _parent(document, parts)
    token = parts[-1]
    if isinstance(parent, dict):
        if token not in parent:
            raise PatchError(f"path {path!r} not found")
        return parent[token]
    if isinstance(parent, list):
        return parent[_index(parent, token, adding=False)]
    raise PatchError(f"path {path!r} not found")


def _remove(document: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        raise PatchError("cannot remove the whole document")
    parent = _parent(document, parts)
    token = parts[-1]
    if isinstance(parent, dict):
        if token not in parent:
            raise PatchError(f"path {path!r} not found")
        return parent.pop(token)
    if isinstance(parent, list):
        return parent.pop(_index(parent, token, adding=False))
    raise PatchError(f"path {path!r} not found")


def _add(document: Any, path: str, value: Any, *, replace: bool = False) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent = _parent(document, parts)
    token = parts[-1]
    if isinstance(parent, dict):
        if replace and token not in parent:
            raise PatchError(f"path {path!r} not found")
        parent[token] = value
    elif isinstance(parent, list):
        if replace:
            parent[_index(parent, token, adding=False)] = value
        else:
            parent.insert(_index(parent, token, adding=True), value)
    else:
        raise PatchError(f"path {path!r} not found")
    return document


def json_patch(target: Any, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise PatchError("a JSON patch is a list of operations")
    document = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise PatchError("each JSON patch operation needs op and path")
        op, path = operation["op"], operation["path"]
        if op == "add":
            document = _add(document, path, copy.deepcopy(operation.get("value")))
        elif op == "remove":
            _remove(document, path)
        elif op == "replace":
            document = _add(document, path, copy.deepcopy(operation.get("value")), replace=True)
        elif op == "move":
            value = _remove(document, operation["from"])
            document = _add(document, path, value)
        elif op == "copy":
            document = _add(document, path, copy.deepcopy(_get(document, operation["from"])))
        elif op == "test":
            if _get(document, path) != operation.get("value"):
                raise PatchError(f"test operation failed at {path!r}")
        else:
            raise PatchError(f"unknown JSON patch operation {op!r}")
    return document


# ---------------------------------------------------------------- strategic merge patch

_SET_ORDER = "$setElementOrder/"
_DELETE_PRIMITIVE = "$deleteFromPrimitiveList/"


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _strip_directives(item)
            for key, item in value.items()
            if not key.startswith("$") and item is not None
        }
    if isinstance(value, list):
        return [
            _strip_directives(item)
            for item in value
            if not (isinstance(item, dict) and item.get("$patch") in ("delete", "replace") and len(item) == 1)
        ]
    return value


def strategic_merge_patch(original: Any, patch: Any, path: tuple[str, ...] = ()) -> Any:
    if not isinstance(patch, dict):
        raise PatchError("a strategic merge patch is a JSON object")
    return _merge_map(original if isinstance(original, dict) else {}, patch, path)


def _merge_map(original: dict, patch: dict, path: tuple[str, ...]) -> dict | None:
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip_directives({k: v for k, v in patch.items() if k != "$patch"})
    if directive == "delete":
        return None
    result = copy.deepcopy(original)
    orders: dict[str, list] = {}
    for key, value in patch.items():
        if key == "$patch":
            continue
        if key == "$retainKeys":
            continue
        if key.startswith(_SET_ORDER):
            orders[key[len(_SET_ORDER) :]] = value
            continue
        if key.startswith(_DELETE_PRIMITIVE):
            field = key[len(_DELETE_PRIMITIVE) :]
            if isinstance(result.get(field), list):
                result[field] = [item for item in result[field] if item not in value]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            current = result.get(key)
            merged = _merge_map(current if isinstance(current, dict) else {}, value, (*path, key))
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _merge_list(result.get(key), value, path, key)
        else:
            result[key] = value
    if "$retainKeys" in patch and isinstance(patch["$retainKeys"], list):
        keep = set(patch["$retainKeys"])
        result = {key: value for key, value in result.items() if key in keep}
    for field, order in orders.items():
        if isinstance(result.get(field), list):
            result[field] = _reorder(result[field], order, merge_key_for(path, field))
    return result


def _merge_list(original: Any, patch: list, path: tuple[str, ...], name: str) -> list:
    meta = merge_key_for(path, name)
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return _strip_directives(
            [item for item in patch if not (isinstance(item, dict) and "$patch" in item)]
        )
    if meta is None or "merge" not in meta[1] or not isinstance(original, list):
        return _strip_directives(patch)
    merge_key, _ = meta
    result = copy.deepcopy(original)
    if merge_key is None:  # a set of primitives
        for item in patch:
            if item not in result:
                result.append(item)
        return result
    for item in patch:
        if not isinstance(item, dict):
            raise PatchError(f"{'.'.join((*path, name))}: list items must be objects with {merge_key}")
        if merge_key not in item:
            raise PatchError(f"map: {item} does not contain declared merge key: {merge_key}")
        key_value = item[merge_key]
        positions = [
            i
            for i, existing in enumerate(result)
            if isinstance(existing, dict) and existing.get(merge_key) == key_value
        ]
        if item.get("$patch") == "delete":
            result = [existing for i, existing in enumerate(result) if i not in positions]
            continue
        if positions:
            merged = _merge_map(result[positions[0]], item, (*path, name))
            result[positions[0]] = merged
        else:
            result.append(_strip_directives(item))
    return [item for item in result if item is not None]


def _reorder(items: list, order: list, meta: tuple[str | None, str] | None) -> list:
    key = meta[0] if meta else None

    def identity(item):
        return item.get(key) if key is not None and isinstance(item, dict) else item

    wanted = [identity(item) for item in order]
    ordered = sorted(
        (item for item in items if identity(item) in wanted), key=lambda item: wanted.index(identity(item))
    )
    rest = [item for item in items if identity(item) not in wanted]
    return ordered + rest


# ---------------------------------------------------------------- server-side apply (simplified)


def apply_configuration(live: Any, last: Any, new: Any, path: tuple[str, ...] = ()) -> Any:
    """Merge `new` (what a field manager applies now) into `live`; drop what the same manager applied
    last time (`last`) and no longer applies. Lists with a merge key merge per item; others are atomic."""
    if isinstance(new, dict):
        result = copy.deepcopy(live) if isinstance(live, dict) else {}
        previous = last if isinstance(last, dict) else {}
        for key in previous:
            if key not in new:
                result.pop(key, None)
        for key, value in new.items():
            if value is None:
                result.pop(key, None)
                continue
            if path and path[-1] in RETAIN_KEYS_FIELDS and key == "type" and result.get("type") != value:
                # A union's discriminator changed: drop the members that belong to the old type.
                result = {k: v for k, v in result.items() if k in new}
            result[key] = _apply_field(result.get(key), previous.get(key), value, path, key)
        return result
    return copy.deepcopy(new)


def _apply_field(live: Any, last: Any, new: Any, path: tuple[str, ...], name: str) -> Any:
    if isinstance(new, dict):
        return apply_configuration(live, last, new, (*path, name))
    if isinstance(new, list):
        meta = merge_key_for(path, name)
        if meta is None or not isinstance(live, list):
            return copy.deepcopy(new)
        merge_key = meta[0]
        previous = last if isinstance(last, list) else []
        if merge_key is None:
            kept = [item for item in live if item in new or item not in previous]
            return kept + [item for item in new if item not in kept]
        if not all(isinstance(item, dict) and merge_key in item for item in new):
            raise PatchError(f"{'.'.join((*path, name))}: every item needs {merge_key}")
        new_by_key = {item[merge_key]: item for item in new}
        last_by_key = {item.get(merge_key): item for item in previous if isinstance(item, dict)}
        result = []
        for item in live:
            key = item.get(merge_key) if isinstance(item, dict) else None
            if key in new_by_key:
                result.append(apply_configuration(item, last_by_key.get(key), new_by_key[key], (*path, name)))
            elif key not in last_by_key:
                result.append(copy.deepcopy(item))
        present = {item.get(merge_key) for item in result if isinstance(item, dict)}
        result.extend(copy.deepcopy(item) for item in new if item[merge_key] not in present)
        return result
    return copy.deepcopy(new)
