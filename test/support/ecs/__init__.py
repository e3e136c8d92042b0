"""An Amazon ECS stand-in for the test bench: the deployment life-cycle (see README.md)."""

from test.support.ecs.model import EXITS, OK, PULL_FAILS, STUCK, ApiError, State
from test.support.ecs.server import EcsStandIn

__all__ = ["EXITS", "OK", "PULL_FAILS", "STUCK", "ApiError", "EcsStandIn", "State"]
