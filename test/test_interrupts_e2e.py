"""A deploy killed half way (the step's container killed: every process at once), then run again:
the rerun converges, with nothing lost and nothing made twice. s3-sync's own is in
test/jobs/test_s3_sync.py (test_a_killed_sync_converges_when_run_again)."""

import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from test.support import aws
from test.support.beanstalk import BeanstalkStandIn
from test.support.faults import FaultProxy, Rates
from test.support.interrupts import Killed
from test.support.kube import manifests
from test.support.run import write_files

CLUSTER = "interrupted"
# Pods count as available this long after they are Ready: the pipe is surely inside its rollout wait
# when it is killed, and the rerun still finds the rollout going on.
MIN_READY_SECONDS = 10
MANIFESTS = manifests.web_app(replicas=3).replace(
    "  replicas: 3", f"  replicas: 3\n  minReadySeconds: {MIN_READY_SECONDS}"
)
STARTUP_LIMIT_SECONDS = 60


def _watching_rollout(tap: FaultProxy) -> bool:
    return any("watch=true" in path and "/deployments?" in path for _, path in list(tap.log))


def test_kubectl_apply_killed_during_its_rollout_wait_converges_when_run_again(
    run, pipe_env, clone_dir, cluster_access
):
    cluster = cluster_access(CLUSTER)
    cluster.allow(aws.ROLE_ARN)
    cluster.grant_cluster_admin()
    (clone_dir / "k8s").mkdir()
    (clone_dir / "k8s" / "app.yaml").write_text(MANIFESTS)
    env = pipe_env | {
        "COMMAND": "kubectl",
        "CLUSTER_NAME": CLUSTER,
        "KUBECTL_COMMAND": "apply",
        "RESOURCE_PATH": "k8s",
        "BITBUCKET_CLONE_DIR": str(clone_dir),
        "LABELS": "team=payments",
        "WAIT_TIMEOUT": "60",
        "NAMESPACE": cluster.namespace,
    }
    # A proxy that faults nothing, to see kubectl's requests: the kill comes once it watches the rollout.
    with FaultProxy(cluster.plane.url, Rates(), tls=cluster.plane.credentials) as tap:
        cluster.register(endpoint=tap.url)
        killed = Killed(env, clone_dir)
        deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
        while not _watching_rollout(tap) and killed.running() and time.monotonic() < deadline:
            time.sleep(0.05)
        killed.kill()
    killed.check_left_behind("kubectl")
    killed_mid_wait = cluster.object("apps", "v1", "deployments", "web")
    assert killed_mid_wait is not None, "the pipe was killed before it applied anything"
    assert not (killed_mid_wait.get("status") or {}).get("availableReplicas"), "killed after the rollout"

    cluster.register()
    result = run(env)
    deployment = cluster.object("apps", "v1", "deployments", "web")
    replica_sets = cluster.list("apps", "v1", "replicasets")
    config_maps = cluster.list("", "v1", "configmaps")
    assert result.returncode == 0, result.output
    assert "1 rollout(s) finished" in result.last_line
    assert deployment["status"]["availableReplicas"] == 3
    assert deployment["metadata"]["labels"]["team"] == "payments"
    # The rerun changed nothing the first run had applied: same generation, one ReplicaSet, one ConfigMap.
    assert deployment["metadata"]["generation"] == killed_mid_wait["metadata"]["generation"]
    assert len([rs for rs in replica_sets if rs["metadata"]["name"].startswith("web-")]) == 1
    assert [cm["metadata"]["name"] for cm in config_maps if cm["metadata"]["name"] == "web-settings"] == [
        "web-settings"
    ]


# --- beanstalk ----------------------------------------------------------------------------------------
EB_FILES = {
    "application.py": "def application(environ, start):\n    return [b'v2']\n",
    "Procfile": "web: gunicorn application:application\n",
}
# Polls a deploy takes in the stand-in: the killed run is surely inside its wait (it is killed the
# moment UpdateEnvironment is carried out), the rerun waits them out at 0.1 s each.
EB_POLLS_PER_DEPLOY = 20
# How long the proxy holds the killed run's bundle PUT before it acts on it: longer than a kill takes.
HELD_SECONDS = 2.0


@pytest.fixture
def bundles(s3):
    """A bucket whose every PUT makes an object version: one version in the end means one upload."""
    bucket = f"bundles-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return bucket


@pytest.fixture
def eb(moto_server):
    with BeanstalkStandIn(moto_server.url) as standin:
        standin.state.polls_per_deploy = EB_POLLS_PER_DEPLOY
        yield standin


@pytest.fixture
def eb_env(pipe_env, clone_dir, eb, bundles):
    write_files(clone_dir / "app", EB_FILES)
    suffix = uuid.uuid4().hex[:8]
    application, name = f"shop-{suffix}", f"shop-prod-{suffix}"
    eb.state.create_environment(application, name)
    return pipe_env | {
        "COMMAND": "beanstalk",
        "BITBUCKET_CLONE_DIR": str(clone_dir),
        "AWS_ENDPOINT_URL_ELASTIC_BEANSTALK": eb.url,
        "APPLICATION_NAME": application,
        "ENVIRONMENT_NAME": name,
        "SOURCE_PATH": "app",
        "VERSION_LABEL": "release-2",
        "S3_BUCKET": bundles,
        "WAIT_INTERVAL": "0.1",
    }


def _uploads(s3, env) -> int:
    key = f"{env['APPLICATION_NAME']}/{env['VERSION_LABEL']}.zip"
    versions = s3.list_object_versions(Bucket=env["S3_BUCKET"], Prefix=key).get("Versions", [])
    return len([version for version in versions if version["Key"] == key])


def _carried_out(eb, action) -> int:
    return len([call for call in eb.actions(action) if call.error is None])


def test_beanstalk_killed_during_its_deploy_converges_when_run_again(run, eb_env, eb, s3, clone_dir):
    environment = eb.state.environments[eb_env["ENVIRONMENT_NAME"]]
    killed = Killed(eb_env, clone_dir)
    try:
        eb.wait_for("UpdateEnvironment", STARTUP_LIMIT_SECONDS)
    finally:
        killed.kill()
    killed.check_left_behind("beanstalk")
    assert (environment.status, environment.version_label) == ("Updating", None), "not killed mid-deploy"

    result = run(eb_env)
    assert result.returncode == 0, result.output
    assert (environment.status, environment.health, environment.version_label) == (
        "Ready",
        "Green",
        "release-2",
    )
    assert "already exists with this bundle" in result.output and "not deploying it again" in result.output
    # One upload, one version, one deploy: the rerun waited for the killed run's deploy and took it as its own.
    assert _uploads(s3, eb_env) == 1
    assert _carried_out(eb, "CreateApplicationVersion") == 1
    assert _carried_out(eb, "UpdateEnvironment") == 1


@pytest.mark.parametrize("lands", [False, True], ids=["upload-lost", "upload-lands-after-the-kill"])
def test_beanstalk_killed_during_its_upload_converges_when_run_again(
    run, eb_env, eb, s3, clone_dir, moto_server, lands
):
    """Killed with its bundle PUT sent and unanswered: S3 either never gets it (the connection dies
    with the pipe) or gets it after the pipe is gone (it was all sent). Either way the rerun uploads
    it at most once more and deploys once."""
    environment = eb.state.environments[eb_env["ENVIRONMENT_NAME"]]
    bundle_put = f"/{eb_env['S3_BUCKET']}/{eb_env['APPLICATION_NAME']}/"
    in_flight = threading.Event()

    def first_bundle_put(request):
        if request.method == "PUT" and request.path.startswith(bundle_put) and not in_flight.is_set():
            in_flight.set()
            return True
        return False

    if lands:  # held, then passed on to S3
        proxy = FaultProxy(moto_server.url, Rates(), eligible=first_bundle_put, delay_seconds=HELD_SECONDS)
    else:  # held, then the connection is reset: S3 never sees it
        held = Rates(reset=1.0, latency=1.0, latency_seconds=HELD_SECONDS)
        proxy = FaultProxy(moto_server.url, held, eligible=first_bundle_put)
    env = eb_env | {"AWS_ENDPOINT_URL": proxy.url}
    with proxy:
        killed = Killed(env, clone_dir)
        try:
            assert in_flight.wait(STARTUP_LIMIT_SECONDS), "the pipe never sent its bundle"
        finally:
            killed.kill()
        killed.check_left_behind("beanstalk")
        if lands:
            _wait_for_object(s3, env)
        assert _uploads(s3, env) == (1 if lands else 0)
        assert eb.actions("CreateApplicationVersion") == []

        result = run(env)
    assert result.returncode == 0, result.output
    assert (environment.status, environment.health, environment.version_label) == (
        "Ready",
        "Green",
        "release-2",
    )
    assert ("already holds this bundle; not uploading it again" in result.output) == lands
    assert _uploads(s3, env) == 1
    assert _carried_out(eb, "CreateApplicationVersion") == 1
    assert _carried_out(eb, "UpdateEnvironment") == 1


def _wait_for_object(s3, env) -> None:
    """The held PUT reaches S3 once the proxy lets it go (the object appearing is the event)."""
    key = f"{env['APPLICATION_NAME']}/{env['VERSION_LABEL']}.zip"
    deadline = time.monotonic() + HELD_SECONDS + STARTUP_LIMIT_SECONDS
    while time.monotonic() < deadline:
        try:
            s3.head_object(Bucket=env["S3_BUCKET"], Key=key)
            return
        except ClientError:
            time.sleep(0.05)
    raise AssertionError("the held bundle PUT never reached S3")
