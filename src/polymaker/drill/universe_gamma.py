"""Gamma wire shapes of synthetic markets and events (private to drill.universe).

Keys and JSON types follow the recorded payloads in tests/fixtures/polymarket/gamma_*.json:
clobTokenIds/outcomes/outcomePrices are JSON text, volume/liquidity decimal strings on
markets but numbers on events, tick and minimum size plain numbers, dates ISO 8601.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from polymaker.drill.universe_text import FEES, TAG_IDS, description

if TYPE_CHECKING:
    from polymaker.drill.universe import SimEvent, SimMarket

_IMAGE = "https://polymarket-upload.s3.us-east-2.amazonaws.com/drill-{slug}.png"
_RESOLVER = "0x157Ce2d672854c848c9b79C49a8Cc6cc89176a49"
_REWARDS_ASSET = "0xc011a7e12a19f7b1f670d46f03b03f3342e82dfb"  # pUSD, as in the 2026-06 fixture
_SUBMITTER = "0x91430CaD2d3975766499717fA0D66A78D814E5c5"


def iso_seconds(ms: int) -> str:
    """'2026-12-31T00:00:00Z' (Gamma's endDate form)."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(ms: int) -> str:
    """'2025-07-03T20:37:00.228Z' (Gamma's startDate form)."""
    moment = datetime.fromtimestamp(ms // 1000, tz=UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def _num(value: Decimal) -> int | float:
    """A Decimal as the JSON number Gamma sends (5 stays 5, 0.01 stays 0.01)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _price_text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def outcome_prices(market: SimMarket) -> list[str]:
    """['<yes>', '<no>']: '1'/'0' once resolved, else the quote midpoint (or the fair)."""
    if market.winner is not None:
        return ["1", "0"] if market.winner == "Yes" else ["0", "1"]
    if market.best_bid is not None and market.best_ask is not None:
        yes = (market.best_bid + market.best_ask) / 2
    else:
        yes = Decimal(f"{market.fair:.4f}")
    yes = yes.quantize(Decimal("0.0001"))
    return [_price_text(yes), _price_text(Decimal(1) - yes)]


def _tag(category: str, created: str) -> dict[str, Any]:
    label = FEES[category][3]
    return {
        "id": TAG_IDS[category],
        "label": label,
        "slug": label.lower(),
        "forceShow": False,
        "createdAt": created,
        "updatedAt": created,
        "requiresTranslation": False,
    }


def event_dict(event: SimEvent, *, include_markets: bool) -> dict[str, Any]:
    """The Gamma event object (numbers, not strings, for volume/liquidity: as the venue)."""
    markets = event.markets
    volume = float(sum((m.volume for m in markets), Decimal(0)))
    liquidity = float(sum((m.liquidity for m in markets), Decimal(0)))
    volume_24h = sum(m.volume_24h for m in markets)
    created = iso_millis(event.start_ms)
    doc: dict[str, Any] = {
        "id": event.event_id,
        "ticker": event.slug,
        "slug": event.slug,
        "title": event.title,
        "description": description(event.title, iso_seconds(event.end_ms)),
        "resolutionSource": "",
        "startDate": created,
        "creationDate": created,
        "endDate": iso_seconds(event.end_ms),
        "image": _IMAGE.format(slug=event.slug),
        "icon": _IMAGE.format(slug=event.slug),
        "active": True,
        "closed": all(m.closed for m in markets),
        "archived": False,
        "new": False,
        "featured": False,
        "restricted": True,
        "liquidity": liquidity,
        "volume": volume,
        "openInterest": 0,
        "createdAt": created,
        "updatedAt": iso_millis(max(m.updated_ms for m in markets)),
        "competitive": 0.8,
        "volume24hr": volume_24h,
        "volume1wk": volume_24h * 7,
        "volume1mo": volume_24h * 30,
        "volume1yr": volume,
        "enableOrderBook": True,
        "liquidityClob": liquidity,
        "negRisk": event.neg_risk,
        "commentCount": 0,
        "tags": [_tag(event.category, created)],
        "cyom": False,
        "showAllOutcomes": True,
        "showMarketImages": event.neg_risk,
        "enableNegRisk": event.neg_risk,
        "automaticallyActive": True,
        "negRiskAugmented": False,
        "cumulativeMarkets": False,
        "pendingDeployment": False,
        "deploying": False,
        "requiresTranslation": False,
    }
    if event.neg_risk:
        doc["negRiskMarketID"] = event.neg_risk_market_id
    if include_markets:
        doc["markets"] = [m.gamma(include_events=False) for m in markets]
    return doc


def _quotes(market: SimMarket, doc: dict[str, Any]) -> None:
    bid, ask = market.best_bid, market.best_ask
    if bid is not None:
        doc["bestBid"] = float(bid)
    if ask is not None:
        doc["bestAsk"] = float(ask)
    doc["spread"] = float(ask - bid) if bid is not None and ask is not None else 1.0
    last = market.last_trade_price
    doc["lastTradePrice"] = float(last) if last is not None else 0.0


def _rewards(market: SimMarket, start: str) -> dict[str, Any]:
    """The liquidity-rewards entry real markets carry (shape of the 2026-08 fixture)."""
    return {
        "id": str(300000 + market.index),
        "conditionId": market.condition_id,
        "assetAddress": _REWARDS_ASSET,
        "rewardsAmount": 0,
        "rewardsDailyRate": 10,
        "startDate": start[:10],
        "endDate": "2500-12-31",
    }


# Keys every recorded market has whose values never change in the drill.
_STATIC_MARKET_KEYS: dict[str, Any] = {
    "resolutionSource": "",
    "marketMakerAddress": "",
    "new": False,
    "featured": False,
    "submitted_by": _SUBMITTER,
    "archived": False,
    "resolvedBy": _RESOLVER,
    "restricted": True,
    "enableOrderBook": True,
    "hasReviewedDates": True,
    "umaBond": "500",
    "umaReward": "5",
    "customLiveness": 0,
    "ready": False,
    "funded": False,
    "cyom": False,
    "competitive": 0.8,
    "pagerDutyNotificationEnabled": False,
    "approved": True,
    "rewardsMinSize": 50,
    "rewardsMaxSpread": 3.5,
    "oneDayPriceChange": 0.0,
    "oneWeekPriceChange": 0.0,
    "oneMonthPriceChange": 0.0,
    "oneYearPriceChange": 0.0,
    "comboStatus": "pending",
    "automaticallyActive": True,
    "clearBookOnStart": True,
    "manualActivation": False,
    "negRiskOther": False,
    "pendingDeployment": False,
    "deploying": False,
    "rfqEnabled": False,
    "holdingRewardsEnabled": False,
    "requiresTranslation": False,
}


def market_dict(market: SimMarket, *, include_events: bool) -> dict[str, Any]:
    """The Gamma market object with every key all recorded fixtures share, same JSON types."""
    start, end = iso_millis(market.start_ms), iso_seconds(market.end_ms)
    volume, liquidity = float(market.volume), float(market.liquidity)
    v24 = market.volume_24h
    image = _IMAGE.format(slug=market.event.slug)
    fee_type, rate, rebate, _ = FEES[market.category]
    doc: dict[str, Any] = {
        **_STATIC_MARKET_KEYS,
        "id": market.market_id,
        "question": market.question,
        "conditionId": market.condition_id,
        "slug": market.slug,
        "endDate": end,
        "liquidity": _price_text(market.liquidity),
        "startDate": start,
        "image": image,
        "icon": image,
        "description": description(market.question, end),
        "outcomes": '["Yes", "No"]',
        "outcomePrices": json.dumps(outcome_prices(market)),
        "volume": _price_text(market.volume),
        "active": market.active,
        "closed": market.closed,
        "createdAt": start,
        "updatedAt": iso_millis(market.updated_ms),
        "groupItemTitle": market.group_item_title,
        "groupItemThreshold": str(market.group_index),
        "questionID": market.question_id,
        "orderPriceMinTickSize": _num(market.tick_size),
        "orderMinSize": _num(market.min_order_size),
        "volumeNum": volume,
        "liquidityNum": liquidity,
        "endDateIso": end[:10],
        "startDateIso": start[:10],
        "volume24hr": v24,
        "volume1wk": v24 * 7,
        "volume1mo": v24 * 30,
        "volume1yr": volume,
        "clobTokenIds": json.dumps(list(market.clob_token_ids)),
        "positionIds": list(market.position_ids),
        "version": market.version,
        "volume24hrClob": v24,
        "volume1wkClob": v24 * 7,
        "volume1moClob": v24 * 30,
        "volume1yrClob": volume,
        "volumeClob": volume,
        "liquidityClob": liquidity,
        "acceptingOrders": market.accepting_orders,
        "negRisk": market.neg_risk,
        "negRiskRequestID": market.neg_risk_request_id,
        "acceptingOrdersTimestamp": start[:19] + "Z",
        "umaResolutionStatuses": '["resolved"]' if market.closed else "[]",
        "deployingTimestamp": start,
        "feesEnabled": fee_type is not None,
        "feeType": fee_type,
        "makerBaseFee": 0 if fee_type is None else 1000,
        "takerBaseFee": 0 if fee_type is None else 1000,
        "clobRewards": [_rewards(market, start)],
    }
    _quotes(market, doc)
    if market.neg_risk:
        doc["negRiskMarketID"] = market.event.neg_risk_market_id
    if fee_type is not None:
        doc["feeSchedule"] = {"exponent": 1, "rate": rate, "takerOnly": True, "rebateRate": rebate}
    if market.closed:
        doc["closedTime"] = datetime.fromtimestamp(market.updated_ms // 1000, tz=UTC).strftime(
            "%Y-%m-%d %H:%M:%S+00"
        )
    if include_events:
        doc["events"] = [market.event.gamma(include_markets=False)]
    return doc
