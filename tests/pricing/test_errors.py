import json
from datetime import date

import pytest

import mercato.pricing as pricing
from mercato.pricing import PricingError

ERROR_CLASSES: list[type[PricingError]] = sorted(
    (obj for obj in vars(pricing).values() if isinstance(obj, type) and issubclass(obj, PricingError)),
    key=lambda cls: cls.__name__,
)
RULE_ERRORS = [cls for cls in ERROR_CLASSES if cls is not PricingError]


def test_every_rule_has_its_own_slug_and_title() -> None:
    slugs = [cls.type for cls in RULE_ERRORS]
    assert len(slugs) == len(set(slugs))
    assert "pricing-error" not in slugs
    assert len({cls.title for cls in RULE_ERRORS}) == len(RULE_ERRORS)
    for slug in slugs:
        assert slug == slug.lower() and " " not in slug


@pytest.mark.parametrize("cls", RULE_ERRORS, ids=lambda cls: cls.__name__)
def test_rule_errors_are_unprocessable_content(cls: type[PricingError]) -> None:
    assert cls.status == 422


def test_problem_document_is_json_ready() -> None:
    error = pricing.CoTermWouldShorten(maintenance_end=date(2027, 3, 1), target_date=date(2027, 1, 1))
    problem = error.as_problem()
    assert json.loads(json.dumps(problem)) == problem
    assert problem == {
        "type": "co-term-would-shorten",
        "title": "Co-terming only extends maintenance",
        "status": 422,
        "detail": (
            "Maintenance already runs until 2027-03-01; co-terming can only extend it, not move it back to "
            "2027-01-01."
        ),
        "maintenance_end": "2027-03-01",
        "target_date": "2027-01-01",
    }
    with pytest.raises(TypeError):
        error.details["x"] = 1
