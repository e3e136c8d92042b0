"""Every reach into botocore's and s3transfer's private code, in one place.

Each is a name or a behaviour the SDK does not promise to keep. Each was verified with the versions
in VERIFIED (requirements.txt's pins), and each has an upgrade canary in test/aws/test_sdk_private.py
that fails with a line naming the hook when an upgrade moves it. Why each exists, with its
measurements: docs/decisions.md.

1. `standard_retry_handler`: botocore's emitter `_emitter._unique_id_handlers[...]` and the bound
   `standard.RetryHandler` behind it, which botocore does not hand out (the call budget wraps it).
2. `dates_as_text`: the session component "response_parser_factory" swapped, with
   `ResponseParserFactory.set_parser_defaults(timestamp_parser=str)`, while one client is made.
3. `on_listing_page`: the event `before-parse.s3.ListObjectsV2` and its `customized_response_dict`,
   which botocore merges over what its parser returns.
4. `serializer_client` and `crt_request`: s3transfer's `BotocoreCRTRequestSerializer._client` and
   `._convert_to_crt_http_request`, used by the CRT request templates.
5. Not a name but a behaviour, relied on in pipe.common.crt (below this package, so it stays there):
   botocore takes an `import awscrt` that fails as "no CRT" (`botocore.compat.HAS_CRT`).
6. `before_answer_is_logged`: the event `before-parse.<service>` comes with the answer's body
   before botocore's parser logs it ("Response body:" at DEBUG): the ecs job registers the
   environment values in a task definition for redaction there.

The transfer managers are closed through their public `shutdown(cancel=)`, not `__exit__` by hand.

Imports of the SDK stay inside the functions: this module is imported by modules the entry point
may load, and start-up loads no SDK.
"""

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

# The versions every hook below was verified with; test/aws/test_sdk_private.py holds them equal to
# requirements.txt's pins, so that an upgrade is a deliberate re-verification of each hook.
VERIFIED = {"botocore": "1.44.5", "s3transfer": "0.19.3", "awscrt": "0.38.0"}

LISTING_BEFORE_PARSE = "before-parse.s3.ListObjectsV2"


def standard_retry_handler(events: Any, unique_id: str) -> Any:
    """The standard retry handler botocore registered for a client under `unique_id` (a
    `botocore.retries.standard.RetryHandler`). botocore does not hand it out; its emitter keeps it by
    that id, behind the client's event aliaser."""
    from botocore.retries import standard

    emitter = getattr(events, "_emitter", events)
    registered = emitter._unique_id_handlers[unique_id]["handler"]
    handler = getattr(registered, "__self__", None)
    if not isinstance(handler, standard.RetryHandler):  # a botocore upgrade moved it: fail, never unbounded
        raise TypeError(f"botocore registered {registered!r} as {unique_id}, not a standard RetryHandler")
    return handler


@contextlib.contextmanager
def dates_as_text(session: Any) -> Iterator[None]:
    """Clients made by `session` inside the block leave dates as the text AWS sent. botocore reads
    the parser factory when a client is made, so the shared one is put back at once."""
    from botocore.parsers import ResponseParserFactory

    shared = session.get_component("response_parser_factory")
    as_text = ResponseParserFactory()
    as_text.set_parser_defaults(timestamp_parser=str)
    session.register_component("response_parser_factory", as_text)
    try:
        yield
    finally:
        session.register_component("response_parser_factory", shared)


def on_listing_page(client: Any, handler: Callable[..., None]) -> None:
    """`handler(response_dict, customized_response_dict, **_)` sees each ListObjectsV2 answer before
    botocore parses it; what it puts in `customized_response_dict` is merged over botocore's result."""
    client.meta.events.register(LISTING_BEFORE_PARSE, handler)


def serializer_client(serializer: Any) -> Any:
    """The botocore client s3transfer's CRT request serializer builds requests with (it never sends)."""
    return serializer._client


def crt_request(serializer: Any, request: Any) -> Any:
    """A botocore AWSPreparedRequest as the awscrt HttpRequest the serializer would hand the CRT."""
    return serializer._convert_to_crt_http_request(request)


def before_answer_is_logged(client: Any, service: str, handler: Callable[..., None]) -> None:
    """`handler(response_dict, **_)` sees every answer of `client` (`service` as botocore's event names
    spell it, e.g. "ecs") with its raw body, before botocore's parser logs that body at DEBUG."""
    client.meta.events.register(f"before-parse.{service}", handler)
