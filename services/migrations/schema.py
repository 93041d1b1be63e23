"""The complete schema: importing this module registers every context's tables on ``metadata``."""
from services.audit import tables as _audit  # noqa: F401
from services.cases import tables as _cases  # noqa: F401
from services.checklists import tables as _checklists  # noqa: F401
from services.consent import tables as _consent  # noqa: F401
from services.delivery import tables as _delivery  # noqa: F401
from services.gate import tables as _gate  # noqa: F401
from services.keys import tables as _keys  # noqa: F401
from services.notifications import tables as _notifications  # noqa: F401
from services.rights import tables as _rights  # noqa: F401
from services.infrastructure import tables as _shared  # noqa: F401
from services.infrastructure.db import metadata

__all__ = ["metadata"]
