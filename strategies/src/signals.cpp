#include "ballast/strategies/signals.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ballast::strategies::signals {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double Clamp(double x, double bound) {
  return std::clamp(x, -bound, bound);
}

}  // namespace

Sma::Sma(int n) : ring_(static_cast<std::size_t>(std::max(1, n)), 0.0) {}

void Sma::Add(double x) {
  sum_ += x - ring_[next_];
  ring_[next_] = x;
  next_ = (next_ + 1) % ring_.size();
  ++count_;
  // Re-add the window now and then so rounding in the running sum cannot build up.
  if (next_ == 0) {
    sum_ = 0.0;
    for (double v : ring_)
      sum_ += v;
  }
}

double Sma::Value() const noexcept {
  return Ready() ? sum_ / static_cast<double>(ring_.size()) : kNaN;
}

Ema::Ema(int n) : n_(std::max(1, n)), alpha_(2.0 / (std::max(1, n) + 1.0)) {}

void Ema::Add(double x) {
  if (count_ < n_) {
    sum_ += x;
    ++count_;
    if (count_ == n_) value_ = sum_ / n_;
    return;
  }
  value_ += alpha_ * (x - value_);
}

Rsi::Rsi(int n) : n_(std::max(1, n)) {}

void Rsi::Add(double close) {
  if (!has_prev_) {
    prev_ = close;
    has_prev_ = true;
    return;
  }
  const double change = close - prev_;
  prev_ = close;
  const double up = change > 0 ? change : 0.0;
  const double down = change < 0 ? -change : 0.0;
  if (changes_ < n_) {
    gain_ += up;
    loss_ += down;
    if (++changes_ == n_) {
      gain_ /= n_;
      loss_ /= n_;
    }
    return;
  }
  gain_ = (gain_ * (n_ - 1) + up) / n_;
  loss_ = (loss_ * (n_ - 1) + down) / n_;
}

double Rsi::Value() const noexcept {
  if (!Ready()) return kNaN;
  if (loss_ == 0.0) return gain_ == 0.0 ? 50.0 : 100.0;
  return 100.0 - 100.0 / (1.0 + gain_ / loss_);
}

Macd::Macd(int fast, int slow, int signal)
    : fast_(fast), slow_(slow), signal_(signal), prev_hist_(kNaN) {}

void Macd::Add(double close) {
  const bool had = signal_.Ready();
  const double before = had ? Histogram() : kNaN;
  fast_.Add(close);
  slow_.Add(close);
  if (slow_.Ready() && fast_.Ready()) signal_.Add(Line());
  if (had) prev_hist_ = before;
}

TrailingReturn::TrailingReturn(int n)
    : n_(static_cast<std::size_t>(std::max(1, n))), ring_(n_ + 1, 0.0) {}

void TrailingReturn::Add(double close) {
  ring_[next_] = close;
  next_ = (next_ + 1) % ring_.size();
  ++count_;
}

double TrailingReturn::Value() const noexcept {
  if (!Ready()) return kNaN;
  // next_ is the oldest of the n + 1 values; the newest is just before it.
  const double oldest = ring_[next_];
  const double newest = ring_[(next_ + ring_.size() - 1) % ring_.size()];
  return oldest > 0.0 ? newest / oldest - 1.0 : kNaN;
}

SymbolIndicators::SymbolIndicators(const IndicatorParams& p)
    : rsi_(p.rsi),
      macd_(p.macd_fast, p.macd_slow, p.macd_signal),
      ma_short_(p.ma_short),
      ma_long_(p.ma_long),
      volume_avg_(p.volume_window),
      ret_(p.return_window) {}

void SymbolIndicators::Add(double close, double volume) {
  rsi_.Add(close);
  macd_.Add(close);
  ma_short_.Add(close);
  ma_long_.Add(close);
  ret_.Add(close);
  const bool has_volume = volume > 0.0;  // false for NaN too
  volume_ = has_volume ? volume : 0.0;
  if (has_volume) volume_avg_.Add(volume);
  close_ = close;
  ++bars_;
}

Indicators SymbolIndicators::Snapshot() const {
  Indicators x;
  x.close = close_;
  x.rsi = rsi_.Value();
  x.macd = macd_.Ready() ? macd_.Line() : kNaN;
  x.macd_signal = macd_.Ready() ? macd_.Signal() : kNaN;
  x.macd_hist = macd_.Ready() ? macd_.Histogram() : kNaN;
  x.macd_hist_prev = macd_.PreviousHistogram();
  x.ma_short = ma_short_.Value();
  x.ma_long = ma_long_.Value();
  const double avg = volume_avg_.Value();
  x.volume_ratio = volume_ > 0.0 && avg > 0.0 ? volume_ / avg : kNaN;
  x.trailing_return = ret_.Value();
  x.bars = bars_;
  return x;
}

std::string_view ToString(Confidence c) noexcept {
  switch (c) {
    case Confidence::kHigh:
      return "high";
    case Confidence::kMedium:
      return "medium";
    case Confidence::kLow:
      break;
  }
  return "low";
}

Signal Score(const Indicators& x, double benchmark_return, const ScoringWeights& w) {
  Signal s;
  bool all_ready = true;
  if (!std::isnan(x.rsi)) {
    s.rsi_points = Clamp(w.rsi * (50.0 - x.rsi) / 20.0, w.rsi);
  } else {
    all_ready = false;
  }
  if (!std::isnan(x.macd_hist)) {
    const bool has_prev = !std::isnan(x.macd_hist_prev);
    if (x.macd_hist > 0) {
      s.macd_points = has_prev && x.macd_hist > x.macd_hist_prev ? w.macd : w.macd / 2;
    } else if (x.macd_hist < 0) {
      s.macd_points = has_prev && x.macd_hist < x.macd_hist_prev ? -w.macd : -w.macd / 2;
    }
  } else {
    all_ready = false;
  }
  const bool short_ready = !std::isnan(x.ma_short), long_ready = !std::isnan(x.ma_long);
  if (short_ready && long_ready) {
    if (x.close > x.ma_short && x.ma_short > x.ma_long) {
      s.trend_points = w.trend;
    } else if (x.close < x.ma_short && x.ma_short < x.ma_long) {
      s.trend_points = -w.trend;
    } else if (x.close > x.ma_long) {
      s.trend_points = w.trend / 2;
    } else if (x.close < x.ma_long) {
      s.trend_points = -w.trend / 2;
    }
  } else {
    all_ready = false;
    if (short_ready && x.close != x.ma_short) {
      s.trend_points = x.close > x.ma_short ? w.trend / 2 : -w.trend / 2;
    }
  }
  s.alpha = x.trailing_return - benchmark_return;  // NaN when either is
  if (!std::isnan(s.alpha) && w.alpha_full_scale > 0) {
    s.performance_points = w.performance * std::clamp(s.alpha / w.alpha_full_scale, -1.0, 1.0);
  } else {
    all_ready = false;
  }
  const double total = s.rsi_points + s.macd_points + s.trend_points + s.performance_points;
  s.strength = std::clamp(w.base + total, 0.0, 100.0);
  int agree = 0;
  for (double p : {s.rsi_points, s.macd_points, s.trend_points, s.performance_points}) {
    if ((total > 0 && p > 0) || (total < 0 && p < 0)) ++agree;
  }
  const bool volume_ok = std::isnan(x.volume_ratio) || x.volume_ratio >= 1.0;
  if (!all_ready || agree <= 1) {
    s.confidence = Confidence::kLow;
  } else if (agree >= 3 && volume_ok) {
    s.confidence = Confidence::kHigh;
  } else {
    s.confidence = Confidence::kMedium;
  }
  return s;
}

double PositionWeight(double strength, const SizingOptions& o) {
  // Tiers are sorted by min_strength, highest first (the parser sorts them).
  double upper = 100.0;
  for (const auto& t : o.tiers) {
    if (strength >= t.min_strength) {
      const double span = upper - t.min_strength;
      const double f = span > 0 ? std::clamp((strength - t.min_strength) / span, 0.0, 1.0) : 1.0;
      const double w = (t.min_weight + f * (t.max_weight - t.min_weight)) * o.risk_multiplier;
      return std::min(w, o.max_weight);
    }
    upper = t.min_strength;
  }
  return 0.0;
}

double KellyFraction(double win_rate, double payoff_ratio) {
  if (!(win_rate > 0.0) || !(payoff_ratio > 0.0)) return 0.0;
  const double f = win_rate - (1.0 - win_rate) / payoff_ratio;
  return std::clamp(f, 0.0, 1.0);
}

}  // namespace ballast::strategies::signals
