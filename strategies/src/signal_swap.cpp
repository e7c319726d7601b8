#include "ballast/strategies/signal_swap.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "ballast/engine/error.hpp"

namespace ballast::strategies {
namespace {

constexpr double kTiny = 1e-12;

/// Every indicator the score uses is warmed up (so a weak score is a real one).
bool Ready(const ScoredSymbol& s) {
  const auto& x = s.indicators;
  return !std::isnan(x.rsi) && !std::isnan(x.macd_hist) && !std::isnan(x.ma_long) &&
         !std::isnan(s.signal.alpha);
}

}  // namespace

SignalSwap::SignalSwap(SignalSwapOptions options) : o_(std::move(options)) {
  std::sort(o_.sizing.tiers.begin(), o_.sizing.tiers.end(),
            [](const auto& a, const auto& b) { return a.min_strength > b.min_strength; });
}

void SignalSwap::Init(const StrategyContext& ctx) {
  init_ = true;
  const auto& panel = ctx.panel;
  for (const auto& h : o_.holdings) {
    const auto c = panel.IndexOf(h);
    if (c >= 0 && static_cast<std::size_t>(c) < ctx.tradable) {
      holding_cols_.push_back(static_cast<std::size_t>(c));
    }
  }
  bench_col_ = panel.IndexOf(o_.benchmark);
  if (bench_col_ < 0) {
    throw Error(ErrorKind::kConfig,
                fmt::format("strategy.benchmark: {} is not in the data; set the top-level "
                            "\"benchmark\": \"{}\" (or add it to the watchlist)",
                            o_.benchmark, o_.benchmark));
  }
  ind_.assign(panel.Cols(), signals::SymbolIndicators(o_.indicators));
  fed_rows_ = ctx.history_row;
  entry_price_.assign(ctx.tradable, 0.0);
  last_qty_.assign(ctx.tradable, 0.0);
  entry_day_.assign(ctx.tradable, Days{});
  const auto window = static_cast<std::size_t>(std::max(1, o_.portfolio_window)) + 1;
  equity_ring_.assign(window, 0.0);
  bench_ring_.assign(window, 0.0);
}

void SignalSwap::Feed(const StrategyContext& ctx) {
  const auto& panel = ctx.panel;
  for (; fed_rows_ <= ctx.row; ++fed_rows_) {
    for (std::size_t c = 0; c < panel.Cols(); ++c) {
      if (panel.HasBar(fed_rows_, c)) {
        ind_[c].Add(panel.Close(fed_rows_, c), panel.Volume(fed_rows_, c));
      }
    }
  }
}

void SignalSwap::Book(const StrategyContext& ctx) {
  const auto q = ctx.portfolio.quantities;
  const auto m = ctx.portfolio.marks;
  for (std::size_t c = 0; c < ctx.tradable; ++c) {
    const double was = last_qty_[c];
    if (q[c] > kTiny && was <= kTiny) {
      entry_price_[c] = m[c];
      entry_day_[c] = ctx.day;
    } else if (q[c] > was + kTiny && was > kTiny) {
      entry_price_[c] = (was * entry_price_[c] + (q[c] - was) * m[c]) / q[c];
    }
    last_qty_[c] = q[c];
  }
}

ScoredSymbol SignalSwap::ScoreOne(const StrategyContext& ctx, std::size_t c) const {
  const double bench_return = ind_[static_cast<std::size_t>(bench_col_)].Snapshot().trailing_return;
  ScoredSymbol out;
  out.col = c;
  out.indicators = ind_[c].Snapshot();
  out.signal = signals::Score(out.indicators, bench_return, o_.scoring);
  out.held = ctx.portfolio.quantities[c] > kTiny;
  return out;
}

std::vector<ScoredSymbol> SignalSwap::ScoreAll(const StrategyContext& ctx) const {
  std::vector<ScoredSymbol> out;
  out.reserve(ctx.tradable);
  for (std::size_t c = 0; c < ctx.tradable; ++c)
    out.push_back(ScoreOne(ctx, c));
  return out;
}

void SignalSwap::EmitSignal(const StrategyContext& ctx, const ScoredSymbol& s, const char* action,
                            const char* suggested, double weight, bool margin,
                            const char* reason) const {
  SignalRow row;
  row.time = DayToTimestamp(ctx.day);
  row.symbol = static_cast<SymbolIndex>(s.col);
  row.action = action;
  row.strength = s.signal.strength;
  row.confidence = signals::ToString(s.signal.confidence);
  row.price = s.indicators.close;
  row.rsi = s.indicators.rsi;
  row.macd = s.indicators.macd;
  row.macd_signal = s.indicators.macd_signal;
  row.macd_histogram = s.indicators.macd_hist;
  row.ma_short = s.indicators.ma_short;
  row.ma_long = s.indicators.ma_long;
  row.volume_ratio = s.indicators.volume_ratio;
  row.alpha = s.signal.alpha;
  row.suggested_action = suggested;
  row.suggested_weight = weight;
  row.uses_margin = margin;
  row.risk_level = o_.risk_level;
  row.reason = reason;
  ctx.events.AddSignal(std::move(row));
}

void SignalSwap::RecordClose(double r) {
  if (r > 0) {
    ++wins_;
    win_sum_ += r;
  } else {
    ++losses_;
    loss_sum_ -= r;
  }
}

double SignalSwap::KellyCap() const {
  if (!o_.kelly || wins_ + losses_ < o_.kelly_min_trades) return 1.0;
  const double w = static_cast<double>(wins_) / (wins_ + losses_);
  const double avg_win = wins_ > 0 ? win_sum_ / wins_ : 0.0;
  const double avg_loss = losses_ > 0 ? loss_sum_ / losses_ : 0.0;
  const double payoff = avg_loss > 0 ? avg_win / avg_loss : (avg_win > 0 ? 1e9 : 0.0);
  return o_.kelly_multiplier * signals::KellyFraction(w, payoff);
}

void SignalSwap::Event(const StrategyContext& ctx, const char* type, std::string fields) const {
  if (ctx.events.Enabled()) ctx.events.AddEvent(DayToTimestamp(ctx.day), type, std::move(fields));
}

void SignalSwap::Advise(const StrategyContext& ctx, const std::vector<double>& cost_basis,
                        Target& target) {
  if (!init_) Init(ctx);
  Feed(ctx);
  const auto& p = o_.indicators;
  const std::size_t need = static_cast<std::size_t>(
      std::max({p.ma_long, p.macd_slow + p.macd_signal, p.rsi + 1, p.return_window + 1}));
  const auto bcol = static_cast<std::size_t>(bench_col_);
  if (ind_[bcol].Bars() < need) {
    throw Error(ErrorKind::kData,
                fmt::format("{} has {} bars up to {}; the indicators need {}: load more history",
                            o_.benchmark, ind_[bcol].Bars(), FormatDate(ctx.day), need));
  }
  const auto q = ctx.portfolio.quantities;
  const auto m = ctx.portfolio.marks;
  std::vector<bool> exits(ctx.tradable, false);
  for (std::size_t c = 0; c < ctx.tradable; ++c) {
    last_qty_[c] = q[c];
    entry_day_[c] = ctx.day;  // unknown purchase dates: the time stop does not apply
    entry_price_[c] = c < cost_basis.size() && cost_basis[c] > 0 ? cost_basis[c] : m[c];
    if (o_.stop_loss && q[c] > kTiny && m[c] <= entry_price_[c] * (1.0 - *o_.stop_loss)) {
      exits[c] = true;
      EmitSignal(ctx, ScoreOne(ctx, c), "sell", "exit", 0.0, false, "stop_loss");
    }
  }
  Rebalance(ctx, std::move(exits), target);
}

bool SignalSwap::Decide(const StrategyContext& ctx, Target& target) {
  if (!init_) Init(ctx);
  Feed(ctx);
  Book(ctx);
  ++sessions_;
  const bool due = o_.schedule.IsDue(ctx.day, ctx.previous_session, ctx.sessions);

  // Portfolio stop bookkeeping: equity and the benchmark, window + 1 sessions back.
  const auto bcol = static_cast<std::size_t>(bench_col_);
  const double bench_close = ctx.panel.HasBar(ctx.row, bcol) ? ctx.panel.Close(ctx.row, bcol) : 0.0;
  equity_ring_[ring_next_] = ctx.portfolio.equity;
  bench_ring_[ring_next_] = bench_close;
  ring_next_ = (ring_next_ + 1) % equity_ring_.size();
  ++ring_count_;

  if (ctx.first_slice) {
    // Day one: the starting holdings, equal weight (signals need their history to speak).
    std::fill(target.weights.begin(), target.weights.end(), 0.0);
    if (holding_cols_.empty()) return false;
    const double w =
        std::min(1.0 / static_cast<double>(holding_cols_.size()), o_.sizing.max_weight);
    for (auto c : holding_cols_)
      target.weights[c] = w;
    target.reason = "initial";
    return true;
  }

  const auto q = ctx.portfolio.quantities;
  const auto m = ctx.portfolio.marks;
  std::vector<bool> exits(ctx.tradable, false);
  bool any_exit = false;
  // Stop loss, every session.
  if (o_.stop_loss) {
    for (std::size_t c = 0; c < ctx.tradable; ++c) {
      if (q[c] > kTiny && entry_price_[c] > 0 && m[c] <= entry_price_[c] * (1.0 - *o_.stop_loss)) {
        exits[c] = any_exit = true;
        JsonFields f;
        f.Add("symbol", ctx.panel.Symbols()[c])
            .Add("reason", "stop_loss")
            .Add("entry_price", entry_price_[c])
            .Add("price", m[c]);
        Event(ctx, "signal_exit", f.Take());
        EmitSignal(ctx, ScoreOne(ctx, c), "sell", "exit", 0.0, false, "stop_loss");
      }
    }
  }
  // Portfolio stop: the book trailed the benchmark by more than the limit over the window.
  if (o_.portfolio_stop && ring_count_ >= equity_ring_.size() && sessions_ >= stopped_until_) {
    const double e0 = equity_ring_[ring_next_], b0 = bench_ring_[ring_next_];
    if (e0 > 0 && b0 > 0 && bench_close > 0) {
      const double rel = (ctx.portfolio.equity / e0 - 1.0) - (bench_close / b0 - 1.0);
      const bool invested =
          std::any_of(q.begin(), q.begin() + static_cast<std::ptrdiff_t>(ctx.tradable),
                      [](double x) { return x > kTiny; });
      if (rel < -*o_.portfolio_stop && invested) {
        stopped_until_ = sessions_ + static_cast<std::size_t>(std::max(0, o_.portfolio_cooldown));
        ring_count_ = 0;  // the next stop needs a whole window of its own
        JsonFields f;
        f.Add("relative_return", rel).Add("window", o_.portfolio_window);
        Event(ctx, "portfolio_stop", f.Take());
        std::fill(target.weights.begin(), target.weights.end(), 0.0);
        for (std::size_t c = 0; c < ctx.tradable; ++c) {
          if (q[c] > kTiny && entry_price_[c] > 0) {
            RecordClose(m[c] / entry_price_[c] - 1.0);
            EmitSignal(ctx, ScoreOne(ctx, c), "sell", "exit", 0.0, false, "portfolio_stop");
          }
        }
        target.reason = "portfolio_stop";
        return true;
      }
    }
  }
  if (due && sessions_ >= stopped_until_) {
    // Until the benchmark has the history every indicator needs, signals would be half-formed:
    // hold what is held (use data.use_history_before_start to warm up before the run starts).
    const auto& p = o_.indicators;
    const std::size_t need = static_cast<std::size_t>(
        std::max({p.ma_long, p.macd_slow + p.macd_signal, p.rsi + 1, p.return_window + 1}));
    if (ind_[bcol].Bars() >= need) {
      Rebalance(ctx, std::move(exits), target);
      return true;
    }
    if (!warm_logged_) {
      warm_logged_ = true;
      JsonFields f;
      f.Add("bars", static_cast<std::uint64_t>(ind_[bcol].Bars()))
          .Add("needed", static_cast<std::uint64_t>(need));
      Event(ctx, "signal_warmup", f.Take());
    }
  }
  if (!any_exit) return false;
  // Exits between decisions: sell those, leave the rest as they are.
  for (std::size_t c = 0; c < ctx.tradable; ++c) {
    target.weights[c] = exits[c] ? 0.0 : std::numeric_limits<double>::quiet_NaN();
    if (exits[c]) {
      RecordClose(m[c] / entry_price_[c] - 1.0);
    }
  }
  target.reason = "stop_loss";
  return true;
}

void SignalSwap::Rebalance(const StrategyContext& ctx, std::vector<bool> exits, Target& target) {
  const std::size_t n = ctx.tradable;
  const auto& symbols = ctx.panel.Symbols();
  const auto q = ctx.portfolio.quantities;
  const auto m = ctx.portfolio.marks;
  const auto scored = ScoreAll(ctx);
  auto strength = [&](std::size_t c) { return scored[c].signal.strength; };
  const std::vector<bool> stopped_today = exits;  // their sell signals are already out
  std::vector<bool> held(n, false);
  for (std::size_t c = 0; c < n; ++c) {
    held[c] = q[c] > kTiny && !exits[c];
  }
  std::vector<const char*> reason(n, nullptr);
  std::vector<std::pair<std::size_t, std::size_t>> swapped;  // (sell, buy)
  auto exit = [&](std::size_t c, const char* why) {
    held[c] = false;
    exits[c] = true;
    reason[c] = why;
    JsonFields f;
    f.Add("symbol", symbols[c])
        .Add("reason", why)
        .Add("strength", strength(c))
        .Add("entry_price", entry_price_[c])
        .Add("price", m[c]);
    Event(ctx, "signal_exit", f.Take());
  };
  // Time stop: held long enough and no longer strong.
  for (std::size_t c = 0; c < n; ++c) {
    if (held[c] && (ctx.day - entry_day_[c]).count() >= o_.time_stop_days &&
        strength(c) < o_.time_stop_strength && Ready(scored[c])) {
      exit(c, "time_stop");
    }
  }
  // Candidates: not held, not sold today, strong enough and confident enough; strongest first.
  std::vector<std::size_t> candidates;
  for (std::size_t c = 0; c < n; ++c) {
    if (!held[c] && !exits[c] && strength(c) >= o_.buy_strength &&
        scored[c].signal.confidence >= o_.min_confidence) {
      candidates.push_back(c);
    }
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [&](std::size_t a, std::size_t b) { return strength(a) > strength(b); });
  std::size_t next_candidate = 0;
  // Swaps: the weakest holdings first, each for the strongest candidate left.
  std::vector<std::size_t> weak;
  for (std::size_t c = 0; c < n; ++c) {
    if (held[c] && Ready(scored[c]) &&
        (strength(c) < o_.weak_strength || scored[c].signal.alpha < o_.weak_alpha)) {
      weak.push_back(c);
    }
  }
  std::stable_sort(weak.begin(), weak.end(),
                   [&](std::size_t a, std::size_t b) { return strength(a) < strength(b); });
  int swaps = 0;
  for (auto w : weak) {
    if (swaps >= o_.max_swaps || next_candidate >= candidates.size()) break;
    const auto c = candidates[next_candidate];
    if (strength(c) - strength(w) < o_.min_improvement) continue;
    ++next_candidate;
    ++swaps;
    exit(w, "swap");
    held[c] = true;
    reason[c] = "swap";
    swapped.emplace_back(w, c);
    JsonFields f;
    f.Add("sell", symbols[w])
        .Add("buy", symbols[c])
        .Add("sell_strength", strength(w))
        .Add("buy_strength", strength(c))
        .Add("improvement", strength(c) - strength(w));
    Event(ctx, "signal_swap", f.Take());
  }
  // Fill up to the minimum number of positions from the candidates left.
  auto count_held = [&] { return std::count(held.begin(), held.end(), true); };
  while (count_held() < o_.min_positions && next_candidate < candidates.size()) {
    held[candidates[next_candidate++]] = true;
  }
  // Size by strength tier.
  std::vector<double> w(n, 0.0);
  std::vector<std::size_t> by_strength;
  for (std::size_t c = 0; c < n; ++c) {
    if (!held[c]) continue;
    w[c] = signals::PositionWeight(strength(c), o_.sizing);
    by_strength.push_back(c);
  }
  std::stable_sort(by_strength.begin(), by_strength.end(),
                   [&](std::size_t a, std::size_t b) { return strength(a) > strength(b); });
  // Below the tiers a holding is sold, unless that leaves fewer than min_positions: then the
  // strongest of them stay at the lowest tier's minimum weight.
  const double floor_weight =
      o_.sizing.tiers.empty()
          ? 0.0
          : std::min(o_.sizing.tiers.back().min_weight * o_.sizing.risk_multiplier,
                     o_.sizing.max_weight);
  auto sized = static_cast<int>(std::count_if(w.begin(), w.end(), [](double x) { return x > 0; }));
  for (auto c : by_strength) {
    if (w[c] > 0) continue;
    if (sized < o_.min_positions && q[c] > kTiny) {
      w[c] = floor_weight;
      ++sized;
    } else if (q[c] > kTiny) {
      exit(c, "below_tiers");
    }
  }
  // At most max_positions: the weakest go.
  int kept = 0;
  for (auto c : by_strength) {
    if (w[c] <= 0) continue;
    if (++kept > o_.max_positions) {
      w[c] = 0.0;
      if (q[c] > kTiny) exit(c, "max_positions");
    }
  }
  // Kelly caps new money: no position grows beyond the cap (it may stay where it is).
  const double kelly = KellyCap();
  if (kelly < 1.0) {
    for (std::size_t c = 0; c < n; ++c) {
      const double now = ctx.portfolio.equity > 0 ? q[c] * m[c] / ctx.portfolio.equity : 0.0;
      w[c] = std::min(w[c], std::max(now, kelly));
    }
  }
  // Gross weight: 1 in a cash account; above 1 only with margin and only for strong positions,
  // borrowing at most max_margin less the reserve.
  const double total = std::accumulate(w.begin(), w.end(), 0.0);
  double limit = 1.0;
  if (o_.margin) {
    double strong = 0.0;
    for (std::size_t c = 0; c < n; ++c) {
      if (strength(c) > o_.margin_min_strength) strong += w[c];
    }
    limit += std::min(o_.max_margin * (1.0 - o_.cash_reserve), strong);
  }
  const double scale = total > limit ? limit / total : 1.0;
  for (std::size_t c = 0; c < n; ++c) {
    target.weights[c] = w[c] * scale;
    // The strategy's own record of closed positions (for Kelly), at today's close.
    if (q[c] > kTiny && target.weights[c] <= 0 && entry_price_[c] > 0) {
      RecordClose(m[c] / entry_price_[c] - 1.0);
    }
  }
  // The tracker's rows: every scored symbol's signal, and each swap as a recommendation.
  const bool borrowing = o_.margin && total * scale > 1.0 + 1e-12;
  for (std::size_t c = 0; c < n; ++c) {
    const double now = ctx.portfolio.equity > 0 ? q[c] * m[c] / ctx.portfolio.equity : 0.0;
    const double to = target.weights[c];
    const char* why = reason[c] ? reason[c] : (to > 0 ? "tier" : "");
    if (stopped_today[c]) continue;
    const bool buyable = strength(c) >= o_.buy_strength &&
                         scored[c].signal.confidence >= o_.min_confidence && Ready(scored[c]);
    if (to <= 0 && now <= 1e-9 && buyable) {
      // A buy signal the strategy did not take (no room, not better enough): the tracker
      // judges it as missed or passed.
      EmitSignal(ctx, scored[c], "buy", "none", 0.0, false, "not_taken");
      continue;
    }
    if (to - now > 0.005) {
      EmitSignal(ctx, scored[c], "buy", now > 1e-9 ? "increase" : "open", to,
                 borrowing && strength(c) > o_.margin_min_strength, why);
    } else if (now - to > 0.005) {
      EmitSignal(ctx, scored[c], "sell", to > 0 ? "reduce" : "exit", to, false, why);
    } else {
      EmitSignal(ctx, scored[c], "hold", to > 0 ? "keep" : "none", to, false, why);
    }
  }
  for (const auto& [sell, buy] : swapped) {
    RecommendationRow rec;
    rec.time = DayToTimestamp(ctx.day);
    rec.sell = static_cast<SymbolIndex>(sell);
    rec.buy = static_cast<SymbolIndex>(buy);
    rec.sell_strength = strength(sell);
    rec.buy_strength = strength(buy);
    rec.improvement = rec.buy_strength - rec.sell_strength;
    rec.suggested_weight = target.weights[buy];
    rec.uses_margin = borrowing && strength(buy) > o_.margin_min_strength;
    rec.risk_level = o_.risk_level;
    ctx.events.AddRecommendation(std::move(rec));
  }
  JsonFields f;
  f.Add("positions", static_cast<int>(std::count_if(target.weights.begin(), target.weights.end(),
                                                    [](double x) { return x > 0; })))
      .Add("gross", total * scale)
      .Add("swaps", swaps)
      .Add("kelly_cap", kelly);
  Event(ctx, "signal_decision", f.Take());
  target.reason = "signal_swap";
}

}  // namespace ballast::strategies
