"""On PostgreSQL the vote ledger refuses UPDATE and DELETE in the database itself (a trigger), so not even a
raw SQL statement or another program can rewrite who voted how. SQLite relies on the model and the service."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION assistance_vote_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'assistance_vote is append-only: UPDATE and DELETE are refused';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER assistance_vote_append_only
    BEFORE UPDATE OR DELETE ON assistance_vote
    FOR EACH ROW EXECUTE FUNCTION assistance_vote_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS assistance_vote_append_only ON assistance_vote;
DROP FUNCTION IF EXISTS assistance_vote_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("assistance", "0001_initial_assistance_records")]

    operations = [migrations.RunPython(forwards, backwards)]
