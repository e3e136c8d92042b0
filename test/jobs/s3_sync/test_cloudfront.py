import pytest

from pipe.common.errors import PipeError
from pipe.jobs.s3_sync import cloudfront


def test_paths_are_encoded_and_index_documents_add_their_directory():
    assert cloudfront.paths_for(["index.html", "docs/index.html", "a b/*.css", "été.txt"]) == [
        "/",
        "/%C3%A9t%C3%A9.txt",
        "/a%20b/%2A.css",
        "/docs/",
        "/docs/index.html",
        "/index.html",
    ]


def test_many_paths_collapse_to_a_wildcard():
    assert cloudfront.paths_for([f"{n}.css" for n in range(cloudfront.COLLAPSE_ABOVE)]) != ["/*"]
    assert cloudfront.paths_for([f"{n}.css" for n in range(cloudfront.COLLAPSE_ABOVE + 1)]) == ["/*"]


class FakeCloudFront:
    def __init__(self, statuses):
        self.statuses = list(statuses)

    def get_invalidation(self, DistributionId, Id):
        return {
            "Invalidation": {"Status": self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]}
        }


@pytest.mark.parametrize("done", ["Completed", "COMPLETED", "completed"])
def test_wait_compares_the_status_case_insensitively(monkeypatch, done):
    monkeypatch.setattr(cloudfront.time, "sleep", lambda _s: None)
    assert cloudfront.wait(FakeCloudFront(["InProgress", done]), "E1", "I1") >= 0


def test_wait_is_bounded(monkeypatch):
    monkeypatch.setattr(cloudfront.time, "sleep", lambda _s: None)
    with pytest.raises(PipeError, match="still InProgress"):
        cloudfront.wait(FakeCloudFront(["InProgress"]), "E1", "I1", limit=0)
