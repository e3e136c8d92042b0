"""The plumbing more than one job uses: variables, log lines and redaction, errors, processes,
the private directory, shared storage, the local tree, S3 content digests and the CRT switch.
"""
