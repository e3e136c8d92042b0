"""The table of pipe.signin.policies: each job's least-privilege IAM statements, and the template
parameters their resources name. pipe.signin.policies (the public module) renders it for docs/iam.md,
`COMMAND: trust-policy` and its CloudFormation template.

A job's entry is a tuple of statements; a job that calls no AWS API but STS (which every role may call
for itself) has an empty one. Resources are written in CloudFormation's Fn::Sub syntax: `${AWS::...}`
pseudo parameters and `${Name}` for a parameter in PARAMETERS, so that the template uses them as they
are and the JSON is filled in from the role's ARN, the region and the parameters' defaults or
placeholders. A job added to pipe/jobs/__init__.py JOBS adds its entry here (test_policies fails until
it does), with a new parameter in PARAMETERS if its resources need one. Statements two jobs share are
one constant here (statements are de-duplicated by Sid).
"""

from typing import NamedTuple


class Statement(NamedTuple):
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    # Why the job needs it, and when (a variable that turns the calls on), for docs/iam.md.
    why: str
    condition: dict[str, dict[str, str]] | None = None
    # True: the job goes on without it, with a warning naming the action (a check of its own, before
    # the call that needs it).
    advisory: bool = False


class Parameter(NamedTuple):
    description: str
    # The value printed when the template's parameter has a default (the JSON uses it too); without
    # one, the JSON shows `<NAME>` for the user to replace.
    default: str | None = None


PARAMETERS = {
    "ClusterName": Parameter("kubectl, helm: the EKS cluster (CLUSTER_NAME)."),
    "BucketName": Parameter("s3-sync: the bucket (S3_BUCKET)."),
    "KeyPrefix": Parameter(
        "s3-sync: the key prefix the job writes under, with its trailing slash (the path part of "
        "S3_BUCKET, e.g. site/); empty for the whole bucket.",
    ),
    "DistributionId": Parameter("s3-sync, cloudfront-invalidate: the CloudFront distribution ID."),
    "ApplicationName": Parameter("beanstalk: the Elastic Beanstalk application (APPLICATION_NAME)."),
    "EnvironmentName": Parameter("beanstalk: the environment (ENVIRONMENT_NAME)."),
    "BundleBucket": Parameter(
        "beanstalk: the bucket of the source bundles (S3_BUCKET, or Elastic Beanstalk's own "
        "elasticbeanstalk-<region>-<account>).",
    ),
    "CdkQualifier": Parameter("cdk: the bootstrap qualifier.", "hnb659fds"),
    "EcsCluster": Parameter("ecs: the ECS cluster (CLUSTER_NAME)."),
    "EcsService": Parameter("ecs: the ECS service (SERVICE_NAME)."),
    "EcsTaskFamily": Parameter("ecs: the family of the service's task definition."),
    "EcsTaskRole": Parameter(
        "ecs: the task definition's task role's name, with its path if it has one (taskRoleArn after role/)."
    ),
    "EcsExecutionRole": Parameter(
        "ecs: the task definition's execution role's name, with its path if it has one (executionRoleArn "
        "after role/)."
    ),
}

_ARN = "arn:${AWS::Partition}"
_DISTRIBUTION = f"{_ARN}:cloudfront::${{AWS::AccountId}}:distribution/${{DistributionId}}"
_CLOUDFRONT = Statement(
    "CloudFrontInvalidation",
    ("cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"),
    (_DISTRIBUTION,),
    "Create the invalidation (s3-sync: only with CLOUDFRONT_DISTRIBUTION_ID); read its status "
    "(GetInvalidation: only with CLOUDFRONT_WAIT: 'true').",
)
# kubectl and helm: the only AWS call of either (pipe.kube.cluster.connect); the token is a presigned
# STS GetCallerIdentity, which needs no permission.
_EKS_DESCRIBE_CLUSTER = Statement(
    "EksDescribeCluster",
    ("eks:DescribeCluster",),
    (f"{_ARN}:eks:${{AWS::Region}}:${{AWS::AccountId}}:cluster/${{ClusterName}}",),
    "The cluster's endpoint and CA. What kubectl and Helm may do inside is Kubernetes RBAC, granted by "
    "the cluster's access entry for this role, not IAM.",
)
_BEANSTALK = f"{_ARN}:elasticbeanstalk:${{AWS::Region}}:${{AWS::AccountId}}"
_ECS = f"{_ARN}:ecs:${{AWS::Region}}:${{AWS::AccountId}}"
_ECS_CLUSTER = f"{_ECS}:cluster/${{EcsCluster}}"
_ECS_SERVICE = f"{_ECS}:service/${{EcsCluster}}/${{EcsService}}"
_ROLE = f"{_ARN}:iam::${{AWS::AccountId}}:role"

POLICIES: dict[str, tuple[Statement, ...]] = {
    "whoami": (),
    "trust-policy": (),
    "kubectl": (_EKS_DESCRIBE_CLUSTER,),
    "s3-sync": (
        Statement(
            "S3ListPrefix",
            ("s3:ListBucket",),
            (f"{_ARN}:s3:::${{BucketName}}",),
            "List what is under the prefix (ListObjectsV2), to upload only what changed.",
            {"StringLike": {"s3:prefix": "${KeyPrefix}*"}},
        ),
        Statement(
            "S3WriteUnderPrefix",
            ("s3:PutObject", "s3:GetObject", "s3:DeleteObject"),
            (f"{_ARN}:s3:::${{BucketName}}/${{KeyPrefix}}*",),
            "Upload (PutObject, multipart included); read an object's checksum when its ETag cannot tell "
            "(HeadObject: GetObject); remove what was deleted locally (DeleteObject: only with DELETE_FLAG: "
            "'true'). Add s3:PutObjectAcl if you set ACL, and s3:AbortMultipartUpload if the parts of a "
            "failed multipart upload are to be removed at once (the transfer engine aborts it; without the "
            "permission the parts stay until a lifecycle rule removes them).",
        ),
        _CLOUDFRONT,
    ),
    "beanstalk": (
        Statement(
            "BeanstalkReadApplication",
            (
                "elasticbeanstalk:DescribeApplications",
                "elasticbeanstalk:DescribeApplicationVersions",
                "elasticbeanstalk:DescribeEnvironments",
            ),
            (
                f"{_BEANSTALK}:application/${{ApplicationName}}",
                f"{_BEANSTALK}:applicationversion/${{ApplicationName}}/*",
                f"{_BEANSTALK}:environment/${{ApplicationName}}/${{EnvironmentName}}",
            ),
            "Check the application, the version and the environment, and watch the environment's status.",
        ),
        Statement(
            "BeanstalkWatchEvents",
            ("elasticbeanstalk:DescribeEvents",),
            (
                f"{_BEANSTALK}:application/${{ApplicationName}}",
                f"{_BEANSTALK}:environment/${{ApplicationName}}/${{EnvironmentName}}",
            ),
            "Stream the deployment's events and fail at its first ERROR. Elastic Beanstalk answers an "
            "empty list without it: the deploy goes on, and the pipe warns that it saw no event.",
            advisory=True,
        ),
        # CreateApplicationVersion requires both the application and the version (SAR).
        Statement(
            "BeanstalkRegisterVersion",
            ("elasticbeanstalk:CreateApplicationVersion",),
            (
                f"{_BEANSTALK}:application/${{ApplicationName}}",
                f"{_BEANSTALK}:applicationversion/${{ApplicationName}}/*",
            ),
            "Register the version: Elastic Beanstalk checks both the application and the new version.",
        ),
        Statement(
            "BeanstalkDeploy",
            ("elasticbeanstalk:UpdateEnvironment", "elasticbeanstalk:AbortEnvironmentUpdate"),
            (f"{_BEANSTALK}:environment/${{ApplicationName}}/${{EnvironmentName}}",),
            "Deploy the version (and roll back: UpdateEnvironment again, or AbortEnvironmentUpdate on a "
            "timeout).",
        ),
        Statement(
            "BeanstalkStorageLocation",
            ("elasticbeanstalk:CreateStorageLocation",),
            ("*",),
            "Find Elastic Beanstalk's own bundle bucket (only without S3_BUCKET); it takes no narrower "
            "resource.",
        ),
        Statement(
            "BeanstalkPlatformCheck",
            ("elasticbeanstalk:DescribePlatformVersion",),
            (f"{_ARN}:elasticbeanstalk:${{AWS::Region}}::platform/*",),
            "Refuse a deploy to a failed or retired platform before the upload; without it the "
            "pipe warns and deploys.",
            advisory=True,
        ),
        Statement(
            "BeanstalkBundle",
            ("s3:PutObject", "s3:GetObject", "s3:DeleteObject"),
            (f"{_ARN}:s3:::${{BundleBucket}}/${{ApplicationName}}/*",),
            "Upload the bundle, check one that exists (HeadObject), and remove a bundle no version uses.",
        ),
        Statement(
            "BeanstalkUpdateOnYourBehalf",
            (
                "cloudformation:DescribeStackResource",
                "cloudformation:DescribeStackResources",
                "cloudformation:DescribeStacks",
                "cloudformation:DescribeStackEvents",
                "cloudformation:GetTemplate",
                "cloudformation:UpdateStack",
                "cloudformation:CancelUpdateStack",
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeScalingActivities",
                "autoscaling:SuspendProcesses",
                "autoscaling:ResumeProcesses",
                "ec2:DescribeInstances",
                "elasticloadbalancing:DescribeTargetHealth",
                "elasticloadbalancing:DescribeInstanceHealth",
            ),
            ("*",),
            "UpdateEnvironment runs with the caller's permissions in the services behind the environment "
            "(its awseb-* CloudFormation stack, Auto Scaling group, instances, load balancer and Elastic "
            "Beanstalk's own bucket); without them it answers InsufficientPrivilegesException. Narrow "
            "them to the awseb-e-* stack and its resources if your organisation requires it.",
        ),
        Statement(
            "BeanstalkOwnBucket",
            ("s3:GetObject", "s3:ListBucket"),
            (
                f"{_ARN}:s3:::elasticbeanstalk-${{AWS::Region}}-${{AWS::AccountId}}",
                f"{_ARN}:s3:::elasticbeanstalk-${{AWS::Region}}-${{AWS::AccountId}}/*",
            ),
            "Elastic Beanstalk reads the environment's files in its own bucket with the caller's "
            "permissions during UpdateEnvironment.",
        ),
    ),
    "cdk": (
        Statement(
            "CdkBootstrapVersion",
            ("ssm:GetParameter",),
            (
                f"{_ARN}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/cdk-bootstrap/${{CdkQualifier}}/version",
            ),
            "The pipe's own check that the environment is bootstrapped, for a clearer line when "
            "it is not. Optional: without it the pipe warns, naming ssm:GetParameter, and deploys (the "
            "deploy role reads the version itself: the bootstrap template's ReadVersion statement).",
            advisory=True,
        ),
        Statement(
            "CdkAssumeBootstrapRoles",
            ("sts:AssumeRole",),
            (
                f"{_ARN}:iam::${{AWS::AccountId}}:role/cdk-${{CdkQualifier}}-*-role-${{AWS::AccountId}}-${{AWS::Region}}",
            ),
            "The CDK CLI deploys through the bootstrap stack's roles (deploy, file- and image-publishing, "
            "lookup), which hold the CloudFormation, S3 and ECR permissions; their trust policy admits the "
            "account's principals that this permission allows. Without it the CLI goes on with the pipe's "
            "own role and fails, and the pipe's line names sts:AssumeRole and the roles. CDK_COMMAND: bootstrap needs "
            "far more (it creates those roles): run it once with an administrator's role. Add sts:TagSession "
            "if your app's synthesizer passes session tags (deployRoleAdditionalOptions).",
        ),
    ),
    "cloudfront-invalidate": (_CLOUDFRONT,),
    # Resource types per action: the Service Authorization Reference's Amazon ECS table (list_ecs).
    "ecs": (
        Statement(
            "EcsReadClusterAndService",
            ("ecs:DescribeClusters", "ecs:DescribeServices"),
            (_ECS_CLUSTER, _ECS_SERVICE),
            "Check that the cluster and the service are ACTIVE; follow the deployment and the events.",
        ),
        Statement(
            "EcsTaskDefinitions",
            ("ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions"),
            ("*",),
            "Read the running revision, find an identical registered one (ListTaskDefinitions: when the "
            "revision to deploy differs). These two take no narrower resource.",
        ),
        Statement(
            "EcsRegisterRevision",
            ("ecs:RegisterTaskDefinition",),
            (f"{_ECS}:task-definition/${{EcsTaskFamily}}:*",),
            "Register the new revision of the family (only when no identical one is registered).",
        ),
        Statement(
            "EcsTagNewRevision",
            ("ecs:TagResource",),
            (f"{_ECS}:task-definition/${{EcsTaskFamily}}:*",),
            "Tag the new revision as it is registered (only with TASK_DEFINITION_TAGS).",
            {"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}},
        ),
        Statement(
            "EcsDeploy",
            ("ecs:UpdateService",),
            (_ECS_SERVICE,),
            "Deploy the revision (FORCE_NEW_DEPLOYMENT too; ROLLBACK_ON_FAILURE: the previous one).",
        ),
        Statement(
            "EcsStoppedTasks",
            ("ecs:ListTasks",),
            ("*",),
            "List a failed deployment's stopped tasks (on `*`: a Fargate task has no container instance).",
            {"StringEquals": {"ecs:cluster": _ECS_CLUSTER}},
        ),
        Statement(
            "EcsStoppedTaskReasons",
            ("ecs:DescribeTasks",),
            (f"{_ECS}:task/${{EcsCluster}}/*",),
            "Read why each stopped task stopped (stoppedReason, exit codes) when the deployment fails.",
        ),
        Statement(
            "EcsPassTaskRoles",
            ("iam:PassRole",),
            (f"{_ROLE}/${{EcsTaskRole}}", f"{_ROLE}/${{EcsExecutionRole}}"),
            "RegisterTaskDefinition passes the task and execution roles; leave out one it does not name.",
            {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        ),
    ),
    # Charts come from the clone, a chart repository or an OCI registry with the pipe's own
    # credentials (CHART_REPOSITORY_USERNAME/PASSWORD): the job never signs in to ECR itself.
    "helm": (_EKS_DESCRIBE_CLUSTER,),
}
