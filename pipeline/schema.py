"""Every table of the app on one metadata: the core's models and the community's. Import this
(not just ``models``) where the whole schema matters: migrations, backups, the schema check."""

from __future__ import annotations

from . import models  # noqa: F401  (registers the core's tables)
from .community import models as community_models  # noqa: F401  (registers the community's tables)
from .db import Base

metadata = Base.metadata
