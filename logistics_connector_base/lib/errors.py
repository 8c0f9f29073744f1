"""Error classes shared by the whole pipeline.

The class says what the message pipeline does next: a transient error is retried with
backoff, the others stop the message and open an exception for a person.
"""


class LogisticsError(Exception):
    """Base of every classified error.

    :param message: plain words for the person who reads the exception queue
    :param retry_after: seconds the partner asked us to wait (transient errors only)
    :param status: HTTP status when the error came from an HTTP exchange
    :param details: extra JSON-compatible facts (never secrets)
    """

    error_class = "unknown"

    def __init__(self, message, *, retry_after=None, status=None, details=None):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.status = status
        self.details = dict(details or {})

    def __str__(self):
        return self.message

    def __reduce__(self):
        # keyword-only arguments and extra attributes would be lost by the default
        # Exception pickling (queue_job and multiprocessing pickle exceptions)
        return (_restore, (self.__class__, self.args, self.__dict__))

    def to_dict(self):
        """JSON-compatible summary, e.g. to store on a message record."""
        return {
            "error_class": self.error_class,
            "message": self.message,
            "retry_after": self.retry_after,
            "status": self.status,
            "details": self.details,
        }


def _restore(cls, args, state):
    error = Exception.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class TransientError(LogisticsError):
    """Network failure, timeout, 5xx, 429, lock conflict: retry later."""

    error_class = "transient"


class BusinessError(LogisticsError):
    """The partner understood and rejected the request (4xx, SOAP fault)."""

    error_class = "business"


class ConfigurationError(LogisticsError):
    """Something an administrator must fix: credentials, mapping, host key, URL."""

    error_class = "configuration"


class DocumentValidationError(LogisticsError):
    """A canonical document does not match its JSON schema.

    :param errors: list of readable strings, one per problem
    """

    error_class = "validation"

    def __init__(self, message, *, errors=None, **kwargs):
        super().__init__(message, **kwargs)
        self.errors = list(errors or [])
        self.details.setdefault("errors", self.errors)


class InternalError(TransientError):
    """A bug or an unforeseen failure: retried like a transient error, so it ends dead (with an
    exception for a person) instead of looping."""

    error_class = "internal"
