"""pipe.signin.arns: which role ARNs are accepted, and what is said about the ones that are not."""

import pytest

from pipe.signin.arns import EXAMPLE, RoleArn, parse_role_arn, partition_of_region


@pytest.mark.parametrize(
    ("raw", "partition", "account", "path", "name"),
    [
        ("arn:aws:iam::123456789012:role/deploy", "aws", "123456789012", "/", "deploy"),
        ("arn:aws-cn:iam::210987654321:role/deploy", "aws-cn", "210987654321", "/", "deploy"),
        ("arn:aws-us-gov:iam::000000000000:role/deploy", "aws-us-gov", "000000000000", "/", "deploy"),
        ("arn:aws:iam::123456789012:role/a/b/deploy", "aws", "123456789012", "/a/b/", "deploy"),
        ("arn:aws:iam::123456789012:role/service-role/x", "aws", "123456789012", "/service-role/", "x"),
        ("arn:aws:iam::123456789012:role/A+b=c,d.e@f-g_h", "aws", "123456789012", "/", "A+b=c,d.e@f-g_h"),
        ("arn:aws:iam::123456789012:role/" + "n" * 64, "aws", "123456789012", "/", "n" * 64),
    ],
)
def test_a_valid_role_arn_is_split_into_its_parts(raw, partition, account, path, name):
    assert parse_role_arn(raw) == RoleArn(raw, partition, account, path, name)


def test_surrounding_whitespace_is_dropped():
    role = parse_role_arn("  arn:aws:iam::123456789012:role/deploy\n")
    assert role.arn == "arn:aws:iam::123456789012:role/deploy"
    assert str(role) == "arn:aws:iam::123456789012:role/deploy"


def _refusal(raw: str) -> str:
    with pytest.raises(ValueError) as caught:
        parse_role_arn(raw)
    return str(caught.value)


GENERIC = f"must be an IAM role ARN such as {EXAMPLE}"
ACCOUNT = "must contain a 12-digit AWS account ID"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            "arn:aws:sts::123456789012:assumed-role/deploy/bitbucket-my-repo-42",
            "must be the role's ARN (arn:PARTITION:iam::ACCOUNT:role/NAME), not an assumed-role session ARN",
            id="assumed-role",
        ),
        pytest.param("arn:aws:iam::12345678901:role/deploy", ACCOUNT, id="11-digit-account"),
        pytest.param("arn:aws:iam::1234567890123:role/deploy", ACCOUNT, id="13-digit-account"),
        pytest.param("arn:aws:iam::my-account:role/deploy", ACCOUNT, id="account-alias"),
        pytest.param("arn:aws:iam:eu-west-1:123456789012:role/deploy", GENERIC, id="with-region"),
        pytest.param("arn:aws:iam::123456789012:user/deploy", GENERIC, id="user"),
        pytest.param("arn:aws:iam::123456789012:role/", GENERIC, id="no-name"),
        pytest.param("arn:aws:iam::123456789012:role", GENERIC, id="no-slash"),
        pytest.param("arn:aws:iam::123456789012:role/a/b/", GENERIC, id="path-only"),
        pytest.param("arn:aws:iam::123456789012:role/" + "n" * 65, GENERIC, id="name-65"),
        pytest.param("arn:aws:iam::123456789012:role/dé", GENERIC, id="non-ascii-name"),
        pytest.param("arn:aws:iam::123456789012:role/my role", GENERIC, id="space-in-name"),
        pytest.param("deploy", GENERIC, id="bare-name"),
        pytest.param("", GENERIC, id="empty"),
        pytest.param(
            "arn:aws-xx:iam::123456789012:role/deploy",
            "must be in partition aws, aws-cn, aws-us-gov",
            id="partition",
        ),
        pytest.param(
            "arn:aws-iso:iam::123456789012:role/deploy",
            "must be in partition aws, aws-cn, aws-us-gov",
            id="iso",
        ),
    ],
)
def test_an_invalid_role_arn_is_refused_with_what_is_wrong(raw, expected):
    assert _refusal(raw) == expected


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("eu-west-1", "aws"),
        ("us-east-1", "aws"),
        ("ap-southeast-2", "aws"),
        ("cn-north-1", "aws-cn"),
        ("cn-northwest-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("us-gov-east-1", "aws-us-gov"),
    ],
)
def test_a_regions_partition_follows_from_its_prefix(region, partition):
    assert partition_of_region(region) == partition
