"""Imports every table module so that ``Base.metadata`` knows the whole schema (Alembic, tests)."""

from mercato.catalog import models as catalog_models
from mercato.keys import models as key_models
from mercato.licenses import models as license_models

__all__ = ["catalog_models", "key_models", "license_models"]
