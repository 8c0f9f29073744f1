from contextlib import contextmanager


@contextmanager
def autonomous_cursor(env):
    """A cursor of its own whose work commits at once, independent of the caller's transaction:
    for state every worker must see immediately (circuit breaker, attempt log).

    It waits at most a few seconds for a row lock, so that it can never hang on a lock its own
    caller holds. In test mode it shares the test transaction, like every registry cursor."""
    with env.registry.cursor() as cr:
        cr.execute("SET LOCAL lock_timeout = '5s'")
        yield cr
