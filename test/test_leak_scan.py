"""The leak scan itself (test/support/leaks.py, run by every run_pipe): it must be able to fail."""

import base64
import os
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from test.support import aws, leaks
from test.support.beanstalk import BeanstalkStandIn
from test.support.ecs import EcsStandIn
from test.support.encodings import FORMS
from test.support.run import run_pipe

SECRET = leaks.Secret("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzLEAKSCAN1")


@pytest.fixture(autouse=True)
def own_tally(monkeypatch):
    """The leaks found here are planted: they must not count in the session's summary line."""
    monkeypatch.setattr(leaks, "TALLY", leaks.Tally())


@pytest.mark.parametrize("before", [b"", b"u", b"us", b"user:", b'{\n  "k": "'])
@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode])
def test_a_secret_is_found_inside_a_base64_blob_at_any_alignment(before, encode):
    blob = encode(before + SECRET.value.encode() + b'" }')
    assert leaks.hits(b"header: " + blob + b"\n", [SECRET])


def test_nothing_is_found_in_clean_text_and_a_hit_never_shows_the_value():
    assert leaks.hits(b"nothing here " + base64.b64encode(b"user:other-value-entirely"), [SECRET]) == []
    with pytest.raises(leaks.Leak) as raised:
        leaks.check(b"x " + SECRET.value.encode(), [], [SECRET], debug=True)
    assert SECRET.value not in str(raised.value) and SECRET.value[:8] not in str(raised.value)
    assert "AWS_SECRET_ACCESS_KEY (as is)" in str(raised.value)


def test_an_eks_bearer_token_is_a_hit_by_its_shape():
    assert leaks.hits(b"Bearer k8s-aws-v1.aHR0cHM6Ly9zdHMuZXUtd2VzdC0xLmFtYXpvbmF3cy5jb20v", [])


def _env(tmp_path):
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), SECRET.name: SECRET.value}


def test_run_pipe_fails_a_run_that_prints_a_secret_in_base64(tmp_path):
    program = f"import base64, os; print(base64.b64encode(b'user:' + os.environ['{SECRET.name}'].encode()))"
    with pytest.raises(leaks.Leak, match=r"AWS_SECRET_ACCESS_KEY \(base64 at offset 2\)"):
        run_pipe(_env(tmp_path), cwd=tmp_path, command=[sys.executable, "-c", program])


def test_run_pipe_fails_a_run_that_leaves_a_secret_in_the_clone(tmp_path):
    clone = tmp_path / "clone"
    clone.mkdir()
    program = f"import os; open('deep/creds', 'w').write(os.environ['{SECRET.name}'])"
    (clone / "deep").mkdir()
    with pytest.raises(leaks.Leak, match="deep/creds: AWS_SECRET_ACCESS_KEY"):
        run_pipe(_env(tmp_path), cwd=clone, command=[sys.executable, "-c", program])


def test_files_the_test_put_there_before_the_run_are_not_the_runs_leak(tmp_path):
    (tmp_path / "token-file").write_text(SECRET.value)
    result = run_pipe(_env(tmp_path), cwd=tmp_path, command=[sys.executable, "-c", "print('clean')"])
    assert result.returncode == 0
    assert leaks.TALLY.runs == 1 and leaks.TALLY.debug_runs == 1 and leaks.TALLY.hits == []


def test_runs_are_debug_runs_unless_the_test_sets_debug(tmp_path):
    program = "import os; print(os.environ['DEBUG'])"
    assert run_pipe(_env(tmp_path), cwd=tmp_path, command=[sys.executable, "-c", program]).stdout == "true\n"
    explicit = _env(tmp_path) | {"DEBUG": "false"}
    assert run_pipe(explicit, cwd=tmp_path, command=[sys.executable, "-c", program]).stdout == "false\n"


# --- Every form a secret takes in text -----------------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS)
def test_a_planted_leak_in_each_form_is_found(form):
    planted = FORMS[form](SECRET.value).encode()
    assert leaks.hits(b"DEBUG: sent " + planted + b"\nnext line\n", [SECRET])
    other = leaks.Secret("AWS_SECRET_ACCESS_KEY", "zzzzzzzzOtherValueOfFortyCharacters00000")
    assert leaks.hits(b"DEBUG: sent " + planted + b"\n", [other]) == []


@pytest.mark.parametrize("form", FORMS)
def test_run_pipe_fails_a_run_that_prints_a_secret_in_each_form(tmp_path, form):
    planted = FORMS[form](SECRET.value)
    program = f"import sys; sys.stderr.write({planted!r})"
    with pytest.raises(leaks.Leak, match="AWS_SECRET_ACCESS_KEY"):
        run_pipe(_env(tmp_path), cwd=tmp_path, command=[sys.executable, "-c", program])


@given(before=st.binary(max_size=30), after=st.binary(max_size=30), form=st.sampled_from(sorted(FORMS)))
def test_a_form_is_found_whatever_bytes_surround_it(before, after, form):
    assert leaks.hits(before + FORMS[form](SECRET.value).encode() + after, [SECRET])


def test_the_names_say_which_form_was_found():
    def names(text: str) -> list[str]:
        return leaks.hits(text.encode(), [SECRET])

    assert names(FORMS["percent-encoded (quote, nothing safe)"](SECRET.value)) == [
        "AWS_SECRET_ACCESS_KEY (as is, percent-encoded)"
    ]
    assert names(FORMS["hex"](SECRET.value)) == ["AWS_SECRET_ACCESS_KEY (hex)"]
    assert "AWS_SECRET_ACCESS_KEY (as is, cut short)" in names(SECRET.value[:-2] + "\n")
    wrapped = names(FORMS["base64 wrapped at 76 columns, alignment 2"](SECRET.value))
    assert any("across line breaks" in name for name in wrapped), wrapped


# --- Everywhere a secret could land --------------------------------------------------------------------------


@pytest.fixture
def clone(tmp_path):
    path = tmp_path / "clone"
    path.mkdir()
    return path


def test_a_secret_left_in_home_is_found(tmp_path, clone):
    home = tmp_path / "home"
    home.mkdir()
    program = f"import os; open(os.environ['HOME'] + '/.cache-file', 'w').write(os.environ['{SECRET.name}'])"
    with pytest.raises(leaks.Leak, match=r"home/\.cache-file: AWS_SECRET_ACCESS_KEY"):
        run_pipe(_env(tmp_path) | {"HOME": str(home)}, cwd=clone, command=[sys.executable, "-c", program])


def test_the_token_in_aws_web_identity_token_file_is_a_secret(tmp_path, clone):
    token_file = tmp_path / "token"
    token_file.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0b2tlbi1maWxlIn0.c2lnbmF0dXJlLW9mLXRoZS1maWxl\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file)}
    program = "import os, urllib.parse; print(urllib.parse.quote(open(os.environ['AWS_WEB_IDENTITY_TOKEN_FILE']).read()))"
    with pytest.raises(leaks.Leak, match=r"AWS_WEB_IDENTITY_TOKEN_FILE \(as is"):
        run_pipe(env, cwd=clone, command=[sys.executable, "-c", program])


def _put_object_program(url: str, **put) -> str:
    return (
        "import boto3, os\n"
        f"s3 = boto3.client('s3', endpoint_url={url!r}, region_name='us-east-1',"
        " aws_access_key_id='testing', aws_secret_access_key='testing')\n"
        f"s3.put_object(Bucket='leak-scan', Key='object', {', '.join(f'{k}={v}' for k, v in put.items())})\n"
    )


@pytest.mark.parametrize(
    "put",
    [
        {"Body": f"os.environ['{SECRET.name}'].encode()"},
        {"Body": "b'x'", "Metadata": f"{{'note': os.environ['{SECRET.name}']}}"},
    ],
    ids=["object-body", "object-metadata"],
)
def test_a_secret_uploaded_to_s3_is_found(moto_server, clone, tmp_path, put):
    aws.client("s3", moto_server.url, "us-east-1").create_bucket(Bucket="leak-scan")
    program = _put_object_program(moto_server.url, **put)
    with pytest.raises(leaks.Leak, match=r"sent to s3://leak-scan/object: AWS_SECRET_ACCESS_KEY"):
        run_pipe(
            _env(tmp_path) | {"PATH": os.environ["PATH"]}, cwd=clone, command=[sys.executable, "-c", program]
        )


def test_objects_stored_before_the_run_are_not_the_runs_leak(moto_server, clone, tmp_path):
    s3 = aws.client("s3", moto_server.url, "us-east-1")
    s3.create_bucket(Bucket="leak-scan-before")
    s3.put_object(Bucket="leak-scan-before", Key="k", Body=SECRET.value.encode())
    assert run_pipe(_env(tmp_path), cwd=clone, command=[sys.executable, "-c", "pass"]).returncode == 0


def test_a_secret_sent_to_elastic_beanstalk_is_found(moto_server, clone, tmp_path):
    with BeanstalkStandIn(moto_server.url, require_signature=False) as eb:
        program = (
            "import boto3, os\n"
            f"eb = boto3.client('elasticbeanstalk', endpoint_url={eb.url!r}, region_name='eu-west-1',"
            " aws_access_key_id='testing', aws_secret_access_key='testing')\n"
            f"eb.create_application(ApplicationName='shop', Description=os.environ['{SECRET.name}'][:40])\n"
        )
        env = _env(tmp_path) | {"PATH": os.environ["PATH"]}
        with pytest.raises(leaks.Leak, match=r"sent to Elastic Beanstalk CreateApplication: AWS_SECRET"):
            run_pipe(env, cwd=clone, command=[sys.executable, "-c", program])


def test_a_secret_sent_to_ecs_is_found(clone, tmp_path):
    with EcsStandIn(require_signature=False) as ecs:
        program = (
            "import boto3, os\n"
            f"ecs = boto3.client('ecs', endpoint_url={ecs.url!r}, region_name='eu-west-1',"
            " aws_access_key_id='testing', aws_secret_access_key='testing')\n"
            "ecs.register_task_definition(family='shop', containerDefinitions=[{'name': 'web', 'image': 'a:1',"
            f" 'memory': 8, 'environment': [{{'name': 'K', 'value': os.environ['{SECRET.name}']}}]}}])\n"
        )
        env = _env(tmp_path) | {"PATH": os.environ["PATH"]}
        with pytest.raises(leaks.Leak, match=r"sent to ECS RegisterTaskDefinition: AWS_SECRET"):
            run_pipe(env, cwd=clone, command=[sys.executable, "-c", program])


def test_a_secret_stored_in_the_kubernetes_cluster_is_found(eks_cluster):
    marker = leaks.received_marker()
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings"},
        "data": {"token": SECRET.value},
    }
    eks_cluster.plane.create(f"/api/v1/namespaces/{eks_cluster.namespace}/configmaps", config_map)
    received = leaks.received_since(marker)
    where = f"kubernetes configmaps/{eks_cluster.namespace}/settings"
    assert [place for place, _data in received] == [where]
    with pytest.raises(leaks.Leak, match=rf"sent to {where}: AWS_SECRET_ACCESS_KEY"):
        leaks.check(b"", [], [SECRET], debug=True, received=received)
