"""Label and field selectors as list and watch requests send them."""

import re

from .errors import bad_request

_SET = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*(?:(notin|in)\s*\(([^)]*)\))?\s*$")


def _split(selector: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current)
    return parts


def label_matcher(selector: str | None):
    if not selector:
        return lambda labels: True
    tests = []
    for part in _split(selector):
        for operator in ("!=", "==", "="):
            if operator in part:
                key, value = (item.strip() for item in part.split(operator, 1))
                negate = operator == "!="
                tests.append(lambda labels, k=key, v=value, n=negate: (labels.get(k) == v) != n)
                break
        else:
            match = _SET.match(part)
            if not match:
                raise bad_request(f"unable to parse requirement: {part!r}")
            bang, key, operator, values = match.groups()
            if operator:
                options = {value.strip() for value in values.split(",") if value.strip()}
                if operator == "in":
                    tests.append(lambda labels, k=key, o=options: labels.get(k) in o)
                else:
                    tests.append(lambda labels, k=key, o=options: labels.get(k) not in o)
            elif bang:
                tests.append(lambda labels, k=key: k not in labels)
            else:
                tests.append(lambda labels, k=key: k in labels)
    return lambda labels: all(test(labels or {}) for test in tests)


def field_matcher(selector: str | None):
    if not selector:
        return lambda obj: True
    tests = []
    for part in _split(selector):
        for operator in ("!=", "==", "="):
            if operator in part:
                path, value = (item.strip() for item in part.split(operator, 1))
                negate = operator == "!="
                tests.append((path, value, negate))
                break
        else:
            raise bad_request(f"invalid selector: {part!r}")

    def lookup(obj: dict, path: str):
        node = obj
        for key in path.split("."):
            if not isinstance(node, dict):
                return None
            node = node.get(key)
        return "" if node is None else str(node)

    return lambda obj: all((lookup(obj, path) == value) != negate for path, value, negate in tests)
