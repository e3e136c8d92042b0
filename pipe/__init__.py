"""aws-oidc-deploy: a Bitbucket Pipe that signs in to AWS with the step's OIDC token, then deploys."""

__version__ = "1.0.0"
