"""Requests for s3transfer's CRT manager, serialized by botocore once per set of object settings
(content type, cache rule, ACL…), with placeholders where the key and the per-file values go; each
file's PutObject is that template filled in (why: docs/decisions.md, "CRT request templates").
Other operations go through botocore. Imported only after pipe.common.crt.release(): it loads awscrt.
"""

from typing import Any

from awscrt.http import HttpHeaders, HttpRequest
from botocore.utils import percent_encode
from s3transfer.crt import BotocoreCRTRequestSerializer

from pipe.aws import sdk_private
from pipe.aws.clients import botocore_session

# Placeholders botocore serializes in place of the values that differ per file; they contain only
# characters that appear unencoded in a path and a header, so they can be found and replaced.
_KEY_PLACEHOLDER = "aws-oidc-deploy-key-placeholder"
_VALUE_PLACEHOLDER = "aws-oidc-deploy-value-placeholder"
_PER_FILE = ("ContentLength", "ChecksumCRC32")


class TemplateSerializer(BotocoreCRTRequestSerializer):
    """botocore's serializer for the CRT manager, run once per set of object settings."""

    def __init__(self, s3: Any):
        super().__init__(
            botocore_session(),
            {
                "region_name": s3.meta.region_name,
                "endpoint_url": s3.meta.endpoint_url,
                "config": s3.meta.config,
            },
        )
        self._templates: dict[tuple[Any, ...], tuple[str, list[tuple[str, str]]]] = {}

    def serialize_http_request(self, transfer_type: str, future: Any) -> Any:
        if transfer_type != "put_object":
            return super().serialize_http_request(transfer_type, future)
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
        by_header = {f"x-amz-meta-{name}": value for name, value in metadata.items()}
        if "ChecksumCRC32" in per_file:
            by_header["x-amz-checksum-crc32"] = per_file["ChecksumCRC32"]
        filled = [
            (name, by_header[name.lower()] if value == _VALUE_PLACEHOLDER else value)
            for name, value in headers
        ]
        if "ContentLength" in per_file:
            filled.append(("Content-Length", str(per_file["ContentLength"])))
        return HttpRequest(
            method="PUT",
            path=path.replace(_KEY_PLACEHOLDER, percent_encode(call.key, safe="/~"), 1),
            headers=HttpHeaders(filled),
        )

    def _template(
        self, bucket: str, settings: dict[str, Any], metadata: dict[str, str], per_file: dict[str, Any]
    ) -> tuple[str, list[tuple[str, str]]]:
        # s3transfer's ContentMD5 marker (in `settings`) stops botocore computing an MD5; the
        # conversion removes it, and the CRT client adds no checksum when ChecksumCRC32 is given.
        placeholders = {"ChecksumCRC32": _VALUE_PLACEHOLDER} if "ChecksumCRC32" in per_file else {}
        request = sdk_private.serializer_client(self).put_object(
            Bucket=bucket,
            Key=_KEY_PLACEHOLDER,
            Metadata=dict.fromkeys(metadata, _VALUE_PLACEHOLDER),
            **settings,
            **placeholders,
        )["HTTPRequest"]
        converted = sdk_private.crt_request(self, request)
        headers = [(name, value) for name, value in converted.headers if name.lower() != "content-length"]
        if _KEY_PLACEHOLDER not in converted.path:
            raise RuntimeError(f"botocore placed the key outside the path: {converted.path}")
        return converted.path, headers
