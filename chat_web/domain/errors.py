"""Errors the services raise; the API maps them to HTTP codes and the UI to toasts."""


class ChatError(Exception):
    """Base of every expected failure; `message` is safe to show to the user."""

    status_code = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadInput(ChatError):
    status_code = 422


class Unauthorized(ChatError):
    status_code = 401


class InvalidOtp(ChatError):
    status_code = 400


class Forbidden(ChatError):
    status_code = 403


class NotFound(ChatError):
    status_code = 404


class Conflict(ChatError):
    status_code = 409


class Gone(ChatError):
    """Something that was there and expired (a download link)."""

    status_code = 410


class TooLarge(ChatError):
    """An upload over a size limit (bytes or pixels)."""

    status_code = 413


class RateLimited(ChatError):
    status_code = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(ChatError):
    """A backing service (broker, database, cache) cannot be reached."""

    status_code = 503
