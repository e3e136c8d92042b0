"""The cdk integration step's clean-up: delete the test stack and wait until it is gone.

The pipe has no `cdk destroy` (CDK_COMMAND refuses it: a pipeline variable should not be one word
away from deleting production), so the step deletes its own test stack with the pipe's sign-in and
CloudFormation, as `cdk destroy` would. Usage (run-pipe --python): delete_stack.py STACK_NAME
"""

import os
import sys

from pipe import signin
from pipe.common import log
from pipe.common.errors import PipeError
from pipe.common.variables import read_all

# CloudFormation deletes the sample stack (one empty bucket) in well under a minute; 15 at most.
POLL_SECONDS = 10
MAX_POLLS = 90


def main(stack: str) -> int:
    env = dict(os.environ)
    # The pipe's own log set-up: every line through the redacting filter, the token registered.
    for name in signin.SECRET_ENVIRONMENT:
        log.register_secret(env.get(name))
    log.setup(debug=False)
    try:
        identity = signin.sign_in(read_all(signin.VARIABLES, env), env)
    except PipeError as error:
        print(f"✖ {log.redact(error.message)}")
        return 1
    cloudformation = identity.client("cloudformation")
    cloudformation.delete_stack(StackName=stack)
    cloudformation.get_waiter("stack_delete_complete").wait(
        StackName=stack, WaiterConfig={"Delay": POLL_SECONDS, "MaxAttempts": MAX_POLLS}
    )
    print(f"✔ Deleted stack {stack}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
