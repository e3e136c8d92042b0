#!/usr/bin/env node
// The test bench's sample app: one stack with a bucket and an output. The tests edit MESSAGE to
// make a change that diff shows and deploy applies, and name the stack through the context
// (CDK_CONTEXT stackName=...) so that tests sharing one AWS stand-in do not share a stack.
// More context values, each for one test:
//   withStorage=true   a second stack, <name>Storage, that the first depends on (stack selection)
//   importValue=<name> a parameter that imports a cross-stack export (CloudFormation fails without it)
//   withRole=true      an IAM role that Lambda may assume (a change that broadens permissions)
//   withPolicy=true    with withRole: a policy letting the role read the bucket (an IAM statement)
//   ingressPort=<port> a security group open to the world on that TCP port
//   outputValue=<text> one more output, Extra, holding the text (a planted secret)
//   queue=true         an SQS queue (a resource added)
const cdk = require("aws-cdk-lib");
const iam = require("aws-cdk-lib/aws-iam");
const s3 = require("aws-cdk-lib/aws-s3");
const ssm = require("aws-cdk-lib/aws-ssm");
const ec2 = require("aws-cdk-lib/aws-ec2");
const sqs = require("aws-cdk-lib/aws-sqs");

const MESSAGE = "first version";

const app = new cdk.App();
const name = app.node.tryGetContext("stackName") ?? "SampleStack";
const stack = new cdk.Stack(app, name);
const bucket = new s3.Bucket(stack, "Site", { removalPolicy: cdk.RemovalPolicy.DESTROY });
cdk.Tags.of(bucket).add("message", MESSAGE);
new cdk.CfnOutput(stack, "BucketName", { value: bucket.bucketName });
new cdk.CfnOutput(stack, "Message", { value: MESSAGE });

if (app.node.tryGetContext("withStorage") === "true") {
  const storage = new cdk.Stack(app, `${name}Storage`);
  new s3.Bucket(storage, "Archive", { removalPolicy: cdk.RemovalPolicy.DESTROY });
  stack.addDependency(storage);
}
const imported = app.node.tryGetContext("importValue");
if (imported) {
  new ssm.CfnParameter(stack, "Imported", { type: "String", value: cdk.Fn.importValue(imported) });
}
if (app.node.tryGetContext("withRole") === "true") {
  const role = new iam.Role(stack, "Worker", { assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com") });
  if (app.node.tryGetContext("withPolicy") === "true") {
    role.addToPolicy(new iam.PolicyStatement({ actions: ["s3:GetObject"], resources: [bucket.arnForObjects("*")] }));
  }
}
const port = app.node.tryGetContext("ingressPort");
if (port) {
  new ec2.CfnSecurityGroup(stack, "Web", {
    groupDescription: "web",
    securityGroupIngress: [{ ipProtocol: "tcp", fromPort: Number(port), toPort: Number(port), cidrIp: "0.0.0.0/0" }],
  });
}
const extra = app.node.tryGetContext("outputValue");
if (extra) {
  new cdk.CfnOutput(stack, "Extra", { value: extra });
}
if (app.node.tryGetContext("queue") === "true") {
  new sqs.Queue(stack, "Jobs");
}
