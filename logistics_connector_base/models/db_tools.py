from contextlib import contextmanager

from odoo.tools import mute_logger


@contextmanager
def autonomous_cursor(env):
    """A cursor of its own whose work commits at once, independent of the caller's transaction:
    for state every worker must see immediately (circuit breaker, attempt log).

    READ COMMITTED, so that an update after waiting for a row lock applies to the latest row
    instead of failing to serialize. It waits at most a few seconds for a lock, so that it can
    never hang on a lock its own caller holds. In test mode it shares the test transaction,
    like every registry cursor."""
    with env.registry.cursor() as cr:
        if not env.registry.in_test_mode():
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        cr.execute("SET LOCAL lock_timeout = '5s'")
        yield cr


class _ProbeInserted(Exception):
    """Internal: rolls back the savepoint of a conflict probe that inserted its row."""


def probe_unique_conflict(cr, table, values, conflict_columns, conflict_where=None):
    """Settle a unique violation against a row this transaction cannot see.

    Under REPEATABLE READ, a row committed by another transaction after our snapshot makes our
    INSERT fail with a unique violation, yet stays invisible to our searches. Inserting a probe
    row with ON CONFLICT DO NOTHING then makes PostgreSQL raise a genuine serialization failure
    (40001), which Odoo's RPC layer and queue_job retry with a fresh snapshot that sees the row.
    Returns True when the probe could insert after all (the other transaction rolled back):
    the caller may simply try again. ``table`` and column names are code constants, never
    user input."""
    columns = list(values)
    where = f" WHERE {conflict_where}" if conflict_where else ""
    query = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({', '.join(conflict_columns)}){where} DO NOTHING RETURNING id"
    )
    try:
        with mute_logger("odoo.sql_db"), cr.savepoint(flush=False):
            cr.execute(query, [values[column] for column in columns])
            if cr.fetchone():
                raise _ProbeInserted()
    except _ProbeInserted:
        return True
    return False
