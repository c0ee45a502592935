"""READINESS_HTTPS=1 is the one switch to a hardened deployment: `check --deploy` says nothing,
plain HTTP is redirected (except what a trusted proxy says arrived over HTTPS), cookies are
secure, and every response carries the security headers."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from readiness.middleware import CONTENT_SECURITY_POLICY

ROOT = Path(__file__).resolve().parents[2]


def _check_deploy(tmp_path, **env: str) -> str:
    # A deployment's environment, not the test run's (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE).
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("READINESS_", "DATABASE_URL", "DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"))
    }
    environment.update(
        READINESS_VAR_DIR=str(tmp_path),
        DEBUG="0",
        ALLOWED_HOSTS="readiness.example.test",
        SECRET_KEY=secrets.token_urlsafe(60),
        **env,
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.stdout + done.stderr


def test_check_deploy_is_clean_with_the_https_switch(tmp_path):
    assert "System check identified no issues" in _check_deploy(tmp_path, READINESS_HTTPS="1")
    behind_proxy = _check_deploy(tmp_path, READINESS_HTTPS="1", READINESS_PROXY_SSL_HEADER="X-Forwarded-Proto: https")
    assert "System check identified no issues" in behind_proxy


def test_without_the_switch_check_deploy_names_what_is_missing(tmp_path):
    output = _check_deploy(tmp_path)
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in output


def test_a_malformed_proxy_header_stops_start_up_with_its_name(tmp_path):
    output = _check_deploy(tmp_path, READINESS_HTTPS="1", READINESS_PROXY_SSL_HEADER="X-Forwarded-Proto")
    assert "READINESS_PROXY_SSL_HEADER='X-Forwarded-Proto'" in output


@pytest.mark.django_db
def test_every_response_carries_the_security_headers(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert (
        "script-src 'self'" in CONTENT_SECURITY_POLICY
        and "'unsafe-inline'" not in CONTENT_SECURITY_POLICY.split("script-src")[1].split(";")[0]
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_https_redirect_hsts_and_the_trusted_proxy_header(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    plain = Client().get("/accounts/login/")
    assert plain.status_code == 301 and plain["Location"] == "https://testserver/accounts/login/"
    proxied = Client().get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    assert proxied.status_code == 200
    assert proxied["Strict-Transport-Security"].startswith("max-age=3600")
