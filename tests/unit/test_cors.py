"""Allowed origins are a setting: a listed origin may call the API from a browser, others not."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ivig_chat.api import create_app
from ivig_chat.config import Settings
from ivig_chat.service import ChatService


def _no_service(settings: Settings) -> ChatService:
    raise RuntimeError("not needed: a CORS preflight never reaches the service")


def _preflight(client: TestClient, origin: str):  # type: ignore[no-untyped-def]
    return client.options(
        "/v1/chat",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )


def test_a_listed_origin_is_allowed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, allowed_origins=["https://journal.example"])
    with TestClient(create_app(settings, _no_service)) as client:
        response = _preflight(client, "https://journal.example")
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://journal.example"
        other = _preflight(client, "https://evil.example")
        assert other.headers.get("access-control-allow-origin") != "https://evil.example"
        # A refused preflight is the API's JSON error, not plain text.
        assert other.status_code == 400
        assert other.json()["error"]["code"] == "cors_rejected"


def test_no_origin_is_allowed_by_default(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with TestClient(create_app(Settings(data_dir=tmp_path), _no_service)) as client:
        response = _preflight(client, "https://journal.example")
        assert "access-control-allow-origin" not in response.headers
