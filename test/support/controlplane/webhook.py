"""The TokenReview webhook the real kube-apiserver asks about each bearer token: EKS's authenticator.

kube-apiserver runs with `--authentication-token-webhook-config-file` pointing here, with the
webhook's own cache off; the API server still keeps each successful review for 10 s (its fixed
TokenSuccessCacheTTL), so an expired token is refused from at most 10 s after it was last checked. A `k8s-aws-v1.` token is verified by test.support.kube.auth.verify_token: the SigV4
signature against the secret of moto's STS session, the cluster id header (`x-k8s-aws-id`, part of
the signature), X-Amz-Date against the token lifetime, and the session's expiry. The role (not the
session) is then looked up in the access entries, as EKS access entries map a principal to a user.
An unknown role or a bad token: `authenticated: false`, which the API server answers with its own
401. What the user may do is RBAC's business in the API server (see ControlPlane.grant).
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from test.support.kube.auth import TokenRejected, canonical_role_arn, verify_token

DEFAULT_LIFETIME_SECONDS = 900.0  # as aws-iam-authenticator: a token is good for 15 minutes


class TokenWebhook:
    def __init__(self, cluster_name: str):
        self.cluster_name = cluster_name
        self.token_lifetime_seconds = DEFAULT_LIFETIME_SECONDS
        # One entry per review: {"access_key_id", "signed_at", "accepted", "reason", "user"}.
        self.tokens_seen: list[dict] = []
        self._entries: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/tokenreview"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def allow(self, role_arn: str, username: str = "deployer", groups=()) -> None:
        """An access entry: the role (any session of it, any path) becomes this Kubernetes user."""
        with self._lock:
            self._entries[canonical_role_arn(role_arn)] = (username, tuple(groups))

    def revoke(self, role_arn: str) -> None:
        with self._lock:
            self._entries.pop(canonical_role_arn(role_arn), None)

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()
            self.tokens_seen.clear()
        self.token_lifetime_seconds = DEFAULT_LIFETIME_SECONDS

    def review(self, token: str) -> dict:
        """The TokenReview status for `token`."""
        seen = {"access_key_id": None, "signed_at": None, "accepted": False, "reason": "", "user": None}
        try:
            caller = verify_token(token, self.cluster_name, self.token_lifetime_seconds)
        except TokenRejected as rejected:
            seen |= {
                "access_key_id": rejected.access_key_id,
                "signed_at": rejected.signed_at,
                "reason": rejected.reason,
            }
            return self._record(seen, {"authenticated": False, "error": rejected.reason})
        seen |= {"access_key_id": caller.access_key_id, "signed_at": caller.signed_at}
        with self._lock:
            entry = self._entries.get(canonical_role_arn(caller.role_arn))
        if entry is None:
            seen["reason"] = f"no access entry for {canonical_role_arn(caller.role_arn)}"
            return self._record(seen, {"authenticated": False, "error": seen["reason"]})
        username, groups = entry
        principal_id = caller.user_id.split(":", 1)[0]
        user = {
            "username": username,
            "uid": f"aws-iam-authenticator:{caller.account}:{principal_id}",
            "groups": list(groups),
            "extra": {
                "accessKeyId": [caller.access_key_id],
                "arn": [caller.assumed_role_arn],
                "canonicalArn": [canonical_role_arn(caller.role_arn)],
                "principalId": [principal_id],
                "sessionName": [caller.session_name],
            },
        }
        seen |= {"accepted": True, "user": username}
        return self._record(seen, {"authenticated": True, "user": user})

    def _record(self, seen: dict, status: dict) -> dict:
        with self._lock:
            self.tokens_seen.append(seen)
        return status

    def _handler(self):
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args) -> None:
                pass

            def do_POST(self) -> None:
                review = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                token = (review.get("spec") or {}).get("token", "")
                answer = {
                    "apiVersion": review.get("apiVersion", "authentication.k8s.io/v1"),
                    "kind": "TokenReview",
                    "status": webhook.review(token),
                }
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
