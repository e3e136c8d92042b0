import os
import shutil

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "test/container/" in str(item.path):
            item.add_marker(pytest.mark.container)


@pytest.fixture(scope="session")
def docker():
    """The engine and image that test/container/with-docker.sh prepared (make test runs it)."""
    missing = [name for name in ("DOCKER", "DOCKER_HOST", "PIPE_IMAGE") if not os.environ.get(name)]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not set: run the container tests through test/container/with-docker.sh "
            "(make test does), or deselect them with -m 'not container' (make unit does)."
        )
    assert shutil.which(os.environ["DOCKER"]), os.environ["DOCKER"]
    return os.environ["DOCKER"], os.environ["PIPE_IMAGE"]


@pytest.fixture
def clone(tmp_path):
    """A clone directory with some content, including a `pipe/` package that must not shadow ours."""
    path = tmp_path / "clone"
    (path / "pipe").mkdir(parents=True)
    (path / "pipe" / "__init__.py").write_text("raise SystemExit('the user repository pipe/ was imported')\n")
    (path / "pipe" / "__main__.py").write_text("raise SystemExit('the user repository pipe/ was run')\n")
    (path / "README.md").write_text("a user's repository\n")
    return path


@pytest.fixture
def bitbucket(moto_server):
    """The Code Insights stand-in behind the auth proxy's port, for `test_image.run_with_proxy`. At the
    end, no AWS session key issued during the test (nor an EKS token) is in anything it received, in
    any encoding the leak scan knows (the container runs are not under test.support.run's scan)."""
    from test.support import leaks
    from test.support.codeinsights import CodeInsightsStandIn

    issued = leaks.issued_marker()
    with CodeInsightsStandIn() as standin:
        yield standin
        secrets = leaks.issued_since(issued)
        assert secrets, "no AWS session issued during the test: nothing to look for"
        found = [(where, leaks.hits(content(), secrets)) for _stamp, where, content in standin.received()]
        assert not [hit for hit in found if hit[1]], [hit for hit in found if hit[1]]
