#!/usr/bin/env python3
"""Reference indicator values for tests/unit/strategies/signals_test.cpp, computed independently
of the C++ code: every value is recomputed from the whole price history up to that bar (windows
are re-summed, exponential averages re-run from their seed), in plain Python.

Input: the first 320 closes of data/samples/etfs/SPY.csv.gz (2005-01-03 on).
Output: spy_reference.csv (date, close, sma50, sma200, ema12, ema26, macd, signal, hist, rsi14,
ret20). Empty cells where an indicator is not warmed up.

    python3 tests/data/signals/make_reference.py > tests/data/signals/spy_reference.csv
"""
import csv
import gzip
import os

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "..", "..", ".."))
with gzip.open(os.path.join(root, "data/samples/etfs/SPY.csv.gz"), "rt") as f:
    rows = [r for r in csv.reader(f)][1:]
rows = [(d, float(c)) for d, c in rows if d >= "2005-01-01"][:320]
closes = [c for _, c in rows]


def sma(xs, n, i):
    if i + 1 < n:
        return None
    return sum(xs[i + 1 - n:i + 1]) / n


def ema_series(xs, n):
    """EMA seeded with the SMA of the first n values; None before that."""
    out = [None] * len(xs)
    k = 2.0 / (n + 1)
    for i in range(len(xs)):
        if i + 1 < n:
            continue
        if i + 1 == n:
            out[i] = sum(xs[:n]) / n
        else:
            out[i] = out[i - 1] + k * (xs[i] - out[i - 1])
    return out


def rsi_at(xs, n, i):
    """Wilder RSI at bar i, recomputed from the start."""
    if i < n:
        return None
    changes = [xs[j] - xs[j - 1] for j in range(1, i + 1)]
    gain = sum(max(c, 0) for c in changes[:n]) / n
    loss = sum(max(-c, 0) for c in changes[:n]) / n
    for c in changes[n:]:
        gain = (gain * (n - 1) + max(c, 0)) / n
        loss = (loss * (n - 1) + max(-c, 0)) / n
    if loss == 0:
        return 100.0 if gain > 0 else 50.0
    return 100 - 100 / (1 + gain / loss)


e12 = ema_series(closes, 12)
e26 = ema_series(closes, 26)
macd = [a - b if a is not None and b is not None else None for a, b in zip(e12, e26)]
first = next(i for i, m in enumerate(macd) if m is not None)
sig_tail = ema_series(macd[first:], 9)
signal = [None] * first + sig_tail


def fmt(x):
    return "" if x is None else repr(x)


w = csv.writer(os.sys.stdout, lineterminator="\n")
w.writerow(["date", "close", "sma50", "sma200", "ema12", "ema26", "macd", "signal", "hist",
            "rsi14", "ret20"])
for i, (d, c) in enumerate(rows):
    hist = macd[i] - signal[i] if signal[i] is not None else None
    ret = closes[i] / closes[i - 20] - 1 if i >= 20 else None
    w.writerow([d, fmt(c), fmt(sma(closes, 50, i)), fmt(sma(closes, 200, i)), fmt(e12[i]),
                fmt(e26[i]), fmt(macd[i] if signal[i] is not None else None), fmt(signal[i]),
                fmt(hist), fmt(rsi_at(closes, 14, i)), fmt(ret)])
