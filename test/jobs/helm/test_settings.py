"""helm's settings: SET items, release names, versions; hostile values from hypothesis."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipe.jobs.helm import release, settings


@given(st.text(min_size=1, max_size=40).filter(lambda text: "\n" not in text and "\r" not in text))
def test_a_set_value_is_taken_exactly_as_written(value):
    assert settings.parse_set_item(f"image.tag={value}") == ("image.tag", value)


@given(st.text(max_size=20), st.sampled_from(["\n", "\r", "\r\n"]), st.text(max_size=20))
def test_a_set_value_with_a_line_break_is_refused(before, line_break, after):
    with pytest.raises(ValueError, match="must not hold a line break"):
        settings.parse_set_item(f"key={before}{line_break}{after}")


@given(st.text(max_size=30).filter(lambda key: not settings._SET_KEY.fullmatch(key.strip())))
def test_a_set_key_outside_helms_path_syntax_is_refused(key):
    with pytest.raises(ValueError):
        settings.parse_set_item(f"{key}=x")


def test_plain_set_is_one_item_a_line_and_commas_stay_in_values():
    assert settings.split_set("a=1, 2\n\nb=c,d\n") == ["a=1, 2", "b=c,d"]


@pytest.mark.parametrize("name", ["web", "my-app.v2", "a" * 53])
def test_release_names_helm_takes(name):
    assert settings.parse_release(name) == name


@pytest.mark.parametrize("name", ["Web", "-web", "web-", "a" * 54, "web_app", "web;rm"])
def test_release_names_helm_refuses(name):
    with pytest.raises(ValueError, match="must be a Helm release name"):
        settings.parse_release(name)


@pytest.mark.parametrize("version", ["1.4.2", "v1.4.2-rc.1", "~1.4", "^2", ">=1.0 <2.0", "1.x"])
def test_chart_versions_and_constraints(version):
    assert settings.parse_version(version) == version


@pytest.mark.parametrize("version", ["--devel", "1.0;rm", "latest", "$(x)"])
def test_what_is_not_a_version_is_refused(version):
    with pytest.raises(ValueError):
        settings.parse_version(version)


def _chosen(**changes):
    base = dict(
        cluster="prod", action="upgrade", release="web", chart=None, version=None, values_files=(),
        set_items=(("greeting", "hi, there"),), set_typed=False, namespace="apps", create_namespace=False,
        wait=True, wait_timeout=60, rollback_on_failure=True, history_max=10, dry_run=False, revision=0,
        recover_pending=False, username=None, password=None, release_labels={},
    )  # fmt: skip
    return settings.Settings(**(base | changes))


def test_set_is_literal_unless_typed():
    assert release.value_arguments(_chosen()) == ["--set-literal", "greeting=hi, there"]
    assert release.value_arguments(_chosen(set_typed=True)) == ["--set", "greeting=hi, there"]


def test_upgrade_uses_helm_4s_rollback_flag_and_the_history_limit(tmp_path):
    args = release.upgrade_arguments(["helm"], _chosen(), tmp_path)
    assert "--rollback-on-failure" in args and "--atomic" not in args
    assert args[args.index("--history-max") + 1] == "10"
    assert "--rollback-on-failure" not in release.upgrade_arguments(
        ["helm"], _chosen(rollback_on_failure=False), tmp_path
    )
