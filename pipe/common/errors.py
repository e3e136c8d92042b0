"""The one exception type a user ever sees: a short line saying what is wrong and how to fix it."""


class PipeError(Exception):
    """A failure explained for the user. `details` are extra lines (a policy to paste, commands to run)."""

    def __init__(self, message: str, details: str = "", exit_status: int = 1):
        super().__init__(message)
        self.message = message
        self.details = details
        # A program the pipe ran and whose status the pipe passes on (kubectl) may set another.
        self.exit_status = exit_status
