"""API keys: the SQLite key store, and the guard in front of the app (in-process, fake service)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fakes import FakeChatService
from ivig_chat.api import create_app
from ivig_chat.config import Settings
from ivig_chat.errors import InvalidRequest
from ivig_chat.keys import KeyNotFound, SQLiteKeyStore


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "conversations.sqlite3"


@pytest.fixture
def keys(db: Path) -> Iterator[SQLiteKeyStore]:
    store = SQLiteKeyStore(db)
    yield store
    store.close()


# --- the store -------------------------------------------------------------------------------


def test_a_key_is_stored_only_as_its_hash(keys: SQLiteKeyStore, db: Path) -> None:
    key, token = keys.create("acme")
    assert token.startswith("ivk_") and len(token) >= 40
    assert keys.authenticate(token) == key
    keys.close()
    raw = b"".join(p.read_bytes() for p in db.parent.glob("conversations.sqlite3*"))
    assert token.encode() not in raw
    assert hashlib.sha256(token.encode()).hexdigest().encode() in raw


def test_two_keys_are_different_and_list_shows_no_secret(keys: SQLiteKeyStore) -> None:
    (one, t1), (two, t2) = keys.create("one"), keys.create("two", rate="10/minute")
    assert t1 != t2 and one.id != two.id
    listed = keys.list()
    assert [(k.name, k.rate) for k in listed] == [("one", None), ("two", "10/minute")]
    assert all(t1 not in str(k.as_dict()) and t2 not in str(k.as_dict()) for k in listed)
    assert listed[0].prefix == t1[:12]


@pytest.mark.parametrize(
    "token", ["", "ivk_", "ivk_nope", "not-a-key", "ivk_" + "a" * 200, "IVK_x"]
)
def test_unknown_tokens_are_refused(keys: SQLiteKeyStore, token: str) -> None:
    keys.create("acme")
    assert keys.authenticate(token) is None


def test_revoking_works_at_once_by_id_or_name(keys: SQLiteKeyStore) -> None:
    (first, t1), (second, t2) = keys.create("acme"), keys.create("other")
    assert keys.revoke("acme").revoked_at is not None
    assert keys.authenticate(t1) is None
    assert keys.revoke(second.id).id == second.id
    assert keys.authenticate(t2) is None
    with pytest.raises(KeyNotFound):
        keys.revoke("acme")  # no active key of that name any more
    again, t3 = keys.create("acme")  # the name is free again; a new key, not the old one
    assert again.id != first.id and keys.authenticate(t3) == again


@pytest.mark.parametrize(
    ("name", "rate", "problem"),
    [
        ("", None, "name"),
        ("x" * 65, None, "name"),
        ("tab\there", None, "name"),
        ("ok", "lots", "not a rate"),
    ],
)
def test_bad_names_and_rates_are_refused(
    keys: SQLiteKeyStore, name: str, rate: str | None, problem: str
) -> None:
    with pytest.raises(InvalidRequest, match=problem):
        keys.create(name, rate)
    assert keys.list() == []


def test_an_active_name_is_unique(keys: SQLiteKeyStore) -> None:
    keys.create("acme")
    with pytest.raises(InvalidRequest, match="already named"):
        keys.create("acme")


# --- the guard, in process -------------------------------------------------------------------


def app_client(
    tmp_path: Path, keys: SQLiteKeyStore, fake: FakeChatService, **settings: object
) -> TestClient:
    app = create_app(Settings(data_dir=tmp_path, **settings), lambda _: fake, key_store=keys)  # type: ignore[arg-type]
    return TestClient(app)


def test_a_key_is_who_owns_what_it_creates(tmp_path: Path, keys: SQLiteKeyStore) -> None:
    fake = FakeChatService()
    key, token = keys.create("acme")
    with app_client(tmp_path, keys, fake) as client:
        ok = client.post(
            "/v1/chat", json={"message": "hi"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert ok.status_code == 200
        assert client.post("/v1/chat", json={"message": "hi"}).status_code == 200
    assert fake.store.owners == [f"key:{key.id}", "anonymous"]


@pytest.mark.parametrize(
    "header", ["Bearer ivk_wrong", "Basic dXNlcjpwdw==", "Bearer", "Bearer   ", "ivk_x"]
)
def test_a_bad_key_is_401_json_even_when_anonymous_is_allowed(
    tmp_path: Path, keys: SQLiteKeyStore, header: str
) -> None:
    fake = FakeChatService()
    with app_client(tmp_path, keys, fake) as client:
        response = client.post(
            "/v1/chat", json={"message": "hi"}, headers={"Authorization": header}
        )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert fake.requests == []


def test_without_anonymous_use_a_key_is_required(tmp_path: Path, keys: SQLiteKeyStore) -> None:
    fake = FakeChatService()
    _, token = keys.create("acme")
    with app_client(tmp_path, keys, fake, allow_anonymous=False) as client:
        missing = client.get("/v1/articles")
        assert missing.status_code == 401
        assert missing.json()["error"]["code"] == "api_key_required"
        assert client.get("/healthz").status_code == 200
        keyed = client.post(
            "/v1/chat", json={"message": "hi"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert keyed.status_code == 200


def test_each_key_has_its_own_rate(tmp_path: Path, keys: SQLiteKeyStore) -> None:
    _, slow = keys.create("slow", rate="2/minute")
    _, fast = keys.create("fast")
    fake = FakeChatService()
    with app_client(tmp_path, keys, fake, anonymous_rate="1/minute", key_rate="5/minute") as c:

        def codes(token: str, n: int) -> list[int]:
            auth = {"Authorization": f"Bearer {token}"}
            return [
                c.post("/v1/chat", json={"message": "hi"}, headers=auth).status_code
                for _ in range(n)
            ]

        assert codes(slow, 3) == [200, 200, 429]  # its own --rate
        assert codes(fast, 6) == [200] * 5 + [429]  # IVIG_CHAT_KEY_RATE
        assert c.post("/v1/chat", json={"message": "hi"}).status_code == 200  # address: own count


def test_failed_keys_count_against_the_address(tmp_path: Path, keys: SQLiteKeyStore) -> None:
    fake = FakeChatService()
    with app_client(tmp_path, keys, fake, anonymous_rate="3/minute") as client:
        codes = [
            client.get(
                "/v1/articles", headers={"Authorization": f"Bearer ivk_guess{n}"}
            ).status_code
            for n in range(5)
        ]
    assert codes == [401, 401, 401, 429, 429]


@pytest.mark.parametrize(
    ("anonymous", "security"), [(True, [{}, {"ApiKey": []}]), (False, [{"ApiKey": []}])]
)
def test_openapi_declares_the_bearer_scheme(
    tmp_path: Path, keys: SQLiteKeyStore, anonymous: bool, security: list[object]
) -> None:
    with app_client(tmp_path, keys, FakeChatService(), allow_anonymous=anonymous) as client:
        spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    for path, method in [
        ("/v1/chat", "post"),
        ("/v1/conversations/{conversation_id}", "get"),
        ("/v1/feedback", "post"),
        ("/v1/articles", "get"),
    ]:
        operation = spec["paths"][path][method]
        assert operation["security"] == security, path
        assert {"401", "429"} <= set(operation["responses"]), path
    assert "security" not in spec["paths"]["/healthz"]["get"]
