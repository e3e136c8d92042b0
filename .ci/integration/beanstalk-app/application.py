"""The beanstalk integration step's application: the smallest WSGI app Elastic Beanstalk's Python
platform runs (it looks for `application` in application.py)."""


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [b"aws-oidc-deploy integration\n"]
