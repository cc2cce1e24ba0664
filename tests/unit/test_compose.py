"""compose.make_store: the conversation store is chosen from the configured URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivig_chat.compose import make_store
from ivig_chat.config import Settings
from ivig_chat.conversation import SQLiteConversationStore
from ivig_chat.errors import IvigChatError


def test_a_path_and_a_sqlite_url_both_give_a_sqlite_store(tmp_path: Path) -> None:
    for url in (tmp_path / "a.sqlite3", f"sqlite:///{tmp_path / 'b.sqlite3'}"):
        store = make_store(url)
        try:
            assert isinstance(store, SQLiteConversationStore)
        finally:
            store.close()
    assert (tmp_path / "a.sqlite3").is_file()
    assert (tmp_path / "b.sqlite3").is_file()


def test_an_unsupported_scheme_is_refused_with_the_supported_ones(tmp_path: Path) -> None:
    with pytest.raises(IvigChatError, match="sqlite:///path"):
        make_store("postgresql://user@localhost/ivig")


def test_the_default_store_lives_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.conversations_url == str(tmp_path / "data" / "conversations.sqlite3")
    assert Settings(database_url="sqlite:///x.db").conversations_url == "sqlite:///x.db"
