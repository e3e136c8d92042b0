"""The doctor's discovery, against a stand-in API server over plain HTTP: an apiVersion the cluster
does not serve is told by the answer's status (404), any other refusal in one line."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipe.common.errors import PipeError
from pipe.kube.doctor import Doctor

RESOURCES = {
    "kind": "APIResourceList",
    "groupVersion": "example.com/v1",
    "resources": [
        {"name": "widgets", "singularName": "widget", "namespaced": True, "kind": "Widget", "verbs": ["get"]},
        {
            "name": "widgets/status",
            "singularName": "",
            "namespaced": True,
            "kind": "Widget",
            "verbs": ["get"],
        },
    ],
}
# path -> (status, reason phrase); a Status body in the reason a 404 from a gateway might carry.
ANSWERS = {
    "/apis/example.com/v1": (200, "OK"),
    "/apis/missing.example.com/v1": (404, "Not Found"),
    "/apis/broken.example.com/v1": (500, "HTTP 404 inside a reason"),
}


@pytest.fixture(scope="module")
def api_server():
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args) -> None:
            pass

        def do_GET(self) -> None:
            status, reason = ANSWERS.get(self.path, (404, "Not Found"))
            body = json.dumps(RESOURCES if status == 200 else {"kind": "Status", "code": status}).encode()
            self.send_response(status, reason)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def doctor(api_server, tmp_path, monkeypatch):
    monkeypatch.setattr("pipe.kube.doctor.RETRY_ATTEMPTS", 1)  # a 500 is told, not retried here
    made = Doctor(api_server, tmp_path / "unused-ca.pem", "token")
    yield made
    made.close()


def test_a_served_api_version_lists_its_kinds_without_subresources(doctor):
    assert doctor.resources("example.com/v1") == {"Widget": ("widgets", True)}


def test_an_api_version_the_cluster_does_not_serve_is_told_by_its_404(doctor):
    with pytest.raises(PipeError) as caught:
        doctor.resources("missing.example.com/v1")
    assert (
        caught.value.message
        == "The cluster does not serve apiVersion missing.example.com/v1: check the manifests."
    )


def test_another_refusal_is_one_line_with_its_status_whatever_its_reason_says(doctor):
    with pytest.raises(PipeError) as caught:
        doctor.resources("broken.example.com/v1")
    assert caught.value.message.startswith(
        "The cluster answered discovery of broken.example.com/v1 with HTTP 500"
    )
