"""Evaluations: one per app and host instance, regenerated in place at most five times (six in all)."""

from __future__ import annotations

import uuid

from mercato.commerce.errors import EvaluationLimitReached, at_item
from mercato.commerce.repository import CommerceRepository
from mercato.licenses.models import License, LicenseEventKind

MAX_EVALUATION_REGENERATIONS = 5


class Evaluations:
    def __init__(self, repo: CommerceRepository) -> None:
        self.repo = repo

    def of(self, instance_id: uuid.UUID, product_key: str) -> License | None:
        """The evaluation license of an app on a host instance: there is one, regenerated in place."""
        return self.repo.evaluation_license(instance_id, product_key)

    def granted(self, instance_id: uuid.UUID, product_key: str) -> int:
        license = self.of(instance_id, product_key)
        if license is None:
            return 0
        return self.repo.count_history(license.id, LicenseEventKind.EVALUATION)

    def check_allowed(
        self, instance_id: uuid.UUID, product_key: str, also_in_this_quote: int, index: int | None
    ) -> None:
        granted = self.granted(instance_id, product_key) + also_in_this_quote
        if granted > MAX_EVALUATION_REGENERATIONS:
            prefix = f"Item {index + 1}: " if index is not None else ""
            raise EvaluationLimitReached(
                f"{prefix}{product_key} was evaluated on this host instance {granted} times, the most allowed "
                f"(one evaluation and {MAX_EVALUATION_REGENERATIONS} regenerations). Buy a license, or ask the "
                "vendor for an extension.",
                **(at_item(index) if index is not None else {}),
            )
