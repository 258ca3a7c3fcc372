"""An s3:// root's keys, region and endpoint from the standard AWS settings: the environment,
then AWS_PROFILE's profile in the shared files, read without boto3. A loopback server that
records each request's Authorization header shows which keys and region signed it."""

from __future__ import annotations

import http.server
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_tui.store import aws_settings
from agent_tui.store.s3 import S3Objects, StoreError

EMPTY_LISTING = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    b"<Name>b</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys>"
    b"<IsTruncated>false</IsTruncated></ListBucketResult>"
)


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            seen.append(self.headers.get("Authorization", ""))
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(EMPTY_LISTING)))
            self.end_headers()
            self.wfile.write(EMPTY_LISTING)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No AWS variable of the machine's; shared files under tmp_path/.aws."""
    import os

    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".aws").mkdir()
    return tmp_path / ".aws"


def write_profiles(aws: Path, endpoint: str) -> None:
    (aws / "credentials").write_text(
        "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = default-secret\n\n"
        "[team]\naws_access_key_id = AKIDTEAM\naws_secret_access_key = team-secret-value\n"
    )
    (aws / "config").write_text(
        f"[default]\nregion = us-east-2\nendpoint_url = {endpoint}\n\n"
        f"[profile team]\nregion = eu-west-3\nendpoint_url = {endpoint}\n\n"
        "[profile sso]\nsso_session = corp\nsso_account_id = 1\nregion = eu-west-1\n"
    )


def test_aws_profile_signs_with_its_keys_in_its_region_at_its_endpoint(
    clean_env: Path, recorder: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, seen = recorder
    write_profiles(clean_env, endpoint)
    monkeypatch.setenv("AWS_PROFILE", "team")
    assert list(S3Objects("s3://agents-bucket/team-a").list("agents/")) == []
    assert seen and "Credential=AKIDTEAM/" in seen[-1] and "/eu-west-3/s3/" in seen[-1]

    monkeypatch.delenv("AWS_PROFILE")  # no profile named: [default]
    list(S3Objects("s3://agents-bucket/team-a").list("agents/"))
    assert "Credential=AKIDDEFAULT/" in seen[-1] and "/us-east-2/s3/" in seen[-1]


def test_the_environments_keys_win_over_the_profiles(
    clean_env: Path, recorder: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, seen = recorder
    write_profiles(clean_env, endpoint)
    monkeypatch.setenv("AWS_PROFILE", "team")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    list(S3Objects("s3://agents-bucket/x").list(""))
    assert "Credential=AKIDENV/" in seen[-1] and "/ap-south-1/s3/" in seen[-1]


def test_shared_files_elsewhere_are_read_from_their_variables(
    clean_env: Path,
    tmp_path: Path,
    recorder: tuple[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoint, seen = recorder
    other = tmp_path / "elsewhere"
    other.mkdir()
    write_profiles(other, endpoint)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(other / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(other / "config"))
    monkeypatch.setenv("AWS_PROFILE", "team")
    list(S3Objects("s3://agents-bucket/x").list(""))
    assert "Credential=AKIDTEAM/" in seen[-1]


def test_a_missing_or_keyless_profile_is_said_without_a_secret(
    clean_env: Path, recorder: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, _ = recorder
    write_profiles(clean_env, endpoint)
    monkeypatch.setenv("AWS_PROFILE", "nobody")
    with pytest.raises(StoreError) as missing:
        S3Objects("s3://agents-bucket/x")
    assert "'nobody'" in str(missing.value) and "credentials" in str(missing.value)

    monkeypatch.setenv("AWS_PROFILE", "sso")  # keys from SSO: boto3's chain, here absent
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(StoreError) as indirect:
        S3Objects("s3://agents-bucket/x")
    assert "boto3" in str(indirect.value) and "'sso'" in str(indirect.value)

    monkeypatch.setenv("AWS_PROFILE", "team")
    settings = aws_settings.resolve()
    assert "team-secret-value" not in repr(settings) and "AKIDTEAM" not in repr(settings)
    assert "team-secret-value" not in repr(S3Objects("s3://agents-bucket/x"))


def test_an_unreadable_settings_file_is_an_error_naming_the_file(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / "credentials").write_text("aws_access_key_id = no section header\n")
    monkeypatch.setenv("AWS_PROFILE", "team")
    with pytest.raises(StoreError, match="credentials: cannot be read"):
        S3Objects("s3://agents-bucket/x")
