"""GitHub App authentication against the loopback API: JWT, installation tokens and their expiry."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from readiness.services.github_app import GitHubAuth, GitHubChecks, GitHubChecksError, app_jwt, forget_tokens
from scanners.http import new_client
from tests.readiness.test_pull_request_checks import _KEY, APP_ID, PEM
from tests.support.github_api_server import GitHubApiServer


@pytest.fixture
def api():
    with GitHubApiServer(token=None) as server:
        server.checks.app_id, server.checks.public_key = APP_ID, _KEY.public_key()
        forget_tokens()
        yield server
        forget_tokens()


def test_installation_token_is_cached_until_a_minute_before_it_expires(api):
    api.checks.token_seconds = 100
    now = [time.time()]
    client = GitHubChecks(
        base_url=api.url, auth=GitHubAuth(app_id=APP_ID, private_key=PEM), http=new_client(), clock=lambda: now[0]
    )
    first = client.token_for("acme/svc", None)  # asks which installation, then for its token
    assert first == api.checks.issued[0]
    assert [r.path for r in api.requests] == ["/repos/acme/svc/installation", "/app/installations/4242/access_tokens"]
    assert client.token_for("acme/svc", 4242) == first
    now[0] += 30  # 70 s left: still good
    assert client.token_for("acme/svc", 4242) == first
    now[0] += 15  # less than a minute left: renewed first
    assert client.token_for("acme/svc", 4242) != first
    assert len(api.checks.issued) == 2


def test_a_wrong_key_or_no_credentials_is_one_clear_line_without_secrets(api):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    from cryptography.hazmat.primitives import serialization

    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    client = GitHubChecks(base_url=api.url, auth=GitHubAuth(app_id=APP_ID, private_key=pem), http=new_client())
    with pytest.raises(GitHubChecksError) as refused:
        client.token_for("acme/svc", 4242)
    assert "401" in str(refused.value) and pem not in str(refused.value)
    with pytest.raises(GitHubChecksError, match="cannot sign"):
        app_jwt(APP_ID, "not a key")
    with pytest.raises(GitHubChecksError, match="no GitHub credentials"):
        GitHubChecks(base_url=api.url, auth=GitHubAuth(), http=new_client()).token_for("acme/svc", None)
