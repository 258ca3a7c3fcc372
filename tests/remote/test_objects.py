"""The object layer against a real S3 API (moto on loopback): whole puts, create-only and
replace-if-unchanged, listing, deletion, and the refusal of a store without conditional writes."""

from __future__ import annotations

import pytest

from agent_tui.store.s3 import (
    Changed,
    Exists,
    NoConditionalWrites,
    S3Objects,
    StoreError,
    parse_url,
)


def test_create_is_refused_when_the_key_exists_and_replace_when_it_changed(s3_root: str) -> None:
    objects = S3Objects(s3_root)
    first = objects.create("agents/a/journal/1.json", b"one")
    with pytest.raises(Exists):
        objects.create("agents/a/journal/1.json", b"two")
    assert objects.get("agents/a/journal/1.json") == (b"one", first)
    second = objects.replace("agents/a/journal/1.json", b"three", first)
    with pytest.raises(Changed):
        objects.replace("agents/a/journal/1.json", b"late", first)
    assert objects.get("agents/a/journal/1.json") == (b"three", second)
    objects.check_conditional()
    assert [info.key for info in objects.list()] == ["agents/a/journal/1.json"]  # probe removed


def test_list_is_relative_to_the_prefix_and_delete_removes_only_what_is_named(
    s3_root: str,
) -> None:
    objects = S3Objects(s3_root)
    other = S3Objects(s3_root.rsplit("/", 1)[0] + "/team-b")
    for key in ("agents/a/config.json", "agents/b/config.json", "agents/b/x.txt"):
        objects.put(key, b"{}")
    other.put("agents/a/config.json", b"{}")
    assert sorted(info.key for info in objects.list("agents/b/")) == [
        "agents/b/config.json",
        "agents/b/x.txt",
    ]
    objects.delete(["agents/b/config.json", "agents/b/x.txt"])
    assert [info.key for info in objects.list()] == ["agents/a/config.json"]
    assert [info.key for info in other.list()] == ["agents/a/config.json"]
    assert objects.get("agents/b/x.txt") is None


def test_a_store_that_ignores_if_none_match_is_refused(
    s3_root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = S3Objects(s3_root)
    monkeypatch.setattr(objects, "create", objects.put)  # what such a store does
    with pytest.raises(NoConditionalWrites, match="ignores conditional writes"):
        objects.check_conditional()


@pytest.mark.parametrize(
    "url", ["s3://", "s3://Up/x", "s3://ab", "s3://bucket/../x", "file:///tmp", "s3://b_b/x"]
)
def test_a_bad_address_is_a_clear_error(url: str) -> None:
    with pytest.raises(StoreError):
        parse_url(url)


def test_an_unreachable_store_names_the_root_not_the_credentials(
    s3_root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(StoreError) as caught:
        list(S3Objects(s3_root).list())
    message = str(caught.value)
    assert s3_root in message and "testing-secret-key" not in message
