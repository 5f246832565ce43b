"""Every context's tables, imported so ``metadata`` knows them (migrations, tests)."""

from __future__ import annotations

from tendering.core.audit import models as _audit_models
from tendering.core.auth import models as _auth_models
from tendering.core.db import metadata

__all__ = ["metadata"]

_CONTEXT_MODELS = (_audit_models, _auth_models)
