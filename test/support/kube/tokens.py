"""EKS bearer tokens made the way `aws eks get-token` makes them (a presigned STS GetCallerIdentity URL
signed with the header x-k8s-aws-id), with a clock and X-Amz-Expires of the caller's choosing."""

import base64
import datetime
from unittest import mock

import boto3

HEADER = "x-k8s-aws-id"


def mint_token(
    credentials: dict,
    cluster_name: str,
    endpoint_url: str,
    *,
    region: str = "eu-west-1",
    signed_at: datetime.datetime | None = None,
    expires_in: int = 60,
) -> str:
    """credentials: STS Credentials (AccessKeyId, SecretAccessKey, SessionToken)."""
    client = boto3.client(
        "sts",
        region_name=region,
        endpoint_url=endpoint_url,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )

    def keep_header_value(params, context, **_):
        if HEADER in params:
            context[HEADER] = params.pop(HEADER)

    def add_header(request, **_):
        if HEADER in request.context:
            request.headers[HEADER] = request.context[HEADER]

    client.meta.events.register("provide-client-params.sts.GetCallerIdentity", keep_header_value)
    client.meta.events.register("before-sign.sts.GetCallerIdentity", add_header)

    def presign() -> str:
        return client.generate_presigned_url(
            "get_caller_identity", Params={HEADER: cluster_name}, ExpiresIn=expires_in, HttpMethod="GET"
        )

    if signed_at is None:
        url = presign()
    else:
        frozen = signed_at.astimezone(datetime.UTC).replace(tzinfo=None)
        # botocore signs with awscrt's signers when awscrt is importable (as in this test process):
        # both clocks are stopped.
        with (
            mock.patch("botocore.auth.get_current_datetime", return_value=frozen),
            mock.patch(
                "botocore.crt.auth.get_current_datetime", return_value=signed_at.astimezone(datetime.UTC)
            ),
        ):
            url = presign()
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
