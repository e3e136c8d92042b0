"""CDK_CONTEXT: context values for the app, each passed to the CLI as --context key=value.

Checked strictly, because a misread item is not an error to the CLI: it warns about an item without
`=` and the app silently takes its default context. A plain value (a repository variable) is split on
commas and spaces; one that looks like a JSON or YAML list would be split into items such as
`["stage`, so it is refused with the YAML list form to write instead.
"""

import re

from pipe.common import bounded_read, command_line
from pipe.common.errors import PipeError

VARIABLE = "CDK_CONTEXT"
# Keys as CDK apps and feature flags spell them: stage, my-app.env, @aws-cdk/core:bootstrapQualifier.
_KEY = re.compile(r"[A-Za-z0-9_@][A-Za-z0-9_@.:/-]*", re.ASCII)
# The CLI refuses user context under this prefix (ReservedContextPrefix): the CDK sets it itself.
RESERVED_PREFIX = "aws:"
_LIST_OPENERS = "[{"
# An item safe to show back inside single quotes in the suggested YAML list.
_PRINTABLE_ITEM = re.compile(r"[ -~]{1,80}", re.ASCII)
_MAX_SUGGESTED_ITEMS = 5
_GENERIC_FORM = "['stage=prod', 'stackName=Shop']"


def split_plain(plain: str) -> list[str]:
    """One plain CDK_CONTEXT value split into items on commas and spaces; a list or map is refused."""
    text = plain.strip()
    if text and text[0] in _LIST_OPENERS:
        raise PipeError(
            f"{VARIABLE} holds a JSON or YAML {'list' if text[0] == '[' else 'map'} in one plain value, which "
            f"would be split on commas and spaces; write it in the step as a YAML list instead: "
            f"{VARIABLE}: {_yaml_form(text)}"
        )
    return [item for item in re.split(r"[,\s]+", text) if item]


def _yaml_form(text: str) -> str:
    try:
        items = bounded_read.load_json(text, VARIABLE)
    except (PipeError, ValueError):
        return _GENERIC_FORM
    if not isinstance(items, list) or not items or len(items) > _MAX_SUGGESTED_ITEMS:
        return _GENERIC_FORM
    if not all(isinstance(item, str) and _PRINTABLE_ITEM.fullmatch(item) for item in items):
        return _GENERIC_FORM
    quoted = ", ".join("'" + item.replace("'", "''") + "'" for item in items)
    return f"[{quoted}]"


def pair(raw: str) -> tuple[str, str]:
    """One item: ('key', 'value')."""
    command_line.check_argument(raw.strip(), VARIABLE)
    key, separator, value = raw.strip().partition("=")
    key = key.strip()
    if not separator or not key:
        raise ValueError("must be a list of key=value items, such as 'stage=prod'")
    if not _KEY.fullmatch(key):
        raise ValueError(
            "keys must be letters, digits and _ - . : / @ (such as stage or @aws-cdk/core:bootstrapQualifier)"
        )
    if key.startswith(RESERVED_PREFIX):
        raise ValueError(
            f"keys must not start with {RESERVED_PREFIX} (the CDK reserves it for its own values)"
        )
    return key, value.strip()
