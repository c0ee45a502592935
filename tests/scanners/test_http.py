"""The shared request helper against a real server on loopback: retries, Retry-After, timeouts, the deadline."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from scanners.deep_check import deep_check_wheel
from scanners.distributions import DistributionFile
from scanners.http import (
    RETRY_STATUSES,
    HttpError,
    RetryPolicy,
    new_client,
    one_line,
    redact,
    request,
)
from scanners.registry import RegistryClient, base_image_findings
from tests.support.scripted_server import ScriptedServer

FAST = RetryPolicy(backoff=0.001)


class Sleeps(list):
    """Records waits instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with new_client() as client:
        yield client


def test_503_then_ok_is_retried(http: httpx.Client) -> None:
    with ScriptedServer((503, {}, b"busy", 0), (200, {}, b"hello", 0)) as server:
        sleeps = Sleeps()
        response = request(http, "GET", server.url, policy=FAST, sleep=sleeps)
    assert (response.status_code, response.content) == (200, b"hello")
    assert server.hits == 2 and len(sleeps) == 1 and sleeps[0] > 0


def test_backoff_doubles_with_jitter() -> None:
    policy = RetryPolicy(backoff=1.0, jitter=0.5)
    for retry in (1, 2, 3):
        assert 0.5 * 2 ** (retry - 1) <= policy.delay(retry) <= 1.5 * 2 ** (retry - 1)
    assert [RetryPolicy(backoff=1.0, jitter=0).delay(n) for n in (1, 2, 3)] == [1, 2, 4]


@pytest.mark.parametrize(("retry_after", "cap", "expected"), [("2", 60.0, 2.0), ("120", 5.0, 5.0), ("0", 60.0, 0.0)])
def test_retry_after_is_honoured_and_capped(http: httpx.Client, retry_after: str, cap: float, expected: float) -> None:
    with ScriptedServer((429, {"Retry-After": retry_after}, b"", 0), (200, {}, b"ok", 0)) as server:
        sleeps = Sleeps()
        response = request(http, "GET", server.url, policy=RetryPolicy(max_retry_after=cap), sleep=sleeps)
    assert response.status_code == 200
    assert sleeps == [expected]


def test_a_real_retry_after_wait_is_waited(http: httpx.Client) -> None:
    with ScriptedServer((503, {"Retry-After": "1"}, b"", 0), (200, {}, b"ok", 0)) as server:
        started = time.monotonic()
        assert request(http, "GET", server.url, policy=FAST).status_code == 200
    assert time.monotonic() - started >= 0.9


def test_404_is_returned_without_a_retry(http: httpx.Client) -> None:
    with ScriptedServer((404, {}, b"no such page", 0), (200, {}, b"", 0)) as server:
        sleeps = Sleeps()
        response = request(http, "GET", server.url, policy=FAST, sleep=sleeps)
    assert (response.status_code, response.content) == (404, b"no such page")
    assert server.hits == 1 and sleeps == []


def test_retries_running_out_on_a_status_raise_with_the_last_answer(http: httpx.Client) -> None:
    with ScriptedServer((500, {}, b"broken", 0)) as server:
        url = server.url
        with pytest.raises(HttpError) as excinfo:
            request(http, "GET", url, policy=RetryPolicy(retries=2, backoff=0.001), sleep=Sleeps())
    error = excinfo.value
    assert (error.kind, error.attempts, server.hits) == ("status", 3, 3)
    assert error.response is not None and error.response.content == b"broken"
    assert str(error) == f"{url}: answered HTTP 500 (gave up after 3 attempts)"


def test_429_is_retryable_by_default_but_a_policy_may_leave_it_out(http: httpx.Client) -> None:
    assert 429 in RETRY_STATUSES
    with ScriptedServer((429, {}, b"", 0), (200, {}, b"", 0)) as server:
        response = request(http, "GET", server.url, policy=RetryPolicy(statuses=frozenset({503})), sleep=Sleeps())
    assert response.status_code == 429 and server.hits == 1


def test_the_per_request_timeout_is_retried_then_reported(http: httpx.Client) -> None:
    # The first byte comes after 3 s: each attempt's 0.3 s read timeout fires first.
    with ScriptedServer((200, {}, b"late", 3.0)) as server:
        sleeps = Sleeps()
        started = time.monotonic()
        with pytest.raises(HttpError) as excinfo:
            request(http, "GET", server.url, timeout=0.3, policy=RetryPolicy(retries=1, backoff=0.001), sleep=sleeps)
    elapsed = time.monotonic() - started
    assert excinfo.value.kind == "timeout" and excinfo.value.attempts == 2
    assert "timed out after 0.3s" in str(excinfo.value)
    assert len(sleeps) == 1
    assert elapsed < 5


def test_the_deadline_ends_a_body_that_trickles_in(http: httpx.Client) -> None:
    # One byte every 5 s never trips a 30 s read timeout; only the deadline can stop it.
    with ScriptedServer((200, {}, b"x" * 100, 5.0)) as server:
        started = time.monotonic()
        with pytest.raises(HttpError) as excinfo:
            request(http, "GET", server.url, timeout=30.0, deadline=1.5, policy=FAST)
    elapsed = time.monotonic() - started
    assert excinfo.value.kind == "deadline"
    assert "timed out" in str(excinfo.value) and "1.5s deadline" in str(excinfo.value)
    assert 1.0 <= elapsed < 10


def test_the_deadline_is_checked_between_chunks(http: httpx.Client) -> None:
    # Bytes keep coming faster than any read timeout: the check between chunks ends the call.
    with ScriptedServer((200, {}, b"x" * 200, 0.1)) as server:
        started = time.monotonic()
        with pytest.raises(HttpError) as excinfo:
            request(http, "GET", server.url, timeout=30.0, deadline=1.0, policy=FAST)
    assert excinfo.value.kind == "deadline"
    assert 0.8 <= time.monotonic() - started < 10


def test_the_deadline_covers_retries(http: httpx.Client) -> None:
    with ScriptedServer((503, {"Retry-After": "30"}, b"", 0)) as server:
        sleeps = Sleeps()
        with pytest.raises(HttpError) as excinfo:
            request(http, "GET", server.url, deadline=2.0, policy=RetryPolicy(max_retry_after=60), sleep=sleeps)
    # Waiting 30 s would pass the 2 s deadline: the helper gives up instead of waiting.
    assert excinfo.value.kind == "status" and server.hits == 1 and sleeps == []


def test_a_body_over_max_bytes_is_refused(http: httpx.Client) -> None:
    with ScriptedServer((200, {}, b"x" * 2048, 0)) as server:
        with pytest.raises(HttpError) as excinfo:
            request(http, "GET", server.url, max_bytes=1024, policy=FAST)
    assert excinfo.value.kind == "too_large"


def test_a_dead_server_is_unreachable_with_the_url_redacted(http: httpx.Client) -> None:
    server = ScriptedServer((200, {}, b"", 0)).start()
    url = f"http://user:s3cret@{server.address}/page"
    server.stop()
    with pytest.raises(HttpError) as excinfo:
        request(http, "GET", url, policy=RetryPolicy(retries=1, backoff=0.001), sleep=Sleeps())
    assert excinfo.value.kind == "unreachable" and excinfo.value.attempts == 2
    assert "s3cret" not in str(excinfo.value) and "***@127.0.0.1" in str(excinfo.value)


def test_a_bad_url_is_not_retried(http: httpx.Client) -> None:
    sleeps = Sleeps()
    with pytest.raises(HttpError) as excinfo:
        request(http, "GET", "ftp://index.test/simple/", policy=FAST, sleep=sleeps)
    assert excinfo.value.kind == "bad_url" and sleeps == []


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("https://user:token@index.test/simple/", "https://***@index.test/simple/"),
        ("https://token@index.test:8443/simple/", "https://***@index.test:8443/simple/"),
        ("https://us@r:p@ss@index.test/r", "https://***@index.test/r"),
        ("ssh://git@host.test/r.git", "ssh://***@host.test/r.git"),
        ("https://index.test/simple/", "https://index.test/simple/"),
        ("https://index.test/files/a@b.whl", "https://index.test/files/a@b.whl"),
        ("https://index.test/?who=a@b", "https://index.test/?who=a@b"),
        ("git@host.test:org/repo.git", "git@host.test:org/repo.git"),
        (
            "failed: https://a:b@h.test/x and http://c:d@i.test/y",
            "failed: https://***@h.test/x and http://***@i.test/y",
        ),
        ("/srv/repos/a@b", "/srv/repos/a@b"),
    ],
)
def test_redact(text: str, redacted: str) -> None:
    assert redact(text) == redacted


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  two\n lines\there ", "two lines here"),
        (ValueError("bad\nvalue"), "bad value"),
        (TimeoutError(), "TimeoutError"),
        ("", ""),
        ("x" * 400, "x" * 297 + "..."),
    ],
)
def test_one_line(value: BaseException | str, expected: str) -> None:
    assert one_line(value) == expected


def test_one_line_limit() -> None:
    assert one_line("abcdefghij", limit=8) == "abcde..."


def test_an_index_that_trickles_its_page_ends_in_an_error_result() -> None:
    from scanners.index import IndexClient

    with ScriptedServer((200, {"Content-Type": "application/vnd.pypi.simple.v1+json"}, b"{" * 100, 5.0)) as server:
        started = time.monotonic()
        with IndexClient(f"http://{server.address}/simple/", deadline=1.5, timeout=30.0) as client:
            result = client.fetch_project("six")
    assert result.status == "error" and "timed out" in result.error and "1.5s deadline" in result.error
    assert time.monotonic() - started < 10


def test_a_registry_that_trickles_its_manifest_ends_in_an_unchecked_answer() -> None:
    manifest = (200, {"Content-Type": "application/vnd.oci.image.index.v1+json"}, b"{" * 100, 5.0)
    with ScriptedServer(manifest) as server:
        with RegistryClient(endpoints={"docker.io": f"http://{server.address}"}, deadline=1.5, timeout=30.0) as client:
            answer = client.platforms("python:3.12-slim")
    assert server.hits == 1  # the deadline is not a reason to ask again
    assert answer.platforms is None
    assert answer.error is not None and "timed out" in answer.error and "1.5s deadline" in answer.error
    (finding,) = base_image_findings(answer, path="Dockerfile", line=1)
    assert (finding.rule, finding.severity) == ("base-image-unknown", "info")


def test_a_registry_manifest_over_the_size_limit_is_refused() -> None:
    huge = (200, {"Content-Type": "application/vnd.oci.image.index.v1+json"}, b" " * (4 * 1024 * 1024 + 1), 0)
    with ScriptedServer(huge) as server:
        with RegistryClient(endpoints={"docker.io": f"http://{server.address}"}) as client:
            answer = client.platforms("python:3.12-slim")
    assert answer.platforms is None
    assert answer.error == "manifest of docker.io/library/python:3.12-slim is larger than 4194304 bytes"


def test_a_wheel_whose_ranges_trickle_in_ends_in_an_error_at_the_deadline(http: httpx.Client) -> None:
    tail = (206, {"Content-Range": "bytes 0-99/100"}, b"x" * 100, 5.0)
    with ScriptedServer(tail) as server:
        wheel = DistributionFile("mislabel-1.0-py3-none-any.whl", url=server.url)
        result = deep_check_wheel(wheel, http=http, timeout=30.0, deadline=1.5)
    assert server.hits == 1
    assert result.problems == ()
    assert result.error.startswith("cannot read mislabel-1.0-py3-none-any.whl: timed out")
    assert "1.5s deadline" in result.error


def test_a_wheel_server_that_ignores_range_is_refused_before_the_whole_wheel(http: httpx.Client) -> None:
    whole = (200, {}, b"x" * (1024 * 1024), 0)
    with ScriptedServer(whole) as server:
        wheel = DistributionFile("mislabel-1.0-py3-none-any.whl", url=server.url)
        result = deep_check_wheel(wheel, http=http)
    assert result.error == (
        "cannot read mislabel-1.0-py3-none-any.whl: the server answered more than the 65577 bytes of a Range request"
    )


def test_without_userinfo_drops_what_redact_hides() -> None:
    from scanners.http import without_userinfo

    url = "https://user:tok@git.example.test/org/x.git"
    assert without_userinfo(url) == "https://git.example.test/org/x.git"
    assert redact(url) == "https://***@git.example.test/org/x.git"
    assert without_userinfo("git@host.test:org/x.git") == "git@host.test:org/x.git"  # scp form: no scheme, kept


def test_a_body_is_sent_with_every_attempt_and_a_secret_url_is_never_named() -> None:
    from tests.support.chat_receivers import Receiver

    with Receiver("webhook", statuses=(503,)) as hook, httpx.Client() as http:
        address = hook.address
        secret_url = f"http://{address}/services/T0/B0/the-key"
        with pytest.raises(HttpError) as caught:
            request(
                http,
                "POST",
                secret_url,
                content=b'{"event": "x"}',
                policy=RetryPolicy(retries=1, backoff=0),
                shown_url=f"http://{address}/…",
            )
    assert [r.body for r in hook.received] == [b'{"event": "x"}'] * 2
    assert caught.value.attempts == 2 and "the-key" not in str(caught.value)
    assert str(caught.value) == f"http://{address}/…: answered HTTP 503 (gave up after 2 attempts)"
