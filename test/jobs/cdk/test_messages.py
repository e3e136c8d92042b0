from hypothesis import given
from hypothesis import strategies as st

from pipe.aws import errors
from pipe.jobs.cdk import messages as cdk_messages

NODE_FAILURE = """/build/infra/bin/app.js:11
throw new Error("bucket names must be lower case: MySite");
^

Error: bucket names must be lower case: MySite
    at Object.<anonymous> (/build/infra/bin/app.js:11:7)
    at Module._compile (node:internal/modules/cjs/loader:1706:14)

Node.js v22.20.0
node bin/app.js: Subprocess exited with error 1""".splitlines()

PYTHON_FAILURE = """Traceback (most recent call last):
  File "/build/infra/app.py", line 9, in <module>
    raise ValueError("stage must be dev or prod")
ValueError: stage must be dev or prod
python3 app.py: Subprocess exited with error 1""".splitlines()

TYPESCRIPT_FAILURE = """/build/node_modules/ts-node/src/index.ts:859
TSError: ⨯ Unable to compile TypeScript:
bin/app.ts(7,7): error TS2322: Type 'number' is not assignable to type 'string'.
bin/app.ts(9,1): error TS1005: ')' expected.

npx ts-node --prefer-offline bin/app.ts: Subprocess exited with error 1""".splitlines()


def test_the_apps_own_error_line_is_quoted():
    assert cdk_messages.failure("synth", 1, NODE_FAILURE) == (
        "The CDK app failed to synthesize: Error: bucket names must be lower case: MySite "
        "(cdk synth exit status 1; the full output is above)."
    )
    assert cdk_messages.app_error(PYTHON_FAILURE) == "ValueError: stage must be dev or prod"


def test_a_typescript_app_gets_the_compilers_first_error_and_the_clis_own_status():
    assert cdk_messages.failure("deploy", 2, TYPESCRIPT_FAILURE) == (
        "The CDK app failed to synthesize: bin/app.ts(7,7): error TS2322: Type 'number' is not assignable "
        "to type 'string'. (cdk deploy exit status 2; the full output is above)."
    )


def test_an_app_failure_without_an_error_line_gives_the_status():
    assert cdk_messages.failure("deploy", 1, ["node bin/app.js: Subprocess exited with error 3"]) == (
        "The CDK app failed to synthesize (cdk deploy exit status 1; the full output is above)."
    )


def test_other_failures_quote_the_clis_cross_line_or_give_the_status():
    tail = ["", "❌  ShopStack failed: ToolkitError: The stack named ShopStack failed creation", "", "x"]
    assert cdk_messages.failure("deploy", 1, tail) == (
        "cdk deploy failed: ShopStack failed: ToolkitError: The stack named ShopStack failed creation "
        "(exit status 1; the full output is above)."
    )
    assert cdk_messages.failure("bootstrap", 2, ["something else", "[09:36:33] a verbose line", ""]) == (
        "cdk bootstrap failed: something else (exit status 2; the full output is above)."
    )
    assert (
        cdk_messages.failure("bootstrap", 2, [])
        == "cdk bootstrap failed (exit status 2; the full output is above)."
    )
    assert cdk_messages.app_error(tail) is None


# As the CLI printed them for the app (the detail on the line after its ❌ line).
CLOUDFORMATION_FAILURE = """ShopStack: deploying... [1/1]
ShopStack | 0/3 | 8:57:04 AM | CREATE_IN_PROGRESS      | AWS::CloudFormation::Stack | ShopStack User Initiated
ShopStack | 1/3 | 8:57:05 AM | CREATE_FAILED           | AWS::SSM::Parameter | ShopStack/Imported (Imported) No export named Shared-Vpc found.
ShopStack | 1/3 | 8:57:05 AM | CREATE_FAILED           | AWS::S3::Bucket | ShopStack/Site (SiteC5D8B2E6) Resource creation cancelled
ShopStack | 2/3 | 8:57:06 AM | ROLLBACK_COMPLETE       | AWS::CloudFormation::Stack | ShopStack
❌  ShopStack failed to deploy
‣ ToolkitError: The stack named ShopStack failed creation: ROLLBACK_COMPLETE""".splitlines()


def test_a_cloudformation_failure_names_the_resource_its_type_and_reason():
    assert cdk_messages.failure("deploy", 1, CLOUDFORMATION_FAILURE) == (
        "cdk deploy failed: ShopStack failed to deploy: ShopStack/Imported (Imported) (AWS::SSM::Parameter) "
        "CREATE_FAILED: No export named Shared-Vpc found. (exit status 1; the full output is above)."
    )


def test_without_a_resource_event_the_clis_detail_line_is_quoted():
    tail = [
        "❌  ShopStack failed to deploy",
        "‣ ValidationError: No export named Shared-Vpc found.",
        "  at x",
    ]
    assert cdk_messages.failure("deploy", 1, tail) == (
        "cdk deploy failed: ShopStack failed to deploy: ValidationError: No export named Shared-Vpc found. "
        "(exit status 1; the full output is above)."
    )


@given(st.lists(st.text(), max_size=12), st.integers(min_value=1, max_value=255))
def test_the_failure_is_always_one_line_of_bounded_length(tail, status):
    line = cdk_messages.failure("deploy", status, tail)
    assert "\n" not in line and "\r" not in line
    assert len(line) < 2 * 300 + 200
    assert f"exit status {status}" in line


def test_a_long_error_is_cut_to_one_readable_line():
    tail = ["Error: " + "x" * 1000, "node app.js: Subprocess exited with error 1"]
    assert len(cdk_messages.app_error(tail)) == 303


def test_differences_are_read_from_the_diff_summary():
    assert cdk_messages.differences(["", "✨  Number of stacks with differences: 2", ""]) == 2
    assert (
        cdk_messages.differences(["There were no differences", "Number of stacks with differences: 0"]) == 0
    )
    assert cdk_messages.differences(["nothing here"]) is None


def test_a_deploy_stopped_for_approval_says_why_and_what_to_do():
    tail = [
        "[09:36:33] Retrieved account ID 123456789012 from disk cache",
        "Stack includes security-sensitive updates, but terminal (TTY) is not attached so we are unable to "
        "get a confirmation from the user",
    ]
    line = cdk_messages.failure("deploy", 1, tail)
    assert line.startswith("cdk deploy failed: Stack includes security-sensitive updates")
    assert "CDK_REQUIRE_APPROVAL stopped it, as nobody can approve in a pipeline" in line


ROLE = "arn:aws:iam::123456789012:role/cdk-hnb659fds-{}-role-123456789012-eu-west-1"
NOT_ASSUMED = (
    "current credentials could not be used to assume '{}', but are for the right account. Proceeding anyway."
)
PUBLISHING_FAILED = [
    "Stack: start: Publishing Stack Template (current_account-current_region-b4b9e612)",
    "Stack: fail: Bucket named 'cdk-hnb659fds-assets-123456789012-eu-west-1' exists, but we dont have access to it.",
    "Failed to publish asset Stack Template (current_account-current_region-b4b9e612)",
    "‣ AggregateError: ",
]


def test_bootstrap_roles_the_cli_could_not_assume_get_the_access_denied_line_naming_them():
    roles = [ROLE.format("file-publishing"), ROLE.format("deploy")]
    tail = [NOT_ASSUMED.format(role) for role in [*roles, roles[0]]] + PUBLISHING_FAILED
    assert cdk_messages.failure("deploy", 1, tail) == (
        errors.refusal("sts:AssumeRole", ", ".join(roles))
        + " The CDK CLI could not use the bootstrap roles, "
        "and cdk deploy failed (exit status 1; the full output is above)."
    )


def test_a_role_in_another_account_the_cli_could_not_assume_is_named_too():
    role = ROLE.format("deploy").replace("123456789012", "210987654321")
    tail = [
        "❌  Stack failed: AssumeRoleFailed: Could not assume role in target account using current credentials "
        "(which are for account 123456789012) User: arn:aws:sts::123456789012:assumed-role/deploy/pipe is not "
        f"authorized to perform: sts:AssumeRole on resource: {role} . Please make sure that this role exists in "
        "the account. If it doesn't exist, (re)-bootstrap the environment with the right '--trust'"
    ]
    assert cdk_messages.roles_not_assumed(tail) == [role]
    assert f"AccessDenied: the role may not call sts:AssumeRole on {role}." in cdk_messages.failure(
        "deploy", 1, tail
    )


def test_a_resource_that_failed_still_explains_a_deploy_made_with_the_pipes_own_role():
    tail = [
        NOT_ASSUMED.format(ROLE.format("deploy")),
        "Stack | 1/3 | 10:00:00 AM | CREATE_FAILED | AWS::S3::Bucket | Site (Site123) Bucket exists",
        "❌  Stack failed: Error: The stack named Stack failed creation",
    ]
    assert "sts:AssumeRole" not in cdk_messages.failure("deploy", 1, tail)


@given(st.lists(st.from_regex(r"[\w+=,.@-]{1,64}", fullmatch=True), min_size=1, max_size=4))
def test_every_role_not_assumed_is_named_once_in_the_order_tried(names):
    roles = [f"arn:aws:iam::123456789012:role/{name}" for name in names]
    tail = [NOT_ASSUMED.format(role) for role in roles] + PUBLISHING_FAILED
    assert cdk_messages.roles_not_assumed(tail) == list(dict.fromkeys(roles))
    assert "may not call sts:AssumeRole on" in cdk_messages.failure("deploy", 1, tail)
