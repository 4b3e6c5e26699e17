"""Errors that the command line turns into a one-line message and exit code 2."""

from palmkit.config import ConfigError


class UsageError(ValueError):
    """A bad argument or input path: the message names it."""


USER_ERRORS = (ConfigError, UsageError)
