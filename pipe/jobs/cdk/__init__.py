"""COMMAND: cdk (front module: job.py) and its helpers: the CLI to run, the app's dependencies,
the bootstrap check, stack outputs and the CLI's messages.
"""
