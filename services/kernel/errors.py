"""Errors the service layer raises; the gateway maps them to problem+json responses.

Texts name fields and codes, never personal data.
"""


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, field: str | None = None, **detail):
        super().__init__(message)
        self.message = message
        self.field = field
        self.detail = detail


class InvalidInput(ServiceError):
    status = 422
    code = "invalid_input"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class Gone(ServiceError):
    status = 410
    code = "gone"


class UnsupportedMediaType(ServiceError):
    status = 415
    code = "unsupported_media_type"


class InvalidFields(InvalidInput):
    """Input a handler validated with a model (a pre-check's facts): ``errors`` as pydantic reports them
    (``type``, ``loc`` from the request body's top, ``ctx``), so the gateway names each field in German
    just as for the request's own validation."""

    def __init__(self, errors: list[dict]):
        super().__init__("Ungültige Eingabe.", field=None)
        self.errors = errors
