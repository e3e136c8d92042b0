"""The object store: one global resourceVersion counter and an event history for watches."""

import copy
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .resources import Kind

HISTORY_LIMIT = 20000


@dataclass(frozen=True)
class Event:
    resource_version: int
    type: str  # ADDED, MODIFIED, DELETED
    kind: Kind
    object: dict


class Conflict(Exception):
    pass


class Store:
    def __init__(self) -> None:
        self._objects: dict[tuple[str, str, str | None, str], dict] = {}
        self._history: list[Event] = []
        self._version = 0
        self._condition = threading.Condition()
        self._closed = False
        self._listeners: list[Callable[[Event], None]] = []

    # ------------------------------------------------------------ reads

    @property
    def resource_version(self) -> int:
        with self._condition:
            return self._version

    def get(self, kind: Kind, namespace: str | None, name: str) -> dict | None:
        with self._condition:
            found = self._objects.get(self._key(kind, namespace, name))
            return copy.deepcopy(found) if found is not None else None

    def list(self, kind: Kind, namespace: str | None) -> tuple[list[dict], int]:
        with self._condition:
            items = [
                copy.deepcopy(obj)
                for (group, resource, obj_namespace, _), obj in sorted(
                    self._objects.items(), key=lambda entry: (entry[0][2] or "", entry[0][3])
                )
                if (group, resource) == (kind.group, kind.resource)
                and (namespace is None or obj_namespace == namespace)
            ]
            return items, self._version

    # ------------------------------------------------------------ writes

    def next_version(self) -> int:
        with self._condition:
            self._version += 1
            return self._version

    def put(self, kind: Kind, obj: dict, *, expect_version: str | None = None) -> dict:
        """Create or replace; sets metadata.resourceVersion; returns a copy of what is stored."""
        metadata = obj["metadata"]
        key = self._key(kind, metadata.get("namespace"), metadata["name"])
        with self._condition:
            existing = self._objects.get(key)
            if expect_version is not None and (
                existing is None or existing["metadata"].get("resourceVersion") != expect_version
            ):
                raise Conflict(metadata["name"])
            self._version += 1
            stored = copy.deepcopy(obj)
            stored["metadata"]["resourceVersion"] = str(self._version)
            self._objects[key] = stored
            self._record(Event(self._version, "MODIFIED" if existing is not None else "ADDED", kind, stored))
            return copy.deepcopy(stored)

    def delete(self, kind: Kind, namespace: str | None, name: str) -> dict | None:
        key = self._key(kind, namespace, name)
        with self._condition:
            existing = self._objects.pop(key, None)
            if existing is None:
                return None
            self._version += 1
            existing = copy.deepcopy(existing)
            existing["metadata"]["resourceVersion"] = str(self._version)
            self._record(Event(self._version, "DELETED", kind, existing))
            return copy.deepcopy(existing)

    def add_listener(self, listener: Callable[[Event], None]) -> None:
        self._listeners.append(listener)

    def _record(self, event: Event) -> None:
        self._history.append(event)
        if len(self._history) > HISTORY_LIMIT:
            del self._history[: len(self._history) - HISTORY_LIMIT]
        self._condition.notify_all()
        for listener in self._listeners:
            listener(event)

    # ------------------------------------------------------------ watches

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def oldest_watchable(self) -> int:
        with self._condition:
            return self._history[0].resource_version - 1 if self._history else self._version

    def events_after(
        self, kind: Kind, since: int, deadline: float, should_stop: Callable[[], bool]
    ) -> Iterator[Event | None]:
        """Events for `kind` with resourceVersion > since, as they happen, until the deadline.
        Yields None now and then (about once a second) so the caller can check its connection."""
        position = since
        while True:
            with self._condition:
                pending = [
                    event
                    for event in self._history
                    if event.resource_version > position
                    and (event.kind.group, event.kind.resource) == (kind.group, kind.resource)
                ]
                if not pending:
                    position = max(position, self._version)
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or self._closed:
                        return
                    self._condition.wait(min(remaining, 1.0))
                    pending = [
                        event
                        for event in self._history
                        if event.resource_version > position
                        and (event.kind.group, event.kind.resource) == (kind.group, kind.resource)
                    ]
                if self._closed:
                    return
            if pending:
                position = pending[-1].resource_version
                yield from pending
            else:
                if should_stop():
                    return
                yield None

    @staticmethod
    def _key(kind: Kind, namespace: str | None, name: str) -> tuple[str, str, str | None, str]:
        return (kind.group, kind.resource, namespace if kind.namespaced else None, name)
