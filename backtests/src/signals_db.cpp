#include "ballast/backtests/signals_db.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>

#include "ballast/data/sqlite.hpp"
#include "ballast/engine/error.hpp"
#include "ballast/engine/run_record.hpp"

namespace ballast::backtests {
namespace fs = std::filesystem;
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kTiny = 1e-9;

/// A position from the buy that opened it to the sell that closed it (or the run's end).
struct Episode {
  Timestamp start = 0;
  std::optional<Timestamp> end;
  double bought = 0.0, sold = 0.0, fees = 0.0, qty = 0.0;
  double exit_price = 0.0;
};

int CalendarDays(Timestamp from, Timestamp to) {
  return static_cast<int>((to - from) / 86'400'000'000'000LL);
}

std::string Date(Timestamp t) {
  return FormatDate(TimestampToDay(t));
}

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trading_signals(
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  symbol TEXT NOT NULL,
  signal_date TEXT NOT NULL,
  signal_type TEXT NOT NULL,
  strength REAL NOT NULL,
  confidence TEXT NOT NULL,
  price REAL,
  rsi REAL, macd REAL, macd_signal REAL, macd_histogram REAL,
  ma_short REAL, ma_long REAL, volume_ratio REAL, alpha REAL,
  suggested_action TEXT NOT NULL,
  suggested_weight REAL NOT NULL,
  uses_margin INTEGER NOT NULL,
  risk_level TEXT NOT NULL,
  reason TEXT,
  acted_on INTEGER NOT NULL,
  outcome TEXT,
  exit_date TEXT, exit_price REAL, profit REAL, profit_pct REAL, days_held INTEGER);
CREATE INDEX IF NOT EXISTS trading_signals_date ON trading_signals(signal_date);
CREATE TABLE IF NOT EXISTS rebalancing_recommendations(
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  recommendation_date TEXT NOT NULL,
  sell_symbol TEXT NOT NULL,
  buy_symbol TEXT NOT NULL,
  sell_strength REAL NOT NULL,
  buy_strength REAL NOT NULL,
  expected_improvement REAL NOT NULL,
  suggested_weight REAL NOT NULL,
  uses_margin INTEGER NOT NULL,
  risk_level TEXT NOT NULL,
  acted_on INTEGER NOT NULL,
  outcome TEXT,
  relative_return REAL);
)sql";

}  // namespace

std::vector<SignalOutcome> SignalOutcomes(const BacktestResult& r, const OutcomeRules& rules) {
  const RunRecord& rec = r.record;
  const BarPanel& panel = *r.panel;
  // Trades by (time, symbol, side) and each symbol's episodes.
  std::map<std::tuple<Timestamp, SymbolIndex, Side>, double> traded;  // notional
  std::map<SymbolIndex, std::vector<Episode>> episodes;
  std::map<SymbolIndex, double> qty;
  for (const auto& t : rec.trades) {
    traded[{t.time, t.symbol, t.side}] += t.quantity * t.price;
    auto& eps = episodes[t.symbol];
    double& q = qty[t.symbol];
    if (t.side == Side::kBuy) {
      if (q <= kTiny) eps.push_back(Episode{t.time, std::nullopt, 0, 0, 0, 0, 0});
      eps.back().bought += t.quantity * t.price;
      q += t.quantity;
    } else {
      if (eps.empty()) continue;
      eps.back().sold += t.quantity * t.price;
      q -= t.quantity;
      if (q <= kTiny) {
        eps.back().end = t.time;
        eps.back().exit_price = t.price;
      }
    }
    eps.back().fees += t.commission;
    eps.back().qty = q;
  }
  const std::size_t last_row = panel.Rows() - 1;
  auto row_of = [&](Timestamp t) {
    const auto times = panel.Times();
    return static_cast<std::size_t>(std::lower_bound(times.begin(), times.end(), t) -
                                    times.begin());
  };
  auto close_at = [&](std::size_t row, SymbolIndex sym) {
    for (std::size_t rr = std::min(row, last_row) + 1; rr-- > 0;) {
      if (panel.HasBar(rr, sym)) return panel.Close(rr, sym);
    }
    return kNaN;
  };
  auto forward = [&](Timestamp t, SymbolIndex sym, double price) {
    const std::size_t row = row_of(t) + static_cast<std::size_t>(rules.horizon);
    const double later = close_at(row, sym);
    return price > 0 ? later / price - 1.0 : kNaN;
  };
  auto judge = [&](double pct) {
    return pct > rules.band ? "win" : (pct < -rules.band ? "loss" : "breakeven");
  };

  std::vector<SignalOutcome> out(rec.signals.size());
  for (std::size_t i = 0; i < rec.signals.size(); ++i) {
    const SignalRow& s = rec.signals[i];
    SignalOutcome& o = out[i];
    o.exit_price = o.profit = o.profit_pct = kNaN;
    if (s.action == "buy") {
      o.acted_on = traded.count({s.time, s.symbol, Side::kBuy}) > 0;
      if (!o.acted_on) {
        o.profit_pct = forward(s.time, s.symbol, s.price);
        o.outcome = o.profit_pct > rules.band ? "missed" : "passed";
        continue;
      }
      const Episode* ep = nullptr;
      for (const auto& e : episodes[s.symbol]) {
        if (e.start <= s.time && (!e.end || *e.end > s.time)) ep = &e;
      }
      if (!ep) continue;
      const double marked =
          ep->end ? 0.0 : ep->qty * close_at(last_row, s.symbol);  // still held: at the last close
      const double pnl = ep->sold + marked - ep->bought - ep->fees;
      const double pct = ep->bought > 0 ? pnl / ep->bought : kNaN;
      o.outcome = ep->end ? judge(pct) : "open";
      o.profit_pct = pct;
      if (ep->start == s.time) o.profit = pnl;  // the opener carries the position's profit
      o.exit_time = ep->end;
      if (ep->end) o.exit_price = ep->exit_price;
      o.days_held = CalendarDays(ep->start, ep->end.value_or(panel.Time(last_row)));
    } else if (s.action == "sell") {
      const auto it = traded.find({s.time, s.symbol, Side::kSell});
      o.acted_on = it != traded.end();
      if (!o.acted_on) continue;
      const double fr = forward(s.time, s.symbol, s.price);
      o.profit_pct = -fr;
      o.profit = -fr * it->second;
      o.outcome = judge(-fr);
      for (const auto& e : episodes[s.symbol]) {
        if (e.start <= s.time && e.end && *e.end >= s.time) {
          o.days_held = CalendarDays(e.start, s.time);
          break;
        }
      }
    }
  }
  return out;
}

namespace {

constexpr const char* kInsertRecommendation =
    "INSERT INTO rebalancing_recommendations(source, recommendation_date, sell_symbol, "
    "buy_symbol, sell_strength, buy_strength, expected_improvement, suggested_weight, "
    "uses_margin, risk_level, acted_on, outcome, relative_return) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)";

/// Binds a recommendation's columns 1-10 (the caller binds acted_on, outcome, relative_return).
sqlite::Stmt& BindRecommendation(sqlite::Stmt& st, const std::string& source,
                                 const std::vector<std::string>& symbols,
                                 const RecommendationRow& x) {
  return st.Bind(1, source)
      .Bind(2, Date(x.time))
      .Bind(3, symbols[x.sell])
      .Bind(4, symbols[x.buy])
      .Bind(5, x.sell_strength)
      .Bind(6, x.buy_strength)
      .Bind(7, x.improvement)
      .Bind(8, x.suggested_weight)
      .Bind(9, x.uses_margin ? 1 : 0)
      .Bind(10, x.risk_level);
}

/// Inserts signals; without outcomes (advisory use) they are not acted on and have none.
void InsertSignals(sqlite::Db& db, const std::string& source,
                   const std::vector<std::string>& symbols, const std::vector<SignalRow>& signals,
                   const std::vector<SignalOutcome>* outcomes, const std::vector<bool>* acted) {
  sqlite::Stmt ins(
      db,
      "INSERT INTO trading_signals(source, symbol, signal_date, signal_type, strength, "
      "confidence, price, rsi, macd, macd_signal, macd_histogram, ma_short, ma_long, "
      "volume_ratio, alpha, suggested_action, suggested_weight, uses_margin, risk_level, "
      "reason, acted_on, outcome, exit_date, exit_price, profit, profit_pct, days_held) "
      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  for (std::size_t i = 0; i < signals.size(); ++i) {
    const SignalRow& s = signals[i];
    SignalOutcome o{false, "", std::nullopt, kNaN, kNaN, kNaN, -1};
    if (outcomes) {
      o = (*outcomes)[i];
    } else if (acted && i < acted->size()) {
      o.acted_on = (*acted)[i];
    }
    ins.Bind(1, source)
        .Bind(2, symbols[s.symbol])
        .Bind(3, Date(s.time))
        .Bind(4, s.action)
        .Bind(5, s.strength)
        .Bind(6, s.confidence)
        .Bind(7, s.price)
        .Bind(8, s.rsi)
        .Bind(9, s.macd)
        .Bind(10, s.macd_signal)
        .Bind(11, s.macd_histogram)
        .Bind(12, s.ma_short)
        .Bind(13, s.ma_long)
        .Bind(14, s.volume_ratio)
        .Bind(15, s.alpha)
        .Bind(16, s.suggested_action)
        .Bind(17, s.suggested_weight)
        .Bind(18, s.uses_margin ? 1 : 0)
        .Bind(19, s.risk_level)
        .BindTextOrNull(20, s.reason)
        .Bind(21, o.acted_on ? 1 : 0)
        .BindTextOrNull(22, o.outcome)
        .BindTextOrNull(23, o.exit_time ? Date(*o.exit_time) : std::string())
        .Bind(24, o.exit_price)
        .Bind(25, o.profit)
        .Bind(26, o.profit_pct);
    if (o.days_held >= 0) {
      ins.Bind(27, o.days_held);
    } else {
      ins.BindNull(27);
    }
    ins.Run();
  }
}

}  // namespace

void WriteSignalsDb(const BacktestResult& r, const std::string& path, const OutcomeRules& rules) {
  std::error_code ec;
  fs::remove(path, ec);
  sqlite::Db db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, "signals database");
  db.Exec(kSchema);
  db.Exec("BEGIN");
  const std::string source = r.config.name.empty() ? r.config.strategy.type : r.config.name;
  {
    sqlite::Stmt m(db, "INSERT INTO meta(key, value) VALUES (?, ?)");
    m.Bind(1, "schema_version").Bind(2, "1").Run();
    m.Bind(1, "source").Bind(2, source).Run();
    m.Bind(1, "strategy").Bind(2, r.config.strategy.type).Run();
    m.Bind(1, "horizon_sessions").Bind(2, std::to_string(rules.horizon)).Run();
    m.Bind(1, "breakeven_band").Bind(2, JsonNumber(rules.band)).Run();
  }
  const auto outcomes = SignalOutcomes(r, rules);
  InsertSignals(db, source, r.symbols, r.record.signals, &outcomes, nullptr);
  // Recommendations: acted on when both legs traded that day; judged by the bought symbol's
  // return minus the sold one's over the horizon.
  std::map<std::tuple<Timestamp, SymbolIndex, Side>, bool> traded;
  for (const auto& t : r.record.trades)
    traded[{t.time, t.symbol, t.side}] = true;
  const BarPanel& panel = *r.panel;
  auto fwd = [&](Timestamp t, SymbolIndex sym) {
    const auto times = panel.Times();
    const auto row =
        static_cast<std::size_t>(std::lower_bound(times.begin(), times.end(), t) - times.begin());
    const std::size_t later =
        std::min(row + static_cast<std::size_t>(rules.horizon), panel.Rows() - 1);
    return panel.Close(later, sym) / panel.Close(row, sym) - 1.0;
  };
  sqlite::Stmt rec(db, kInsertRecommendation);
  for (const auto& x : r.record.recommendations) {
    const bool acted =
        traded.count({x.time, x.sell, Side::kSell}) && traded.count({x.time, x.buy, Side::kBuy});
    const double rel = fwd(x.time, x.buy) - fwd(x.time, x.sell);
    const char* outcome = rel > rules.band ? "win" : (rel < -rules.band ? "loss" : "breakeven");
    BindRecommendation(rec, source, r.symbols, x)
        .Bind(11, acted ? 1 : 0)
        .Bind(12, outcome)
        .Bind(13, rel)
        .Run();
  }
  db.Exec("COMMIT");
}

void AppendSignalsDb(const std::string& path, const std::string& source,
                     const std::vector<std::string>& symbols, const std::vector<SignalRow>& signals,
                     const std::vector<RecommendationRow>& recommendations,
                     const std::vector<bool>* acted) {
  sqlite::Db db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, "signals database");
  db.Exec(kSchema);
  db.Exec("BEGIN");
  db.Exec("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '1')");
  InsertSignals(db, source, symbols, signals, nullptr, acted);
  sqlite::Stmt rec(db, kInsertRecommendation);
  for (const auto& x : recommendations)
    BindRecommendation(rec, source, symbols, x).Bind(11, 0).BindNull(12).BindNull(13).Run();
  db.Exec("COMMIT");
}

std::size_t SettleLiveOutcomes(
    const std::string& path, Days today, const std::vector<TrackedFill>& fills,
    const std::function<double(const std::string&)>& position,
    const std::function<std::vector<std::pair<Days, double>>(const std::string&)>& closes,
    const OutcomeRules& rules) {
  if (!fs::exists(path)) return 0;
  sqlite::Db db(path, SQLITE_OPEN_READWRITE, "signals database");
  struct Open {
    std::int64_t id;
    std::string symbol, type, action;
    Days day;
    double price;
    bool acted;
  };
  std::vector<Open> pending;
  {
    sqlite::Stmt s(
        db,
        "SELECT id, symbol, signal_type, suggested_action, signal_date, price, acted_on FROM "
        "trading_signals WHERE signal_type != 'hold' AND (outcome IS NULL OR outcome = "
        "'open') ORDER BY id");
    while (s.Step()) {
      pending.push_back({s.Int(0), s.Text(1), s.Text(2), s.Text(3),
                         ParseIsoDate(s.Text(4)).value_or(Days{}), s.Real(5), s.Int(6) != 0});
    }
  }
  auto judge = [&](double pct) {
    return pct > rules.band ? "win" : (pct < -rules.band ? "loss" : "breakeven");
  };
  sqlite::Stmt upd(
      db,
      "UPDATE trading_signals SET outcome = ?, exit_date = ?, exit_price = ?, profit = ?, "
      "profit_pct = ?, days_held = ? WHERE id = ?");
  std::size_t changed = 0;
  db.Exec("BEGIN");
  for (const auto& p : pending) {
    const auto series = closes(p.symbol);
    const double close_today = series.empty() ? kNaN : series.back().second;
    if (p.type == "buy" && p.acted && p.action == "open") {
      // The position from this buy until it was sold to zero (or today).
      double qty = 0, bought = 0, sold = 0, fees = 0;
      std::optional<Days> exit;
      double exit_price = kNaN;
      for (const auto& f : fills) {
        if (f.symbol != p.symbol || f.day < p.day) continue;
        if (f.buy) {
          qty += f.qty;
          bought += f.qty * f.price;
        } else {
          qty -= f.qty;
          sold += f.qty * f.price;
        }
        fees += f.commission;
        if (!f.buy && qty <= kTiny && bought > 0) {
          exit = f.day;
          exit_price = f.price;
          break;
        }
      }
      if (!(bought > 0)) continue;  // the fills have not arrived yet
      const double held = exit ? 0.0 : position(p.symbol);
      const double pnl = sold + held * close_today - bought - fees;
      const double pct = pnl / bought;
      upd.Bind(1, exit ? judge(pct) : "open")
          .BindTextOrNull(2, exit ? FormatDate(*exit) : std::string())
          .Bind(3, exit_price)
          .Bind(4, pnl)
          .Bind(5, pct)
          .Bind(6, ((exit ? *exit : today) - p.day).count())
          .Bind(7, p.id)
          .Run();
      ++changed;
      continue;
    }
    if (p.type == "buy" && p.acted) continue;  // an increase: its opener carries the outcome
    if (p.type == "sell" && !p.acted) continue;
    // Judged over the horizon: the close `horizon` sessions after the signal's day.
    std::size_t at = 0;
    while (at < series.size() && series[at].first <= p.day)
      ++at;
    const std::size_t later = at + static_cast<std::size_t>(rules.horizon) - 1;
    if (later >= series.size() || !(p.price > 0)) continue;  // not yet
    const double fr = series[later].second / p.price - 1.0;
    const char* outcome = p.type == "sell" ? judge(-fr) : (fr > rules.band ? "missed" : "passed");
    double sold = 0;
    for (const auto& f : fills) {
      if (f.symbol == p.symbol && !f.buy && f.day == p.day) sold += f.qty * f.price;
    }
    upd.Bind(1, outcome)
        .BindNull(2)
        .BindNull(3)
        .Bind(4, p.type == "sell" ? -fr * sold : kNaN)
        .Bind(5, p.type == "sell" ? -fr : fr)
        .BindNull(6)
        .Bind(7, p.id)
        .Run();
    ++changed;
  }
  db.Exec("COMMIT");
  return changed;
}

namespace {

struct WinStats {
  std::int64_t decided = 0, wins = 0;
  [[nodiscard]] double Rate() const {
    return decided > 0 ? static_cast<double>(wins) / decided : kNaN;
  }
};

/// Acted signals with a decided outcome (a closed position, or a sell judged over the horizon),
/// decided on or after `from` (ISO date; empty = all) and on or before `to`.
WinStats Wins(sqlite::Db& db, const std::string& from, const std::string& to) {
  sqlite::Stmt s(
      db,
      "SELECT COUNT(*), COALESCE(SUM(outcome = 'win'), 0) FROM trading_signals WHERE "
      "acted_on = 1 AND outcome IN ('win', 'loss', 'breakeven') AND (signal_type = 'sell' OR "
      "profit IS NOT NULL) AND COALESCE(exit_date, signal_date) >= ? AND "
      "COALESCE(exit_date, signal_date) <= ?");
  s.Bind(1, from).Bind(2, to);
  WinStats w;
  if (s.Step()) {
    w.decided = s.Int(0);
    w.wins = s.Int(1);
  }
  return w;
}

/// Appends `{fields}` to a JSON array being built ("[" so far, or "[{...}" with elements).
void AppendObject(std::string& array, JsonFields& fields) {
  array += array.size() > 1 ? ",{" : "{";
  array += fields.Take();
  array += '}';
}

std::string Pct(double x) {
  return std::isnan(x) ? "-" : fmt::format("{:.1f}%", x * 100.0);
}

}  // namespace

std::string SignalsReport(const std::string& path_in, const SignalsReportOptions& o, bool json) {
  std::string path = path_in;
  if (fs::is_directory(path)) path = (fs::path(path) / "signals.sqlite").string();
  if (!fs::exists(path)) {
    throw Error(ErrorKind::kUsage,
                fmt::format("{}: no signals database (a backtest of a signal_swap strategy writes "
                            "signals.sqlite in its run directory)",
                            path));
  }
  sqlite::Db db(path, SQLITE_OPEN_READONLY, "signals database", ErrorKind::kData);
  std::int64_t count = 0;
  std::string first, last;
  {
    sqlite::Stmt s(db, "SELECT COUNT(*), MIN(signal_date), MAX(signal_date) FROM trading_signals");
    if (s.Step()) {
      count = s.Int(0);
      first = s.Text(1);
      last = s.Text(2);
    }
  }
  const std::string to = o.as_of ? FormatDate(*o.as_of) : last;
  auto back = [&](int days) {
    const auto d = ParseIsoDate(to);
    return d ? FormatDate(*d - std::chrono::days{days}) : std::string();
  };
  const WinStats w30 = Wins(db, back(30), to), w90 = Wins(db, back(90), to), all = Wins(db, "", to);
  double realized = 0, open_pnl = 0, gross_win = 0, gross_loss = 0;
  {
    sqlite::Stmt s(
        db,
        "SELECT outcome, profit FROM trading_signals WHERE signal_type = 'buy' AND acted_on = 1 "
        "AND profit IS NOT NULL AND signal_date <= ?");
    s.Bind(1, to);
    while (s.Step()) {
      const std::string outcome = s.Text(0);
      const double p = s.Real(1);
      if (outcome == "open") {
        open_pnl += p;
        continue;
      }
      realized += p;
      if (p > 0) gross_win += p;
      if (p < 0) gross_loss -= p;
    }
  }
  const double profit_factor = gross_loss > 0 ? gross_win / gross_loss : kNaN;
  struct Source {
    std::string name;
    std::int64_t signals = 0, acted = 0, decided = 0, wins = 0;
    double pnl = 0;
  };
  std::vector<Source> sources;
  {
    sqlite::Stmt s(
        db,
        "SELECT source, COUNT(*), SUM(acted_on), SUM(acted_on = 1 AND outcome IN ('win', "
        "'loss', 'breakeven') AND (signal_type = 'sell' OR profit IS NOT NULL)), "
        "SUM(acted_on = 1 AND outcome = 'win' AND (signal_type = 'sell' OR profit IS NOT "
        "NULL)), COALESCE(SUM(CASE WHEN signal_type = 'buy' AND acted_on = 1 THEN profit END), "
        "0) FROM trading_signals WHERE signal_date <= ? GROUP BY source ORDER BY source");
    s.Bind(1, to);
    while (s.Step()) {
      sources.push_back({s.Text(0), s.Int(1), s.Int(2), s.Int(3), s.Int(4), s.Real(5)});
    }
  }
  struct Row {
    std::string date, symbol, type, confidence, outcome;
    double strength = 0, pct = 0;
    bool acted = false;
  };
  auto rows = [&](const char* sql) {
    sqlite::Stmt s(db, sql);
    s.Bind(1, to).Bind(2, static_cast<std::int64_t>(o.recent));
    std::vector<Row> out;
    while (s.Step()) {
      out.push_back({s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Real(5), s.Real(6),
                     s.Int(7) != 0});
    }
    return out;
  };
  const auto recent = rows(
      "SELECT signal_date, symbol, signal_type, confidence, COALESCE(outcome, ''), strength, "
      "profit_pct, acted_on FROM trading_signals WHERE signal_type != 'hold' AND signal_date <= ? "
      "ORDER BY signal_date DESC, id DESC LIMIT ?");
  const auto missed = rows(
      "SELECT signal_date, symbol, signal_type, confidence, outcome, strength, profit_pct, "
      "acted_on FROM trading_signals WHERE outcome = 'missed' AND signal_date <= ? ORDER BY "
      "profit_pct DESC, signal_date, symbol LIMIT ?");

  if (json) {
    JsonFields f;
    f.Add("database", path).Add("as_of", to).Add("signals", count);
    f.Add("first_signal", first).Add("last_signal", last);
    auto win = [](const WinStats& w) {
      JsonFields x;
      x.Add("decided", w.decided).Add("wins", w.wins).Add("win_rate", w.Rate());
      std::string obj = "{";
      obj += x.Take();
      obj += '}';
      return obj;
    };
    f.AddRaw("last_30_days", win(w30)).AddRaw("last_90_days", win(w90)).AddRaw("all", win(all));
    f.Add("total_pnl", realized + open_pnl)
        .Add("realized_pnl", realized)
        .Add("open_pnl", open_pnl)
        .Add("profit_factor", profit_factor);
    std::string src = "[";
    for (const auto& x : sources) {
      JsonFields e;
      e.Add("source", x.name)
          .Add("signals", x.signals)
          .Add("acted_on", x.acted)
          .Add("decided", x.decided)
          .Add("wins", x.wins)
          .Add("win_rate", x.decided > 0 ? static_cast<double>(x.wins) / x.decided : kNaN)
          .Add("pnl", x.pnl);
      AppendObject(src, e);
    }
    src += ']';
    f.AddRaw("by_source", src);
    auto list = [](const std::vector<Row>& v) {
      std::string a = "[";
      for (const auto& x : v) {
        JsonFields e;
        e.Add("date", x.date)
            .Add("symbol", x.symbol)
            .Add("signal_type", x.type)
            .Add("strength", x.strength)
            .Add("confidence", x.confidence)
            .Add("acted_on", x.acted)
            .Add("outcome", x.outcome)
            .Add("return", x.pct);
        AppendObject(a, e);
      }
      a += ']';
      return a;
    };
    f.AddRaw("recent", list(recent)).AddRaw("missed_opportunities", list(missed));
    std::string doc = "{";
    doc += f.Take();
    doc += "}\n";
    return doc;
  }
  std::string out =
      fmt::format("signals: {} ({} signals, {} .. {}; as of {})\n", path, count, first, last, to);
  out += fmt::format(
      "  win rate          last 30 days {:>7} ({} decided)   last 90 days {:>7} ({} "
      "decided)   all {:>7} ({} decided)\n",
      Pct(w30.Rate()), w30.decided, Pct(w90.Rate()), w90.decided, Pct(all.Rate()), all.decided);
  out += fmt::format("  total P&L         {:.2f}  (closed {:.2f}, still open {:.2f})\n",
                     realized + open_pnl, realized, open_pnl);
  out += fmt::format("  profit factor     {}\n",
                     std::isnan(profit_factor) ? "-" : fmt::format("{:.2f}", profit_factor));
  out += "\nby source\n";
  out += fmt::format("  {:<32} {:>8} {:>8} {:>9} {:>12}\n", "source", "signals", "acted",
                     "win rate", "P&L");
  for (const auto& x : sources) {
    out += fmt::format("  {:<32} {:>8} {:>8} {:>9} {:>12.2f}\n", x.name, x.signals, x.acted,
                       Pct(x.decided > 0 ? static_cast<double>(x.wins) / x.decided : kNaN), x.pnl);
  }
  auto table = [&](const char* title, const std::vector<Row>& v) {
    out += fmt::format("\n{}\n", title);
    if (v.empty()) {
      out += "  (none)\n";
      return;
    }
    for (const auto& x : v) {
      out += fmt::format("  {}  {:<6} {:<4} strength {:>5.1f}  {:<6}  {:<9} {:<9} {}\n", x.date,
                         x.symbol, x.type, x.strength, x.confidence,
                         x.acted ? "acted on" : "not acted", x.outcome.empty() ? "-" : x.outcome,
                         std::isnan(x.pct) ? "" : fmt::format("{:+.1f}%", x.pct * 100.0));
    }
  };
  table("recent signals", recent);
  table("missed opportunities (not bought; rose over the next sessions)", missed);
  return out;
}

}  // namespace ballast::backtests
