"""Errors raised by the X12 engine (plain Python, no Odoo)."""


class X12Error(Exception):
    """Base of the engine's errors; the message is written for a person."""


class UnreadableFile(X12Error):
    """The file cannot be read as X12 at all (no ISA, malformed ISA, bad separators).

    Nothing after this point can be acknowledged: the separators are unknown.

    :param offset: character offset in the file where reading stopped
    """

    def __init__(self, message, *, offset=None):
        super().__init__(message)
        self.offset = offset


class SerializationError(X12Error):
    """An outbound document cannot be written as X12.

    :param problems: one plain-words line per problem (segment, element, what is wrong)
    """

    def __init__(self, message, *, problems=()):
        super().__init__(message)
        self.problems = list(problems)
