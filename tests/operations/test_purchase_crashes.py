"""Nothing lost, nothing twice: a real `mercato serve` on PostgreSQL is killed with ``kill -9`` again and again
while careful clients ask for quotes, accept them and pay them, retrying each request with the same
Idempotency-Key and body after a lost connection or a 503. Afterwards SQL over the database shows every rule
of money and licenses held: gapless invoice numbers per seller, one order and one invoice per accepted quote,
payments that add up to the amount paid and never exceed the total or count twice, one active license with
one current key per paid line, revenue splits that sum to their lines, and each e-mail queued once.

The clients buy on the marketplace (the host license with apps of several vendors, sold by the operator) and
directly from two vendors (each with its own invoice series and signing key); the seller records the payment,
in one or two parts, one of the vendors without an Idempotency-Key (a payment's reference must suffice). The
test itself is the killer: it kills the server once in each of its lives and starts it again, as a supervisor
would, for about 45 seconds: at a random moment, or, every other time, just as a transaction commits, so that
answers lost after their commit are replayed in every run. Then the clients finish what they began against
the last server.
"""

from __future__ import annotations

import itertools
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, make_url, select
from sqlalchemy.engine import Connection

from mercato.accounts.api_tokens import TokenService
from mercato.accounts.models import HostInstance, Role
from mercato.accounts.service import AccountService
from mercato.commerce.models import (
    IdempotentRequest,
    Invoice,
    InvoiceLine,
    InvoiceSeries,
    InvoiceStatus,
    Order,
    Payment,
    Quote,
    QuoteStatus,
)
from mercato.database import make_engine, make_session_factory, transaction
from mercato.keys.models import KeyState, SigningKey
from mercato.licenses.models import License, LicenseKey, LicenseState, LicenseTransaction
from mercato.outbox.models import OutboxMessage
from operations.live_server import free_port
from support.secrets import COMMAND_SECRET

pytestmark = pytest.mark.postgres

MERCATO = Path(sys.executable).with_name("mercato")
# Kills go on for FIRING_SECONDS, longer if there were fewer than KILLS kills or PURCHASES purchases by then, but
# never past FIRING_SECONDS_AT_MOST: a server takes several seconds to start when the suite's other processes
# share the machine's two cores (on a busy machine a life took 14 s, and 100 s of firing made only 7 kills).
FIRING_SECONDS, KILLS, PURCHASES, FIRING_SECONDS_AT_MOST = 45, 10, 10, 150
KILLS_AT_LEAST = 8  # below this the test has not done what it says
# Each life answers at least one request before it is killed (waiting at most this long for it), so that a slow
# machine, whose requests take longer than a life drawn from KILL_AFTER_READY, still makes progress under fire.
ANSWER_BEFORE_KILL_WITHIN = 15
CLIENTS = 6
# Seconds a request may go without a definite answer: longer than the firing lasts, as a request kept waiting
# through the whole barrage (each restart costs seconds of imports on a busy machine) must still get its answer
# once the kills stop.
FIRST_ANSWER_WITHIN = FIRING_SECONDS_AT_MOST + 30
KILL_AFTER_READY = (0.1, 1.5)  # seconds a started server lives before the next kill -9, drawn uniformly
CENT = Decimal("0.01")


# -- the server under fire ---------------------------------------------------------------------------------


class ServerUnderFire:
    """``mercato serve --demo`` as a real process on one port: started, killed with SIGKILL, started again."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.environment = {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")} | {
            "MERCATO_DATABASE_URL": database_url,
            "MERCATO_SECRET_KEY": COMMAND_SECRET,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def log(self) -> Path:
        return self.workdir / f"serve-{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(MERCATO), "serve", "--demo", "--port", str(self.port)],
                cwd=self.workdir,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, within: float = 30) -> None:
        assert self.process is not None
        deadline = time.monotonic() + within
        while True:
            assert self.process.poll() is None, f"mercato serve exited:\n{self.log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"mercato serve did not answer /healthz within {within} s"
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(timeout=10) == -signal.SIGKILL

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def tracebacks(self) -> list[str]:
        """The errors the servers logged with their tracebacks (a 500 is a defect, whatever caused it)."""
        found = []
        for start in range(1, self.starts + 1):
            text = (self.workdir / f"serve-{start}.log").read_text(errors="replace")
            found += [chunk[:2000] for chunk in text.split("Traceback (most recent call last):")[1:]]
        return found


class CommitTripwire:
    """A relay on loopback between ``mercato serve`` and PostgreSQL that, when armed, kills the server the
    moment it sends ``COMMIT``, and only then passes the ``COMMIT`` on. PostgreSQL commits the transaction, and
    the answer to the request that made it is lost: the most dangerous moment of a crash, hit every time
    instead of now and then."""

    COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"  # the simple-query message psycopg sends to commit

    def __init__(self, database_host: str, database_port: int) -> None:
        self.database = (database_host, database_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._armed: tuple[Callable[[], None], threading.Event] | None = None
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def kill_at_next_commit(self, kill: Callable[[], None], within: float) -> bool:
        """Call ``kill`` when the next transaction commits, if one does within ``within`` seconds."""
        fired = threading.Event()
        with self._lock:
            self._armed = (kill, fired)
        if not fired.wait(within):
            with self._lock:
                disarmed, self._armed = self._armed is not None, None
            if disarmed:
                return False
            fired.wait()  # it went off just now
        return True

    def stop(self) -> None:
        with self._lock:
            for sock in [self._listener, *self._sockets]:
                with suppress(OSError):
                    sock.close()

    def _accept(self) -> None:
        while True:
            try:
                server_side, _ = self._listener.accept()
                database_side = socket.create_connection(self.database)
            except OSError:
                return
            with self._lock:
                self._sockets += [server_side, database_side]
            threading.Thread(target=self._relay, args=(server_side, database_side, True), daemon=True).start()
            threading.Thread(
                target=self._relay, args=(database_side, server_side, False), daemon=True
            ).start()

    def _relay(self, source: socket.socket, destination: socket.socket, to_database: bool) -> None:
        try:
            while data := source.recv(65536):
                if to_database and self.COMMIT in data:
                    with self._lock:
                        armed, self._armed = self._armed, None
                    if armed is not None:
                        kill, fired = armed
                        kill()  # the server is gone before PostgreSQL even sees the COMMIT
                        fired.set()
                destination.sendall(data)
        except OSError:
            pass  # a killed server's connection ends with a reset, not an end of stream
        finally:
            # Whichever side went away, the other sees its connection end, as it would without the relay:
            # PostgreSQL rolls back what a killed server left open (after the bytes already passed on).
            for sock in (source, destination):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


# -- careful clients ---------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the clients lived through, counted across threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0
    answered: int = 0
    """Definite answers the clients got, across every server life."""
    retries: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    surprises: list[str] = field(default_factory=list)
    retried: dict[tuple[str, str], datetime] = field(default_factory=dict)
    """Requests answered only after a retry: their key (or a keyless payment's reference), and when the
    answered attempt was sent."""

    def add_retry(self, why: str) -> None:
        with self.lock:
            self.retries[why] += 1


class CarefulClient:
    """Sends one logical request until it gets a definite answer: after a refused or lost connection or a 503,
    the same request again, with the same Idempotency-Key and the same body."""

    def __init__(self, base_url: str, tally: Tally) -> None:
        self.http = httpx.Client(base_url=f"{base_url}/api/v1", timeout=httpx.Timeout(20, connect=2))
        self.tally = tally

    def post(
        self, what: str, path: str, token: str, body: dict[str, Any] | None = None, *, keyed: bool = True
    ) -> httpx.Response:
        """``keyed=False`` sends no Idempotency-Key, as a caller may for a payment, whose reference makes it
        safe to send again."""
        key = str(uuid.uuid4())
        headers = {"Authorization": f"Bearer {token}"} | ({"Idempotency-Key": key} if keyed else {})
        give_up_at = time.monotonic() + FIRST_ANSWER_WITHIN
        for attempt in itertools.count():
            with self.tally.lock:
                self.tally.in_flight += 1
                if attempt == 0:
                    self.tally.requests[what if keyed else f"{what} without a key"] += 1
            sent_at = datetime.now(UTC)
            try:
                response = self.http.post(path, json=body, headers=headers)
            except httpx.ConnectError:
                self.tally.add_retry("refused")  # no server listening: the request never arrived
            except httpx.TransportError:
                self.tally.add_retry("lost")  # sent, and the connection died before the answer
            else:
                if response.status_code != 503:
                    with self.tally.lock:
                        self.tally.answered += 1
                    if attempt > 0:
                        known_by = ("key", key) if keyed else ("reference", str((body or {})["reference"]))
                        with self.tally.lock:
                            self.tally.retried[known_by] = sent_at
                    return response
                self.tally.add_retry("503")
            finally:
                with self.tally.lock:
                    self.tally.in_flight -= 1
            assert time.monotonic() < give_up_at, f"{what}: no definite answer within {FIRST_ANSWER_WITHIN} s"
            time.sleep(min(0.05 * 2**attempt, 0.5))
        raise AssertionError("unreachable")


@dataclass(frozen=True)
class Basket:
    """One way of buying: who buys what for which host, on which channel, and who records the payment."""

    buyer: str
    server_id: str
    channel: str
    items: tuple[tuple[str, str], ...]  # (product key, tier)
    payer: str
    payer_sends_keys: bool = True


ACME_WIKI, ACME_TRACKER, GLOBEX_WIKI = "BX7Q-2M9L-33KD-W1PA", "TR4K-8P2N-55ZX-Q9VE", "GX5M-7T3R-90QD-K2ZB"
TIMEKEEP = "timekeep"  # its token is made by the test
BASKETS = (
    Basket(
        "mct_demo_acme_admin",
        ACME_WIKI,
        "marketplace",
        (("wiki", "100"), ("com.gatekeeper.sso.wiki", "100"), ("com.diagramly.diagrams.wiki", "100")),
        "mct_demo_operator",
    ),
    Basket(
        "mct_demo_acme_admin",
        ACME_WIKI,
        "direct",
        (("com.example.mockups.wiki", "10"),),
        "mct_demo_mockups_vendor",
    ),
    Basket(
        "mct_demo_acme_admin",
        ACME_TRACKER,
        "marketplace",
        (("tracker", "50"), ("io.timekeep.tracker", "50"), ("com.example.mockups.tracker", "50")),
        "mct_demo_operator",
    ),
    # TimeKeep's bank import sends its payments without an Idempotency-Key: the reference alone must do.
    Basket("mct_demo_acme_admin", ACME_TRACKER, "direct", (("io.timekeep.tracker", "25"),), TIMEKEEP, False),
    Basket(
        "mct_demo_globex_admin",
        GLOBEX_WIKI,
        "marketplace",
        (("wiki", "250"), ("com.diagramly.diagrams.wiki", "250"), ("com.example.mockups.wiki", "250")),
        "mct_demo_operator",
    ),
)


@dataclass
class Ledger:
    """What the clients were told: the quotes they got, the invoices, and the payments the sellers recorded."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    quotes: list[str] = field(default_factory=list)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: list[tuple[str, str, Decimal]] = field(default_factory=list)  # invoice id, reference, amount
    paid: set[str] = field(default_factory=set)


def buy(client: CarefulClient, basket: Basket, host_id: str, payer: str, split: bool, ledger: Ledger) -> None:
    """Ask for a quote, accept it and pay it (in two parts when ``split``), as a careful client would."""

    def expect(response: httpx.Response, status: int, what: str) -> dict[str, Any]:
        if response.status_code != status:
            raise AssertionError(f"{what}: {response.status_code} {response.text[:500]}")
        answer: dict[str, Any] = response.json()
        return answer

    quote = expect(
        client.post(
            "quote",
            "/quotes",
            basket.buyer,
            {
                "host_instance_id": host_id,
                "channel": basket.channel,
                "items": [{"action": "new", "product_key": key, "tier": tier} for key, tier in basket.items],
            },
        ),
        201,
        "ask for a quote",
    )
    with ledger.lock:
        ledger.quotes.append(quote["id"])
    invoice = expect(
        client.post("accept", f"/quotes/{quote['id']}/accept", basket.buyer), 201, "accept the quote"
    )["invoice"]
    with ledger.lock:
        ledger.invoices[invoice["id"]] = invoice
    total = Decimal(invoice["total"])
    first = (total * Decimal("0.4")).quantize(CENT)
    parts = [first, total - first] if split and first > 0 else [total]
    for amount in parts:
        reference = f"TRF-{uuid.uuid4().hex[:16]}"
        paid = expect(
            client.post(
                "payment",
                f"/invoices/{invoice['id']}/payments",
                payer,
                {"amount": str(amount), "provider": "bank_transfer", "reference": reference},
                keyed=basket.payer_sends_keys,
            ),
            200,
            f"record a payment of invoice {invoice['number']}",
        )
        with ledger.lock:
            ledger.payments.append((invoice["id"], reference, amount))
    assert (paid["status"], Decimal(paid["amount_paid"])) == ("paid", total), paid
    with ledger.lock:
        ledger.paid.add(invoice["id"])


class FreshHosts:
    """Host instances no one has bought for yet, cloned from the demo hosts the baskets name: an app is licensed
    once per host instance, so every purchase takes a host of its own."""

    def __init__(self, database_url: str, server_ids: set[str], each: int) -> None:
        self.free: dict[str, queue.SimpleQueue[str]] = {
            server_id: queue.SimpleQueue() for server_id in server_ids
        }
        engine = make_engine(database_url)
        skip = {"id", "server_id", "name", "created_at", "updated_at"}
        try:
            with transaction(make_session_factory(engine)) as session:
                for server_id in server_ids:
                    template = session.scalars(
                        select(HostInstance).where(HostInstance.server_id == server_id)
                    ).one()
                    columns = {c.key: getattr(template, c.key) for c in HostInstance.__table__.columns}
                    for n in range(each):
                        copy = HostInstance(
                            **{k: v for k, v in columns.items() if k not in skip},
                            server_id=f"{server_id}-{n:03d}",
                            name=f"{template.name} {n}",
                        )
                        session.add(copy)
                        session.flush()
                        self.free[server_id].put(str(copy.id))
        finally:
            engine.dispose()

    def take(self, server_id: str) -> str:
        return self.free[server_id].get_nowait()


def shopper(
    base_url: str,
    number: int,
    hosts: FreshHosts,
    tokens: dict[str, str],
    ledger: Ledger,
    tally: Tally,
    stop: threading.Event,
) -> None:
    client = CarefulClient(base_url, tally)
    try:
        for round_ in itertools.count():
            if stop.is_set():
                return
            basket = BASKETS[(number + round_) % len(BASKETS)]
            payer = tokens.get(basket.payer, basket.payer)
            buy(client, basket, hosts.take(basket.server_id), payer, (number + round_) % 2 == 1, ledger)
    except Exception as error:  # reported by the test; this client stops buying
        with tally.lock:
            tally.surprises.append(f"{type(error).__name__}: {error}")
    finally:
        client.http.close()


# -- the test ----------------------------------------------------------------------------------------------


@dataclass
class Barrage:
    at_random: int = 0
    at_commit: int = 0
    requests_cut: list[int] = field(default_factory=list)  # requests in flight at each kill

    @property
    def kills(self) -> int:
        return self.at_random + self.at_commit


def fire(
    server: ServerUnderFire,
    tripwire: CommitTripwire,
    tally: Tally,
    barrage: Barrage,
    rng: random.Random,
    purchases: Callable[[], int],
) -> None:
    """Kill the server once in each of its lives, and start it again: at a random moment, or (every other
    time) at a commit."""
    started = time.monotonic()
    for life in itertools.count():
        server.wait_ready()
        with tally.lock:
            answered_before = tally.answered
        time.sleep(rng.uniform(*KILL_AFTER_READY))
        patience = time.monotonic() + ANSWER_BEFORE_KILL_WITHIN
        while tally.answered == answered_before and time.monotonic() < patience:
            time.sleep(0.05)
        firing = time.monotonic() - started
        enough = barrage.kills >= KILLS and purchases() >= PURCHASES
        if firing >= FIRING_SECONDS_AT_MOST or (firing >= FIRING_SECONDS and enough):
            return
        with tally.lock:
            barrage.requests_cut.append(tally.in_flight)
        if life % 2 == 1 and tripwire.kill_at_next_commit(server.kill, within=5):
            barrage.at_commit += 1
        else:
            server.kill()
            barrage.at_random += 1
        server.start()


@dataclass
class Shop:
    server: ServerUnderFire
    tripwire: CommitTripwire
    database_url: str
    """The database itself, not through the tripwire: for the test's own set-up and checks."""


@pytest.fixture
def shop(fresh_database_url: Callable[[str], str], tmp_path: Path) -> Iterator[Shop]:
    database_url = make_url(fresh_database_url("postgresql"))
    tripwire = CommitTripwire(database_url.host or "127.0.0.1", database_url.port or 5432)
    through_tripwire = database_url.set(host="127.0.0.1", port=tripwire.port)
    server = ServerUnderFire(through_tripwire.render_as_string(hide_password=False), tmp_path)
    server.start()
    try:
        server.wait_ready(within=60)
        yield Shop(server, tripwire, database_url.render_as_string(hide_password=False))
    finally:
        server.stop()
        tripwire.stop()


def add_timekeep_seller(database_url: str) -> str:
    """A member of TimeKeep's team, so that a second vendor records the payments of its direct sales; returns
    the member's write token."""
    engine = make_engine(database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            accounts = AccountService(session)
            user = accounts.create_user("dev@timekeep.example", "Dev TimeKeep")
            accounts.grant(user, Role.VENDOR_MEMBER, vendor=accounts.vendor("timekeep"))
            return TokenService(session).create(user, scopes=("read", "write")).token
    finally:
        engine.dispose()


def test_purchases_under_repeated_kill_9_lose_nothing_and_count_nothing_twice(shop: Shop) -> None:
    server, database_url = shop.server, shop.database_url
    tokens = {TIMEKEEP: add_timekeep_seller(database_url)}
    hosts = FreshHosts(database_url, {basket.server_id for basket in BASKETS}, each=80)
    ledger, tally, barrage, stop = Ledger(), Tally(), Barrage(), threading.Event()
    started = time.monotonic()
    shoppers = [
        threading.Thread(
            target=shopper, args=(server.base_url, n, hosts, tokens, ledger, tally, stop), daemon=True
        )
        for n in range(CLIENTS)
    ]
    for thread in shoppers:
        thread.start()
    fire(server, shop.tripwire, tally, barrage, random.Random(9), lambda: len(ledger.invoices))
    # The last server lives on: if the barrage ended (at FIRING_SECONDS_AT_MOST) short of PURCHASES, the clients
    # buy on until there are as many, so that the checks below always cover that many purchases.
    calm_until = time.monotonic() + FIRST_ANSWER_WITHIN
    while len(ledger.invoices) < PURCHASES and time.monotonic() < calm_until and not tally.surprises:
        time.sleep(0.1)
    stop.set()  # no new purchases; those under way finish against the last server
    for thread in shoppers:
        thread.join(timeout=FIRST_ANSWER_WITHIN)
        assert not thread.is_alive(), "a client never finished its purchase"

    engine = make_engine(database_url)
    try:
        with engine.connect() as sql:
            replayed = answers_replayed(sql, tally)
            print(
                f"\n{len(ledger.invoices)} purchases, {len(ledger.payments)} payments, {barrage.kills} kills "
                f"({barrage.at_random} at random, {barrage.at_commit} at a commit; requests in flight at "
                f"each: {barrage.requests_cut}), {sum(tally.requests.values())} "
                f"logical requests {dict(tally.requests)}, retries {dict(tally.retries)}, "
                f"{replayed} answers lost after their commit and replayed, "
                f"{time.monotonic() - started:.0f} s"
            )
            assert tally.surprises == [], tally.surprises
            assert server.tracebacks() == []
            assert len(ledger.paid) == len(ledger.invoices)
            check_invariants(sql, ledger, tally)
            # And the test did what it says: purchases under kills that cut requests in flight; each kill at a
            # commit lost the answer of a committed request, which its retry got replayed. The floor is on the
            # work done, not on speed: firing goes on (up to 150 s) until there were enough purchases and kills,
            # and the clients buy on against the last server if the purchases were still short.
            assert len(ledger.invoices) >= PURCHASES
            assert barrage.kills >= KILLS_AT_LEAST and sum(barrage.requests_cut) > 0, (
                "the server was hardly hit"
            )
            # A kill at a commit usually loses a committed answer that its retry gets replayed; one that lands
            # while nothing is in flight cuts nothing, so the count is not per kill.
            assert replayed > 0 and barrage.at_commit > 0
    finally:
        engine.dispose()


def answers_replayed(sql: Connection, tally: Tally) -> int:
    """Requests whose work an earlier attempt committed (its key was claimed, or its payment recorded, before
    the answered attempt was sent): the answer was lost after the commit, and the retry got it replayed."""
    done_at = {
        ("key", key): at
        for key, at in sql.execute(select(IdempotentRequest.key, IdempotentRequest.created_at))
    }
    done_at |= {
        ("reference", ref): at for ref, at in sql.execute(select(Payment.reference, Payment.created_at))
    }
    return sum(1 for known_by, sent_at in tally.retried.items() if done_at.get(known_by, sent_at) < sent_at)


# -- the rules, in SQL -------------------------------------------------------------------------------------


def check_invariants(sql: Connection, ledger: Ledger, tally: Tally) -> None:
    assert_gapless_numbers_per_seller(sql)
    assert_one_order_and_one_invoice_per_accepted_quote(sql, ledger)
    assert_payments_never_exceed_totals_nor_count_twice(sql, ledger)
    assert_one_active_license_and_current_key_per_paid_line(sql)
    assert_revenue_splits_sum_to_their_lines(sql)
    assert_each_email_queued_once(sql)
    # Each logical request with a key claimed it once, in the transaction that did its work.
    keyed = sum(count for what, count in tally.requests.items() if not what.endswith("without a key"))
    assert sql.scalar(select(func.count()).select_from(IdempotentRequest)) == keyed


def assert_gapless_numbers_per_seller(sql: Connection) -> None:
    numbers: dict[str, list[int]] = defaultdict(list)
    for seller, number in sql.execute(select(Invoice.seller, Invoice.number)):
        numbers[seller].append(int(number.rsplit("-", 1)[1]))
    assert set(numbers) == {"operator", "vendor:example-mockups", "vendor:timekeep"}
    series = dict(sql.execute(select(InvoiceSeries.seller, InvoiceSeries.next_number)).all())
    for seller, taken in numbers.items():
        assert sorted(taken) == list(range(1, len(taken) + 1)), (
            f"{seller}: gaps or doubles in {sorted(taken)}"
        )
        assert series[seller] == len(taken) + 1, f"{seller}: the series moved on without an invoice"


def assert_one_order_and_one_invoice_per_accepted_quote(sql: Connection, ledger: Ledger) -> None:
    quotes = dict(sql.execute(select(Quote.id, Quote.status)).all())
    # Every quote is one a client asked for once, and was told about: no orphan quote of a lost answer.
    assert Counter(ledger.quotes) == Counter(dict.fromkeys(ledger.quotes, 1))
    orphans = {str(q) for q in quotes} - set(ledger.quotes)
    assert not orphans, f"{len(orphans)} quote(s) no client was told about"
    assert len(quotes) == len(ledger.quotes)
    assert set(quotes.values()) == {QuoteStatus.ACCEPTED}
    orders = Counter(sql.scalars(select(Order.quote_id)))
    assert orders == Counter(dict.fromkeys(quotes, 1))
    invoices = Counter(sql.scalars(select(Invoice.order_id)))
    assert invoices == Counter(dict.fromkeys(sql.scalars(select(Order.id)), 1))
    assert {str(i) for i in sql.scalars(select(Invoice.id))} == set(ledger.invoices)


def assert_payments_never_exceed_totals_nor_count_twice(sql: Connection, ledger: Ledger) -> None:
    recorded = Counter(
        (str(invoice), reference, Decimal(amount) / 100)
        for invoice, reference, amount in sql.execute(
            select(Payment.invoice_id, Payment.reference, Payment.amount_minor)
        )
    )
    assert recorded == Counter(ledger.payments), "payments lost or counted twice"
    paid_sums = dict(
        sql.execute(
            select(Payment.invoice_id, func.sum(Payment.amount_minor)).group_by(Payment.invoice_id)
        ).all()
    )
    for invoice_id, total, paid, status, paid_at in sql.execute(
        select(Invoice.id, Invoice.total_minor, Invoice.amount_paid_minor, Invoice.status, Invoice.paid_at)
    ):
        assert paid == paid_sums.get(invoice_id, 0) <= total, f"invoice {invoice_id}: {paid} of {total}"
        assert (status, paid_at is not None) == (InvoiceStatus.PAID, True) and paid == total


def assert_one_active_license_and_current_key_per_paid_line(sql: Connection) -> None:
    lines = sql.execute(
        select(InvoiceLine.id, InvoiceLine.license_id, Invoice.seller)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.status == InvoiceStatus.PAID)
    ).all()
    licensed = Counter(license_id for _, license_id, _ in lines)
    assert None not in licensed, "a paid line has no license"
    assert set(licensed.values()) == {1}, "a license serves two lines"
    licenses = {row.id: row for row in sql.execute(select(License.id, License.status, License.issuer))}
    assert set(licenses) == set(licensed), "a license that no paid line paid for"
    for _, license_id, seller in lines:
        assert (licenses[license_id].status, licenses[license_id].issuer) == (LicenseState.ACTIVE, seller)
    current = Counter(
        sql.scalars(
            select(LicenseKey.license_id).where(
                LicenseKey.revoked_at.is_(None), LicenseKey.superseded_at.is_(None)
            )
        )
    )
    assert current == Counter(dict.fromkeys(licensed, 1)), "a license without exactly one current key"
    keys = Counter(sql.scalars(select(LicenseKey.license_id)))
    assert keys == current, "a key signed twice for one sale"
    history = Counter(sql.scalars(select(LicenseTransaction.invoice_line_id)))
    assert history == Counter({line_id: 1 for line_id, _, _ in lines}), "a sale recorded twice, or never"
    signing = Counter(sql.scalars(select(SigningKey.issuer).where(SigningKey.state == KeyState.SIGNING)))
    assert signing == Counter(dict.fromkeys(["operator", "vendor:example-mockups", "vendor:timekeep"], 1))


def assert_revenue_splits_sum_to_their_lines(sql: Connection) -> None:
    totals: Counter[Any] = Counter()
    for row in sql.execute(
        select(
            InvoiceLine.invoice_id,
            InvoiceLine.amount_minor,
            InvoiceLine.vendor_id,
            InvoiceLine.vendor_amount_minor,
            InvoiceLine.operator_amount_minor,
            Invoice.seller,
        ).join(Invoice, Invoice.id == InvoiceLine.invoice_id)
    ):
        totals[row.invoice_id] += row.amount_minor
        if row.seller == "operator" and row.vendor_id is not None:  # a marketplace app line
            assert row.vendor_amount_minor + row.operator_amount_minor == row.amount_minor, row
        else:
            assert (row.vendor_amount_minor, row.operator_amount_minor) == (None, None), row
    assert totals == Counter(dict(sql.execute(select(Invoice.id, Invoice.total_minor)).all()))
    for entry in sql.execute(
        select(
            LicenseTransaction.amount_minor,
            LicenseTransaction.vendor_amount_minor,
            LicenseTransaction.operator_amount_minor,
            InvoiceLine.amount_minor.label("line_amount"),
            InvoiceLine.vendor_amount_minor.label("line_vendor"),
            InvoiceLine.operator_amount_minor.label("line_operator"),
        ).join(InvoiceLine, InvoiceLine.id == LicenseTransaction.invoice_line_id)
    ):
        assert tuple(entry[:3]) == tuple(entry[3:]), "the license history moved other money than its line"


def assert_each_email_queued_once(sql: Connection) -> None:
    subjects = Counter(payload["subject"] for payload in sql.scalars(select(OutboxMessage.payload)))
    for number in sql.scalars(select(Invoice.number)):
        assert subjects.pop(f"License keys for invoice {number}") == 1, number
        invoice_mails = [s for s in subjects if s.startswith(f"Invoice {number} from ")]
        assert [subjects.pop(s) for s in invoice_mails] == [1], number
    assert not subjects, f"e-mails of no purchase: {subjects}"
