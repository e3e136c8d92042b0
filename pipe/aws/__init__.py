"""What every job uses to talk to AWS, below the jobs and the sign-in: clients and their time budget,
AWS errors read once, the child processes' environment, and the fence around the SDK's private code."""
