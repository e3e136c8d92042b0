import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipe.aws import cloudfront
from pipe.common.errors import PipeError


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


# The paths a user names (cloudfront-invalidate, and s3-sync's CLOUDFRONT_PATHS).
# Every Unicode space, control, format character and lone surrogate (an undecodable byte from
# os.environ), not only ASCII's: CloudFront takes the path as it is sent.
_odd = st.characters(categories=["Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co"])


@given(st.text(min_size=1) | st.builds(lambda a, c, b: "/" + a + c + b, st.text(), _odd, st.text()))
def test_a_path_is_taken_as_given_only_when_it_starts_with_a_slash_and_has_no_space_or_control(text):
    acceptable = text.strip().startswith("/") and all(c != " " and c.isprintable() for c in text.strip())
    if acceptable:
        assert cloudfront.parse_path(text) == text.strip()
    else:
        with pytest.raises(ValueError, match="must be paths that start with /"):
            cloudfront.parse_path(text)


_paths = st.lists(st.text(min_size=1).map(lambda t: "/" + t.replace("*", "")) | st.just("/*"), max_size=20)


@given(_paths)
def test_given_paths_keep_the_order_send_each_once_and_a_wildcard_alone(paths):
    sent = cloudfront.given_paths(paths)
    if "/*" in paths:
        assert sent == ["/*"]
    else:
        assert sent == sorted(set(paths), key=paths.index)


@given(st.text(min_size=1, max_size=80))
def test_a_distribution_id_is_upper_case_letters_and_digits(text):
    if re.fullmatch(r"[A-Z0-9]{1,64}", text.strip(), re.ASCII):
        assert cloudfront.parse_distribution_id(text) == text.strip()
    else:
        with pytest.raises(ValueError, match="must be a distribution id such as E2EXAMPLE"):
            cloudfront.parse_distribution_id(text)


def test_a_job_puts_what_it_already_did_in_front_of_a_failure(monkeypatch):
    monkeypatch.setattr(cloudfront.time, "sleep", lambda _s: None)
    with pytest.raises(PipeError) as raised:
        cloudfront.wait(
            FakeCloudFront(["InProgress"]), "E1", "I1", limit=0, after="The files are synced, but "
        )
    assert raised.value.message.startswith("The files are synced, but CloudFront invalidation I1 is still")
