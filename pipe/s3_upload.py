"""The transfer engine behind s3-sync: s3transfer's CRT transfer manager, or its classic one.

`crt` is the AWS Common Runtime's S3 client (C: connections, signing, retries, multipart), driven
through s3transfer as AWS CLI v2 drives it. The per-file Python cost is what limits a sync of many
small files, so requests are serialized by botocore once per distinct set of object settings (a
handful per site: content type and cache rule) and only the key, the length, the checksum and the
stored MD5 change per file. botocore still decides the endpoint, addressing style and headers.

`classic` is s3transfer's thread-pool manager over botocore. It is used when a proxy is configured
(the CRT S3 client has no proxy support in Python) or when S3_TRANSFER_CLIENT asks for it.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from pipe import etag
from pipe.log import logger

PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")
# As many attempts as the pipe's botocore clients make (standard mode, max_attempts 8).
CRT_MAX_RETRIES = 7
# Placeholders botocore serializes in place of the values that differ per file; they contain only
# characters that appear unencoded in a path and a header, so they can be found and replaced.
_KEY_PLACEHOLDER = "aws-oidc-deploy-key-placeholder"
_VALUE_PLACEHOLDER = "aws-oidc-deploy-value-placeholder"
_PER_FILE = ("ContentLength", "ChecksumCRC32")


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
) -> Iterator:
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
    from s3transfer.crt import CRTTransferManager
    from s3transfer.manager import TransferConfig

    config = TransferConfig(
        multipart_threshold=etag.MULTIPART_THRESHOLD, multipart_chunksize=etag.MULTIPART_CHUNKSIZE
    )
    client = _crt_client(s3, identity, concurrency, env)
    with CRTTransferManager(client, _TemplateSerializer(s3), config=config) as manager:
        yield manager


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
    return S3Client(
        bootstrap=bootstrap,
        region=identity.region,
        credential_provider=AwsCredentialsProvider.new_static(
            credentials.access_key_id, credentials.secret_access_key, credentials.session_token
        ),
        tls_mode=S3RequestTlsMode.ENABLED if secure else S3RequestTlsMode.DISABLED,
        tls_connection_options=tls_options,
        part_size=etag.MULTIPART_CHUNKSIZE,
        multipart_upload_threshold=etag.MULTIPART_THRESHOLD,
        max_active_connections_override=concurrency,
        retry_config=S3RetryConfig(max_retries=CRT_MAX_RETRIES),
    )


def _serializer_base():
    from s3transfer.crt import BotocoreCRTRequestSerializer

    return BotocoreCRTRequestSerializer


class _TemplateSerializer(_serializer_base()):
    """botocore's serializer for the CRT manager, run once per set of object settings."""

    def __init__(self, s3: Any):
        from pipe import signin

        super().__init__(
            signin._botocore_session(),
            {
                "region_name": s3.meta.region_name,
                "endpoint_url": s3.meta.endpoint_url,
                "config": s3.meta.config,
            },
        )
        self._templates: dict[tuple, tuple[str, list[tuple[str, str]]]] = {}

    def serialize_http_request(self, transfer_type, future):
        if transfer_type != "put_object":
            return super().serialize_http_request(transfer_type, future)
        from awscrt.http import HttpHeaders, HttpRequest
        from botocore.utils import percent_encode

        call = future.meta.call_args
        settings = dict(call.extra_args)
        per_file = {name: settings.pop(name) for name in _PER_FILE if name in settings}
        metadata = settings.pop("Metadata", {})
        shape = (
            call.bucket,
            tuple(sorted(settings.items())),
            tuple(sorted(metadata)),
            tuple(sorted(per_file)),
        )
        template = self._templates.get(shape)
        if template is None:
            template = self._templates[shape] = self._template(call.bucket, settings, metadata, per_file)
        path, headers = template
        values = {f"x-amz-meta-{name}": value for name, value in metadata.items()}
        if "ChecksumCRC32" in per_file:
            values["x-amz-checksum-crc32"] = per_file["ChecksumCRC32"]
        filled = [
            (name, values[name.lower()] if value == _VALUE_PLACEHOLDER else value) for name, value in headers
        ]
        if "ContentLength" in per_file:
            filled.append(("Content-Length", str(per_file["ContentLength"])))
        return HttpRequest(
            method="PUT",
            path=path.replace(_KEY_PLACEHOLDER, percent_encode(call.key, safe="/~"), 1),
            headers=HttpHeaders(filled),
        )

    def _template(self, bucket, settings, metadata, per_file) -> tuple[str, list[tuple[str, str]]]:
        # s3transfer's ContentMD5 marker (in `settings`) stops botocore computing an MD5; the
        # conversion removes it, and the CRT client adds no checksum when ChecksumCRC32 is given.
        placeholders = {"ChecksumCRC32": _VALUE_PLACEHOLDER} if "ChecksumCRC32" in per_file else {}
        request = self._client.put_object(
            Bucket=bucket,
            Key=_KEY_PLACEHOLDER,
            Metadata=dict.fromkeys(metadata, _VALUE_PLACEHOLDER),
            **settings,
            **placeholders,
        )["HTTPRequest"]
        converted = self._convert_to_crt_http_request(request)
        headers = [(name, value) for name, value in converted.headers if name.lower() != "content-length"]
        if _KEY_PLACEHOLDER not in converted.path:
            raise RuntimeError(f"botocore placed the key outside the path: {converted.path}")
        return converted.path, headers
