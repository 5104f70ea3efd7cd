"""Imports every table module so that ``Base.metadata`` knows the whole schema (Alembic, tests)."""

from mercato.accounts import models as account_models
from mercato.billing import models as billing_models
from mercato.catalog import models as catalog_models
from mercato.catalog import price_notices_models
from mercato.cloud_transitions import models as cloud_transition_models
from mercato.commerce import cart_models
from mercato.commerce import models as commerce_models
from mercato.imports import models as import_models
from mercato.keys import models as key_models
from mercato.ledger import models as ledger_models
from mercato.licenses import models as license_models
from mercato.outbox import models as outbox_models
from mercato.reminders import models as reminder_models
from mercato.testclock import models as test_clock_models
from mercato.transitions import models as transition_models
from mercato.webhooks import models as webhook_models

__all__ = [
    "account_models",
    "billing_models",
    "cart_models",
    "catalog_models",
    "cloud_transition_models",
    "commerce_models",
    "import_models",
    "key_models",
    "ledger_models",
    "license_models",
    "outbox_models",
    "price_notices_models",
    "reminder_models",
    "test_clock_models",
    "transition_models",
    "webhook_models",
]
