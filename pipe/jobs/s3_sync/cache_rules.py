"""`glob=value` rules, as CACHE_CONTROL and CONTENT_TYPE take them, matched against a file's path
relative to LOCAL_PATH (with `/` separators; `*` also matches `/`, so `*.html` matches in every
directory and `assets/*` matches everything below assets/).

A Cache-Control value can itself contain `=` (`public, max-age=3600`). An item is a rule when the
text before its first `=` looks like a glob: no comma, no space, and not a Cache-Control directive
name (max-age, s-maxage, ...). Otherwise the whole item is a value that applies to every file that
no rule matches.
"""

import fnmatch
import re
from dataclasses import dataclass

# Directives that take `=value`; an item starting with one of these is a value, not a rule.
_DIRECTIVES_WITH_ARGUMENT = {
    "max-age",
    "s-maxage",
    "stale-while-revalidate",
    "stale-if-error",
    "no-cache",
    "private",
    "min-fresh",
    "max-stale",
}
_MIME_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]*/[\w.+-]+(\s*;\s*[\w.+-]+=[^;]+)*")


@dataclass(frozen=True)
class Rules:
    rules: tuple[tuple[str, str], ...] = ()
    default: str | None = None

    def value_for(self, relative: str) -> str | None:
        """The value of the first rule whose glob matches, else the default."""
        for glob, value in self.rules:
            if fnmatch.fnmatchcase(relative, glob):
                return value
        return self.default


def split_items(raw: str) -> list[str]:
    """A plain (non-list) value: one item per line, so that commas stay inside values."""
    return [line.strip() for line in raw.splitlines() if line.strip()]


def _split_rule(item: str) -> tuple[str, str] | None:
    glob, equals, value = item.partition("=")
    glob = glob.strip()
    if not equals or not glob or re.search(r"[,\s]", glob) or glob.lower() in _DIRECTIVES_WITH_ARGUMENT:
        return None
    return glob, value.strip()


def cache_control(items: list[str]) -> Rules:
    rules: list[tuple[str, str]] = []
    default = None
    for item in items:
        rule = _split_rule(item)
        if rule is None:
            if default is not None:
                raise ValueError(f"has two values that are not glob=value rules ({default!r} and {item!r})")
            default = _check_header(item)
        else:
            rules.append((rule[0], _check_header(rule[1])))
    for value in [default or "", *(value for _, value in rules)]:
        # No Cache-Control directive contains `*`: this is several rules run together on one line.
        if "*" in value:
            raise ValueError(f"has several rules in one item ({value!r}); put one glob=value rule per line")
    return Rules(tuple(rules), default)


def content_type(items: list[str]) -> Rules:
    rules = []
    for item in items:
        glob, equals, value = item.partition("=")
        glob, value = glob.strip(), value.strip()
        if not equals or not glob or not _MIME_TYPE.fullmatch(value):
            raise ValueError(f"must be glob=type/subtype rules such as *.json=application/json ({item!r})")
        rules.append((glob, _check_header(value)))
    return Rules(tuple(rules))


def _check_header(value: str) -> str:
    # Visible ASCII and spaces only: DEL and other control characters are not allowed in HTTP header
    # values, and http.client cannot send characters beyond Latin-1 at all.
    if not value or not value.isascii() or not value.isprintable():
        raise ValueError(f"must be printable ASCII header values ({value!r})")
    return value
