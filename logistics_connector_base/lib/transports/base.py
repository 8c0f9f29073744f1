"""What every transport gives the pipeline, whatever its protocol."""


class Transport:
    """One partner connection, used as a context manager (``with transport: ...``): leaving it
    closes what the transport opened. ``secret_values()`` lists every credential it knows, so
    that captures and errors are masked; ``last_exchange`` describes its latest call when the
    protocol has request/response pairs (REST, SOAP)."""

    last_exchange = None

    def open(self):
        """Connect when the protocol needs it before the first call (SFTP); a no-op else."""
        return self

    def close(self):
        raise NotImplementedError

    def secret_values(self):
        return []

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc_info):
        self.close()


class SessionTransport(Transport):
    """A transport over one requests session: closing it closes its connections."""

    session = None

    def close(self):
        self.session.close()
