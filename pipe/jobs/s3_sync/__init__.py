"""COMMAND: s3-sync (front module: job.py) and its helpers: the plan (what changed), the uploads in
safe order, progress, keys, cache rules, the transfer engine and CloudFront.
"""
