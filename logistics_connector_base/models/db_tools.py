import logging
from contextlib import contextmanager

from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo.tools import mute_logger

_logger = logging.getLogger(__name__)

AFTER_COMMIT_KEY = "logistics_after_commit"
# A side transaction never waits long for a lock: it could be one its own caller holds.
LOCK_TIMEOUT_SQL = "SET LOCAL lock_timeout = '5s'"


@contextmanager
def autonomous_cursor(env, lock_timeout=True):
    """A cursor of its own whose work commits at once, independent of the caller's transaction:
    for state every worker must see immediately (circuit breaker, attempt log).

    READ COMMITTED, so that an update after waiting for a row lock applies to the latest row
    instead of failing to serialize. It waits at most a few seconds for a lock, so that it can
    never hang on a lock its own caller holds. In test mode it shares the test transaction,
    like every registry cursor. Without ``lock_timeout`` the caller sends LOCK_TIMEOUT_SQL
    with its first statement itself (one round trip less)."""
    with side_cursor(env.registry, lock_timeout) as cr:
        yield cr


@contextmanager
def side_cursor(registry, lock_timeout=True):
    with registry.cursor() as cr:
        _side_settings(cr, registry, lock_timeout)
        yield cr


def _side_settings(cr, registry, lock_timeout=True):
    if not registry.in_test_mode():
        # Set on the connection, sent with the transaction's BEGIN: no round trip of its own
        # (side transactions are on the hot path). Odoo sets its own level on every cursor.
        cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
    if lock_timeout:
        cr.execute(LOCK_TIMEOUT_SQL)


def after_commit(env, key, work, when=None):
    """Run ``work(cr)`` once the caller's transaction has committed, in the one side
    transaction (as autonomous_cursor's) that all such work of that transaction shares: the
    attempt log and the audit seal cost one connection and one commit together. A ``key``
    registered twice runs once. Each piece runs in a savepoint of its own: one that fails is
    logged (its error class only: the text may quote data) and undoes nothing else. It runs
    inside the caller's commit, which already happened, so it never raises. With ``when``, a
    piece runs only if ``when()`` says so then (no side transaction at all if none does)."""
    postcommit = env.cr.postcommit
    works = postcommit.data.get(AFTER_COMMIT_KEY)
    if works is None:
        works = postcommit.data[AFTER_COMMIT_KEY] = {}
        registry = env.registry

        def run():
            due = {name: piece for name, (piece, when) in works.items() if not when or when()}
            if not due:
                return
            try:
                # After the caller's commit it holds no lock this could wait for.
                with side_cursor(registry, lock_timeout=False) as cr:
                    try:
                        # Together, without savepoints: the common case costs no extra trip.
                        for piece in due.values():
                            piece(cr)
                    except Exception:
                        # Each piece on its own, so the one that fails undoes nothing else
                        # (they are idempotent: a piece that ran before runs again).
                        cr.rollback()
                        _side_settings(cr, registry, lock_timeout=False)
                        for name, piece in due.items():
                            try:
                                with cr.savepoint(flush=False):
                                    piece(cr)
                            except Exception as error:
                                _logger.warning(
                                    "%s failed after commit (%s); it is caught up later (the "
                                    "sealing cron seals what the audit seal left)",
                                    name,
                                    type(error).__name__,
                                )
            except Exception as error:
                _logger.warning(
                    "%s failed after commit (%s); it is caught up later",
                    ", ".join(due),
                    type(error).__name__,
                )

        postcommit.add(run)
    works.setdefault(key, (work, when))


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
