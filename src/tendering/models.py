"""Every context's tables, imported so ``metadata`` knows them (migrations, tests)."""

from __future__ import annotations

from agencies import models as _agency_models
from auction import live_models as _auction_live_models
from auction import models as _auction_models
from experts import models as _expert_models
from tendering.bids import models as _bid_models
from tendering.core.audit import models as _audit_models
from tendering.core.auth import models as _auth_models
from tendering.core.db import metadata
from tendering.core.draws import models as _draw_models
from tendering.core.holidays import models as _holiday_models
from tendering.ledger import models as _ledger_models
from tendering.opening import models as _opening_models
from tendering.tenders import models as _tender_models

__all__ = ["metadata"]

_CONTEXT_MODELS = (
    _audit_models,
    _auth_models,
    _holiday_models,
    _ledger_models,
    _tender_models,
    _bid_models,
    _opening_models,
    _draw_models,
    _expert_models,
    _agency_models,
    _auction_models,
    _auction_live_models,
)
