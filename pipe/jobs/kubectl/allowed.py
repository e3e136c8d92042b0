"""What the pipe lets a kubectl command line hold: the commands, and for each its options.

An allow-list: an option not named here is refused with a line listing what is allowed. Options
named with a reason are refused with that reason (they move the token or the target, or never end).
The set is what a deploy step needs (docs/kubectl.md, "kubectl command lines: what is allowed").
"""

from pipe.jobs.kubectl.pflag import DIRECTORY, FILE, KEYED_FILE, PATHS, Option


def _flag(name: str, short: str = "") -> Option:
    return Option(name, short)


def _value(name: str, short: str = "", names: str = "", is_list: bool = False) -> Option:
    return Option(name, short, takes_value=True, names=names, is_list=is_list)


def _refused(name: str, short: str, reason: str, takes_value: bool = True) -> Option:
    return Option(name, short, takes_value=takes_value, refused=reason)


_TARGET = "the pipe points kubectl at CLUSTER_NAME with the role's token, and it would change that"
_WATCH = "a watch never ends; use `kubectl wait` or WAIT instead"
# Refused for every command: they move the token, the cluster or the identity, or write files.
GLOBAL_REFUSED = (
    _refused("server", "s", f"{_TARGET} (kubectl would send the token to that server)"),
    _refused("kubeconfig", "", _TARGET),
    _refused("context", "", _TARGET),
    _refused("cluster", "", _TARGET),
    _refused("user", "", _TARGET),
    _refused("token", "", f"{_TARGET}; a token in a variable would also be printed"),
    _refused("username", "", _TARGET),
    _refused("password", "", _TARGET),
    _refused("client-certificate", "", _TARGET),
    _refused("client-key", "", _TARGET),
    _refused("certificate-authority", "", "the pipe trusts only the cluster's own CA from EKS"),
    _refused(
        "insecure-skip-tls-verify",
        "",
        "the token would go to a server whose identity is not checked",
        takes_value=False,
    ),
    _refused("tls-server-name", "", "the pipe checks the cluster's TLS name as EKS gives it"),
    _refused("as", "", f"{_TARGET} (impersonation)"),
    _refused("as-group", "", f"{_TARGET} (impersonation)"),
    _refused("as-uid", "", f"{_TARGET} (impersonation)"),
    _refused("cache-dir", "", "the pipe keeps kubectl's cache in its private directory"),
)
GLOBAL = (
    _value("namespace", "n"),
    _value("request-timeout"),
    _flag("warnings-as-errors"),
    _flag("match-server-version"),
)
# Options with a bare default (pflag NoOptDefVal): `--dry-run` alone is `--dry-run=unchanged`.
_DRY_RUN = _flag("dry-run")
_FILES = (
    _value("filename", "f", PATHS, is_list=True),
    _value("kustomize", "k", DIRECTORY),
    _flag("recursive", "R"),
)
_SELECT = (_value("selector", "l"), _value("field-selector"), _flag("all-namespaces", "A"), _flag("all"))
_PRINT = (
    _value("output", "o"),
    _value("template"),
    _flag("allow-missing-template-keys"),
    _flag("show-managed-fields"),
)
_WRITE = (_DRY_RUN, _value("field-manager"), *_PRINT)
_DELETE = (
    _flag("cascade"),
    _flag("force"),
    _value("grace-period"),
    _flag("now"),
    _value("timeout"),
    _flag("wait"),
    _flag("ignore-not-found"),
)
_VALIDATE = (_flag("validate"), _flag("save-config"))
_NO_WATCH = (_refused("watch", "w", _WATCH, False), _refused("watch-only", "", _WATCH, False))
_LOGS = (
    _value("container", "c"),
    _flag("all-containers"),
    _flag("all-pods"),
    _value("selector", "l"),
    _value("since"),
    _value("since-time"),
    _value("tail"),
    _flag("timestamps"),
    _flag("previous", "p"),
    _flag("prefix"),
    _value("limit-bytes"),
    _value("max-log-requests"),
    _value("pod-running-timeout"),
    _flag("ignore-errors"),
    _refused("follow", "f", "following logs never ends", False),
)
_INTERACTIVE = "an interactive session waits for input that never comes"
_EXEC = (
    _value("container", "c"),
    _value("filename", "f", PATHS, is_list=True),
    _value("pod-running-timeout"),
    _flag("quiet", "q"),
    _refused("stdin", "i", _INTERACTIVE, False),
    _refused("tty", "t", _INTERACTIVE, False),
)
_RUN = (
    _value("image"),
    _value("env", is_list=True),
    _value("labels", "l"),
    _value("annotations", is_list=True),
    _value("port"),
    _value("restart"),
    _value("overrides"),
    _value("image-pull-policy"),
    _flag("command"),
    _flag("privileged"),
    _value("pod-running-timeout"),
    *_WRITE,
    _refused("stdin", "i", "an attached pod waits for input or runs on", False),
    _refused("tty", "t", "an attached pod waits for input or runs on", False),
    _refused("attach", "", "an attached pod waits for input or runs on", False),
    _refused("rm", "", "it needs an attached pod, which waits for input or runs on", False),
)
_CREATE = (
    *_FILES,
    *_WRITE,
    *_VALIDATE,
    _value("from-file", names=KEYED_FILE, is_list=True),
    _value("from-env-file", names=FILE, is_list=True),
    _value("from-literal", is_list=True),
    _value("type"),
    _flag("append-hash"),
    _value("cert", names=FILE),
    _value("key", names=FILE),
    _value("image", is_list=True),
    _value("replicas", "r"),
    _value("port"),
    _value("schedule"),
    _value("restart"),
    _value("from"),
    _value("docker-server"),
    _value("docker-username"),
    _value("docker-email"),
    _value("tcp", is_list=True),
    _value("clusterip"),
    _refused("edit", "", "it waits for an editor", False),
    _refused("raw", "", "it sends a file to a raw API path; use -f"),
)
_ROLLOUT = (*_FILES, _value("selector", "l"), *_WRITE, _value("to-revision"), _value("revision"))
_LABEL = (
    *_FILES,
    *_SELECT,
    *_WRITE,
    _flag("overwrite"),
    _flag("list"),
    _flag("local"),
    _value("resource-version"),
)
_SET = (
    *_FILES,
    *_SELECT,
    *_WRITE,
    _flag("local"),
    _value("containers", "c"),
    _value("env", "e", is_list=True),
    _value("from"),
    _value("keys", is_list=True),
    _flag("overwrite"),
    _value("prefix"),
    _flag("resolve"),
    _value("limits"),
    _value("requests"),
    _flag("list"),
)

# Command (its words) -> its own options. A command not here is refused, with the list.
COMMANDS: dict[tuple[str, ...], tuple[Option, ...]] = {
    ("apply",): (
        *_FILES,
        *_WRITE,
        *_DELETE,
        *_VALIDATE,
        _flag("server-side"),
        _flag("force-conflicts"),
        _flag("prune"),
        _value("selector", "l"),
        _flag("all"),
        _value("prune-allowlist", is_list=True),
        _flag("overwrite"),
        _flag("openapi-patch"),
    ),
    ("diff",): (
        *_FILES,
        _value("selector", "l"),
        _flag("server-side"),
        _flag("force-conflicts"),
        _value("field-manager"),
        _flag("prune"),
        _value("prune-allowlist", is_list=True),
        _value("concurrency"),
        _flag("show-managed-fields"),
    ),
    ("delete",): (
        *_FILES,
        *_SELECT,
        *_DELETE,
        *_WRITE,
        _refused("interactive", "i", _INTERACTIVE, False),
        _refused("raw", "", "it deletes a raw API path; name the objects instead"),
    ),
    ("get",): (
        *_FILES,
        *_SELECT,
        *_PRINT,
        *_NO_WATCH,
        _flag("show-labels"),
        _value("label-columns", "L", is_list=True),
        _value("sort-by"),
        _flag("no-headers"),
        _flag("show-kind"),
        _value("chunk-size"),
        _flag("ignore-not-found"),
        _value("subresource"),
        _value("raw"),
    ),
    ("describe",): (*_FILES, *_SELECT, _flag("show-events"), _value("chunk-size")),
    ("logs",): _LOGS,
    ("wait",): (*_FILES, *_SELECT, *_PRINT, _value("for"), _value("timeout")),
    ("exec",): _EXEC,
    ("run",): _RUN,
    ("scale",): (
        *_FILES,
        *_SELECT,
        *_WRITE,
        _value("replicas"),
        _value("current-replicas"),
        _value("resource-version"),
        _value("timeout"),
    ),
    ("label",): _LABEL,
    ("annotate",): _LABEL,
    ("patch",): (
        *_FILES,
        *_WRITE,
        _value("patch", "p"),
        _value("patch-file", names=FILE),
        _value("type"),
        _flag("local"),
        _value("subresource"),
    ),
    ("replace",): (*_FILES, *_WRITE, *_DELETE, *_VALIDATE, _value("subresource")),
    ("expose",): (
        *_FILES,
        *_WRITE,
        _value("port"),
        _value("target-port"),
        _value("type"),
        _value("name"),
        _value("protocol"),
        _value("selector"),
        _value("labels", "l"),
    ),
    ("top", "pod"): (*_SELECT, _value("containers"), _flag("no-headers"), _value("sort-by"), _flag("sum")),
    ("top", "node"): (
        _value("selector", "l"),
        _flag("no-headers"),
        _value("sort-by"),
        _flag("show-capacity"),
    ),
    ("auth", "can-i"): (
        _flag("all-namespaces", "A"),
        _flag("list"),
        _flag("no-headers"),
        _flag("quiet", "q"),
    ),
    ("auth", "whoami"): (_value("output", "o"),),
    ("api-resources",): (
        _flag("namespaced"),
        _value("api-group"),
        _value("verbs", is_list=True),
        _value("output", "o"),
        _value("sort-by"),
        _flag("no-headers"),
        _flag("cached"),
    ),
    ("api-versions",): (),
    ("version",): (_flag("client"), _value("output", "o")),
    ("cluster-info",): (),
    ("explain",): (_flag("recursive"), _value("api-version"), _value("output", "o")),
    ("events",): (
        _value("for"),
        _value("types", is_list=True),
        _flag("all-namespaces", "A"),
        *_PRINT,
        _flag("no-headers"),
        _value("chunk-size"),
        *_NO_WATCH,
    ),
    ("kustomize",): (),  # its one argument is a directory in the clone
    ("cordon",): (_value("selector", "l"), _DRY_RUN),
    ("uncordon",): (_value("selector", "l"), _DRY_RUN),
    ("drain",): (
        _value("selector", "l"),
        _DRY_RUN,
        _flag("force"),
        _flag("ignore-daemonsets"),
        _flag("delete-emptydir-data"),
        _value("grace-period"),
        _value("timeout"),
        _flag("disable-eviction"),
        _value("pod-selector"),
        _value("skip-wait-for-delete-timeout"),
        _value("chunk-size"),
    ),
    ("taint",): (*_SELECT, *_WRITE, _flag("overwrite"), _flag("validate")),
}
for _verb in ("restart", "status", "undo", "history", "pause", "resume"):
    COMMANDS[("rollout", _verb)] = (*_ROLLOUT, _value("timeout"), _flag("watch", "w"))
for _what in ("namespace", "configmap", "deployment", "job", "cronjob", "serviceaccount", "service"):
    COMMANDS[("create", _what)] = _CREATE
for _kind in ("generic", "tls", "docker-registry"):
    COMMANDS[("create", "secret", _kind)] = _CREATE
for _what in ("image", "env", "resources", "selector", "serviceaccount"):
    COMMANDS[("set", _what)] = _SET
COMMANDS[("create",)] = _CREATE  # create -f
COMMANDS[("create", "service", "clusterip")] = _CREATE
# Aliases kubectl gives a command's later words (`top pods`, `create cm`).
ALIASES = {
    "po": "pod",
    "pods": "pod",
    "no": "node",
    "nodes": "node",
    "ns": "namespace",
    "cm": "configmap",
    "deploy": "deployment",
    "cj": "cronjob",
    "sa": "serviceaccount",
    "svc": "service",
}


def options_of(command: tuple[str, ...]) -> list[Option]:
    """The command's options after the global ones: a command's own option wins over a global one."""
    return [*GLOBAL_REFUSED, *GLOBAL, *COMMANDS[command]]
