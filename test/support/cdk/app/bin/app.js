#!/usr/bin/env node
// The test bench's sample app: one stack with a bucket and an output. The tests edit MESSAGE to
// make a change that diff shows and deploy applies, and name the stack through the context
// (CDK_CONTEXT stackName=...) so that tests sharing one AWS stand-in do not share a stack.
const cdk = require("aws-cdk-lib");
const s3 = require("aws-cdk-lib/aws-s3");

const MESSAGE = "first version";

const app = new cdk.App();
const stack = new cdk.Stack(app, app.node.tryGetContext("stackName") ?? "SampleStack");
const bucket = new s3.Bucket(stack, "Site", { removalPolicy: cdk.RemovalPolicy.DESTROY });
cdk.Tags.of(bucket).add("message", MESSAGE);
new cdk.CfnOutput(stack, "BucketName", { value: bucket.bucketName });
new cdk.CfnOutput(stack, "Message", { value: MESSAGE });
