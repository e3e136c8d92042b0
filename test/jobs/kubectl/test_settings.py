"""kubectl's settings: what KUBECTL_APPLY_ARGS and WAIT mean is in named fields, read before the sign-in."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipe.common.errors import PipeError
from pipe.common.variables import read_all
from pipe.jobs.kubectl import job as kubectl_job
from pipe.jobs.kubectl import settings as kubectl_settings

_APPLY_OPTIONS = ("--server-side", "--force-conflicts", "--field-manager=pipe")
_MODES = {"-f": "-f", "--filename": "-f", "-k": "-k", "--kustomize": "-k"}


def _read(tmp_path, **variables: str) -> kubectl_settings.Settings:
    (tmp_path / "k8s").mkdir(exist_ok=True)
    # -k is checked with the settings: the directory must hold a kustomization (an empty one does).
    (tmp_path / "k8s" / "kustomization.yaml").write_text("resources: []\n")
    env = {"BITBUCKET_CLONE_DIR": str(tmp_path), "CLUSTER_NAME": "web", "RESOURCE_PATH": "k8s"} | variables
    return kubectl_settings.read(read_all(kubectl_job.VARIABLES, env), env)


@given(options=st.lists(st.sampled_from(_APPLY_OPTIONS), max_size=3), mode=st.sampled_from(sorted(_MODES)))
def test_the_apply_mode_is_a_field_and_the_options_before_it_are_passed_on(tmp_path_factory, options, mode):
    chosen = _read(
        tmp_path_factory.mktemp("clone"),
        KUBECTL_COMMAND="apply",
        KUBECTL_APPLY_ARGS=" ".join([*options, mode]),
    )
    assert chosen.apply_mode == _MODES[mode]
    assert chosen.apply_arguments == options


def test_without_kubectl_apply_args_apply_reads_manifest_files(tmp_path):
    chosen = _read(tmp_path, KUBECTL_COMMAND="apply")
    assert (chosen.apply_mode, chosen.apply_arguments) == ("-f", [])
    assert chosen.resource_path == (tmp_path / "k8s").resolve()


@pytest.mark.parametrize(
    ("command", "wait", "expected"),
    [
        ("apply", None, True),
        ("apply", "false", False),
        ("delete", None, False),
        ("get pods", None, False),
        ("rollout restart deployment/web", "true", True),
    ],
)
def test_wait_defaults_to_whether_the_command_applies_resource_path(tmp_path, command, wait, expected):
    chosen = _read(tmp_path, KUBECTL_COMMAND=command, **({"WAIT": wait} if wait else {}))
    assert chosen.wait is expected


def test_a_command_that_names_its_objects_has_no_resource_path(tmp_path):
    assert _read(tmp_path, KUBECTL_COMMAND="get pods").resource_path is None


def test_resource_path_outside_the_clone_is_refused(tmp_path):
    (tmp_path / "clone").mkdir()
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(PipeError, match=r"RESOURCE_PATH .* leads outside the clone directory"):
        _read(tmp_path / "clone", KUBECTL_COMMAND="apply", RESOURCE_PATH="../elsewhere")


def test_labels_are_the_defaults_and_the_users_own(tmp_path):
    chosen = _read(tmp_path, KUBECTL_COMMAND="apply", LABELS="team=payments", BITBUCKET_BUILD_NUMBER="42")
    assert chosen.labels["team"] == "payments"
    assert len(chosen.labels) > 1
    without = _read(tmp_path, KUBECTL_COMMAND="apply", LABELS="team=payments", WITH_DEFAULT_LABELS="false")
    assert without.labels == {"team": "payments"}
