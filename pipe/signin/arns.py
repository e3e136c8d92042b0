"""IAM role ARNs: checked before use, with the mistakes people really make named."""

import re
from typing import NamedTuple

PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
# IAM paths are "/" or "/a/b/" of printable ASCII; role names are 1-64 of [\w+=,.@-].
_ROLE_ARN = re.compile(
    r"arn:(?P<partition>[\w-]+):iam::(?P<account>\d{12}):role(?P<path>/(?:[\x21-\x7e]+/)?)(?P<name>[\w+=,.@-]{1,64})",
    re.ASCII,
)
EXAMPLE = "arn:aws:iam::123456789012:role/deploy"


# A NamedTuple, not a frozen dataclass: importing dataclasses (and inspect with it) was a sixth of
# trust-policy's start-up (issue 16).
class RoleArn(NamedTuple):
    arn: str
    partition: str
    account: str
    path: str
    name: str

    def __str__(self) -> str:
        return self.arn


def parse_role_arn(raw: str) -> RoleArn:
    """Parse an IAM role ARN; ValueError says what is wrong in "must ..." words."""
    text = raw.strip()
    if text.startswith("arn:") and ":sts::" in text and ":assumed-role/" in text:
        raise ValueError(
            "must be the role's ARN (arn:PARTITION:iam::ACCOUNT:role/NAME), not an assumed-role session ARN"
        )
    match = _ROLE_ARN.fullmatch(text)
    if match is None:
        fields = text.split(":")
        if (
            len(fields) >= 5
            and fields[0] == "arn"
            and fields[2] == "iam"
            and not re.fullmatch(r"[0-9]{12}", fields[4])
        ):
            raise ValueError("must contain a 12-digit AWS account ID")
        raise ValueError(f"must be an IAM role ARN such as {EXAMPLE}")
    if match["partition"] not in PARTITIONS:
        raise ValueError(f"must be in partition {', '.join(PARTITIONS)}")
    return RoleArn(text, match["partition"], match["account"], match["path"], match["name"])


def partition_of_region(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"
