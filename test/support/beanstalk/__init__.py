"""An Elastic Beanstalk stand-in for the test bench (see README.md)."""

from test.support.beanstalk.model import FAIL, OK, RECOVERS, RED, STUCK, ApiError, State
from test.support.beanstalk.server import BeanstalkStandIn

__all__ = ["FAIL", "OK", "RECOVERS", "RED", "STUCK", "ApiError", "BeanstalkStandIn", "State"]
