"""The migrated database is exactly SCHEMA.txt, and the models agree with the migrations."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from cognova.extensions import db
from cognova.models.base import include_object
from tests.schema_check import describe_database, differences, parse_schema_txt


def test_schema_txt_has_all_17_tables():
    assert len(parse_schema_txt()) == 17


def test_the_migrated_database_matches_schema_txt_column_by_column(ctx):
    with db.engine.connect() as conn:
        actual = describe_database(conn)
    assert differences(parse_schema_txt(), actual) == []


def test_autogenerate_finds_no_difference_between_models_and_migrations(ctx):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        diff = compare_metadata(context, db.metadata)
    assert diff == []
