#!/usr/bin/env python3
"""The test bench's Python CDK app: one stack with a bucket and an output, as `cdk init app
--language python` lays an app out (cdk.json runs `python3 app.py`, requirements.txt pins the lib)."""

import sys

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3

# Which Python runs the app: the tests check it is the virtual environment the pipe made.
print(f"CDK app Python: {sys.prefix}", file=sys.stderr)

app = cdk.App()
stack = cdk.Stack(app, app.node.try_get_context("stackName") or "PythonSampleStack")
bucket = s3.Bucket(stack, "Site", removal_policy=cdk.RemovalPolicy.DESTROY)
cdk.CfnOutput(stack, "BucketName", value=bucket.bucket_name)
app.synth()
