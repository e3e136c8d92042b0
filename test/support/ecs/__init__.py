"""An Amazon ECS stand-in for the test bench: the deployment life-cycle (see README.md)."""

from test.support.ecs.model import EXITS, OK, PULL_FAILS, STUCK, State
from test.support.ecs.server import EcsStandIn
from test.support.standin import ApiError

__all__ = ["EXITS", "OK", "PULL_FAILS", "STUCK", "ApiError", "EcsStandIn", "State"]
