"""Every job's happy path through the fault proxy (test/support/faults.py), with the right end state.

AWS calls go through a proxy in front of moto; kubectl's through a TLS proxy in front of the real
kube-apiserver (test/support/controlplane) as well. Rates are of eligible requests, each attempt rolled anew, seeds fixed.
What each run injected is printed in the session summary (the figures docs/security.md quotes).
"""

import os
from urllib.parse import parse_qs

import pytest
from botocore.config import Config
from botocore.exceptions import ConnectionClosedError

from pipe.jobs.beanstalk import bundle
from test.support import aws
from test.support.beanstalk import BeanstalkStandIn
from test.support.checks import assert_one_clear_failure
from test.support.faults import ALL_KINDS, LOST, FaultProxy, Rates, everything, first, kubectl_retries, report
from test.support.kube import manifests
from test.support.run import write_files

# 30% of AWS requests: 6% each of 500, plain 503, 503 SlowDown, throttling in the service's shape,
# and connection resets; and 10% of requests delayed by 0.2 s.
AWS_FAULTS = Rates.mixed(0.30, latency=0.10)
# 30% of Kubernetes requests that kubectl retries (test.support.faults.kubectl_retries): 7.5% each
# of 500, 503 and 429 (all with Retry-After), and resets of GETs and the doctor's reviews.
KUBE_FAULTS = Rates.mixed(0.30, kinds=("500", "503", "throttling", "reset"), latency=0.10)
# Elastic Beanstalk and the S3/STS calls of its job: 30% of requests, 5% each of the kinds above and
# of lost answers (the call carried out, the answer dropped: its retry repeats a create or an update).
BEANSTALK_FAULTS = Rates.mixed(0.30, kinds=ALL_KINDS, latency=0.10)
WHOAMI_RUNS = 10
SITE_FILES = 80


def test_whoami_signs_in_through_faults(run, pipe_env, moto_server):
    with FaultProxy(moto_server.url, AWS_FAULTS, seed=11) as proxy:
        for _ in range(WHOAMI_RUNS):
            result = run(pipe_env | {"AWS_ENDPOINT_URL": proxy.url})
            assert result.returncode == 0, result.output
            assert "arn:aws:sts::123456789012:assumed-role/deploy/bitbucket-my-repo-42" in result.stdout
    report(f"whoami ({WHOAMI_RUNS} runs)", proxy)
    assert sum(proxy.faults[kind] for kind in ("500", "503", "slow_down", "throttling", "reset")) > 0


def test_trust_policy_makes_no_aws_call(run, pipe_env, moto_server):
    with FaultProxy(moto_server.url, Rates(reset=1.0)) as proxy:
        result = run(pipe_env | {"COMMAND": "trust-policy", "AWS_ENDPOINT_URL": proxy.url})
    assert result.returncode == 0, result.output
    assert proxy.requests == 0


@pytest.fixture
def site(clone_dir):
    root = clone_dir / "build"
    for number in range(SITE_FILES):
        path = root / f"part-{number % 6}" / f"{number}.{'html' if number % 4 == 0 else 'js'}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(200 + number * 13))
    return root


def _s3(moto_server):
    return aws.client("s3", moto_server.url)


def _distribution(moto_server) -> str:
    cloudfront = aws.client("cloudfront", moto_server.url, "us-east-1")
    return aws.create_distribution(cloudfront, "fault-proxy-site")


def _contents(s3, bucket, prefix):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {
        item["Key"][len(prefix) :]: s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        for page in pages
        for item in page.get("Contents", ())
    }


def test_s3_sync_publishes_through_faults(run, pipe_env, clone_dir, site, moto_server):
    s3 = _s3(moto_server)
    # A fixed name: the proxy's rolls depend on the paths, so the same faults are made on every run.
    bucket = "fault-proxy-site"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    for stale in ("www/old.js", "www/old/index.html"):
        s3.put_object(Bucket=bucket, Key=stale, Body=b"stale")
    env = pipe_env | {
        "COMMAND": "s3-sync",
        "BITBUCKET_CLONE_DIR": str(clone_dir),
        "S3_BUCKET": f"{bucket}/www",
        "LOCAL_PATH": "build",
        "DELETE_FLAG": "true",
        "DELETE_GUARD_PERCENT": "100",  # both objects there are stale: past the delete guard's half
        "CLOUDFRONT_DISTRIBUTION_ID": _distribution(moto_server),
        "CLOUDFRONT_WAIT": "true",
    }
    with FaultProxy(moto_server.url, AWS_FAULTS, seed=12) as proxy:
        result = run(env | {"AWS_ENDPOINT_URL": proxy.url})
    assert result.returncode == 0, result.output
    report("s3-sync", proxy)
    local = {
        path.relative_to(site).as_posix(): path.read_bytes() for path in site.rglob("*") if path.is_file()
    }
    assert _contents(s3, bucket, "www/") == local
    assert "0 unchanged, 2 deleted" in result.last_line and "invalidation" in result.output.lower()
    assert proxy.faults["reset"] and proxy.faults["slow_down"] and proxy.faults["throttling"], proxy.faults


CLUSTER = "faulty"
MANIFESTS = manifests.web_app(replicas=2)


def _apply_through(run, env, cluster, kube_rates, kube_eligible, kube_seed, aws_rates, moto_server):
    """kubectl apply through a proxy in front of kube-apiserver and one in front of moto."""
    # The proxy answers with the API server's own certificate: the kubeconfig's CA still checks it.
    with (
        FaultProxy(
            cluster.plane.url,
            kube_rates,
            seed=kube_seed,
            eligible=kube_eligible,
            tls=cluster.plane.credentials,
        ) as kube_proxy,
        FaultProxy(moto_server.url, aws_rates, seed=14) as aws_proxy,
    ):
        cluster.register(endpoint=kube_proxy.url)
        result = run(env | {"AWS_ENDPOINT_URL": aws_proxy.url})
    deployment = cluster.object("apps", "v1", "deployments", "web")
    settings = cluster.object("", "v1", "configmaps", "web-settings")
    return result, deployment, settings, aws_proxy, kube_proxy


def _cluster(cluster_access, namespace: str):
    # A fixed namespace: the proxy's rolls depend on the request paths, which name it.
    cluster = cluster_access(CLUSTER, namespace=namespace)
    cluster.allow(aws.ROLE_ARN)
    cluster.grant_cluster_admin()
    return cluster


@pytest.fixture
def kube_env(pipe_env, clone_dir):
    (clone_dir / "k8s").mkdir()
    (clone_dir / "k8s" / "app.yaml").write_text(MANIFESTS)
    return pipe_env | {
        "COMMAND": "kubectl",
        "CLUSTER_NAME": CLUSTER,
        "KUBECTL_COMMAND": "apply",
        "RESOURCE_PATH": "k8s",
        "BITBUCKET_CLONE_DIR": str(clone_dir),
        "LABELS": "team=payments",
        "WAIT_TIMEOUT": "120",
    }


def test_kubectl_apply_deploys_through_faults(run, kube_env, moto_server, cluster_access):
    cluster = _cluster(cluster_access, "faulty-apply")
    result, deployment, settings, aws_proxy, kube_proxy = _apply_through(
        run,
        kube_env | {"NAMESPACE": cluster.namespace},
        cluster,
        KUBE_FAULTS,
        kubectl_retries,
        13,
        AWS_FAULTS,
        moto_server,
    )
    assert result.returncode == 0, result.output
    report("kubectl apply", aws_proxy, kube_proxy)
    assert deployment["metadata"]["labels"]["team"] == "payments"
    assert settings["metadata"]["labels"]["bitbucket.org/bitbucket_build_number"] == "42"
    # The real deployment controller finished the rollout, and kubectl saw it through the faults.
    assert deployment["status"].get("readyReplicas") == 2
    assert "1 rollout(s) finished" in result.last_line
    assert sum(kube_proxy.faults.values()) > 0 and kube_proxy.faults["reset"] > 0, kube_proxy.faults


def test_the_authorization_doctor_retries_what_a_busy_cluster_refuses(
    run, kube_env, moto_server, cluster_access
):
    """Only the doctor's reviews are faulted, at 50%: before it retried, one fault failed the step."""

    def reviews(request):
        return "/selfsubject" in request.path

    cluster = _cluster(cluster_access, "faulty-doctor")
    rates = Rates.mixed(0.5, kinds=("500", "503", "throttling", "reset"))
    result, deployment, _, _, kube_proxy = _apply_through(
        run, kube_env | {"NAMESPACE": cluster.namespace}, cluster, rates, reviews, 15, Rates(), moto_server
    )
    assert result.returncode == 0, result.output
    assert deployment is not None
    assert sum(kube_proxy.faults.values()) >= 2, kube_proxy.faults


# Fixed names (the proxy's rolls depend on the S3 paths), one set per test (moto's S3 is the session's).
EB_APPLICATION = "faulty-shop"
EB_ENVIRONMENT = "faulty-shop-prod"
EB_LABEL = "faulty-shop-7"
LOST_NAMES = {
    "APPLICATION_NAME": "lossy-shop",
    "ENVIRONMENT_NAME": "lossy-shop-prod",
    "VERSION_LABEL": "lossy-7",
}
# A deploy that takes a while: more polls, so more requests to fault.
EB_POLLS_PER_DEPLOY = 10
EB_FILES = {
    "application.py": "def application(environ, start):\n    return [b'through faults']\n",
    "Procfile": "web: gunicorn application:application\n",
    "static/site.css": "body { color: green; }\n",
}
# Not idempotent: a repeat after a lost answer meets what the first attempt did.
EB_WRITES = ("CreateApplicationVersion", "UpdateEnvironment")


@pytest.fixture
def eb_app(clone_dir):
    return write_files(clone_dir / "app", EB_FILES)


@pytest.fixture
def eb_env(pipe_env, clone_dir, eb_app):
    return pipe_env | {
        "COMMAND": "beanstalk",
        "BITBUCKET_CLONE_DIR": str(clone_dir),
        "APPLICATION_NAME": EB_APPLICATION,
        "ENVIRONMENT_NAME": EB_ENVIRONMENT,
        "SOURCE_PATH": "app",
        "VERSION_LABEL": EB_LABEL,
        "WAIT_INTERVAL": "0.1",
        "DEPLOY_TIMEOUT": "120",
    }


def _deploy_through(
    run, env, moto_server, eb_rates, eb_eligible, aws_rates, aws_eligible, seed, eb_script=None
):
    """The beanstalk job through one proxy in front of the Elastic Beanstalk stand-in and one in front
    of moto (STS, S3); the environment runs no version before."""
    with BeanstalkStandIn(moto_server.url) as eb:
        environment = eb.state.create_environment(env["APPLICATION_NAME"], env["ENVIRONMENT_NAME"])
        eb.state.polls_per_deploy = EB_POLLS_PER_DEPLOY
        with (
            FaultProxy(eb.url, eb_rates, seed=seed, eligible=eb_eligible, script=eb_script) as eb_proxy,
            FaultProxy(moto_server.url, aws_rates, seed=seed + 1, eligible=aws_eligible) as aws_proxy,
        ):
            result = run(
                env | {"AWS_ENDPOINT_URL": aws_proxy.url, "AWS_ENDPOINT_URL_ELASTIC_BEANSTALK": eb_proxy.url}
            )
    return result, eb, environment, eb_proxy, aws_proxy


def _assert_deployed_once(result, env, eb, environment, moto_server, app, tmp_path) -> None:
    """Running the new version, Green; one version made, one UpdateEnvironment carried out, and the
    bundle on S3 byte for byte the zip of the source (zips are reproducible: pipe.jobs.beanstalk.bundle)."""
    application, label = env["APPLICATION_NAME"], env["VERSION_LABEL"]
    assert result.returncode == 0, result.output
    assert (environment.status, environment.health, environment.version_label) == ("Ready", "Green", label)
    assert list(eb.state.versions) == [(application, label)]
    assert len([call for call in eb.actions("CreateApplicationVersion") if call.error is None]) == 1
    carried_out = [call for call in eb.actions("UpdateEnvironment") if call.error is None]
    assert len(carried_out) == 1, [call.error for call in eb.actions("UpdateEnvironment")]
    expected = tmp_path / "expected.zip"
    bundle.make_zip(app, expected)
    version = eb.state.versions[(application, label)]
    stored = _s3(moto_server).get_object(Bucket=version.bucket, Key=version.key)["Body"].read()
    assert stored == expected.read_bytes()
    assert result.last_line.startswith(f"✔ Deployed {label} to {env['ENVIRONMENT_NAME']} in ")


def test_beanstalk_deploys_through_faults(run, eb_env, eb_app, moto_server, tmp_path):
    """The mix of faults at random, and the answer to the first CreateApplicationVersion lost
    (scripted: the version is made, botocore's repeat meets "already exists", whatever the order of
    the other requests)."""
    lose_first_create = first(LOST, lambda request: _action(request) == "CreateApplicationVersion")
    # The seed only picks the random mix (this one has every kind in it).
    result, eb, environment, eb_proxy, aws_proxy = _deploy_through(
        run,
        eb_env,
        moto_server,
        BEANSTALK_FAULTS,
        everything,
        BEANSTALK_FAULTS,
        everything,
        seed=56,
        eb_script=lose_first_create,
    )
    _assert_deployed_once(result, eb_env, eb, environment, moto_server, eb_app, tmp_path)
    report("beanstalk", aws_proxy, eb_proxy)
    assert all(eb_proxy.faults[kind] for kind in ALL_KINDS), eb_proxy.faults
    # The version made once, by the first attempt, whose answer was lost; each repeat that reached the
    # service (a roll may fault one before it gets there, or lose its answer too) met "already exists".
    created = [call.error for call in eb.actions("CreateApplicationVersion")]
    assert created[0] is None and created[1:] and set(created[1:]) == {"InvalidParameterValue"}, created


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_elastic_beanstalk_fault_is_one_botocore_retries(moto_server, kind):
    """Each fault, in the Query API's shape for service elasticbeanstalk, made once: botocore's
    standard retry mode (as the pipe's clients use it) tries again and the call succeeds."""
    names = {"500": "http_500", "503": "http_503"}
    once = iter([True])

    def first_only(_request):
        return next(once, False)

    with (
        BeanstalkStandIn(moto_server.url, require_signature=False) as eb,
        FaultProxy(eb.url, Rates(**{names.get(kind, kind): 1.0}), eligible=first_only) as proxy,
    ):
        eb.state.create_environment("retried", "retried-prod")
        client = aws.client(
            "elasticbeanstalk", proxy.url, config=Config(retries={"mode": "standard", "max_attempts": 2})
        )
        answer = client.describe_environments(EnvironmentNames=["retried-prod"])
    assert [item["EnvironmentName"] for item in answer["Environments"]] == ["retried-prod"]
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert proxy.faults[kind] == 1 and proxy.injected[0][2] == kind


def _action(request) -> str:
    return parse_qs(request.body.decode(errors="replace")).get("Action", [""])[0]


def test_beanstalk_survives_lost_answers_to_its_writes(run, eb_env, eb_app, moto_server, tmp_path):
    """The first CreateApplicationVersion, UpdateEnvironment and bundle PUT are carried out and their
    answers lost: botocore repeats each. The repeated create meets "already exists" (the same bundle:
    reused) and the repeated update "invalid state" (our own update running): neither may make a
    second version or a second deploy."""
    lost = set()

    def first_writes(request):
        what = _action(request) if request.service == "elasticbeanstalk" else request.method
        if what in (*EB_WRITES, "PUT") and what not in lost:
            lost.add(what)
            return (LOST,)
        return False

    env = eb_env | LOST_NAMES
    result, eb, environment, eb_proxy, aws_proxy = _deploy_through(
        run, env, moto_server, Rates(lost=1.0), first_writes, Rates(lost=1.0), first_writes, seed=17
    )
    assert lost == {*EB_WRITES, "PUT"}
    _assert_deployed_once(result, env, eb, environment, moto_server, eb_app, tmp_path)
    assert "the first attempt may have started this deploy" in result.output
    assert [call.error for call in eb.actions("CreateApplicationVersion")] == [None, "InvalidParameterValue"]
    assert [call.error for call in eb.actions("UpdateEnvironment")] == [None, "InvalidParameterValue"]
    assert (eb_proxy.faults[LOST], aws_proxy.faults[LOST]) == (2, 1)


def test_a_lost_answer_is_carried_out_then_dropped(moto_server):
    s3 = _s3(moto_server)
    s3.create_bucket(Bucket="lost-answer", CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    proxy = FaultProxy(moto_server.url, Rates(lost=1.0))
    once = Config(retries={"total_max_attempts": 1})
    faulty = aws.client("s3", proxy.url, config=once)
    with proxy, pytest.raises(ConnectionClosedError):
        faulty.put_object(Bucket="lost-answer", Key="k", Body=b"carried out")
    assert s3.get_object(Bucket="lost-answer", Key="k")["Body"].read() == b"carried out"
    assert proxy.faults[LOST] == 1 and proxy.log == [("PUT", "/lost-answer/k")]


@pytest.mark.parametrize(
    ("outcome", "lost_call"),
    [("stuck", "AbortEnvironmentUpdate"), ("fail", "UpdateEnvironment")],
    ids=["stuck-then-abort", "failed-then-redeploy"],
)
def test_beanstalk_rollback_survives_a_lost_answer(run, eb_env, eb_app, moto_server, outcome, lost_call):
    """ROLLBACK_ON_FAILURE after a stuck deploy (AbortEnvironmentUpdate) or a failed one (an
    UpdateEnvironment back to v-old): that call's answer is lost once, and its repeat meets "invalid
    state" (the abort or the rollback is running). The rollback still ends with v-old running."""
    from test.support.beanstalk.model import Version

    suffix = outcome
    env = eb_env | {
        "APPLICATION_NAME": f"rollback-{suffix}",
        "ENVIRONMENT_NAME": f"rollback-{suffix}-prod",
        "VERSION_LABEL": "rollback-7",
        "ROLLBACK_ON_FAILURE": "true",
        "DEPLOY_TIMEOUT": "2",
        "WAIT_INTERVAL": "0.2",
    }
    lost = []

    def lose_the_rollbacks_first_call(request):
        if request.service != "elasticbeanstalk" or lost:
            return False
        action, params = _action(request), parse_qs(request.body.decode(errors="replace"))
        if action == lost_call and params.get("VersionLabel", ["v-old"]) == ["v-old"]:
            lost.append(action)
            return (LOST,)
        return False

    with BeanstalkStandIn(moto_server.url) as eb:
        application = env["APPLICATION_NAME"]
        environment = eb.state.create_environment(application, env["ENVIRONMENT_NAME"], "v-old")
        eb.state.versions[(application, "v-old")] = Version(
            application, "v-old", "", "old", "v-old.zip", "etag"
        )
        eb.state.outcomes["rollback-7"] = outcome
        with FaultProxy(eb.url, Rates(lost=1.0), eligible=lose_the_rollbacks_first_call) as proxy:
            result = run(env | {"AWS_ENDPOINT_URL_ELASTIC_BEANSTALK": proxy.url})
    assert lost == [lost_call], result.output
    line = assert_one_clear_failure(
        result, "Rolled back to v-old: the environment is Ready, health Green (Ok)"
    )
    assert (environment.status, environment.health, environment.version_label) == ("Ready", "Green", "v-old")
    calls = [call for call in eb.actions(lost_call) if call.params.get("VersionLabel", "v-old") == "v-old"]
    assert [call.error for call in calls] == [None, "InvalidParameterValue"], line


def _first_sign_in_only():
    """Eligible: the first AssumeRoleWithWebIdentity request this proxy sees, nothing else."""
    seen = []

    def eligible(request) -> bool:
        if b"Action=AssumeRoleWithWebIdentity" not in request.body:
            return False
        seen.append(request)
        return len(seen) == 1

    return eligible


def test_sign_in_retries_a_gateways_502_and_504(run, pipe_env, moto_server):
    # Two proxies in a row: the first answers the first sign-in with 502, the second answers the
    # next one (the first it sees) with 504; the third attempt reaches moto.
    with (
        FaultProxy(moto_server.url, Rates(http_504=1.0), eligible=_first_sign_in_only()) as near,
        FaultProxy(near.url, Rates(http_502=1.0), eligible=_first_sign_in_only()) as far,
    ):
        result = run(pipe_env | {"AWS_ENDPOINT_URL": far.url})
    assert result.returncode == 0, result.output
    assert (far.faults["502"], near.faults["504"]) == (1, 1)
    assert "AssumeRoleWithWebIdentity failed with 502 (transient); retry 1 of 5" in result.output
    assert "AssumeRoleWithWebIdentity failed with 504 (transient); retry 2 of 5" in result.output
    assert "arn:aws:sts::123456789012:assumed-role/deploy/bitbucket-my-repo-42" in result.stdout
