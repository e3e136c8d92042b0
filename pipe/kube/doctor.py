"""The authorization doctor: before kubectl runs, ask the cluster who we are and what we may do.

EKS answers a role it does not know with a bare 401, which kubectl prints as "You must be logged in
to the server (Unauthorized)". Here that becomes the access-entry commands that fix it, and a
missing permission is named (verb, resource, namespace) before anything is changed.
"""

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipe.common.errors import PipeError
from pipe.common.log import logger

# What applying an object needs: reading it, creating it when new, patching it when it exists.
APPLY_VERBS = ("get", "create", "patch")
ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
REQUEST_TIMEOUT_SECONDS = 30
# An API server under load answers 429 (API Priority and Fairness) or 5xx, often with Retry-After,
# and connections drop during a control-plane update. The doctor's requests read only (reviews
# create nothing), so every one of them may be repeated. Backoff 0.5 s doubling, at most 8 s a wait.
RETRY_STATUSES = (429, 500, 502, 503, 504)
RETRY_ATTEMPTS = 6
RETRY_BACKOFF_SECONDS = 0.5
RETRY_BACKOFF_MAX_SECONDS = 8


@dataclass(frozen=True)
class Need:
    verb: str
    group: str
    resource: str
    namespace: str | None

    def __str__(self) -> str:
        resource = f"{self.resource}.{self.group}" if self.group else self.resource
        where = f" in namespace {self.namespace}" if self.namespace else " (cluster-wide)"
        return f"{self.verb} {resource}{where}"


def access_entry_commands(cluster: str, region: str, role_arn: str) -> str:
    return "\n".join(
        (
            "# Give the role access to the cluster (EKS access entries), then re-run the step:",
            f"aws eks create-access-entry --region {region} --cluster-name {cluster} --principal-arn {role_arn}",
            f"aws eks associate-access-policy --region {region} --cluster-name {cluster} --principal-arn {role_arn} \\",
            f"  --policy-arn {ADMIN_POLICY} --access-scope type=cluster",
            "# Narrower: AmazonEKSEditPolicy with --access-scope type=namespace,namespaces=NAME.",
            "# Clusters still on the aws-auth ConfigMap: map the role ARN without its path under mapRoles.",
        )
    )


def _retries() -> Any:
    from urllib3.util import Retry

    return Retry(
        total=RETRY_ATTEMPTS - 1,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=None,  # POSTs too: SelfSubject*Reviews change nothing
        backoff_factor=RETRY_BACKOFF_SECONDS,
        backoff_max=RETRY_BACKOFF_MAX_SECONDS,
        respect_retry_after_header=True,
        raise_on_status=False,  # the last answer then becomes the one-line explanation
    )


class Doctor:
    def __init__(self, endpoint: str, ca_file: Path, token: str):
        from kubernetes import client

        configuration = client.Configuration()
        configuration.host = endpoint
        configuration.ssl_ca_cert = str(ca_file)
        # kubernetes 36 looks the prefix up under "BearerToken"; older clients under "authorization".
        configuration.api_key = {"BearerToken": token, "authorization": token}
        configuration.api_key_prefix = {"BearerToken": "Bearer", "authorization": "Bearer"}
        configuration.retries = _retries()
        self._client = client
        self._api = client.ApiClient(configuration)

    def close(self) -> None:
        self._api.close()

    @contextlib.contextmanager
    def _asking(self, what: str, not_found: str = "") -> Iterator[None]:
        """Answers other than the ones a caller handles become one line, not a traceback."""
        import urllib3

        try:
            yield
        except self._client.ApiException as error:
            if error.status == 401:
                raise
            raise PipeError(
                f"The cluster answered {what} with HTTP {error.status} ({error.reason})."
            ) from None
        except urllib3.exceptions.HTTPError as error:
            raise PipeError(
                f"Could not reach the cluster's API server ({what}): {type(error).__name__}."
            ) from None

    def whoami(self, cluster: str, region: str, role_arn: str) -> str:
        """The user the cluster maps us to; a 401 becomes the access-entry explanation."""
        client = self._client
        review = client.V1SelfSubjectReview(api_version="authentication.k8s.io/v1", kind="SelfSubjectReview")
        try:
            with self._asking("SelfSubjectReview"):
                answer = client.AuthenticationV1Api(self._api).create_self_subject_review(
                    review, _request_timeout=REQUEST_TIMEOUT_SECONDS
                )
        except client.ApiException as error:
            if error.status == 401:
                raise PipeError(
                    f"EKS cluster {cluster!r} does not know role {role_arn} (401 Unauthorized: kubectl would say "
                    "'You must be logged in to the server'). The ROLE ARN, not the assumed-role session ARN, "
                    "needs an EKS access entry (or an aws-auth mapping): the commands are printed above.",
                    details=access_entry_commands(cluster, region, role_arn),
                ) from None
            raise
        user = answer.status.user_info
        groups = ", ".join(user.groups or [])
        logger.info(
            "The cluster sees this step as Kubernetes user '%s' (groups: %s).",
            user.username,
            groups or "none",
        )
        return str(user.username)

    def resources(self, api_version: str) -> dict[str, tuple[str, bool]]:
        """kind -> (resource, namespaced) for one group/version, from the cluster's discovery."""
        client = self._client
        group, _, version = api_version.rpartition("/")
        with self._asking(f"discovery of {api_version}"):
            try:
                if group:
                    answer = client.CustomObjectsApi(self._api).get_api_resources(
                        group, version, _request_timeout=REQUEST_TIMEOUT_SECONDS
                    )
                else:
                    answer = client.CoreV1Api(self._api).get_api_resources(
                        _request_timeout=REQUEST_TIMEOUT_SECONDS
                    )
            except client.ApiException as error:
                if error.status != 404:
                    raise
                raise PipeError(
                    f"The cluster does not serve apiVersion {api_version}: check the manifests."
                ) from None
        return {
            item.kind: (item.name, bool(item.namespaced)) for item in answer.resources if "/" not in item.name
        }

    def needs_for_apply(self, objects: list[dict[str, Any]], namespace: str | None) -> list[Need]:
        needs: list[Need] = []
        by_version: dict[str, dict[str, tuple[str, bool]]] = {}
        for obj in objects:
            api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
            if api_version not in by_version:
                by_version[api_version] = self.resources(api_version)
            if kind not in by_version[api_version]:
                raise PipeError(f"The cluster has no kind {kind} in {api_version}: check the manifests.")
            resource, namespaced = by_version[api_version][kind]
            group = api_version.rpartition("/")[0]
            target_namespace = (
                ((obj.get("metadata") or {}).get("namespace") or namespace or "default")
                if namespaced
                else None
            )
            for verb in APPLY_VERBS:
                need = Need(verb, group, resource, target_namespace)
                if need not in needs:
                    needs.append(need)
        return needs

    def refused(self, needs: list[Need]) -> list[Need]:
        client = self._client
        api = client.AuthorizationV1Api(self._api)
        refused = []
        for need in needs:
            review = client.V1SelfSubjectAccessReview(
                api_version="authorization.k8s.io/v1",
                kind="SelfSubjectAccessReview",
                spec=client.V1SelfSubjectAccessReviewSpec(
                    resource_attributes=client.V1ResourceAttributes(
                        verb=need.verb, group=need.group, resource=need.resource, namespace=need.namespace
                    )
                ),
            )
            with self._asking("SelfSubjectAccessReview"):
                answer = api.create_self_subject_access_review(
                    review, _request_timeout=REQUEST_TIMEOUT_SECONDS
                )
            if not answer.status.allowed:
                refused.append(need)
        return refused
