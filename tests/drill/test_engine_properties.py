"""Property-based tests: random place/cancel/advance(/fail) sequences over several accounts.

Each operation is followed by a full invariant check, and each placement is compared with a
reference price-time-priority matcher computed from the open orders just before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polymaker.drill.engine import (
    MarketSpec,
    MatchingEngine,
    OrderRequest,
    OrderView,
    PlaceResult,
    TradeView,
)
from polymaker.drill.ledger import FEE_ADDRESS, Ledger

D = Decimal
ACCOUNTS = [f"0x{i:040x}" for i in range(1, 5)]
MARKETS = [
    # a coarse grid with taker fees, and a fine grid without, prices kept close to cross often
    MarketSpec("0xm1", "y1", "n1", D("0.1"), D("1"), False, D("0.05"), D("1")),
    MarketSpec("0xm2", "y2", "n2", D("0.01"), D("1"), True),
]
PRICES = {
    "0xm1": [D(p) for p in ("0.3", "0.4", "0.5", "0.6", "0.7")],
    "0xm2": [D(p) for p in ("0.47", "0.48", "0.49", "0.50", "0.51", "0.52", "0.53")],
}
SIZES = [D(s) for s in ("1", "2", "2.37", "3", "5", "7.5", "10")]
START_MS = 1_000_000


@dataclass(frozen=True)
class Place:
    account: int
    market: int
    yes: bool
    side: str
    price: int
    size: int
    order_type: str
    post_only: bool
    expiry_s: int


@dataclass(frozen=True)
class Cancel:
    pick: int
    own: bool


@dataclass(frozen=True)
class Advance:
    dt_ms: int


@dataclass(frozen=True)
class Fail:
    pick: int


_place = st.builds(
    Place,
    account=st.integers(0, len(ACCOUNTS) - 1),
    market=st.integers(0, len(MARKETS) - 1),
    yes=st.booleans(),
    side=st.sampled_from(["BUY", "SELL"]),
    price=st.integers(0, 6),
    size=st.integers(0, len(SIZES) - 1),
    order_type=st.sampled_from(["GTC", "GTC", "GTC", "GTD", "FOK", "FAK"]),
    post_only=st.sampled_from([False, False, False, True]),
    expiry_s=st.integers(59, 200),
)
_cancel = st.builds(Cancel, pick=st.integers(0, 1000), own=st.booleans())
_advance = st.builds(Advance, dt_ms=st.sampled_from([0, 400, 1000, 2000, 30_000, 90_000]))
_fail = st.builds(Fail, pick=st.integers(0, 1000))


class Harness:
    """An engine with two markets and four accounts, plus the bookkeeping the checks need."""

    def __init__(self) -> None:
        self.ledger = Ledger(D("60"))
        self.engine = MatchingEngine(self.ledger, settle_delays_ms=(1000, 2500))
        for spec in MARKETS:
            self.engine.add_market(spec)
        self.now = START_MS
        self.order_ids: list[str] = []
        self.serial = 0
        self._seed_shares()

    def _seed_shares(self) -> None:
        """Give every account settled YES and NO in both markets by minting through the engine."""
        for spec in MARKETS:
            for i, buyer in enumerate(ACCOUNTS):
                partner = ACCOUNTS[(i + 1) % len(ACCOUNTS)]
                for address, token in ((buyer, spec.yes_token), (partner, spec.no_token)):
                    self.serial += 1
                    order = OrderRequest(
                        f"0xseed{self.serial}", "seed", address, token, "BUY", D("0.5"),
                        D("10"), "GTC", False, 0,
                    )  # fmt: skip
                    assert self.engine.place(order, self.now).success
        self.now += 2500
        self.engine.advance(self.now)
        self.engine.drain_events()

    def run(self, op: Place | Cancel | Advance | Fail) -> None:
        if isinstance(op, Place):
            self.place(op)
        elif isinstance(op, Cancel) and self.order_ids:
            order_id = self.order_ids[op.pick % len(self.order_ids)]
            view = self.engine.order(order_id)
            owner = view.maker_address if op.own else ACCOUNTS[op.pick % len(ACCOUNTS)]
            result = self.engine.cancel(order_id, owner, self.now)
            cancelable = view.status == "LIVE" and owner == view.maker_address
            assert result.canceled == ([order_id] if cancelable else [])
        elif isinstance(op, Advance):
            self.now += op.dt_ms
            self.engine.advance(self.now)
        elif isinstance(op, Fail):
            open_trades = [t for t in self.engine.trades() if t.status in ("MATCHED", "MINED")]
            if open_trades:
                self.engine.fail_trade(open_trades[op.pick % len(open_trades)].id, self.now)
        self.engine.drain_events()

    def place(self, op: Place) -> None:
        spec = MARKETS[op.market]
        prices = PRICES[spec.condition_id]
        self.serial += 1
        req = OrderRequest(
            order_id=f"0xo{self.serial}",
            owner=f"key{op.account}",
            maker_address=ACCOUNTS[op.account],
            token_id=spec.yes_token if op.yes else spec.no_token,
            side=op.side,
            price=prices[op.price % len(prices)],
            size=SIZES[op.size],
            order_type=op.order_type,
            post_only=op.post_only and op.order_type in ("GTC", "GTD"),
            expiration=self.now // 1000 + op.expiry_s if op.order_type == "GTD" else 0,
        )
        self.engine.advance(self.now)  # so the reference sees the same (unexpired) book
        expected = reference_fills(self.engine.open_orders(condition_id=spec.condition_id), req)
        account = self.ledger.account(req.maker_address)
        available, sellable = account.available, account.sellable(req.token_id)
        result = self.engine.place(req, self.now)
        if result.success:
            self.order_ids.append(req.order_id)
        trades = [self.engine.trades(trade_id=t)[0] for t in result.trade_ids]
        actual = [(m.order_id, m.matched_amount) for t in trades for m in t.maker_orders]
        check_placement(req, result, expected, actual, (available, sellable), self.now)
        for trade in trades:
            check_trade_prices(req, trade)


def _yes_terms(asset_id: str, side: str, price: Decimal, spec: MarketSpec) -> tuple[bool, Decimal]:
    """(is a YES-book bid, YES price) of an order."""
    is_yes = asset_id == spec.yes_token
    return (side == "BUY") == is_yes, price if is_yes else 1 - price


def reference_fills(book: list[OrderView], req: OrderRequest) -> list[tuple[str, Decimal]]:
    """Price-time priority by brute force: better price first, then earlier arrival.

    ``book`` is oldest first, so a stable sort by price keeps arrival order inside a level.
    """
    spec = next(m for m in MARKETS if req.token_id in (m.yes_token, m.no_token))
    is_bid, limit = _yes_terms(req.token_id, req.side, req.price, spec)
    opposite = []
    for view in book:
        view_bid, view_price = _yes_terms(view.asset_id, view.side, view.price, spec)
        crosses = view_price <= limit if is_bid else view_price >= limit
        if view_bid != is_bid and crosses:
            opposite.append((view_price, view))
    opposite.sort(key=lambda pv: pv[0] if is_bid else -pv[0])
    remaining, fills = req.size, []
    for _, view in opposite:
        if remaining == 0:
            break
        qty = min(remaining, view.original_size - view.size_matched)
        fills.append((view.id, qty))
        remaining -= qty
    return fills


def check_placement(
    req: OrderRequest,
    result: PlaceResult,
    expected: list[tuple[str, Decimal]],
    actual: list[tuple[str, Decimal]],
    funds: tuple[Decimal, Decimal],
    now_ms: int,
) -> None:
    """The engine filled exactly what the reference says, or refused for a true reason.

    ``funds`` is the account's (available pUSD, sellable shares) just before the placement.
    """
    available, sellable = funds
    error = result.error
    crossing = sum((q for _, q in expected), D(0))
    if result.success:
        assert actual == expected
        assert not (req.order_type == "FOK" and crossing < req.size)
        assert not (req.post_only and expected)
        return
    assert actual == []
    if error.startswith("not enough balance"):
        need = req.price * req.size if req.side == "BUY" else req.size
        assert need > (available if req.side == "BUY" else sellable)
    elif error.startswith("order couldn't be fully filled"):
        assert req.order_type == "FOK" and crossing < req.size
    elif error == "invalid expiration":
        assert req.order_type == "GTD" and req.expiration * 1000 < now_ms + 60_000
    elif error.startswith("no orders found to match with FAK"):
        assert req.order_type == "FAK" and expected == []
    else:
        assert error == "invalid post-only order: order crosses book" and expected


def check_trade_prices(req: OrderRequest, trade: TradeView) -> None:
    """Every fill is at the maker's price and within the taker's limit."""
    assert trade.asset_id == req.token_id and trade.side == req.side
    assert trade.price <= req.price if req.side == "BUY" else trade.price >= req.price
    for fill in trade.maker_orders:
        same_token = fill.asset_id == trade.asset_id
        assert fill.price == (trade.price if same_token else 1 - trade.price)
        assert fill.side == (("SELL" if req.side == "BUY" else "BUY") if same_token else req.side)


def check_invariants(h: Harness, *, allow_debt: bool) -> None:
    """Book, conservation, reservation, settlement and order invariants (see the tests)."""
    engine, ledger = h.engine, h.ledger
    accounts = [ledger.account(a) for a in ledger.accounts()]
    open_orders = engine.open_orders()
    trades = engine.trades()
    sets = D(0)
    for spec in MARKETS:
        for token in (spec.yes_token, spec.no_token):
            book = engine.book(token)
            if book.bids and book.asks:
                assert book.bids[-1][0] < book.asks[-1][0], f"crossed {token}"
            assert list(book.bids) == sorted(book.bids) and all(s > 0 for _, s in book.bids)
        yes = sum((a.shares(spec.yes_token) for a in accounts), D(0))
        no = sum((a.shares(spec.no_token) for a in accounts), D(0))
        assert yes == no
        sets += yes
    assert sum((a.cash for a in accounts), D(0)) + sets == ledger.funded()
    for account in accounts:
        mine = [o for o in open_orders if o.maker_address == account.address]
        buys = [o for o in mine if o.side == "BUY"]
        held = sum((o.price * (o.original_size - o.size_matched) for o in buys), D(0))
        assert account.reserved_cash == held
        assert account.cash >= 0 or allow_debt
        assert account.available >= 0 or allow_debt
        for token in set(account.settled) | set(account.unsettled) | set(account.reserved_shares):
            sells = [o for o in mine if o.side == "SELL" and o.asset_id == token]
            held_shares = sum((o.original_size - o.size_matched for o in sells), D(0))
            assert account.reserved_shares.get(token, D(0)) == held_shares
            assert 0 <= held_shares <= account.settled.get(token, D(0))
            assert account.unsettled.get(token, D(0)) >= 0
            pending = pending_receipts(trades, account.address, token)
            assert account.unsettled.get(token, D(0)) == pending
    matched: dict[str, Decimal] = {}
    for trade in trades:
        matched[trade.taker_order_id] = matched.get(trade.taker_order_id, D(0)) + trade.size
        for fill in trade.maker_orders:
            matched[fill.order_id] = matched.get(fill.order_id, D(0)) + fill.matched_amount
    for order_id in h.order_ids:
        view = engine.order(order_id)
        assert 0 <= view.size_matched <= view.original_size
        assert view.size_matched == matched.get(order_id, D(0))
        assert (view.status == "LIVE") == (view in open_orders)


def pending_receipts(trades: list[TradeView], address: str, token: str) -> Decimal:
    """Shares ``address`` bought in ``token`` in trades not yet CONFIRMED (nor FAILED)."""
    total = D(0)
    for trade in trades:
        if trade.status not in ("MATCHED", "MINED"):
            continue
        if trade.side == "BUY" and trade.asset_id == token:
            if trade.maker_address == address:
                total += trade.size - trade.fee
            if address == FEE_ADDRESS:
                total += trade.fee
        for fill in trade.maker_orders:
            if fill.maker_address == address and fill.side == "BUY" and fill.asset_id == token:
                total += fill.matched_amount
    return total


_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(
    st.lists(st.one_of(_place, _place, _place, _place, _cancel, _advance), min_size=25, max_size=80)
)
def test_random_trading_keeps_every_invariant(ops: list[Place | Cancel | Advance]) -> None:
    """After every place/cancel/advance over 4 accounts and 2 markets (one with taker fees):

    - no book is crossed: per token, best bid < best ask (both tokens' views);
    - conservation: sum of every account's pUSD (fee account included) plus the complete sets
      outstanding equals all pUSD ever funded, where per market the sets outstanding are the
      YES shares held by all accounts (settled + unsettled, fee account included), and that
      number equals the NO shares held. Mints create a set for exactly 1 pUSD, merges destroy
      one for 1 pUSD, transfers move both; fees move pUSD or shares to the fee account, never
      create or destroy them;
    - no negative cash, available cash or shares; reserved cash equals price * remaining over
      the account's open BUYs, reserved shares equal the remaining size of its open SELLs and
      never exceed its settled shares; unsettled shares equal what it bought in trades not yet
      CONFIRMED;
    - every order's size_matched is at most its original size and equals its fills in trades;
    - each placement fills exactly the reference price-time-priority fills (better price
      first, FIFO within a level), at the maker's price, within the taker's limit; refusals
      happen only for a true reason (short balance, FOK not coverable, FAK with nothing,
      post-only that crosses).
    """
    harness = Harness()
    for op in ops:
        harness.run(op)
        check_invariants(harness, allow_debt=False)


@_SETTINGS
@given(
    st.lists(
        st.one_of(_place, _place, _place, _place, _cancel, _advance, _fail),
        min_size=25,
        max_size=80,
    )
)
def test_failed_trades_keep_conservation(ops: list[Place | Cancel | Advance | Fail]) -> None:
    """The same invariants with fail_trade mixed in, except that a seller whose proceeds were
    already spent may be left owing (negative cash/available, see the engine docstring).
    Conservation, share non-negativity, reservations and settlement bookkeeping still hold.
    """
    harness = Harness()
    for op in ops:
        harness.run(op)
        check_invariants(harness, allow_debt=True)
