"""Shared types for integer query and path parameters.

Every integer the API takes ends up compared with a BIGINT column, and PostgreSQL rejects a number
outside the signed 64-bit range with an error (the caller got 500, the export a broken stream).
``Int64`` checks the range during request validation, so such a number gets 422 problem+json naming
the parameter. Routes add their own domain bounds on top: ``Annotated[Int64, Query(ge=1)]``.
"""
from typing import Annotated

from annotated_types import Ge, Le

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

Int64 = Annotated[int, Ge(INT64_MIN), Le(INT64_MAX)]
