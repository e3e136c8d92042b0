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
