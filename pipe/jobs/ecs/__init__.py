"""COMMAND: ecs (front module: job.py) and its helpers: the task definition file and revisions, the
checks before any change, the deploy with its rollback, the watch on the service and the reasons
its tasks stopped.
"""
