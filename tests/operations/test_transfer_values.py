"""Every value an export writes reads back as the same value, for each kind of column the schema has: the
property that lets ``mercato import`` lose nothing."""

from __future__ import annotations

import json
from datetime import UTC
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Table

from mercato.operations.transfer import _decoder, _encode, tables

KINDS: dict[str, st.SearchStrategy[Any]] = {
    "datetime": st.datetimes(timezones=st.just(UTC)),
    "date": st.dates(),
    "UUID": st.uuids(),
    "Decimal": st.decimals(min_value=Decimal("-9999.9999"), max_value=Decimal("9999.9999"), places=4),
    "str": st.text(),
    "int": st.integers(min_value=-(2**63), max_value=2**63 - 1),
    "bool": st.booleans(),
    "JSON": st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3),
        max_leaves=8,
    ),
}


def column_of_each_kind() -> dict[str, tuple[Table, str]]:
    """One real column of the schema for each kind of value it stores."""
    found: dict[str, tuple[Table, str]] = {}
    for table in tables():
        for column in table.columns:
            column_type = column.type
            while hasattr(column_type, "impl_instance"):
                column_type = column_type.impl_instance
            kind = "JSON" if type(column_type).__name__ == "JSON" else column_type.python_type.__name__
            found.setdefault(kind, (table, column.name))
    return found


def test_the_schema_has_no_kind_of_column_the_export_does_not_know() -> None:
    assert set(column_of_each_kind()) <= set(KINDS)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_value_reads_back_as_it_was_written(data: st.DataObject) -> None:
    for kind, (table, name) in column_of_each_kind().items():
        value = data.draw(KINDS[kind], label=kind)
        written = json.loads(json.dumps(_encode(value)))  # through the file, as text
        assert _decoder(table, name)(written) == value, (kind, value)
