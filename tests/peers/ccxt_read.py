#!/usr/bin/env python3
"""Reads candles from a pricequeue stand-in with ccxt, the widely used
client library for exchange APIs: an independent reading of the same
answers pricequeue stores.

    ccxt_read.py BASE_URL EXCHANGE SYMBOL[,SYMBOL..] FROM TO [TIMEFRAME]

EXCHANGE is pricequeue's source name (binance, coinbase, kraken, bitstamp,
bitfinex, okx); SYMBOL is ccxt's unified one (BTC/USDT). FROM and TO are
the first and last candles' open times, a day (2024-01-01, its midnight)
or a UTC time (2024-01-01T05:00:00Z); TIMEFRAME is ccxt's (5m, 1h; 1d when
left out). Prints one JSON
line per candle: [ms, open, high, low, close, volume], oldest first, a
symbol after the other, paging as ccxt's manual shows (since, limit, then
from the last candle on), at ccxt's own pace (enableRateLimit). Prints the
number of HTTP requests made on stderr.
"""
import json
import sys
from urllib.parse import urlsplit

import ccxt

CLASSES = {
    "binance": "binance",
    "coinbase": "coinbaseexchange",
    "kraken": "kraken",
    "bitstamp": "bitstamp",
    "bitfinex": "bitfinex",
    "okx": "okx",
}
# Each client but Binance's is given its market rather than loading them
# all, which would ask for endpoints (currencies, assets, fees) that have
# nothing to do with candles. Binance loads its markets from the
# stand-in's exchangeInfo.
KRAKEN = {"BTC": "XXBTZUSD", "ETH": "XETHZUSD", "ZEC": "XZECZUSD", "DOT": "DOTUSD"}


def market_id(name, base, quote):
    """The exchange's own id of a pair, as its API spells it."""
    if name == "kraken":
        return KRAKEN[base]
    if name == "bitstamp":
        return (base + quote).lower()
    if name == "bitfinex":
        return "t" + base + quote
    return base + "-" + quote
LIMITS = {"binance": 1000, "coinbase": 300, "kraken": 720, "bitstamp": 1000, "bitfinex": 1000, "okx": 100}


def point_at(urls, base):
    """Every API URL of a ccxt client, moved to `base`, keeping its path."""
    if isinstance(urls, dict):
        return {k: point_at(v, base) for k, v in urls.items()}
    if isinstance(urls, str) and urls.startswith("http"):
        parts = urlsplit(urls)
        return base.rstrip("/") + parts.path
    return urls


def main():
    base, name, symbols, first, last = sys.argv[1:6]
    timeframe = sys.argv[6] if len(sys.argv) > 6 else "1d"
    exchange = open_client(base, name, symbols.split(","))
    for symbol in symbols.split(","):
        read(exchange, name, symbol, first, last, timeframe)
    print(exchange.pq_requests[0], file=sys.stderr)


def open_client(base, name, symbols):
    options = {"fetchMarkets": ["spot"]} if name == "binance" else {}
    exchange = getattr(ccxt, CLASSES[name])({"options": options, "enableRateLimit": True})
    exchange.urls["api"] = point_at(exchange.urls["api"], base)
    requests = [0]
    exchange.pq_requests = requests
    fetch = exchange.fetch

    def counted(*args, **kwargs):
        requests[0] += 1
        return fetch(*args, **kwargs)

    exchange.fetch = counted
    if name == "binance":
        exchange.load_markets()
    else:
        markets = []
        for symbol in symbols:
            base_ccy, quote_ccy = symbol.split("/")
            mid = market_id(name, base_ccy, quote_ccy)
            markets.append({
                "id": mid, "symbol": symbol, "base": base_ccy, "quote": quote_ccy,
                "baseId": base_ccy, "quoteId": quote_ccy, "type": "spot", "spot": True, "active": True,
                "precision": {"price": 0.01, "amount": 1e-8}, "limits": {}, "info": {},
                "altname": mid, "wsname": symbol,
            })
        exchange.set_markets(markets)
    return exchange


def moment(text):
    """A day's midnight or a UTC time, in ms."""
    return exchange_time(text if "T" in text else text + "T00:00:00Z")


def exchange_time(text):
    return ccxt.Exchange.parse8601(text)


def read(exchange, name, symbol, first, last, timeframe):
    """Prints the candles of `symbol` opening from `first` to `last`, paging."""
    since = moment(first)
    until = moment(last)
    step = exchange.parse_timeframe(timeframe) * 1000
    limit = LIMITS[name]
    seen = set()
    while since <= until:
        params = {}
        if name == "okx":
            # History before the latest 1440 candles: ccxt asks history-candles with `after`.
            params = {"method": "publicGetMarketHistoryCandles", "until": min(since + limit * step, until + step)}
        candles = exchange.fetch_ohlcv(symbol, timeframe, since, limit, params)
        fresh = [c for c in candles if c[0] >= since and c[0] <= until and c[0] not in seen]
        for c in sorted(fresh):
            seen.add(c[0])
            print(json.dumps(c))
        if not fresh:
            since += limit * step
        else:
            since = max(c[0] for c in fresh) + step


if __name__ == "__main__":
    main()
