"""The transfer engine behind s3-sync: s3transfer's CRT transfer manager, or its classic one.

`crt` is the AWS Common Runtime's S3 client (C: connections, signing, retries, multipart), driven
through s3transfer as AWS CLI v2 drives it, with requests from pipe.jobs.s3_sync.crt_serializer.

`classic` is s3transfer's thread-pool manager over botocore. It is used when a proxy is configured
(the CRT S3 client has no proxy support in Python) or when S3_TRANSFER_CLIENT asks for it.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from pipe.aws import call_budget
from pipe.common import crt, etag
from pipe.common.log import logger

PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")
# As many attempts as the pipe's botocore clients make (standard mode, max_attempts 8).
CRT_MAX_RETRIES = 7
# Files per CRT transfer manager before a fresh one takes over (see _Relayed).
CRT_FILES_PER_MANAGER = 2000
MILLISECONDS = 1000


def proxy_configured(env: Mapping[str, str]) -> bool:
    return any(env.get(name) or env.get(name.lower()) for name in PROXY_VARIABLES)


def engine_for(choice: str, env: Mapping[str, str]) -> str:
    if choice != "auto":
        return choice
    return "classic" if proxy_configured(env) else "crt"


def checksum_args(digest: etag.Digest, size: int) -> dict[str, str]:
    """A whole-object CRC32 S3 verifies on arrival, so a file changed between hashing and upload is
    refused rather than stored. Multipart uploads get per-part checksums from the engine instead."""
    if size >= etag.MULTIPART_THRESHOLD:
        return {}
    return {"ChecksumAlgorithm": "CRC32", "ChecksumCRC32": digest.crc32}


@contextmanager
def transfer_manager(
    engine: str, s3: Any, identity: Any, concurrency: int, env: Mapping[str, str]
) -> Iterator[Any]:
    """A manager with s3transfer's `upload(filename, bucket, key, extra_args)` returning a future."""
    if engine == "classic":
        from s3transfer.manager import TransferConfig, TransferManager

        config = TransferConfig(
            multipart_threshold=etag.MULTIPART_THRESHOLD,
            multipart_chunksize=etag.MULTIPART_CHUNKSIZE,
            max_request_concurrency=concurrency,
        )
        with TransferManager(s3, config) as manager:
            yield manager
        return
    crt.release()
    from s3transfer.crt import CRTTransferManager
    from s3transfer.manager import TransferConfig

    from pipe.jobs.s3_sync.crt_serializer import TemplateSerializer

    config = TransferConfig(
        multipart_threshold=etag.MULTIPART_THRESHOLD, multipart_chunksize=etag.MULTIPART_CHUNKSIZE
    )
    client = _crt_client(s3, identity, concurrency, env)
    serializer = TemplateSerializer(s3)
    relay = _Relayed(lambda: CRTTransferManager(client, serializer, config=config))
    try:
        yield relay
    except BaseException as error:
        relay.close(error)
        raise
    relay.close(None)


class _Relayed:
    """CRT transfer managers in relay, a fresh one every CRT_FILES_PER_MANAGER files.

    s3transfer's CRT manager keeps every transfer's coordinator, CRT request included, until it is
    closed; closing one waits for its last transfers, so a relay every few thousand files bounds the
    memory at a negligible cost (measured: docs/decisions.md, "CRT managers in relay").
    """

    def __init__(self, make: Any):
        self._make = make
        self._current = make()
        self._submitted = 0

    def upload(
        self,
        filename: str,
        bucket: str,
        key: str,
        extra_args: dict[str, Any],
        subscribers: list[Any] | None = None,
    ) -> Any:
        if self._submitted >= CRT_FILES_PER_MANAGER:
            self._current.shutdown()
            self._current, self._submitted = self._make(), 0
        self._submitted += 1
        return self._current.upload(filename, bucket, key, extra_args=extra_args, subscribers=subscribers)

    def close(self, error: BaseException | None) -> None:
        # What leaving its `with` block does: an error cancels the transfers in flight.
        self._current.shutdown(cancel=error is not None)


def _crt_client(s3: Any, identity: Any, concurrency: int, env: Mapping[str, str]) -> Any:
    from awscrt.auth import AwsCredentialsProvider
    from awscrt.io import (
        ClientBootstrap,
        ClientTlsContext,
        DefaultHostResolver,
        EventLoopGroup,
        TlsContextOptions,
    )
    from awscrt.s3 import S3Client, S3RequestTlsMode, S3RetryConfig

    loops = EventLoopGroup()
    bootstrap = ClientBootstrap(loops, DefaultHostResolver(loops))
    secure = urlsplit(s3.meta.endpoint_url).scheme == "https"
    tls_options = None
    bundle = env.get("AWS_CA_BUNDLE")
    if secure and bundle:
        context = TlsContextOptions()
        context.override_default_trust_store_from_path(ca_filepath=bundle)
        tls_options = ClientTlsContext(context).new_connection_options()
    credentials = identity.credentials
    logger.debug("Uploading with the CRT S3 client, at most %d connections.", concurrency)
    # The ignores: types-awscrt 0.37 types credential_provider as a TLS mode and the connection options
    # as a context, and has no connect_timeout_ms (awscrt 0.38, pinned, takes it).
    return S3Client(  # type: ignore[call-arg]
        bootstrap=bootstrap,
        region=identity.region,
        credential_provider=AwsCredentialsProvider.new_static(  # type: ignore[arg-type]
            credentials.access_key_id, credentials.secret_access_key, credentials.session_token
        ),
        tls_mode=S3RequestTlsMode.ENABLED if secure else S3RequestTlsMode.DISABLED,
        tls_connection_options=tls_options,  # type: ignore[arg-type]
        part_size=etag.MULTIPART_CHUNKSIZE,
        multipart_upload_threshold=etag.MULTIPART_THRESHOLD,
        max_active_connections_override=concurrency,
        retry_config=S3RetryConfig(max_retries=CRT_MAX_RETRIES),
        # The CRT has no read timeout: a silent answer is bounded by pipe.jobs.s3_sync.stall instead.
        connect_timeout_ms=call_budget.CONNECT_TIMEOUT_SECONDS * MILLISECONDS,
    )
