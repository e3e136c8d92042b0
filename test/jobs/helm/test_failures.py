"""Helm's failure output told as one line."""

from pipe.jobs.helm import failures


def explain(said):
    return failures.explain(said, "web", None, "apps")


def test_a_template_error_names_the_file_and_line():
    said = (
        'Error: UPGRADE FAILED: template: web/templates/configmap.yaml:7:34: executing "web/templates/'
        'configmap.yaml" at <nosuchfunction>: function "nosuchfunction" not defined'
    )
    explained = explain(said)
    assert explained.line.startswith("The chart does not render: web/templates/configmap.yaml line 7:")
    assert (explained.file, explained.line_number) == ("web/templates/configmap.yaml", 7)


def test_a_parse_error_names_the_file_and_line():
    explained = explain('Error: parse error at (web/templates/x.yaml:3): function "nope" not defined')
    assert (explained.file, explained.line_number) == ("web/templates/x.yaml", 3)


def test_schema_failures_list_the_paths():
    said = (
        "Error: values don't meet the specifications of the schema(s) in the following chart(s):\n"
        "web:\n- at '/replicas': got string, want integer\n- at '': missing property 'image'\n"
    )
    line = explain(said).line
    assert "/replicas (got string, want integer)" in line and "/ (missing property 'image')" in line


def test_a_workload_that_is_not_ready_is_named_with_its_status():
    said = (
        "Error: UPGRADE FAILED: release web failed, and has been rolled back due to rollback-on-failure being "
        "set: resource Deployment/apps/web not ready. status: InProgress, message: Available: 0/2\n"
        "context deadline exceeded"
    )
    line = explain(said).line
    assert line.startswith("Deployment web in namespace apps did not become ready within WAIT_TIMEOUT")
    assert "status InProgress, Available: 0/2" in line and "rolled the release back" in line


def test_a_pending_release_says_how_to_recover():
    line = explain("Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress").line
    assert "RECOVER_PENDING: 'true'" in line


def test_a_missing_chart_version_is_named():
    line = explain(
        'Error: chart "web" version "9.9.9" not found in https://charts.example.com repository'
    ).line
    assert line.startswith("Chart web has no version 9.9.9")


def test_output_nothing_recognises_is_left_to_the_caller():
    assert explain("Error: something else entirely") is None


def test_a_missing_version_in_a_repository_index_is_named():
    said = "Error: chart \"web\" matching 9.9.9 not found in aws-oidc-deploy index. (try 'helm repo update')"
    assert explain(said).line.startswith("Chart web has no version 9.9.9")


def test_a_workload_quoted_twice_is_named_once_without_escapes():
    said = (
        'level=WARN msg="upgrade failed" error="resource Deployment/apps/web not ready. status: InProgress, '
        'message: Updated: 1/2\\ncontext deadline exceeded"\n'
        "Error: UPGRADE FAILED: resource Deployment/apps/web not ready. status: InProgress, message: Updated: 1/2\n"
    )
    line = explain(said).line
    assert line.endswith("did not become ready within WAIT_TIMEOUT: status InProgress, Updated: 1/2.")
