"""The migrations build the schema that ``store/schema.py`` declares, on SQLite and PostgreSQL,
and the latest one can be undone and applied again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from crossdock.gateway.store import schema as t
from crossdock.gateway.store.migrate import alembic_config, upgrade

#: indexes that migration 0006 dropped: a wider index with the same leading column serves them
REDUNDANT = {("messages", "ix_messages_partner_id"), ("messages", "ix_messages_status"),
             ("interchanges", "ix_interchanges_message_id"), ("groups", "ix_groups_message_id"),
             ("transaction_sets", "ix_transaction_sets_message_id"), ("work_items", "ix_work_items_message_id")}


def _differences(engine: Engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), t.metadata)


def _indexes(engine: Engine) -> set[tuple[str, str]]:
    inspector = inspect(engine)
    return {(table, index["name"]) for table in inspector.get_table_names() for index in inspector.get_indexes(table)}


def test_the_migrated_schema_is_the_declared_one(bare_engine: Engine) -> None:
    engine = bare_engine
    upgrade(engine)
    assert _differences(engine) == []
    assert not REDUNDANT & _indexes(engine)


def test_the_redundant_indexes_come_back_on_downgrade_and_go_again_on_upgrade(bare_engine: Engine) -> None:
    engine = bare_engine
    upgrade(engine)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
    assert REDUNDANT <= _indexes(engine)
    upgrade(engine)
    assert not REDUNDANT & _indexes(engine)
    assert _differences(engine) == []
