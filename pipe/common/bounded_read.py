"""Every file the pipe opens itself, read within limits: regular files only, a size cap that fits the
file's purpose, and YAML/JSON loaded with limits on nesting depth and on alias expansion.

A FIFO would block the read for ever, /dev/zero would fill memory, a "billion laughs" YAML (aliases of
aliases) expands a few hundred bytes into billions of nodes, and deep nesting ends in RecursionError.
Each limit below is far above what a real file of that kind holds, and exceeding one is one line
naming the file and the limit.
"""

import json
import os
import stat
from typing import Any

from pipe.common.errors import PipeError

KIB = 1024
MIB = 1024 * KIB
# A Bitbucket OIDC token is about 1.5 KiB; the token variable is capped at the same size.
TOKEN_FILE_BYTES = 64 * KIB
# The Kubernetes API server refuses a request over 3 MiB (etcd an object over 1.5 MiB); a manifest
# file holding several objects at that size is still far below this.
MANIFEST_FILE_BYTES = 8 * MIB
# cdk.json, cdk.context.json, package.json and the CDK CLI's outputs file: settings, not data.
SETTINGS_FILE_BYTES = 4 * MIB
# Kubernetes objects nest about 15 levels (a pod template's container's probe); settings fewer.
MAX_NESTING_DEPTH = 64
# Nodes a YAML file may stand for once its aliases are expanded: a manifest of MANIFEST_FILE_BYTES
# holds fewer; a "billion laughs" holds 10^9.
MAX_EXPANDED_NODES = 2_000_000

_CHUNK = 64 * KIB


def read_bytes(path: os.PathLike[str] | str, limit: int, what: str) -> bytes:
    """The content of the regular file at `path`, at most `limit` bytes; `what` names it in errors
    (e.g. "AWS_WEB_IDENTITY_TOKEN_FILE '/run/token'"). OSError is left to the caller to explain."""
    # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below instead.
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise PipeError(f"{what} is not a regular file (a pipe, device or socket); point it at a file.")
        if info.st_size > limit:
            raise PipeError(f"{what} is {info.st_size} bytes; the limit for this file is {limit} bytes.")
        chunks = []
        total = 0
        while total <= limit:  # a file that grows while it is read stops at the limit too
            chunk = os.read(descriptor, _CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise PipeError(f"{what} is over {limit} bytes; the limit for this file is {limit} bytes.")
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def read_text(path: os.PathLike[str] | str, limit: int, what: str) -> str:
    """As read_bytes, decoded as UTF-8 (UnicodeDecodeError, a ValueError, is left to the caller)."""
    return read_bytes(path, limit, what).decode("utf-8")


def _too_deep(what: str) -> PipeError:
    return PipeError(f"{what} nests deeper than {MAX_NESTING_DEPTH} levels, the limit for this file.")


def check_depth(document: Any, what: str) -> Any:
    """`document` (parsed JSON or YAML), refused if it nests deeper than MAX_NESTING_DEPTH."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_NESTING_DEPTH:
                raise _too_deep(what)
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return document


def load_json(text: str | bytes, what: str) -> Any:
    """Parsed JSON within the depth limit. ValueError (not JSON) is left to the caller."""
    try:
        return check_depth(json.loads(text), what)
    except RecursionError:
        raise _too_deep(what) from None


def load_yaml_documents(text: str, what: str, nodes: list[Any] | None = None) -> list[Any]:
    """Every document of a YAML stream (safe tags only), within the depth and alias-expansion limits.
    yaml.YAMLError (not YAML) is left to the caller. `nodes`, when given, gets each document's
    composed root node (where it starts: `start_mark.line`)."""
    import yaml

    # libyaml where PyYAML has it (its wheels do): several times faster than the pure-Python loader.
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    _check_event_depth(yaml, loader_class, text, what)
    loader = loader_class(text)
    try:
        documents = []
        while loader.check_node():
            node = loader.get_node()
            _check_node_graph(yaml, node, what)
            documents.append(loader.construct_document(node))
            if nodes is not None:
                nodes.append(node)
        return documents
    except RecursionError:
        raise _too_deep(what) from None
    finally:
        loader.dispose()


def _check_event_depth(yaml: Any, loader_class: Any, text: str, what: str) -> None:
    """Nesting measured on the parser's events (a loop, no recursion) before anything is composed:
    composing recurses once per level, and libyaml's composer crashes the process when that is deep."""
    opening = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
    closing = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
    depth = 0
    for event in yaml.parse(text, Loader=loader_class):
        if isinstance(event, opening):
            depth += 1
            if depth > MAX_NESTING_DEPTH:
                raise _too_deep(what)
        elif isinstance(event, closing):
            depth -= 1


def _check_node_graph(yaml: Any, root: Any, what: str) -> None:
    """Depth and expanded size of a composed YAML node graph, where an alias is a shared node: counted
    once per reference, each node's size computed once, so a billion laughs costs only its own size."""
    sizes: dict[int, int] = {}
    heights: dict[int, int] = {}
    on_path: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            sizes[key], heights[key] = 1, 0
            continue
        if children_done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in children)
            heights[key] = 1 + max((heights[id(child)] for child in children), default=0)
            if heights[key] > MAX_NESTING_DEPTH:
                raise _too_deep(what)
            if sizes[key] > MAX_EXPANDED_NODES:
                raise PipeError(
                    f"{what} expands to more than {MAX_EXPANDED_NODES} values through its aliases "
                    "(a YAML bomb?), the limit for this file."
                )
            continue
        if key in on_path:
            raise PipeError(f"{what} holds an alias that refers to itself; YAML for Kubernetes cannot.")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)
