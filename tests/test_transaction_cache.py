"""What a transaction read together with other rows (a seller's name, a signing key, the enabled webhook
endpoints) is kept for that transaction only: a flush keeps it, the end of the transaction or of a savepoint
empties it, so the next transaction reads afresh what may have changed meanwhile (a rotated key)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from mercato.database import transaction_cache
from mercato.outbox.service import enqueue


def test_a_flush_keeps_it_and_the_transactions_end_empties_it(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        with session.begin():
            transaction_cache(session, "names")["operator"] = "Mercato"
            enqueue(session, "test", {})
            session.flush()  # a flush's own inner transaction ends nothing the caller sees
            assert transaction_cache(session, "names") == {"operator": "Mercato"}
        assert transaction_cache(session, "names") == {}


def test_a_savepoints_end_empties_it(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session, session.begin():
        with session.begin_nested():
            transaction_cache(session, "keys")["operator"] = "signing"
        assert transaction_cache(session, "keys") == {}
