"""End to end: COMMAND=s3-sync as a process against the moto server (S3 and CloudFront)."""

import base64
import hashlib
import json
import os
import time
import uuid
import zlib
from pathlib import Path

import pytest
from boto3.s3.transfer import TransferConfig

from test.support import aws
from test.support.checks import assert_no_secret, assert_one_clear_failure
from test.support.faults import FaultyProxy
from test.support.interrupts import Killed
from test.support.run import write_files

SITE = {
    "index.html": "<html>home</html>",
    "about/index.html": "<html>about</html>",
    "assets/app.js": "console.log('v1');",
    "assets/style.css": "body { color: red; }",
    "img/logo.png": "\x89PNG not really",
    "données/été 1.txt": "non-ASCII names keep working",
    "robots.txt": "User-agent: *",
}
CACHE_RULES = ["*.html=no-cache", "assets/*=public, max-age=31536000, immutable", "public, max-age=3600"]
MIB = 1024 * 1024


@pytest.fixture
def site(clone_dir):
    return write_files(clone_dir / "build", SITE)


def rules(name, items):
    return {f"{name}_COUNT": str(len(items))} | {f"{name}_{i}": item for i, item in enumerate(items)}


def summary_of(env):
    path = os.path.join(env["BITBUCKET_PIPE_SHARED_STORAGE_DIR"], "aws-oidc-deploy", "s3-sync-summary.json")
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)


def keys(s3, bucket):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", ()))


def sync(run, env, **extra):
    result = run(env | extra)
    assert result.returncode == 0, result.output
    return result, summary_of(env | extra)


def touch_all(root):
    for directory, _dirs, files in os.walk(root):
        for name in files:
            os.utime(os.path.join(directory, name))


# Done when 1: every file, with the right Content-Type and Cache-Control rules.
def test_first_sync_uploads_every_file_with_types_and_cache_rules(run, sync_env, site, s3, bucket):
    result, summary = sync(run, sync_env | rules("CACHE_CONTROL", CACHE_RULES))
    assert summary["uploaded"] == len(SITE) and summary["skipped_unchanged"] == 0
    assert summary["scanned"] == len(SITE) and summary["bytes_uploaded"] > 0
    assert keys(s3, bucket) == sorted(f"www/{relative}" for relative in SITE)
    expected = {
        "index.html": ("text/html", "no-cache"),
        "about/index.html": ("text/html", "no-cache"),
        "assets/app.js": ("text/javascript", "public, max-age=31536000, immutable"),
        "assets/style.css": ("text/css", "public, max-age=31536000, immutable"),
        "img/logo.png": ("image/png", "public, max-age=3600"),
        "données/été 1.txt": ("text/plain", "public, max-age=3600"),
    }
    for relative, (content_type, cache_control) in expected.items():
        head = s3.head_object(Bucket=bucket, Key=f"www/{relative}")
        assert head["ContentType"] == content_type, relative
        assert head["CacheControl"] == cache_control, relative
    body = s3.get_object(Bucket=bucket, Key="www/données/été 1.txt")["Body"].read().decode()
    assert body == SITE["données/été 1.txt"]
    # Each upload carried the CRC32 of the file as the pipe hashed it (S3 refuses a body that differs).
    head = s3.head_object(Bucket=bucket, Key="www/index.html", ChecksumMode="ENABLED")
    crc = zlib.crc32(SITE["index.html"].encode()).to_bytes(4, "big")
    assert head["ChecksumCRC32"] == base64.b64encode(crc).decode()
    assert "Uploaded:          7" in result.stdout and "Skipped unchanged: 0" in result.stdout
    assert result.last_line.startswith(f"✔ Synced s3://{bucket}/www/: 7 uploaded, 0 unchanged, 0 deleted")


def test_content_type_overrides_and_plain_cache_control_value(run, sync_env, site, s3, bucket):
    sync(
        run,
        sync_env
        | rules("CONTENT_TYPE", ["*.txt=text/plain; charset=utf-8"])
        | {"CACHE_CONTROL": "public, max-age=60"},
    )
    head = s3.head_object(Bucket=bucket, Key="www/robots.txt")
    assert head["ContentType"] == "text/plain; charset=utf-8"
    assert head["CacheControl"] == "public, max-age=60"
    assert s3.head_object(Bucket=bucket, Key="www/index.html")["CacheControl"] == "public, max-age=60"


# Done when 2: a fresh clone uploads nothing; a same-size edit is caught; multipart is compared.
def test_resync_after_touch_uploads_nothing_and_a_same_size_edit_exactly_once(
    run, sync_env, site, s3, bucket
):
    big = site / "video.bin"
    big.write_bytes(os.urandom(9 * MIB))  # above the 8 MiB multipart threshold: 2 parts
    sync(run, sync_env)
    assert s3.head_object(Bucket=bucket, Key="www/video.bin")["ETag"].endswith('-2"')

    touch_all(site)
    result, summary = sync(run, sync_env)
    assert summary["uploaded"] == 0 and summary["skipped_unchanged"] == len(SITE) + 1, result.output
    assert summary["head_requests"] == 0

    (site / "assets" / "app.js").write_text("console.log('v2');")  # same length as v1
    touch_all(site)
    result, summary = sync(run, sync_env)
    assert summary["uploaded"] == 1 and summary["skipped_unchanged"] == len(SITE), result.output
    assert s3.get_object(Bucket=bucket, Key="www/assets/app.js")["Body"].read() == b"console.log('v2');"


def test_etag_that_cannot_decide_falls_back_to_the_stored_hash(run, sync_env, site, s3, bucket):
    """An object uploaded by another tool with 5 MiB parts: its ETag is not ours to compute."""
    data = os.urandom(11 * MIB)
    (site / "other-tool.bin").write_bytes(data)
    five = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    (site.parent / "copy.bin").write_bytes(data)
    s3.upload_file(str(site.parent / "copy.bin"), bucket, "www/other-tool.bin", Config=five)
    assert s3.head_object(Bucket=bucket, Key="www/other-tool.bin")["ETag"].endswith('-3"')

    _, summary = sync(run, sync_env)  # no stored hash: uploaded once, now with the hash
    assert summary["uploaded"] == len(SITE) + 1
    s3.upload_file(
        str(site.parent / "copy.bin"),
        bucket,
        "www/other-tool.bin",
        Config=five,
        ExtraArgs={"Metadata": {"content-md5-hex": md5}},
    )
    _, summary = sync(run, sync_env)
    assert summary["uploaded"] == 0 and summary["head_requests"] == 1


# Done when 3: DELETE_FLAG only under the prefix.
def test_delete_flag_removes_only_extra_keys_under_the_prefix(run, sync_env, site, s3, bucket):
    outside = ["www-old/index.html", "other/www/stale.html", "root.txt", "www"]
    for key in [*outside, "www/stale.html", "www/old/deep/file.css"]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    # Both objects under the prefix go: past the delete guard's default half.
    result, summary = sync(
        run, sync_env, DELETE_FLAG="true", DELETE_GUARD_PERCENT="100", CLOUDFRONT_DISTRIBUTION_ID=""
    )
    assert summary["deleted"] == 2, result.output
    assert keys(s3, bucket) == sorted([*outside, *(f"www/{relative}" for relative in SITE)])


def test_excluded_files_are_neither_uploaded_nor_deleted(run, sync_env, site, s3, bucket):
    s3.put_object(Bucket=bucket, Key="www/img/kept.png", Body=b"x")
    _, summary = sync(run, sync_env | rules("EXCLUDE", ["img/*"]), DELETE_FLAG="true")
    assert summary["uploaded"] == len(SITE) - 1 and summary["deleted"] == 0
    assert "www/img/kept.png" in keys(s3, bucket) and "www/img/logo.png" not in keys(s3, bucket)


def test_dry_run_prints_the_plan_and_changes_nothing(run, sync_env, site, s3, bucket):
    s3.put_object(Bucket=bucket, Key="www/stale.html", Body=b"x")
    s3.put_object(Bucket=bucket, Key="www/index.html", Body=b"old")  # 1 of the 2 there goes: exactly half
    result, summary = sync(run, sync_env, DRY_RUN="true", DELETE_FLAG="true")
    assert "  added www/about/index.html (18 B)" in result.output
    assert "  changed www/index.html (17 B)" in result.output
    assert "  removed www/stale.html (1 B)" in result.output
    assert keys(s3, bucket) == ["www/index.html", "www/stale.html"]
    assert summary["dry_run"] and summary["uploaded"] == 0
    assert "Dry run: 7 to upload, 0 unchanged, 1 to delete" in result.last_line


# Done when 4: a link outside LOCAL_PATH is never followed.
@pytest.mark.parametrize("follow", ["false", "true"])
def test_symlink_outside_local_path_is_never_uploaded(run, sync_env, site, s3, bucket, follow):
    (site / "passwd").symlink_to("/etc/passwd")
    (site / "etc").symlink_to("/etc")
    (site / "home.html").symlink_to(site / "index.html")
    result, _ = sync(run, sync_env, FOLLOW_SYMLINKS=follow)
    uploaded = keys(s3, bucket)
    assert "www/passwd" not in uploaded
    assert not any(key.startswith("www/etc/") for key in uploaded)
    assert ("www/home.html" in uploaded) == (follow == "true")
    if follow == "true":
        assert "points outside LOCAL_PATH" in result.output


# Done when 5: CloudFront.
@pytest.fixture
def distribution(moto_server):
    return aws.new_distribution(moto_server.url)


def invalidated_paths(cloudfront, distribution_id, invalidation_id):
    return sorted(aws.invalidated_paths(cloudfront, distribution_id, invalidation_id))


def test_invalidation_covers_exactly_the_changed_and_deleted_paths(
    run, sync_env, site, s3, bucket, distribution
):
    cloudfront, distribution_id = distribution
    sync(run, sync_env)
    s3.put_object(Bucket=bucket, Key="www/old page.html", Body=b"x")
    (site / "about" / "index.html").write_text("<html>ABOUT</html>")
    (site / "assets" / "new.js").write_text("new")
    touch_all(site)
    result, summary = sync(run, sync_env, DELETE_FLAG="true", CLOUDFRONT_DISTRIBUTION_ID=distribution_id)
    assert summary["uploaded"] == 2 and summary["deleted"] == 1
    assert invalidated_paths(cloudfront, distribution_id, summary["invalidation_id"]) == [
        "/about/",
        "/about/index.html",
        "/assets/new.js",
        "/old%20page.html",
    ]
    assert f"Invalidation:      {summary['invalidation_id']}" in result.stdout


def test_invalidation_collapses_above_the_threshold_and_waits(run, sync_env, site, distribution):
    cloudfront, distribution_id = distribution
    for number in range(40):
        (site / "many" / f"{number}.txt").parent.mkdir(exist_ok=True)
        (site / "many" / f"{number}.txt").write_text(str(number))
    result, summary = sync(run, sync_env, CLOUDFRONT_DISTRIBUTION_ID=distribution_id, CLOUDFRONT_WAIT="true")
    assert invalidated_paths(cloudfront, distribution_id, summary["invalidation_id"]) == ["/*"]
    assert "(completed in" in result.stdout


def test_nothing_changed_creates_no_invalidation(run, sync_env, site, distribution):
    _, distribution_id = distribution
    sync(run, sync_env)
    _, summary = sync(run, sync_env, CLOUDFRONT_DISTRIBUTION_ID=distribution_id)
    assert summary["invalidation_id"] is None


def test_cloudfront_paths_override(run, sync_env, site, distribution):
    cloudfront, distribution_id = distribution
    _, summary = sync(
        run,
        sync_env | rules("CLOUDFRONT_PATHS", ["/index.html", "/assets/*"]),
        CLOUDFRONT_DISTRIBUTION_ID=distribution_id,
    )
    assert invalidated_paths(cloudfront, distribution_id, summary["invalidation_id"]) == [
        "/assets/*",
        "/index.html",
    ]


# Bad input: one clear line each.
@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"S3_BUCKET": "Bad_Bucket"}, "S3_BUCKET must be a bucket name"),
        ({"S3_BUCKET": "bucket/../etc"}, "S3_BUCKET has a prefix that has a '..' segment"),
        ({"LOCAL_PATH": "../outside"}, "leads outside the clone directory"),
        ({"LOCAL_PATH": "/etc"}, "LOCAL_PATH must be relative"),
        ({"LOCAL_PATH": "missing"}, "LOCAL_PATH 'missing' does not exist"),
        ({"LOCAL_PATH": ""}, "LOCAL_PATH is required"),
        ({"ACL": "world"}, "ACL must be one of private"),
        ({"MAX_CONCURRENCY": "0"}, "MAX_CONCURRENCY must be a whole number from 1 to 128"),
        ({"SSE_KMS_KEY_ID": "alias/site"}, "SSE_KMS_KEY_ID needs SSE"),
        ({"CLOUDFRONT_WAIT": "true"}, "CLOUDFRONT_WAIT needs CLOUDFRONT_DISTRIBUTION_ID"),
        ({"EXPIRES": "soon"}, "EXPIRES must be a date"),
        ({"CACHE_CONTROL": "max-age=1\nno-cache"}, "CACHE_CONTROL has two values"),
        ({"CONTENT_TYPE": "*.txt"}, "CONTENT_TYPE must be glob=type/subtype rules"),
        (
            {"CLOUDFRONT_DISTRIBUTION_ID": "E1", "CLOUDFRONT_PATHS": "index.html"},
            "CLOUDFRONT_PATHS must be paths",
        ),
    ],
)
def test_bad_input_is_one_clear_line(run, sync_env, site, extra, expected):
    assert_one_clear_failure(run(sync_env | extra), expected)


def test_missing_bucket_is_one_clear_line(run, sync_env, site):
    result = run(sync_env | {"S3_BUCKET": "no-such-bucket-here"})
    assert_one_clear_failure(result, "Bucket no-such-bucket-here does not exist")


def test_empty_local_path_with_delete_flag_refuses(run, sync_env, clone_dir, s3, bucket):
    (clone_dir / "build").mkdir()
    s3.put_object(Bucket=bucket, Key="www/index.html", Body=b"x")
    assert_one_clear_failure(run(sync_env | {"DELETE_FLAG": "true"}), "holds no files to sync")
    assert keys(s3, bucket) == ["www/index.html"]


def test_single_file(run, sync_env, site, s3, bucket):
    _, summary = sync(run, sync_env, LOCAL_PATH="build/robots.txt", S3_BUCKET=bucket)
    assert summary["uploaded"] == 1 and keys(s3, bucket) == ["robots.txt"]


# Done when 6: S3 faults are retried; an interrupted sync converges when run again.
def bucket_contents(s3, bucket, prefix="www/"):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {
        item["Key"][len(prefix) :]: s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        for page in pages
        for item in page.get("Contents", ())
    }


def local_contents(root):
    return {
        path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()
    }


def many_files(site, count):
    for number in range(count):
        path = site / f"part-{number % 7}" / f"{number}.{'html' if number % 5 == 0 else 'css'}"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(os.urandom(100 + number))


@pytest.mark.parametrize("client", ["crt", "classic"])
def test_sync_completes_through_slow_down_and_resets(run, sync_env, site, s3, bucket, moto_server, client):
    many_files(site, 150)
    for key in ("www/stale-1.css", "www/stale-2.html"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    with FaultyProxy(moto_server.url, bucket, rate=0.1) as proxy:
        result, summary = sync(
            run,
            sync_env,
            AWS_ENDPOINT_URL=proxy.url,
            DELETE_FLAG="true",
            DELETE_GUARD_PERCENT="100",  # every object there is stale
            S3_TRANSFER_CLIENT=client,
        )
    assert proxy.faults["slow_down"] > 0 and proxy.faults["reset"] > 0, proxy.faults
    assert summary["uploaded"] == len(SITE) + 150 and summary["deleted"] == 2, result.output
    assert bucket_contents(s3, bucket) == local_contents(site)


def test_a_configured_proxy_selects_the_classic_client_which_honours_it(run, sync_env, site, s3, bucket):
    # The endpoint is excluded from the proxy, so the upload works only if NO_PROXY is honoured too.
    env = sync_env | {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    result, summary = sync(run, env | {"NO_PROXY": "127.0.0.1"})
    assert "A proxy is configured: uploading with the classic transfer client" in result.output
    assert summary["uploaded"] == len(SITE)
    assert bucket_contents(s3, bucket) == local_contents(site)


def test_a_killed_sync_converges_when_run_again(run, sync_env, site, s3, bucket, moto_server):
    many_files(site, 200)
    env = sync_env | {"MAX_CONCURRENCY": "4"}
    with FaultyProxy(moto_server.url, bucket, rate=0.0, delay_seconds=0.05) as proxy:
        killed = Killed(env | {"AWS_ENDPOINT_URL": proxy.url}, Path(env["BITBUCKET_CLONE_DIR"]))
        deadline = time.monotonic() + 60
        while len(keys(s3, bucket)) < 40 and time.monotonic() < deadline and killed.running():
            time.sleep(0.05)
        killed.kill()
    killed.check_left_behind("s3-sync")
    partial = len(keys(s3, bucket))
    assert 0 < partial < len(SITE) + 200, "the pipe was not stopped half way"
    result, summary = sync(run, env)
    assert summary["uploaded"] <= len(SITE) + 200 - partial + env_concurrency(env), result.output
    assert bucket_contents(s3, bucket) == local_contents(site)
    _, summary = sync(run, env)
    assert summary["uploaded"] == 0


def env_concurrency(env):
    # Uploads in flight at the kill may have landed or not: at most that many are sent twice.
    return int(env["MAX_CONCURRENCY"])


def test_publish_order_assets_then_html_then_deletions(run, sync_env, site, s3, bucket, moto_server):
    many_files(site, 60)
    s3.put_object(Bucket=bucket, Key="www/stale.css", Body=b"x")
    with FaultyProxy(moto_server.url, bucket, rate=0.0) as proxy:
        sync(run, sync_env, AWS_ENDPOINT_URL=proxy.url, DELETE_FLAG="true", DELETE_GUARD_PERCENT="100")
    writes = [(method, path.split("?")[0]) for method, path in proxy.log if method in ("PUT", "POST")]
    kinds = [
        "delete" if method == "POST" else "html" if path.endswith(".html") else "asset"
        for method, path in writes
    ]
    assert kinds == sorted(kinds, key=["asset", "html", "delete"].index), kinds
    assert kinds.count("html") == 2 + 60 // 5 and kinds.count("delete") == 1


def test_object_settings_are_passed_on(run, sync_env, site, s3, bucket):
    sync(
        run,
        sync_env,
        ACL="public-read",
        CONTENT_ENCODING="gzip",
        STORAGE_CLASS="STANDARD_IA",
        EXPIRES="2030-01-01T00:00:00Z",
        SSE="AES256",
        INCLUDE="*.html",
    )
    assert keys(s3, bucket) == ["www/about/index.html", "www/index.html"]
    head = s3.head_object(Bucket=bucket, Key="www/index.html")
    assert head["ContentEncoding"] == "gzip" and head["StorageClass"] == "STANDARD_IA"
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ExpiresString"] == "Tue, 01 Jan 2030 00:00:00 GMT"
    assert (
        head["Metadata"]["content-md5-hex"]
        == hashlib.md5(b"<html>home</html>", usedforsecurity=False).hexdigest()
    )
    grants = s3.get_object_acl(Bucket=bucket, Key="www/index.html")["Grants"]
    assert any(grant["Grantee"].get("URI", "").endswith("/AllUsers") for grant in grants)


def test_debug_sync_leaks_no_secret_and_writes_nothing_in_the_clone(run, sync_env, site, clone_dir):
    before = sorted(p.relative_to(clone_dir) for p in clone_dir.rglob("*"))
    session = f"s3-debug-{uuid.uuid4().hex[:8]}"
    result, _ = sync(run, sync_env | {"DEBUG": "true", "AWS_ROLE_SESSION_NAME": session})
    assert "DEBUG: " in result.output and "****" in result.output
    issued = [role for role in aws.sts_backend().assumed_roles if role.session_name == session]
    assert len(issued) == 1
    assert_no_secret(
        result.output,
        sync_env["BITBUCKET_STEP_OIDC_TOKEN"],
        issued[0].secret_access_key,
        issued[0].session_token,
    )
    assert sorted(p.relative_to(clone_dir) for p in clone_dir.rglob("*")) == before


def _imported(stderr: str) -> set[str]:
    """The modules a run imported, from its PYTHONPROFILEIMPORTTIME lines."""
    return {
        line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")
    }


def test_a_sync_with_nothing_to_send_loads_no_transfer_engine(run, sync_env, site):
    """Start-up is a feature: a no-change run (every deploy of an unchanged site) builds no transfer
    manager, loads no CRT, and never imports the toolkit's `requests`. (s3transfer's modules come
    with boto3's import, which makes the jobs' clients since issue 24; its CRT manager does not.)"""
    sync(run, sync_env)
    result, summary = sync(run, sync_env, PYTHONPROFILEIMPORTTIME="1")
    assert summary["uploaded"] == 0 and summary["skipped_unchanged"] == len(SITE)
    imported = _imported(result.stderr)
    assert "botocore.client" in imported  # the probe sees imports at all
    assert "boto3" in imported
    assert not imported & {
        "awscrt",
        "_awscrt",
        "s3transfer.crt",
        "requests",
        "bitbucket_pipes_toolkit",
    }
