"""The Elastic Beanstalk stand-in's HTTP side: the Query API (form-encoded POST, Action=...,
Version=2010-12-01) answered with the XML botocore parses, on 127.0.0.1 at a free port."""

import datetime
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from botocore.exceptions import ClientError

from test.support import aws
from test.support.beanstalk.model import (
    SEVERITIES,
    VERSION_QUOTA_TEXT,
    ApiError,
    Environment,
    State,
    Version,
    now,
)
from test.support.standin import Call, StandIn

API_VERSION = "2010-12-01"
NAMESPACE = "http://elasticbeanstalk.amazonaws.com/docs/2010-12-01/"
# Elastic Beanstalk's limits (service-2.json says the same; botocore checks only minimums).
MAX_LENGTHS = {"ApplicationName": 100, "VersionLabel": 100, "Description": 200, "EnvironmentName": 40}
DEFAULT_MAX_EVENTS = 1000
EMPTY_WHEN_DENIED = frozenset(
    {"DescribeApplications", "DescribeApplicationVersions", "DescribeEnvironments", "DescribeEvents"}
)


def _date(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _element(name: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        value = "true" if value else "false"
    if isinstance(value, datetime.datetime):
        value = _date(value)
    return f"<{name}>{escape(str(value))}</{name}>"


def _parse_time(raw: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError("ValidationError", f"Value '{raw}' is not a valid timestamp.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _members(params: dict[str, str], name: str) -> list[str]:
    items, number = [], 1
    while f"{name}.member.{number}" in params:
        items.append(params[f"{name}.member.{number}"])
        number += 1
    return items


class BeanstalkStandIn(StandIn):
    """Start with `with BeanstalkStandIn(moto_url) as eb:`; point the pipe at `eb.url` through
    AWS_ENDPOINT_URL_ELASTIC_BEANSTALK. State and scripting: `eb.state` (model.State); faults,
    `eb.authorize` (test/support/iam.py) and the rest: test/support/standin.py."""

    service_name = "Elastic Beanstalk"
    signing_name = "elasticbeanstalk"
    content_type = "text/xml"
    get_answer = b"Elastic Beanstalk stand-in: POST the Query API."

    def __init__(self, moto_url: str, require_signature: bool = True):
        super().__init__(require_signature)
        self.moto_url = moto_url
        self.state = State()
        self._s3 = aws.client("s3", moto_url, "us-east-1")

    def _call(self, headers: dict, body: bytes) -> Call:
        params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        return Call(params.get("Action", ""), params)

    def _sent(self, call: Call) -> bytes:
        return repr(sorted(call.params.items())).encode()

    def _error(self, error: ApiError, call: Call) -> bytes:
        kind = "Receiver" if error.status >= 500 else "Sender"
        return (
            f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>{kind}</Type>'
            f"<Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message></Error>"
            f"<RequestId>{call.request_id}</RequestId></ErrorResponse>"
        ).encode()

    def _serve(self, call: Call, method: str, path: str, headers: dict, body: bytes) -> bytes:
        action, params, request_id = call.action, call.params, call.request_id
        if headers.get("content-type", "").split(";")[0] != "application/x-www-form-urlencoded":
            raise ApiError("InvalidParameterValue", "The Query API takes a form-encoded POST body.")
        caller = self._caller(method, path, headers, body)
        if params.get("Version") != API_VERSION:
            raise ApiError("InvalidParameterValue", f"Version must be {API_VERSION}.")
        refused = self.authorize(action, params, caller, headers) if self.authorize and caller else None
        # Elastic Beanstalk's Describe calls answer an empty list, not AccessDenied, to a role
        # that may not call them.
        hidden = refused is not None and action in EMPTY_WHEN_DENIED
        if refused is not None and not hidden:
            raise ApiError("AccessDenied", refused, 403)
        self._scripted_fault(action)
        handler = getattr(self, f"_{action}", None)
        if handler is None:
            raise ApiError(
                "InvalidAction", f"The action {action or '(none)'} is not valid for this web service."
            )
        self._check_lengths(params)
        with self.state.lock:
            if hidden:
                self.state.describe_denied.add(action)
            try:
                result = handler(params, caller, request_id)
            finally:
                if hidden:
                    self.state.describe_denied.discard(action)
        return (
            f'<{action}Response xmlns="{NAMESPACE}"><{action}Result>{result}</{action}Result>'
            f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
        ).encode()

    @staticmethod
    def _check_lengths(params: dict[str, str]) -> None:
        errors = []
        for name, limit in MAX_LENGTHS.items():
            value = params.get(name)
            if value is not None and len(value) > limit:
                field = name[0].lower() + name[1:]
                errors.append(
                    f"Value '{value}' at '{field}' failed to satisfy constraint: "
                    f"Member must have length less than or equal to {limit}"
                )
        if errors:
            raise ApiError(
                "ValidationError", f"{len(errors)} validation error detected: " + "; ".join(errors)
            )

    @staticmethod
    def _required(params: dict[str, str], *names: str) -> None:
        for name in names:
            if not params.get(name):
                raise ApiError("MissingParameter", f"The request must contain the parameter {name}.")

    # --- XML --------------------------------------------------------------------------------
    @staticmethod
    def _version_xml(version: Version) -> str:
        arn = f"arn:aws:elasticbeanstalk:eu-west-1:123456789012:applicationversion/{version.application}/{version.label}"
        return (
            "<member>"
            + _element("ApplicationVersionArn", arn)
            + _element("ApplicationName", version.application)
            + _element("Description", version.description or None)
            + _element("VersionLabel", version.label)
            + "<SourceBundle>"
            + _element("S3Bucket", version.bucket)
            + _element("S3Key", version.key)
            + "</SourceBundle>"
            + _element("DateCreated", version.created)
            + _element("DateUpdated", version.created)
            + _element("Status", version.status)
            + "</member>"
        )

    def _environment_fields(self, environment: Environment) -> str:
        platform = self.state.platforms.get(environment.platform_arn)
        return (
            _element("EnvironmentName", environment.name)
            + _element("EnvironmentId", environment.id)
            + _element("ApplicationName", environment.application)
            + _element("VersionLabel", environment.version_label)
            + _element("SolutionStackName", platform.solution_stack if platform else None)
            + _element("PlatformArn", environment.platform_arn)
            + _element("EndpointURL", f"awseb-{environment.id}-stand-in.eu-west-1.elb.amazonaws.com")
            + _element("CNAME", environment.cname)
            + _element("DateCreated", environment.created)
            + _element("DateUpdated", environment.updated)
            + _element("Status", environment.status)
            + _element("AbortableOperationInProgress", environment.status == "Updating")
            + _element("Health", environment.health)
            + _element("HealthStatus", environment.health_status)
            + "<Tier><Name>WebServer</Name><Type>Standard</Type><Version>1.0</Version></Tier>"
            + _element(
                "EnvironmentArn",
                f"arn:aws:elasticbeanstalk:eu-west-1:123456789012:environment/{environment.application}/{environment.name}",
            )
        )

    # --- actions ----------------------------------------------------------------------------
    def _CreateStorageLocation(self, _params, caller, _request_id) -> str:
        account = caller.account if caller else "123456789012"
        region = caller.region if caller else "eu-west-1"
        bucket = f"elasticbeanstalk-{region}-{account}"
        try:
            self._s3.head_bucket(Bucket=bucket)
        except ClientError:
            self._s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        return _element("S3Bucket", bucket)

    def _DescribeApplications(self, params, _caller, _request_id) -> str:
        names = _members(params, "ApplicationNames")
        found = (
            []
            if "DescribeApplications" in self.state.describe_denied
            else [
                (name, created)
                for name, created in self.state.applications.items()
                if not names or name in names
            ]
        )
        members = "".join(
            "<member>"
            + _element("ApplicationName", name)
            + _element(
                "ApplicationArn", f"arn:aws:elasticbeanstalk:eu-west-1:123456789012:application/{name}"
            )
            + _element("DateCreated", created)
            + _element("DateUpdated", created)
            + "</member>"
            for name, created in found
        )
        return f"<Applications>{members}</Applications>"

    def _DescribeApplicationVersions(self, params, _caller, _request_id) -> str:
        application = params.get("ApplicationName")
        labels = _members(params, "VersionLabels")
        found = [
            version
            for (app, label), version in self.state.versions.items()
            if (application is None or app == application) and (not labels or label in labels)
        ]
        if "DescribeApplicationVersions" in self.state.describe_denied:
            found = []
        for version in found:
            self.state.settle_version(version)
        found.sort(key=lambda version: version.created, reverse=True)
        return "<ApplicationVersions>" + "".join(map(self._version_xml, found)) + "</ApplicationVersions>"

    def _bucket_region(self, bucket: str) -> str | None:
        try:
            location = self._s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
        except ClientError:
            return None
        return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)

    def _CreateApplicationVersion(self, params, caller, _request_id) -> str:
        self._required(params, "ApplicationName", "VersionLabel")
        application, label = params["ApplicationName"], params["VersionLabel"]
        if application not in self.state.applications:
            if params.get("AutoCreateApplication") != "true":
                raise ApiError("InvalidParameterValue", f"No Application named '{application}' found.")
            self.state.create_application(application)
        if (application, label) in self.state.versions:
            raise ApiError("InvalidParameterValue", f"Application Version {label} already exists.")
        if len(self.state.versions) >= self.state.version_quota:
            raise ApiError(
                "TooManyApplicationVersionsException",
                VERSION_QUOTA_TEXT.format(quota=self.state.version_quota),
            )
        bucket, key = params.get("SourceBundle.S3Bucket"), params.get("SourceBundle.S3Key")
        if not bucket or not key:
            raise ApiError("InvalidParameterCombination", "Both S3 bucket and key must be specified.")
        region = caller.region if caller else "eu-west-1"
        bucket_region = self._bucket_region(bucket)
        if bucket_region is not None and bucket_region != region:
            # Elastic Beanstalk reads bundles only from a bucket in its own region; S3 redirects.
            raise ApiError(
                "InvalidParameterCombination",
                f"Unable to download from S3 location (Bucket: {bucket}  Key: {key}). Reason: Moved Permanently",
            )
        try:
            head = self._s3.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            reason = (
                "Not Found"
                if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NoSuchBucket")
                else "Forbidden"
            )
            raise ApiError(
                "InvalidParameterCombination",
                f"Unable to download from S3 location (Bucket: {bucket}  Key: {key}). Reason: {reason}",
            ) from None
        version = Version(
            application, label, params.get("Description", ""), bucket, key, head["ETag"].strip('"')
        )
        if params.get("Process") == "true":
            version.status = "Processing"
            version.processing_polls = self.state.processing_polls
            version.settles_as = "Failed" if label in self.state.failing_bundles else "Processed"
        self.state.versions[(application, label)] = version
        return (
            "<ApplicationVersion>"
            + self._version_xml(version)[len("<member>") : -len("</member>")]
            + "</ApplicationVersion>"
        )

    def _environment(self, params) -> Environment:
        name, identifier = params.get("EnvironmentName"), params.get("EnvironmentId")
        if not name and not identifier:
            raise ApiError("MissingParameter", "Either EnvironmentName or EnvironmentId must be specified.")
        for environment in self.state.environments.values():
            if environment.name == name or environment.id == identifier:
                return environment
        label, value = ("EnvironmentName", name) if name else ("EnvironmentId", identifier)
        raise ApiError("InvalidParameterValue", f"No Environment found for {label} = '{value}'.")

    def _DescribeEnvironments(self, params, _caller, _request_id) -> str:
        application = params.get("ApplicationName")
        names = _members(params, "EnvironmentNames")
        identifiers = _members(params, "EnvironmentIds")
        found = []
        if "DescribeEnvironments" in self.state.describe_denied:
            return "<Environments></Environments>"
        # IncludeDeleted is true unless the caller says false (service-2.json, DescribeEnvironments).
        deleted = [] if params.get("IncludeDeleted") == "false" else self.state.terminated
        for environment in [*deleted, *self.state.environments.values()]:
            if application and environment.application != application:
                continue
            if names and environment.name not in names:
                continue
            if identifiers and environment.id not in identifiers:
                continue
            self.state.advance(environment)
            found.append(environment)
        members = "".join(f"<member>{self._environment_fields(e)}</member>" for e in found)
        return f"<Environments>{members}</Environments>"

    def _UpdateEnvironment(self, params, _caller, request_id) -> str:
        environment = self._environment(params)
        if params.get("ApplicationName") and params["ApplicationName"] != environment.application:
            raise ApiError(
                "InvalidParameterValue",
                f"No Environment found for EnvironmentName = '{environment.name}'.",
            )
        label = params.get("VersionLabel")
        if not label:
            raise ApiError(
                "InvalidParameterCombination", "The stand-in only deploys versions: VersionLabel is required."
            )
        self.state.update(environment, label, request_id, self._bundle_now(environment.application, label))
        return self._environment_fields(environment)

    def _bundle_now(self, application: str, label: str) -> bytes | None:
        """The version's S3 object as it is now: a deploy reads it when it starts, not when the version
        was made (/work/shared/FIELD-NOTES.md, "Elastic Beanstalk as it behaves")."""
        version = self.state.versions.get((application, label))
        if not isinstance(version, Version):
            return None
        try:
            return self._s3.get_object(Bucket=version.bucket, Key=version.key)["Body"].read()
        except ClientError:
            return None

    def _DescribePlatformVersion(self, params, caller, _request_id) -> str:
        arn = params.get("PlatformArn", "")
        if self.state.platform_denied:
            role = (
                caller.assumed_role_arn if caller else "arn:aws:sts::123456789012:assumed-role/deploy/session"
            )
            raise ApiError(self.state.platform_denied, self._denied_text(role, arn), 403)
        platform = self.state.platforms.get(arn)
        if platform is None:
            # Wording not verified against AWS.
            raise ApiError("InvalidParameterValue", f"No Platform found for PlatformArn = '{arn}'.")
        return (
            "<PlatformDescription>"
            + _element("PlatformArn", platform.arn)
            + _element("PlatformOwner", "AWSElasticBeanstalk")
            + _element("PlatformName", platform.branch)
            + _element("PlatformVersion", platform.version)
            + _element("SolutionStackName", platform.solution_stack)
            + _element("PlatformStatus", platform.status)
            + _element("PlatformCategory", "Python")
            + _element("OperatingSystemName", "Amazon Linux")
            + _element("OperatingSystemVersion", "2023")
            + _element("PlatformLifecycleState", platform.lifecycle_state)
            + _element("PlatformBranchName", platform.branch)
            + _element("PlatformBranchLifecycleState", platform.branch_lifecycle_state)
            + "</PlatformDescription>"
        )

    def _denied_text(self, role: str, arn: str) -> str:
        if self.state.platform_denied == "InsufficientPrivilegesException":
            # The model's documentation of the error (service-2.json).
            return "The specified account does not have sufficient privileges for one or more AWS services."
        return f"User: {role} is not authorized to perform: elasticbeanstalk:DescribePlatformVersion on resource: {arn}"

    def _AbortEnvironmentUpdate(self, params, _caller, request_id) -> str:
        environment = self._environment(params)
        self.state.abort(environment, request_id)
        return ""

    def _DescribeEvents(self, params, _caller, _request_id) -> str:
        severity = params.get("Severity")
        minimum = SEVERITIES.index(severity) if severity in SEVERITIES else 0
        start = _parse_time(params["StartTime"]) if params.get("StartTime") else None
        end = _parse_time(params["EndTime"]) if params.get("EndTime") else None
        try:
            limit = int(params.get("MaxRecords") or DEFAULT_MAX_EVENTS)
            offset = int(params.get("NextToken") or 0)
        except ValueError:
            raise ApiError("InvalidParameterValue", "MaxRecords and NextToken must be numbers.") from None
        if not 1 <= limit <= DEFAULT_MAX_EVENTS:
            raise ApiError("InvalidParameterValue", "MaxRecords must be between 1 and 1000.")
        filters = {
            "application": params.get("ApplicationName"),
            "environment": params.get("EnvironmentName"),
            "version_label": params.get("VersionLabel"),
            "request_id": params.get("RequestId"),
        }
        matching = [
            event
            for event in self.state.events
            if all(wanted is None or getattr(event, name) == wanted for name, wanted in filters.items())
            and SEVERITIES.index(event.severity) >= minimum
            and (start is None or event.date >= start)
            and (end is None or event.date < end)
        ]
        if "DescribeEvents" in self.state.describe_denied:
            matching = []
        newest_first = list(reversed(matching))
        page = newest_first[offset : offset + limit]
        members = "".join(
            "<member>"
            + _element("EventDate", event.date)
            + _element("Message", event.message)
            + _element("ApplicationName", event.application)
            + _element("VersionLabel", event.version_label)
            + _element("EnvironmentName", event.environment)
            + _element("RequestId", event.request_id)
            + _element("Severity", event.severity)
            + "</member>"
            for event in page
        )
        more = offset + limit < len(newest_first)
        return f"<Events>{members}</Events>" + (_element("NextToken", offset + limit) if more else "")


__all__ = ["BeanstalkStandIn", "now"]
