"""A Bitbucket Code Insights stand-in behind a forward proxy on port 29418 (README.md)."""

from test.support.codeinsights.server import HANG, PORT, REFUSE, CodeInsightsStandIn

__all__ = ["HANG", "PORT", "REFUSE", "CodeInsightsStandIn"]
