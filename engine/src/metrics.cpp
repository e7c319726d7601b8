#include "ballast/engine/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace ballast {
namespace {

constexpr double kPeriods = 252.0;

double Mean(const std::vector<double>& x) {
  if (x.empty()) return 0.0;
  double s = 0.0;
  for (double v : x)
    s += v;
  return s / static_cast<double>(x.size());
}

double Stdev(const std::vector<double>& x) {
  if (x.size() < 2) return 0.0;
  const double m = Mean(x);
  double s = 0.0;
  for (double v : x)
    s += (v - m) * (v - m);
  return std::sqrt(s / static_cast<double>(x.size() - 1));
}

double Covariance(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() < 2) return 0.0;
  const double ma = Mean(a);
  const double mb = Mean(b);
  double s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i)
    s += (a[i] - ma) * (b[i] - mb);
  return s / static_cast<double>(a.size() - 1);
}

double Ratio(double num, double den) {
  return den != 0.0 ? num / den : 0.0;
}

double Cagr(double v0, double vt, double days) {
  if (v0 <= 0.0 || vt <= 0.0 || days <= 0.0) return 0.0;
  return std::pow(vt / v0, 365.25 / days) - 1.0;
}

}  // namespace

std::optional<double> Xirr(const std::vector<Timestamp>& times, const std::vector<double>& flows) {
  if (times.empty()) return std::nullopt;
  bool pos = false;
  bool neg = false;
  for (double f : flows) {
    pos = pos || f > 0.0;
    neg = neg || f < 0.0;
  }
  if (!pos || !neg) return std::nullopt;
  std::vector<double> years(times.size());
  for (std::size_t k = 0; k < times.size(); ++k) {
    years[k] = static_cast<double>(times[k] - times[0]) / static_cast<double>(kNanosPerDay) / 365.0;
  }
  auto npv = [&](double r) {
    double v = 0.0;
    for (std::size_t k = 0; k < flows.size(); ++k)
      v += flows[k] / std::pow(1.0 + r, years[k]);
    return v;
  };
  // Bracket a sign change on a log-spaced grid, then bisect (robust, no derivative needed).
  double lo = -0.9999;
  double f_lo = npv(lo);
  for (double hi :
       {-0.9, -0.5, -0.2, 0.0, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0, 10000.0}) {
    const double f_hi = npv(hi);
    if ((f_lo <= 0.0) != (f_hi <= 0.0)) {
      for (int it = 0; it < 200; ++it) {
        const double mid = 0.5 * (lo + hi);
        const double f_mid = npv(mid);
        if ((f_lo <= 0.0) == (f_mid <= 0.0)) {
          lo = mid;
          f_lo = f_mid;
        } else {
          hi = mid;
        }
      }
      return 0.5 * (lo + hi);
    }
    lo = hi;
    f_lo = f_hi;
  }
  return std::nullopt;
}

std::vector<double> TimeWeightedIndex(const RunRecord& r, double initial_value) {
  const std::size_t n = r.equity.size();
  std::vector<double> index(n);
  if (n == 0) return index;
  index[0] = Ratio(r.equity[0] - r.flows[0], initial_value);
  for (std::size_t t = 1; t < n; ++t) {
    index[t] = index[t - 1] * Ratio(r.equity[t] - r.flows[t], r.equity[t - 1]);
  }
  return index;
}

ClosedTradeStats ClosedTrades(const std::vector<TradeRecord>& trades) {
  // Open lots per symbol, oldest first: a vector with a moving head (cheaper than a deque for
  // the hundreds of thousands of trades of a daily-rebalanced 500-stock run).
  struct Lot {
    double qty, unit_cost;
    Timestamp time;
  };
  struct Book {
    std::vector<Lot> lots;
    std::size_t head = 0;
  };
  std::vector<Book> books;
  ClosedTradeStats out;
  double weighted_days = 0.0, weight = 0.0;
  constexpr double kDayNs = 86400e9;
  for (const auto& t : trades) {
    if (!(t.quantity > 0.0)) continue;
    if (t.symbol >= books.size()) books.resize(static_cast<std::size_t>(t.symbol) + 1);
    Book& book = books[t.symbol];
    if (t.side == Side::kBuy) {
      const double fee = t.commission != 0.0 ? t.commission / t.quantity : 0.0;
      book.lots.push_back({t.quantity, t.price + fee, t.time});
      continue;
    }
    const double proceeds = t.price - (t.commission != 0.0 ? t.commission / t.quantity : 0.0);
    double left = t.quantity, matched = 0.0, pnl = 0.0;
    while (left > 1e-12 && book.head < book.lots.size()) {
      Lot& lot = book.lots[book.head];
      const double q = std::min(left, lot.qty);
      pnl += q * (proceeds - lot.unit_cost);
      const double cost = q * lot.unit_cost;
      weighted_days += cost * static_cast<double>(t.time - lot.time);  // ns; days at the end
      weight += cost;
      matched += q;
      left -= q;
      lot.qty -= q;
      if (lot.qty <= 1e-12) ++book.head;
    }
    if (book.head == book.lots.size()) {
      book.lots.clear();
      book.head = 0;
    } else if (book.head > 32 && 2 * book.head > book.lots.size()) {
      book.lots.erase(book.lots.begin(),
                      book.lots.begin() + static_cast<std::ptrdiff_t>(book.head));
      book.head = 0;
    }
    if (matched <= 0.0) continue;
    ++out.closed;
    out.profit += pnl;
    if (pnl > 0.0) {
      ++out.wins;
    } else if (pnl < 0.0) {
      ++out.losses;
    }
  }
  if (weight > 0.0) out.avg_holding_days = weighted_days / weight / kDayNs;
  return out;
}

std::vector<double> BenchmarkAccount(std::span<const double> prices, std::span<const double> flows,
                                     double initial_value, bool same_flows) {
  const std::size_t n = prices.size();
  std::vector<double> out(n, std::numeric_limits<double>::quiet_NaN());
  auto ok = [](double p) { return std::isfinite(p) && p > 0.0; };
  if (n == 0 || !ok(prices[0])) return out;
  double units = 0.0;
  double waiting = initial_value + (same_flows && !flows.empty() ? flows[0] : 0.0);
  for (std::size_t t = 0; t < n; ++t) {
    if (t > 0 && same_flows && t < flows.size()) waiting += flows[t];
    if (!ok(prices[t])) continue;
    units += waiting / prices[t];
    waiting = 0.0;
    units = std::max(units, 0.0);  // a withdrawal beyond the account empties it
    out[t] = units * prices[t];
  }
  return out;
}

Summary ComputeSummary(const RunRecord& r, double initial_value, double risk_free_rate,
                       const std::string& benchmark_symbol, bool benchmark_same_flows) {
  Summary s;
  const std::size_t n = r.equity.size();
  s.initial_value = initial_value;
  s.risk_free_rate = risk_free_rate;
  s.rebalances = r.rebalances;
  s.trades = r.trades.size();
  const ClosedTradeStats closed = ClosedTrades(r.trades);
  s.closed_trades = closed.closed;
  s.winning_trades = closed.wins;
  if (closed.closed > 0) {
    s.win_rate = static_cast<double>(closed.wins) / static_cast<double>(closed.closed);
  }
  s.avg_holding_days = closed.avg_holding_days;
  for (const auto& t : r.trades) {
    s.commissions += t.commission;
    s.slippage += t.slippage;
  }
  s.fees = s.commissions + s.slippage;
  if (n == 0) return s;
  s.start = r.times.front();
  s.end = r.times.back();
  s.sessions = static_cast<std::int64_t>(n);
  s.calendar_days = static_cast<double>((TimestampToDay(s.end) - TimestampToDay(s.start)).count());
  s.final_value = r.equity.back();
  s.investments = r.investments;
  s.margin_interest = r.interest_paid;
  s.dividends_received = r.dividends_received;
  s.max_gross_leverage = r.max_gross_leverage;

  // Time-weighted index: flows are taken out of each day's return.
  const std::vector<double> index = TimeWeightedIndex(r, initial_value);
  std::vector<double> ret;
  ret.reserve(n);
  for (std::size_t t = 1; t < n; ++t)
    ret.push_back(Ratio(r.equity[t] - r.flows[t], r.equity[t - 1]) - 1.0);
  s.total_return = index.back() - 1.0;
  s.cagr = Cagr(1.0, index.back(), s.calendar_days);

  // Money: contributions and withdrawals, profit, and the money-weighted return.
  s.total_contributed = initial_value;
  std::vector<Timestamp> cf_times{r.times[0]};
  std::vector<double> cf{-initial_value};
  for (std::size_t t = 0; t < n; ++t) {
    const double f = r.flows[t];
    if (f == 0.0) continue;
    (f > 0.0 ? s.total_contributed : s.total_withdrawn) += std::abs(f);
    cf_times.push_back(r.times[t]);
    cf.push_back(-f);
  }
  s.net_flows = s.total_contributed - s.total_withdrawn;
  s.profit = s.final_value - s.net_flows;
  cf_times.push_back(r.times[n - 1]);
  cf.push_back(s.final_value);
  s.irr = Xirr(cf_times, cf);

  const double rf_d = std::pow(1.0 + risk_free_rate, 1.0 / kPeriods) - 1.0;
  std::vector<double> excess(ret);
  for (double& v : excess)
    v -= rf_d;
  const double sd = Stdev(ret);
  s.volatility = sd * std::sqrt(kPeriods);
  s.sharpe = Ratio(Mean(excess), Stdev(excess)) * std::sqrt(kPeriods);
  double downside = 0.0;
  for (double v : excess)
    downside += v < 0.0 ? v * v : 0.0;
  downside = excess.empty() ? 0.0 : std::sqrt(downside / static_cast<double>(excess.size()));
  s.sortino = Ratio(Mean(excess), downside) * std::sqrt(kPeriods);

  const std::vector<double>& curve = index;
  double peak = curve[0];
  std::size_t peak_i = 0;
  std::size_t trough_i = 0;
  std::size_t mdd_peak_i = 0;
  s.max_drawdown = 0.0;
  for (std::size_t t = 0; t < n; ++t) {
    if (curve[t] > peak) {
      peak = curve[t];
      peak_i = t;
    }
    const double dd = curve[t] / peak - 1.0;
    if (dd < s.max_drawdown) {
      s.max_drawdown = dd;
      trough_i = t;
      mdd_peak_i = peak_i;
    }
  }
  s.max_drawdown_peak = r.times[mdd_peak_i];
  s.max_drawdown_trough = r.times[trough_i];
  if (s.max_drawdown < 0.0) {
    for (std::size_t t = trough_i; t < n; ++t) {
      if (curve[t] >= curve[mdd_peak_i]) {
        s.max_drawdown_recovery = r.times[t];
        break;
      }
    }
  }
  s.calmar = s.max_drawdown < 0.0 ? s.cagr / -s.max_drawdown : 0.0;

  const double years = s.calendar_days / 365.25;
  // Costs per calendar year against that year's average value.
  {
    double sum_v = 0.0;
    std::size_t days_in_year = 0;
    std::size_t trade = 0;
    for (std::size_t t = 0; t < n; ++t) {
      const int year =
          static_cast<int>(std::chrono::year_month_day{TimestampToDay(r.times[t])}.year());
      if (s.costs_by_year.empty() || s.costs_by_year.back().year != year) {
        s.costs_by_year.push_back({year, 0.0, 0.0, 0.0, 0.0});
        sum_v = 0.0;
        days_in_year = 0;
      }
      YearCosts& y = s.costs_by_year.back();
      sum_v += r.equity[t];
      ++days_in_year;
      y.average_value = sum_v / static_cast<double>(days_in_year);
      while (trade < r.trades.size() && r.trades[trade].time <= r.times[t]) {
        y.commissions += r.trades[trade].commission;
        y.slippage += r.trades[trade].slippage;
        ++trade;
      }
    }
    double mean_v = 0.0;
    for (double v : r.equity)
      mean_v += v;
    mean_v /= static_cast<double>(n);
    for (auto& y : s.costs_by_year)
      y.cost_ratio = Ratio(y.commissions + y.slippage, y.average_value);
    s.cost_ratio = years > 0.0 ? Ratio(s.fees, mean_v) / years : 0.0;
  }
  double turnover = 0.0;
  for (std::size_t t = 0; t < n; ++t) {
    if (r.equity[t] > 0.0) turnover += std::min(r.bought[t], r.sold[t]) / r.equity[t];
  }
  s.turnover = years > 0.0 ? turnover / years : 0.0;

  if (!benchmark_symbol.empty() && n >= 2 && !std::isnan(r.benchmark.front())) {
    BenchmarkStats b;
    b.symbol = benchmark_symbol;
    b.same_flows = benchmark_same_flows;
    const std::vector<double> account =
        BenchmarkAccount(r.benchmark, r.flows, initial_value, benchmark_same_flows);
    for (auto it = account.rbegin(); it != account.rend(); ++it) {
      if (std::isfinite(*it)) {
        b.final_value = *it;
        break;
      }
    }
    // Money-weighted: the portfolio's flows (or none) and the account's final value.
    std::vector<double> bcf = benchmark_same_flows ? cf : std::vector<double>{-initial_value};
    std::vector<Timestamp> bcf_times =
        benchmark_same_flows ? cf_times : std::vector<Timestamp>{r.times[0]};
    if (benchmark_same_flows) {
      bcf.back() = b.final_value;
    } else {
      bcf.push_back(b.final_value);
      bcf_times.push_back(r.times[n - 1]);
    }
    b.irr = Xirr(bcf_times, bcf);
    std::vector<double> rb;
    rb.reserve(n);
    for (std::size_t t = 1; t < n; ++t)
      rb.push_back(r.benchmark[t] / r.benchmark[t - 1] - 1.0);
    b.total_return = r.benchmark.back() / r.benchmark.front() - 1.0;
    b.cagr = Cagr(r.benchmark.front(), r.benchmark.back(), s.calendar_days);
    b.volatility = Stdev(rb) * std::sqrt(kPeriods);
    const double var_b = Covariance(rb, rb);
    b.beta = Ratio(Covariance(ret, rb), var_b);
    std::vector<double> excess_b(rb);
    for (double& v : excess_b)
      v -= rf_d;
    b.alpha = (Mean(excess) - b.beta * Mean(excess_b)) * kPeriods;
    b.correlation = Ratio(Covariance(ret, rb), Stdev(ret) * Stdev(rb));
    std::vector<double> active(ret.size());
    for (std::size_t i = 0; i < ret.size(); ++i)
      active[i] = ret[i] - rb[i];
    b.tracking_error = Stdev(active) * std::sqrt(kPeriods);
    b.information_ratio = Ratio(Mean(active) * kPeriods, b.tracking_error);
    s.benchmark = b;
  }
  return s;
}

}  // namespace ballast
