"""Items of a user's command line (KUBECTL_COMMAND, KUBECTL_ARGS, CDK_ARGS, CDK_CONTEXT...) that become
a program's arguments: one rule for the text every job hands to a program.

What each program may be told is its job's allow-list, read with that program's parser rules
(pipe.jobs.kubectl.command_rules for kubectl, pipe.jobs.cdk.arguments for the CDK CLI).
"""

import re

from pipe.common.errors import PipeError

# Every C0 control (tab and line breaks too), DEL, every C1 control (NEL), the line and paragraph
# separators and the bidirectional controls: none belongs in a program's argument, and a program that
# echoes its arguments (an error message, verbose output) would print them as lines of its own.
_CONTROL = re.compile(
    "[\\x00-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]"
)


def check_argument(text: str, variable: str) -> str:
    """`text`, one item of `variable` that becomes a program's argument, refused if it holds a control
    character. The value is not echoed: an argument may be a credential (`--token=...`)."""
    if _CONTROL.search(text):
        raise PipeError(
            f"{variable} holds a control character (a line break, tab or other control) in an argument; "
            "a program would get it in its arguments and could print it as a line of its own: remove it."
        )
    return text
