"""The chart Helm gets: copied from the clone or unpacked from an archive, within the pipe's limits."""

import io
import struct
import tarfile
import zlib

import pytest

from pipe.common.errors import PipeError
from pipe.jobs.helm import chart

CHART_YAML = b"apiVersion: v2\nname: web\nversion: 1.0.0\n"


def archive(path, members):
    """A .tgz of `members`: (name, bytes) for files, (name, None, linkname) for symbolic links."""
    with tarfile.open(path, "w:gz") as tar:
        for member in members:
            info = tarfile.TarInfo(member[0])
            if len(member) == 3:
                info.type, info.linkname = tarfile.SYMTYPE, member[2]
                tar.addfile(info)
            else:
                info.size = len(member[1])
                tar.addfile(info, io.BytesIO(member[1]))
    return path


def test_a_chart_directory_is_copied_with_its_archived_dependency_unpacked(tmp_path):
    clone, work = tmp_path / "clone", tmp_path / "work"
    (clone / "web" / "charts").mkdir(parents=True)
    (clone / "web" / "Chart.yaml").write_bytes(CHART_YAML)
    archive(clone / "web" / "charts" / "lib-0.1.0.tgz", [("lib/Chart.yaml", b"name: lib\n")])
    copied = chart.from_clone(clone / "web", clone, work, "CHART 'web'")
    assert (copied / "Chart.yaml").read_bytes() == CHART_YAML
    assert (copied / "charts" / "lib" / "Chart.yaml").exists()
    assert not (copied / "charts" / "lib-0.1.0.tgz").exists()
    assert work in copied.parents


def test_a_link_out_of_the_clone_is_refused(tmp_path):
    clone = tmp_path / "clone"
    (clone / "web" / "templates").mkdir(parents=True)
    (tmp_path / "secret.yaml").write_text("stolen")
    (clone / "web" / "templates" / "x.yaml").symlink_to(tmp_path / "secret.yaml")
    with pytest.raises(PipeError, match="leads outside the clone directory"):
        chart.from_clone(clone / "web", clone, tmp_path / "work", "CHART 'web'")


@pytest.mark.parametrize(
    "members",
    [
        [("web/Chart.yaml", CHART_YAML), ("web/../../escaped", b"x")],
        [("/etc/web/Chart.yaml", CHART_YAML)],
        [("web/Chart.yaml", CHART_YAML), ("web/templates/link.yaml", None, "/etc/passwd")],
    ],
    ids=["dot-dot", "absolute", "link"],
)
def test_archives_that_reach_out_are_refused(tmp_path, members):
    path = archive(tmp_path / "web.tgz", members)
    with pytest.raises(PipeError, match=r"outside the chart|not a regular file"):
        chart.unpack(path, tmp_path / "out")
    assert not (tmp_path / "escaped").exists()


def test_a_file_over_the_limit_is_refused_before_it_is_written(tmp_path, monkeypatch):
    monkeypatch.setattr(chart, "MAX_FILE_BYTES", 1024)
    path = archive(tmp_path / "web.tgz", [("web/Chart.yaml", CHART_YAML), ("web/big.yaml", b"x" * 2048)])
    with pytest.raises(PipeError, match="the limit for a chart file is 1024"):
        chart.unpack(path, tmp_path / "out")
    assert not (tmp_path / "out" / "web" / "big.yaml").exists()


def test_too_many_files_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(chart, "MAX_CHART_FILES", 3)
    members = [("web/Chart.yaml", CHART_YAML)] + [(f"web/templates/{n}.yaml", b"a: 1\n") for n in range(5)]
    with pytest.raises(PipeError, match="holds over 3 files"):
        chart.unpack(archive(tmp_path / "web.tgz", members), tmp_path / "out")


def test_a_schema_that_loads_another_file_is_refused(tmp_path):
    schema = b'{"properties": {"a": {"$ref": "file:///etc/passwd"}}}'
    path = archive(tmp_path / "web.tgz", [("web/Chart.yaml", CHART_YAML), ("web/values.schema.json", schema)])
    with pytest.raises(PipeError, match=r"has a \$ref to another file or a URL"):
        chart.unpack(path, tmp_path / "out")


def test_an_archive_with_a_gzip_extra_field_as_helm_writes_it(tmp_path):
    plain = tmp_path / "plain.tar"
    with tarfile.open(plain, "w") as tar:
        info = tarfile.TarInfo("web/Chart.yaml")
        info.size = len(CHART_YAML)
        tar.addfile(info, io.BytesIO(CHART_YAML))
    raw = plain.read_bytes()
    extra = b"+aHR0cHM6Ly95b3V0dS5iZS96OVV6MWljandyTQo=Helm"
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    (tmp_path / "web.tgz").write_bytes(
        b"\x1f\x8b\x08\x04\0\0\0\0\0\xff"
        + struct.pack("<H", len(extra))
        + extra
        + compressor.compress(raw)
        + compressor.flush()
        + struct.pack("<II", zlib.crc32(raw), len(raw))
    )
    assert (chart.unpack(tmp_path / "web.tgz", tmp_path / "out") / "Chart.yaml").read_bytes() == CHART_YAML


def test_not_an_archive_is_one_line(tmp_path):
    (tmp_path / "web.tgz").write_bytes(b"not gzip at all")
    with pytest.raises(PipeError, match="is not a readable chart archive"):
        chart.unpack(tmp_path / "web.tgz", tmp_path / "out")
