"""pipe.jobs.cdk.arguments: CDK_ARGS read as yargs-parser reads them, held to the allow-list.

Spellings are generated the ways yargs accepts them (short groups, `=`, camelCase, `--no-`, a value
after the option): a refused option is refused in every one, allowed options pass."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipe.common.errors import PipeError
from pipe.jobs.cdk import arguments

VALUE = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)
COMMAND = st.sampled_from(sorted(arguments.COMMANDS))


def _options(command: str) -> list[arguments.Option]:
    return [*arguments._GLOBAL, *arguments.COMMANDS[command]]


def _camel(name: str) -> str:
    return re.sub(r"-([a-z0-9])", lambda match: match.group(1).upper(), name)


@st.composite
def refused_spelling(draw, command: str) -> list[str]:
    option = draw(st.sampled_from([option for option in _options(command) if option.refused]))
    name = draw(st.sampled_from([option.name, _camel(option.name)]))
    value = draw(VALUE)
    forms = [[f"--{name}"], [f"--{name}={value}"], [f"--{name}", value]]
    if option.kind == arguments.BOOLEAN:
        forms.append([f"--no-{name}"])
    if option.short:
        # Bool shorts allowed for every command lead the group: -vi is -v -i.
        lead = "".join(draw(st.lists(st.sampled_from(["v", "j"]), max_size=2)))
        forms += [
            [f"-{lead}{option.short}"],
            [f"-{lead}{option.short}={value}"],
            [f"-{lead}{option.short}", value],
        ]
    return draw(st.sampled_from(forms))


@given(COMMAND, st.data())
def test_a_refused_option_is_refused_in_every_yargs_spelling(tmp_path_factory, command, data):
    clone = tmp_path_factory.getbasetemp()
    spelling = data.draw(refused_spelling(command))
    before = data.draw(st.lists(st.sampled_from(["--verbose", "-v", "--ci", "MyStack"]), max_size=3))
    with pytest.raises(PipeError) as raised:
        arguments.check([*before, *spelling], command, clone, clone)
    assert raised.value.message.startswith("CDK_ARGS must not hold ")


@given(COMMAND, st.data())
def test_allowed_options_in_allowed_spellings_pass(tmp_path_factory, command, data):
    clone = tmp_path_factory.getbasetemp()
    words: list[str] = []
    for option in data.draw(
        st.lists(st.sampled_from([o for o in _options(command) if not o.refused]), max_size=5)
    ):
        name = data.draw(st.sampled_from([option.name, _camel(option.name)]))
        if option.kind == arguments.BOOLEAN:
            words.append(data.draw(st.sampled_from([f"--{name}", f"--{name}=false", f"--no-{name}"])))
        else:
            value = "app" if option.names else data.draw(VALUE)
            words += data.draw(st.sampled_from([[f"--{name}={value}"], [f"--{name}", value]]))
    arguments.check(words, command, clone, clone)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["-vi"], "must not hold -i"),
        (["-ie"], "must not hold -i"),
        (["--ec2creds=true"], "must not hold --ec2creds"),
        (["--no-ec2creds"], "must not hold --ec2creds"),
        (["--profile", "prod"], "must not hold --profile"),
        (["--outputsFile", "/tmp/o.json"], "must not hold --outputsFile"),
        (["-O/tmp/o.json"], "must not hold -O"),
        (["--app", "/etc"], "--app names '/etc', which leads outside"),
        (["-a../../.."], "--app names '../../..', which leads outside"),
        (["-o", "/tmp/out"], "--output names '/tmp/out', which leads outside"),
        (["--template=/etc/passwd"], "which leads outside"),
        (["--app.x=1"], "holds --app.x, which the pipe does not allow"),
        (["--versionReporting", "--unknown-thing"], "holds --unknown-thing, which the pipe does not allow"),
        (["--context", "a=b\n✔ Deployed"], "CDK_ARGS holds a control character"),
    ],
)
def test_refused_cdk_arguments(tmp_path, words, expected):
    with pytest.raises(PipeError, match=re.escape(expected)):
        arguments.check(words, "diff" if "--template=/etc/passwd" in words else "deploy", tmp_path, tmp_path)


@pytest.mark.parametrize(
    "words",
    [
        ["--exclusively", "--concurrency", "4"],
        ["--requireApproval", "never", "-e"],
        ["--app", "node bin/app.js"],
        ["--app", "cdk.out"],
        ["-c", "stage=prod", "-c", "x=y", "ShopStack"],
        ["--tags", "team=web", "--no-rollback", "-vvv"],
        ["--", "--not-an-option-but-a-stack"],
    ],
)
def test_allowed_cdk_arguments(tmp_path, words):
    arguments.check(words, "deploy", tmp_path, tmp_path)
