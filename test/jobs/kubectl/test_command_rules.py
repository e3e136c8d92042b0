"""pipe.jobs.kubectl.command_rules: kubectl command lines read as pflag reads them, held to the allow-list.

Spellings are generated the ways pflag accepts them (bundles, `=`, attached values, `_` for `-`,
repeats, commas, `--`): a refused option is refused in every one, an allowed line passes."""

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipe.common.errors import PipeError
from pipe.jobs.kubectl import allowed, command_rules, pflag
from pipe.jobs.kubectl.command_rules import DRY_RUN_FLAG, dry_run_arguments

VALUE = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789./:", min_size=1, max_size=12)
# Bool shorts allowed for `get`: they may lead a bundle.
GET_BOOL_SHORTS = ("A", "R")


def _refused(command: tuple[str, ...]) -> list[pflag.Option]:
    return [option for option in allowed.options_of(command) if option.refused]


def _long_name(name: str, draw) -> str:
    # kubectl reads `_` as `-` in long names.
    return "".join("_" if c == "-" and draw(st.booleans()) else c for c in name)


@st.composite
def refused_spelling(draw, command: tuple[str, ...], bool_shorts: tuple[str, ...]) -> list[str]:
    option = draw(st.sampled_from(_refused(command)))
    value = draw(VALUE)
    forms = [[f"--{_long_name(option.name, draw)}"], [f"--{_long_name(option.name, draw)}={value}"]]
    if option.takes_value:
        forms.append([f"--{_long_name(option.name, draw)}", value])
    if option.short:
        lead = "".join(draw(st.lists(st.sampled_from(bool_shorts), max_size=2)))
        forms += [[f"-{lead}{option.short}"], [f"-{lead}{option.short}={value}"]]
        if option.takes_value:
            forms += [[f"-{lead}{option.short}{value}"], [f"-{lead}{option.short}", value]]
    return draw(st.sampled_from(forms))


@st.composite
def allowed_words(draw, command: tuple[str, ...]) -> list[str]:
    options = [
        option
        for option in allowed.options_of(command)
        if not option.refused and option.name not in ("raw", "output")
    ]
    words: list[str] = []
    for option in draw(st.lists(st.sampled_from(options), max_size=5)):
        value = draw(VALUE)
        if option.is_list:
            value = ",".join(draw(st.lists(VALUE, min_size=1, max_size=3)))
        if not option.takes_value:
            words.append(draw(st.sampled_from([f"--{option.name}", f"--{option.name}=true"])))
        elif option.short and draw(st.booleans()):
            words += draw(st.sampled_from([[f"-{option.short}{value}"], [f"-{option.short}={value}"]]))
        else:
            words += draw(st.sampled_from([[f"--{option.name}={value}"], [f"--{option.name}", value]]))
    return words


@given(
    refused_spelling(("get",), GET_BOOL_SHORTS),
    st.lists(st.sampled_from(["pods", "-A", "--show-labels", "-owide"]), max_size=3),
)
def test_a_refused_option_is_refused_in_every_pflag_spelling(spelling, before):
    with pytest.raises(PipeError) as raised:
        command_rules.check(["get", *before, *spelling], "KUBECTL_COMMAND")
    assert raised.value.message.startswith("KUBECTL_COMMAND must not hold ")
    assert "\n" not in raised.value.message


@given(refused_spelling(("logs",), ("p",)))
def test_follow_and_global_options_are_refused_for_logs(spelling):
    with pytest.raises(PipeError, match="must not hold"):
        command_rules.check(["logs", "deployment/web", *spelling], "KUBECTL_COMMAND")


@given(st.sampled_from(sorted(allowed.COMMANDS)), st.data())
def test_allowed_options_in_allowed_spellings_pass(command, data):
    words = data.draw(allowed_words(command))
    command_rules.check([*command, *words], "KUBECTL_COMMAND")


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_", min_size=1, max_size=16))
def test_an_option_the_table_does_not_know_is_refused_with_the_allowed_ones(name):
    known = {option.name for option in allowed.options_of(("get",))}
    if name.replace("_", "-") in known or name.startswith(("-", "_")):
        return
    with pytest.raises(PipeError) as raised:
        command_rules.check(["get", "pods", f"--{name}"], "KUBECTL_COMMAND")
    assert "which the pipe does not allow for kubectl get; allowed: " in raised.value.message


@pytest.mark.parametrize(
    "words",
    [
        ["get", "pods", "-As", "http://x"],  # -A then -s with the next word
        ["get", "pods", "-Aw"],
        ["get", "pods", "-w=false"],
        ["get", "pods", "--watch_only"],
        ["get", "--raw", "/api/v1/pods?watch=true"],
        ["get", "--raw", "/api/v1/pods?watch=1"],
        ["get", "--raw", "/api/v1/pods?wat%63h=1"],
        ["get", "--raw", "/api/v1/w%61tch/pods"],
        ["get", "--raw", "/api/v1/namespaces/x/pods/y/log?follow=true"],
        ["get", "--raw=http://evil/"],
        ["exec", "-it", "web-0", "--", "sh"],
        ["exec", "-ti", "web-0"],
        ["run", "x", "--image=busybox", "--attach"],
        ["delete", "-i", "pod", "x"],
        ["delete", "--", "--dry-run=server"],
        ["apply", "--server-side", "--field-manager"],
        ["get", "pods", "-o", "go-template-file=/etc/x"],
        ["get", "pods", "-ojsonpath-file=/etc/x"],
        ["create", "configmap", "c", "--edit"],
        ["proxy"],
        ["plugin", "list"],
        ["config", "view"],
        ["cluster-info", "dump"],
        ["create", "token", "deploy"],
        ["create", "-n", "x", "token", "deploy"],
        ["apply", "edit-last-applied", "deployment/web"],
        ["rollout", "-n", "x", "status", "deployment/web"],
        ["kustomize", "--enable-helm", "k8s"],
        ["kustomize", "--load-restrictor=LoadRestrictionsNone", "k8s"],
    ],
)
def test_refused_lines(words):
    with pytest.raises(PipeError):
        command_rules.check(words, "KUBECTL_COMMAND")


@pytest.mark.parametrize(
    "words",
    [
        ["apply", "--server-side", "--force-conflicts"],
        ["apply", "--dry_run=server", "-Rf", "k8s"],
        ["get", "pods", "-n=prod", "-owide", "-A", "-l", "app=web"],
        ["get", "--raw", "/api/v1/namespaces?limit=5"],
        ["rollout", "status", "deployment/web", "--timeout=60s"],
        ["rollout", "restart", "deploy/web"],
        ["wait", "--for=condition=Available", "deployment/web", "--timeout=120s"],
        ["logs", "deployment/web", "--tail=100", "-c", "app"],
        ["exec", "deploy/web", "-c", "app", "--", "python", "manage.py", "migrate", "--noinput"],
        ["create", "secret", "generic", "s", "--from-literal=a=b", "--dry-run=client", "-o", "yaml"],
        ["create", "cm", "c", "--from-file=k=conf/app.ini"],
        ["top", "pods"],
        ["set", "image", "deployment/web", "web=nginx:1.27"],
        ["kustomize", "k8s"],
    ],
)
def test_allowed_lines(words):
    command_rules.check(words, "KUBECTL_COMMAND")


def test_kubectl_args_are_read_with_the_command_and_may_not_hold_dashes():
    command_rules.check_extra(["get", "pods"], ["-l", "app=web"], "KUBECTL_ARGS")
    with pytest.raises(PipeError, match="KUBECTL_ARGS must not hold -s for kubectl get"):
        command_rules.check_extra(["get", "pods"], ["-A", "-s", "http://x"], "KUBECTL_ARGS")
    with pytest.raises(PipeError, match="KUBECTL_ARGS must not hold `--`"):
        command_rules.check_extra(["exec", "web-0"], ["--", "sh"], "KUBECTL_ARGS")


@pytest.mark.parametrize("control", ["\n", "\r", "\t", "\x00", "\x1b", "\x7f", "\x85", "\u2028", "\u2029"])
def test_a_control_character_in_an_argument_is_refused_naming_the_variable(control):
    with pytest.raises(PipeError, match="KUBECTL_ARGS holds a control character"):
        command_rules.check_extra(["get", "pods"], [f"--selector=a{control}b"], "KUBECTL_ARGS")


# --- files and directories named in a command line ------------------------------------------------


@pytest.fixture
def clone(tmp_path):
    root = tmp_path / "clone"
    (root / "k8s").mkdir(parents=True)
    (root / "k8s" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.yaml").write_text("kind: Secret\n")
    return root


def _files(clone, *words):
    command_rules.check_files(list(words), list(words[1:]), clone, "KUBECTL_COMMAND")


@given(
    st.sampled_from(["-f", "--filename", "--filename=", "-f=", "-Rf", "-f"]),
    st.sampled_from(
        ["../outside/secret.yaml", "/etc/hosts", "k8s,../outside", "x://../../../etc", "k8s/../.."]
    ),
)
def test_a_path_out_of_the_clone_is_refused_in_every_spelling(tmp_path_factory, spelling, value):
    root = tmp_path_factory.mktemp("c") / "clone"
    root.mkdir()
    (root / "k8s").mkdir()
    words = [f"{spelling}{value}"] if spelling.endswith("=") else [spelling, value]
    with pytest.raises(PipeError, match="which leads outside the clone"):
        _files(root, "apply", *words)


def test_a_fifo_named_or_inside_a_directory_is_refused(clone):
    os.mkfifo(clone / "pipe.yaml")
    with pytest.raises(PipeError, match=r"'pipe.yaml', which is not a regular file"):
        _files(clone, "apply", "-f", "pipe.yaml")
    os.mkfifo(clone / "k8s" / "later.yaml")
    with pytest.raises(PipeError, match=r"'k8s/later.yaml', which is not a regular file"):
        _files(clone, "apply", "-R", "-f", "k8s")
    with pytest.raises(PipeError, match="which is not a regular file"):
        _files(clone, "create", "secret", "generic", "s", "--from-env-file=pipe.yaml")


def test_a_url_is_left_to_kubectl_only_when_it_is_http(clone):
    _files(clone, "apply", "-f", "https://example.invalid/app.yaml,k8s/cm.yaml")
    # Not http(s): kubectl opens it as the relative path file:/etc/passwd, which is in the clone.
    _files(clone, "apply", "-f", "file:///etc/passwd")
    with pytest.raises(PipeError, match="leads outside"):
        _files(clone, "apply", "-f", "x://../../../etc/passwd")


def test_a_link_out_of_the_clone_is_refused(clone):
    (clone / "k8s" / "linked.yaml").symlink_to(clone.parent / "outside" / "secret.yaml")
    with pytest.raises(PipeError, match="leads outside the clone"):
        _files(clone, "apply", "-f", "k8s")
    with pytest.raises(PipeError, match="leads outside the clone"):
        _files(clone, "create", "configmap", "c", "--from-file", "k=k8s/linked.yaml")


def test_the_pipes_options_go_before_the_command_exec_runs():
    """After `--` kubectl passes every word to the container: NAMESPACE and KUBECTL_ARGS go before it."""
    from pipe.jobs.kubectl.job import _arguments
    from pipe.jobs.kubectl.settings import Settings

    chosen = Settings(
        cluster="shop",
        command=["exec", "web-0", "--", "sh", "-c", "echo"],
        resource_path=None,
        extra_arguments=["-c", "app"],
        apply_mode="-f",
        apply_arguments=[],
        namespace="shop",
        labels={},
        disable_validation=False,
        wait=False,
        wait_timeout=300,
        dry_run=False,
    )
    assert _arguments(chosen, None) == [
        "exec",
        "web-0",
        "--namespace",
        "shop",
        "-c",
        "app",
        "--",
        "sh",
        "-c",
        "echo",
    ]


def _percent_encoded(draw, text: str) -> str:
    return "".join(f"%{ord(c):02X}" if draw(st.booleans()) else c for c in text)


@given(st.data(), st.sampled_from(["watch", "follow", "sendInitialEvents", "allowWatchBookmarks"]))
def test_a_raw_query_that_streams_is_refused_in_every_encoding(data, key):
    query_key = _percent_encoded(data.draw, key)
    value = data.draw(st.sampled_from(["true", "1", "", "True", "yes"]))
    before = data.draw(st.sampled_from(["", "limit=5&", "labelSelector=app%3Dweb&"]))
    raw = f"/api/v1/namespaces/shop/pods?{before}{query_key}={value}"
    with pytest.raises(PipeError, match="must give --raw an API path"):
        command_rules.check(["get", "--raw", raw], "KUBECTL_COMMAND")


@given(st.data())
def test_a_raw_watch_path_is_refused_in_every_encoding(data):
    segment = _percent_encoded(data.draw, data.draw(st.sampled_from(["watch", "WATCH", "Watch"])))
    with pytest.raises(PipeError, match="must give --raw an API path"):
        command_rules.check(["get", f"--raw=/api/v1/{segment}/pods"], "KUBECTL_COMMAND")


def test_a_linked_directory_out_of_the_clone_inside_a_named_one_is_refused(clone):
    (clone / "k8s" / "more").symlink_to(clone.parent / "outside", target_is_directory=True)
    with pytest.raises(PipeError, match="leads outside the clone"):
        _files(clone, "apply", "-R", "-f", "k8s")


@given(st.data(), st.sampled_from([option.name for option in allowed.GLOBAL_REFUSED]))
def test_a_refused_option_in_another_case_is_still_refused(data, name):
    """pflag is case-sensitive: `--SERVER` is no option kubectl knows, and none the table allows."""
    spelled = "".join(c.upper() if data.draw(st.booleans()) else c for c in name)
    value = data.draw(st.sampled_from(["", "=x"]))
    with pytest.raises(PipeError):
        command_rules.check(["get", "pods", f"--{spelled}{value}"], "KUBECTL_COMMAND")


# --- DRY_RUN: every command that changes the cluster is a server-side dry run or refused, never run for real

# Each kubectl command that changes the cluster and has --dry-run (kubectl 1.36 `--help`).
CHANGES = [
    "apply",
    "delete",
    "delete deployment web",
    "create configmap extra --from-literal=a=b",
    "replace -f k8s/app/deployment.yaml",
    "patch deployment web -p {}",
    "label deployment web tier=front",
    "annotate deployment web note=x",
    "scale deployment web --replicas=5",
    "set image deployment/web web=nginx:1.28",
    "expose deployment web --port=80",
    "autoscale deployment web --max=3",
    "run one-off --image=busybox",
    "taint nodes node-1 dedicated=x:NoSchedule",
    "drain node-1",
    "cordon node-1",
    "uncordon node-1",
    "rollout undo deployment/web",
    "auth reconcile -f rbac.yaml",
]
READS = [
    "get pods",
    "describe deployment web",
    "logs deployment/web",
    "top pods",
    "explain pods",
    "version",
    "api-resources",
    "cluster-info",
    "diff -f k8s",
    "wait --for=condition=Available deployment/web",
    "rollout status deployment/web",
    "rollout history deployment/web",
    "auth can-i create deployments",
]
# Changes kubectl cannot dry-run, and commands the pipe does not know: refused, not run for real.
REFUSED = [
    "rollout restart deployment/web",
    "rollout pause deployment/web",
    "rollout resume deployment/web",
    "certificate approve csr-1",
    "exec web-0 -- rm -rf /data",
    "cp local.txt web-0:/data",
    "debug web-0 --image=busybox",
    "my-plugin do-something",
]


@pytest.mark.parametrize("command", CHANGES)
def test_a_change_becomes_a_server_side_dry_run(command):
    assert dry_run_arguments(command.split()) == [DRY_RUN_FLAG]


@pytest.mark.parametrize("command", READS)
def test_a_command_that_only_reads_runs_as_it_is(command):
    assert dry_run_arguments(command.split()) == []


@pytest.mark.parametrize("command", REFUSED)
def test_a_change_without_a_dry_run_is_refused(command):
    name = " ".join(word for word in command.split()[:2] if not word.startswith("-"))
    with pytest.raises(PipeError, match="has no server-side dry run, so it would run for real") as raised:
        dry_run_arguments(command.split())
    assert f"kubectl {name.split()[0]}" in str(raised.value)


# --- What kubectl is told through its environment -------------------------------------------------------


@given(
    name=st.sampled_from(
        [
            "KUBECTL_EXTERNAL_DIFF",
            "kubectl_external_diff",
            "KUBE_EDITOR",
            "KUBECONFIG",
            "KUBERC",
            "KUBECACHEDIR",
        ]
    ),
    value=st.text(min_size=1, max_size=20),
)
def test_kubectl_gets_none_of_the_variables_that_change_what_it_runs(tmp_path_factory, name, value):
    """A repository variable such as KUBECTL_EXTERNAL_DIFF (a program `kubectl diff` runs) or a
    KUBECONFIG of its own would reach kubectl past the allow-list."""
    from pipe.kube.cluster import kubectl_environment

    config = tmp_path_factory.mktemp("kube") / "config"
    told = kubectl_environment({name: value, "PATH": "/usr/bin", "AWS_REGION": "eu-west-1"}, config)
    assert told == {"PATH": "/usr/bin", "AWS_REGION": "eu-west-1", "KUBECONFIG": str(config), "KUBERC": "off"}
