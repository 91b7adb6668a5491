"""The feedback page: newest feedback and customers, escaped."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.web.conftest import sign_in

from amends.users.rules import Role


@pytest.fixture(autouse=True)
def _signed_in(client: TestClient, engine: Engine) -> None:
    sign_in(client, engine, "lead@example.com", role=Role.LEAD)


def test_empty_desk_says_how_to_start(client: TestClient) -> None:
    page = client.get("/feedback")
    assert page.status_code == 200
    assert "No feedback yet" in page.text
    assert "amends ingest" in page.text


def test_lists_feedback_and_customers_with_markup_escaped(client: TestClient) -> None:
    client.post(
        "/api/v1/feedback",
        json={
            "text": "<script>alert('x')</script> my order is late",
            "author_name": "Zoë <b>Bold</b>",
            "email": "zoe@example.com",
            "channel": "x",
            "reach": 48000,
        },
    )
    page = client.get("/feedback")
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; my order is late" in page.text
    assert "Zoë &lt;b&gt;Bold&lt;/b&gt;" in page.text
    assert "48,000 followers" in page.text
    assert "zoe@example.com" in page.text


def test_static_assets_are_served_locally(client: TestClient) -> None:
    css = client.get("/static/amends.css")
    assert css.status_code == 200
    assert "text/css" in css.headers["content-type"]


def test_shows_priority_and_why(client: TestClient) -> None:
    client.post(
        "/api/v1/feedback",
        json={"text": "It caught fire in my kitchen!", "email": "f@example.com"},
    )
    page = client.get("/feedback").text
    assert 'class="prio p1"' in page
    assert "safety" in page


def test_the_whole_desks_feedback_is_a_leads_page(client: TestClient, engine: Engine) -> None:
    from tests.web.conftest import sign_in as again

    client.cookies.clear()
    again(client, engine, "agent@example.com", role=Role.AGENT)
    assert client.get("/feedback").status_code == 403
