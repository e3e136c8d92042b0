"""Each job's happy-path environment for a test that runs the pipe: the signed-in environment of the
pipe_env fixture plus the job's own variables, with the files they name written into the clone.

A test that needs more (hostile files beside these, an endpoint of its own) adds it on top.
"""

from pathlib import Path

from test.support.run import write_files

# A commit hash as Bitbucket gives it: the beanstalk job names its version after it.
COMMIT = "3f2a9c1d0b8e7f6a5c4d3e2f1a0b9c8d7e6f5a4b"

# job: (files written into the clone, the job's own variables). A job with files is pointed at the
# clone (BITBUCKET_CLONE_DIR); the others keep pipe_env's.
JOBS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "whoami": ({}, {}),
    "trust-policy": ({}, {}),
    "kubectl": (
        {"k8s/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"},
        {"CLUSTER_NAME": "prod", "KUBECTL_COMMAND": "apply", "RESOURCE_PATH": "k8s"},
    ),
    "helm": (
        {
            "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
            "charts/web/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n",
            "values/prod.yaml": "replicas: 2\n",
        },
        {"CLUSTER_NAME": "prod", "RELEASE_NAME": "web", "CHART": "charts/web"},
    ),
    "s3-sync": ({"build/index.html": "<html></html>"}, {"S3_BUCKET": "my-site/www", "LOCAL_PATH": "build"}),
    "beanstalk": (
        {"app/application.py": "def application(environ, start):\n    return []\n"},
        {
            "APPLICATION_NAME": "shop",
            "ENVIRONMENT_NAME": "shop-prod",
            "SOURCE_PATH": "app",
            "BITBUCKET_COMMIT": COMMIT,
        },
    ),
    "cdk": ({"infra/cdk.json": '{"app": "node bin/app.js"}'}, {"CDK_APP_PATH": "infra"}),
    "cloudfront-invalidate": ({}, {"CLOUDFRONT_DISTRIBUTION_ID": "E2EXAMPLE"}),
    "ecs": (
        {
            "ecs/task.json": '{"family": "shop", "containerDefinitions": '
            '[{"name": "web", "image": "repo/shop:1.1", "memory": 256}]}'
        },
        {"CLUSTER_NAME": "prod", "SERVICE_NAME": "shop", "TASK_DEFINITION": "ecs/task.json"},
    ),
}


def environment(job: str, env: dict, clone: Path) -> dict:
    """`env` (the pipe_env fixture's) made `job`'s, its files written into `clone`."""
    files, variables = JOBS[job]
    write_files(clone, files)
    in_clone = {"BITBUCKET_CLONE_DIR": str(clone)} if files else {}
    return env | {"COMMAND": job, **variables, **in_clone}
