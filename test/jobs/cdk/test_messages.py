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

npx ts-node --prefer-offline bin/app.ts: Subprocess exited with error 1""".splitlines()


def test_the_apps_own_error_line_is_quoted():
    assert cdk_messages.failure("synth", 1, NODE_FAILURE) == (
        "The CDK app failed to synthesize: Error: bucket names must be lower case: MySite. Its output is above."
    )
    assert cdk_messages.app_error(PYTHON_FAILURE) == "ValueError: stage must be dev or prod"
    assert cdk_messages.app_error(TYPESCRIPT_FAILURE) == "TSError: ⨯ Unable to compile TypeScript:"


def test_an_app_failure_without_an_error_line_gives_the_status():
    assert cdk_messages.failure("deploy", 1, ["node bin/app.js: Subprocess exited with error 3"]) == (
        "The CDK app failed to synthesize (exit status 1). Its output is above."
    )


def test_other_failures_quote_the_clis_cross_line_or_give_the_status():
    tail = ["", "❌  ShopStack failed: ToolkitError: The stack named ShopStack failed creation", "", "x"]
    assert cdk_messages.failure("deploy", 1, tail) == (
        "cdk deploy failed: ShopStack failed: ToolkitError: The stack named ShopStack failed creation"
    )
    assert cdk_messages.failure("bootstrap", 2, ["something else"]) == (
        "cdk bootstrap failed with exit status 2; the CDK CLI's output is above."
    )
    assert cdk_messages.app_error(tail) is None


def test_a_long_error_is_cut_to_one_readable_line():
    tail = ["Error: " + "x" * 1000, "node app.js: Subprocess exited with error 1"]
    assert len(cdk_messages.app_error(tail)) == 303


def test_differences_are_read_from_the_diff_summary():
    assert cdk_messages.differences(["", "✨  Number of stacks with differences: 2", ""]) == 2
    assert (
        cdk_messages.differences(["There were no differences", "Number of stacks with differences: 0"]) == 0
    )
    assert cdk_messages.differences(["nothing here"]) is None
