"""The read API: tokens, every endpoint's answer against the OpenAPI document, pagination, query counts."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from openapi_spec_validator import validate

from readiness.models import ApiToken, Campaign, Repo, Team, UpstreamSuggestion
from readiness.queries.api import api_repo
from readiness.queries.badges import repo_badges
from readiness.services.api_tokens import token_create, token_revoke
from tests.readiness.api_support import api_headers, assert_matches_schema
from tests.readiness.factories import make_user, seed_org

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("/api/v1/repos/", "RepoPage"),
    ("/api/v1/repos/svc-0000/", "Repo"),
    ("/api/v1/repos/svc-0001/matrix/", "ArchcheckDocument"),
    ("/api/v1/blockers/", "BlockerPage"),
    ("/api/v1/campaigns/", "CampaignPage"),
    ("/api/v1/campaigns/arm64-q1/", "CampaignDetail"),
    ("/api/v1/upstream/", "UpstreamSuggestionPage"),
]


def _campaign_and_suggestion() -> None:
    today = dt.date.today()
    Campaign.objects.create(
        name="arm64 Q1", slug="arm64-q1", targets=["linux/arm64"], start=today - dt.timedelta(days=30), due=today
    )
    UpstreamSuggestion.objects.create(
        package="filprofiler",
        platform_tags="manylinux_2_17_aarch64",
        repos_blocked=2,
        versions=["2022.5.0"],
        targets=["linux/arm64"],
        title="Wheels for aarch64",
        body="…",
    )


def test_openapi_document_is_valid_and_public(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)  # raises on an invalid OpenAPI 3.1 document
    assert document["servers"] == [{"url": "http://localhost:8000/api/v1"}]
    assert set(document["paths"]) == {
        "/repos/",
        "/repos/{name}/",
        "/repos/{name}/matrix/",
        "/blockers/",
        "/campaigns/",
        "/campaigns/{slug}/",
        "/upstream/",
    }


@pytest.mark.parametrize(("url", "schema"), ENDPOINTS)
def test_every_endpoint_answers_what_the_document_says(client, url, schema):
    seed_org(repos=6, packages=6)
    _campaign_and_suggestion()
    response = client.get(url, headers=api_headers())
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "private, no-store"
    assert_matches_schema(response.json(), schema)


@pytest.mark.parametrize(("url", "_schema"), ENDPOINTS)
def test_no_token_wrong_token_revoked_token_are_401(client, url, _schema):
    seed_org(repos=2, packages=4)
    _campaign_and_suggestion()
    user = make_user("alice")
    client.force_login(user)  # a browser session is not an API credential
    made = token_create(user=user, name="ci")
    assert client.get(url, headers={"Authorization": f"Bearer {made.secret}"}).status_code == 200
    for headers in ({}, {"Authorization": "Bearer rdy_not-a-token"}, {"Authorization": f"Basic {made.secret}"}):
        response = client.get(url, headers=headers)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="readiness"'
        assert_matches_schema(response.json(), "Error")
    token_revoke(token_id=made.token.pk)
    response = client.get(url, headers={"Authorization": f"Bearer {made.secret}"})
    assert response.status_code == 401
    assert response.json() == {"error": "this API token is unknown or revoked"}


def test_a_deactivated_user_token_is_refused(client):
    headers = api_headers("leaver")
    assert client.get("/api/v1/repos/", headers=headers).status_code == 200
    ApiToken.objects.get().user.__class__.objects.filter(username="leaver").update(is_active=False)
    assert client.get("/api/v1/repos/", headers=headers).status_code == 401


def test_read_only(client):
    headers = api_headers()
    for method in (client.post, client.put, client.delete, client.patch):
        response = method("/api/v1/repos/", headers=headers)
        assert response.status_code == 405
        assert response["Allow"] == "GET, HEAD"


def test_tokens_are_stored_hashed_and_record_their_use(client):
    made = token_create(user=make_user("bob"), name="  dashboards \n ")
    row = ApiToken.objects.get()
    assert made.secret.startswith("rdy_") and len(made.secret) > 40
    assert made.secret not in {row.token_sha256, row.prefix} and row.prefix == made.secret[:10]
    assert row.name == "dashboards" and row.last_used_at is None
    client.get("/api/v1/repos/", headers={"Authorization": f"Bearer {made.secret}"})
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_matrix_is_the_document_the_matrix_command_prints(client):
    seed_org(repos=3, packages=5)
    out = io.StringIO()
    call_command("matrix", "svc-0001", "--format", "json", stdout=out)
    (printed,) = json.loads(out.getvalue())
    served = client.get("/api/v1/repos/svc-0001/matrix/", headers=api_headers()).json()
    assert served == printed
    assert served["schema"] == "archcheck/1"


def test_not_found_and_bad_parameters(client):
    seed_org(repos=2, packages=3)
    headers = api_headers()
    response = client.get("/api/v1/repos/nope/matrix/", headers=headers)
    assert response.status_code == 404 and response.json() == {"error": "no repository named 'nope'"}
    assert client.get("/api/v1/repos/nope/", headers=headers).status_code == 404
    assert client.get("/api/v1/campaigns/nope/", headers=headers).status_code == 404
    for query in ("page=0", "page=x", "page_size=501", "page_size=0"):
        response = client.get(f"/api/v1/repos/?{query}", headers=headers)
        assert response.status_code == 400, query
        assert_matches_schema(response.json(), "Error")
    assert client.get("/api/v1/upstream/?status=nonsense", headers=headers).status_code == 400


def test_pagination_links(client):
    seed_org(repos=5, packages=3)
    headers = api_headers()
    first = client.get("/api/v1/repos/?page_size=2&team=", headers=headers).json()
    assert first["count"] == 5 and [r["name"] for r in first["results"]] == ["svc-0000", "svc-0001"]
    assert first["previous"] is None
    assert first["next"] == "http://localhost:8000/api/v1/repos/?page=2&page_size=2&team="
    last = client.get("/api/v1/repos/?page=3&page_size=2", headers=headers).json()
    assert [r["name"] for r in last["results"]] == ["svc-0004"] and last["next"] is None
    assert last["previous"] == "http://localhost:8000/api/v1/repos/?page=2&page_size=2"
    team = client.get("/api/v1/repos/?team=team-1", headers=headers).json()
    assert [r["name"] for r in team["results"]] == ["svc-0001", "svc-0004"]


def test_blockers_follow_the_pages_rule(client):
    seed_org(repos=4, packages=5)
    body = client.get("/api/v1/blockers/?page_size=500", headers=api_headers()).json()
    keys = {(b["repo"], b.get("package") or b["rule"], b.get("target")) for b in body["results"]}
    # grpcio on arm64 for even repos, filprofiler for r % 3 == 0, the pinned platform for r % 4 == 0;
    # psutil builds from source but no missing-compiler finding makes that a blocker here
    assert keys == {
        ("svc-0000", "grpcio", "linux/arm64"),
        ("svc-0000", "filprofiler", "linux/arm64"),
        ("svc-0000", "platform-pinned", None),
        ("svc-0002", "grpcio", "linux/arm64"),
        ("svc-0003", "filprofiler", "linux/arm64"),
    }
    grpcio = next(b for b in body["results"] if b.get("package") == "grpcio")
    assert grpcio["fix_version"] == "1.60.0" and grpcio["page"] == "http://localhost:8000/repos/svc-0000/"


# token lookup (+ its last-use write on the first request), then the endpoint's own queries
@pytest.mark.parametrize("repos", [1, 40])
@pytest.mark.parametrize(
    ("url", "queries"),
    [
        ("/api/v1/repos/", 2),
        ("/api/v1/repos/svc-0000/matrix/", 3),
        ("/api/v1/blockers/", 2),
        ("/api/v1/campaigns/", 3),
        ("/api/v1/upstream/", 2),
    ],
)
def test_query_counts_do_not_grow_with_the_organisation(client, django_assert_num_queries, repos, url, queries):
    seed_org(repos=repos, packages=6)
    _campaign_and_suggestion()
    headers = api_headers()
    client.get("/api/v1/openapi.json", headers=headers)
    client.get(url, headers=headers)  # records the token's use: later requests within minutes do not
    with django_assert_num_queries(1 + queries):
        assert client.get(url, headers=headers).status_code == 200


# token lookup, then the campaign's page: whatever the number of repos and of the campaign's teams
@pytest.mark.parametrize(("repos", "teams"), [(1, 1), (40, 8)])
def test_campaign_detail_query_count_does_not_grow(client, django_assert_num_queries, repos, teams):
    seed_org(repos=repos, packages=6, teams=teams)
    _campaign_and_suggestion()
    Campaign.objects.get(slug="arm64-q1").teams.set(Team.objects.all())
    headers = api_headers()
    client.get("/api/v1/campaigns/arm64-q1/", headers=headers)  # records the token's use
    with django_assert_num_queries(1 + 12):
        response = client.get("/api/v1/campaigns/arm64-q1/", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert_matches_schema(body, "CampaignDetail")
    assert body["status"]["repos"] == repos and len(body["teams_progress"]) == teams


def test_api_token_command(capsys):
    make_user("carol")
    out, err = io.StringIO(), io.StringIO()
    call_command("api_token", "create", "carol", "--name", "ci", stdout=out, stderr=err)
    secret = out.getvalue().strip()
    assert secret.startswith("rdy_") and "not shown again" in err.getvalue()
    token = ApiToken.objects.get()
    assert token.name == "ci" and token.user.username == "carol"
    listing = io.StringIO()
    call_command("api_token", "list", stdout=listing)
    assert token.prefix in listing.getvalue() and secret not in listing.getvalue()
    call_command("api_token", "revoke", token.prefix, stdout=io.StringIO())
    token.refresh_from_db()
    assert token.revoked_at is not None
    with pytest.raises(Exception, match="no active token"):
        call_command("api_token", "revoke", str(token.pk))
    with pytest.raises(Exception, match="no user 'nobody'"):
        call_command("api_token", "create", "nobody")


def test_settings_page_makes_shows_once_and_revokes(client):
    user = make_user("dora")
    client.force_login(user)
    response = client.post("/settings/api-tokens/", {"name": "grafana"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=user)
    page = response.content.decode()
    secret = page.split('id="new-token-value">', 1)[1].split("<", 1)[0]
    assert secret.startswith(token.prefix) and len(secret) > 40
    again = client.get("/settings/email/").content.decode()
    assert "grafana" in again and secret not in again and token.prefix in again
    assert client.get("/api/v1/repos/", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    # someone else's token cannot be revoked from here
    other = token_create(user=make_user("eve"), name="x")
    client.post(f"/settings/api-tokens/{other.token.pk}/revoke/")
    assert ApiToken.objects.get(pk=other.token.pk).revoked_at is None
    response = client.post(f"/settings/api-tokens/{token.pk}/revoke/", follow=True)
    assert "Token revoked" in response.content.decode()
    assert client.get("/api/v1/repos/", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_links_to_a_repo_page_are_the_dashboards_own_whatever_the_name(db):
    # Names may hold "/", spaces or "#": the API, the badges' Markdown and chat messages link to
    # the page as Django routes it (one rule, readiness.queries.links), never a raw name.
    name = "payments/svc #2 (eu)"
    Repo.objects.create(name=name, url="https://git.example.test/payments/svc-2.git")
    page = "https://readiness.example.test" + reverse("readiness:repo", args=[name])
    assert page.endswith("/repos/payments/svc%20%232%20(eu)/")
    assert api_repo(name=name, site_root="https://readiness.example.test")["page"] == page
    (badge,) = repo_badges(
        name=name, public=True, platforms=["linux/arm64"], site_root="https://readiness.example.test"
    )
    assert badge.markdown.endswith(f"]({page})")
