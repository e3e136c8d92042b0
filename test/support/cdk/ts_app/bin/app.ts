#!/usr/bin/env node
// The test bench's TypeScript app: one stack with a bucket, compiled by ts-node as `cdk init` sets it
// up. The tests break it (a syntax or type error) to see the compiler's first error in the pipe's
// last line; the stack is named by the context value stackName, as in the JavaScript app.
import * as cdk from "aws-cdk-lib";
import * as s3 from "aws-cdk-lib/aws-s3";

const app = new cdk.App();
const stack = new cdk.Stack(app, app.node.tryGetContext("stackName") ?? "TypeScriptSampleStack");
const bucket = new s3.Bucket(stack, "Site", { removalPolicy: cdk.RemovalPolicy.DESTROY });
new cdk.CfnOutput(stack, "BucketName", { value: bucket.bucketName });
