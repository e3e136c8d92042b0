"""COMMAND: beanstalk (front module: job.py) and its helpers: the bundle, application versions,
the deploy with its rollback, and the watch on the environment.
"""
