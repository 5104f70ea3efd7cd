"""The test clock's one row: the moment every process of the deployment takes as now, while it is set."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer
from sqlalchemy.orm import Mapped, mapped_column

from mercato.database import Base


class TestClockSetting(Base):
    __tablename__ = "test_clock"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)
    __test__ = False  # not a pytest test class

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    frozen_at: Mapped[datetime] = mapped_column(doc="Every process takes this moment as now")
    set_at: Mapped[datetime]
