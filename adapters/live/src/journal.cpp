#include "ballast/live/journal.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include "ballast/adapters/alpaca/messages.hpp"
#include "ballast/data/sqlite.hpp"
#include "ballast/engine/error.hpp"
#include "ballast/engine/metrics.hpp"
#include "ballast/engine/run_record.hpp"

namespace ballast::live {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cycles(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_day TEXT NOT NULL,
  reason TEXT NOT NULL,
  state TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '',
  preview TEXT NOT NULL DEFAULT '',
  started_ns INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS orders(
  client_order_id TEXT PRIMARY KEY,
  cycle_id INTEGER NOT NULL REFERENCES cycles(id),
  symbol TEXT NOT NULL,
  side TEXT NOT NULL,
  qty REAL NOT NULL,
  ref_price REAL NOT NULL,
  state TEXT NOT NULL,
  broker_id TEXT NOT NULL DEFAULT '',
  filled_qty REAL NOT NULL DEFAULT 0,
  avg_price REAL NOT NULL DEFAULT 0,
  reason TEXT NOT NULL DEFAULT '',
  limit_price REAL NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS fills(
  exec_key TEXT PRIMARY KEY,
  client_order_id TEXT NOT NULL,
  symbol TEXT NOT NULL,
  side TEXT NOT NULL,
  qty REAL NOT NULL,
  price REAL NOT NULL,
  commission REAL NOT NULL DEFAULT 0,
  at_ns INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS schedule(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events(
  id INTEGER PRIMARY KEY AUTOINCREMENT, at_ns INTEGER NOT NULL, kind TEXT NOT NULL,
  detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS equity(
  session_day TEXT PRIMARY KEY, at_ns INTEGER NOT NULL, equity REAL NOT NULL, cash REAL NOT NULL,
  drift REAL NOT NULL, cycle_state TEXT NOT NULL, benchmark_close REAL);
CREATE TABLE IF NOT EXISTS flows(session_day TEXT PRIMARY KEY, amount REAL NOT NULL);
CREATE TABLE IF NOT EXISTS income(
  id TEXT PRIMARY KEY, session_day TEXT NOT NULL, symbol TEXT NOT NULL, amount REAL NOT NULL);
INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '1');
)sql";

JournalOrder ReadOrder(sqlite::Stmt& s) {
  JournalOrder o;
  o.client_order_id = s.Text(0);
  o.cycle = s.Int(1);
  o.symbol = s.Text(2);
  o.side = s.Text(3);
  o.qty = s.Real(4);
  o.ref_price = s.Real(5);
  o.state = s.Text(6);
  o.broker_id = s.Text(7);
  o.filled_qty = s.Real(8);
  o.avg_price = s.Real(9);
  o.reason = s.Text(10);
  o.limit_price = s.Real(11);
  o.status = s.Text(12);
  return o;
}

std::vector<JournalOrder> ReadOrders(sqlite::Stmt& s) {
  std::vector<JournalOrder> out;
  while (s.Step())
    out.push_back(ReadOrder(s));
  return out;
}

constexpr const char* kOrderColumns =
    "client_order_id, cycle_id, symbol, side, qty, ref_price, state, broker_id, filled_qty, "
    "avg_price, reason, limit_price, status";

}  // namespace

bool IsTerminalState(std::string_view s) noexcept {
  return s == "filled" || s == "canceled" || s == "expired" || s == "rejected" || s == "denied" ||
         s == "dry_run" || s == "abandoned" || s == "done_for_day" || s == "skipped";
}

Journal::Journal(const std::string& path, bool sync_every_commit) : path_(path) {
  const auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  db_ = std::make_unique<sqlite::Db>(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, "journal");
  sqlite3_busy_timeout(db_->Handle(), 5000);
  db_->Exec("PRAGMA journal_mode=WAL");
  db_->Exec(sync_every_commit ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  db_->Exec("PRAGMA foreign_keys=ON");
  db_->Exec(kSchema);
  // Journals written before limit orders have no limit_price column (their orders were
  // market), and those written before the order manager kept its own column have no status.
  bool has_limit = false, has_status = false;
  for (sqlite::Stmt c(*db_, "PRAGMA table_info(orders)"); c.Step();) {
    has_limit = has_limit || c.Text(1) == "limit_price";
    has_status = has_status || c.Text(1) == "status";
  }
  if (!has_limit) db_->Exec("ALTER TABLE orders ADD COLUMN limit_price REAL NOT NULL DEFAULT 0");
  if (!has_status) db_->Exec("ALTER TABLE orders ADD COLUMN status TEXT NOT NULL DEFAULT ''");
}

Journal::~Journal() = default;

std::optional<JournalCycle> Journal::LastCycle() {
  sqlite::Stmt s(*db_,
                 "SELECT id, session_day, state, reason FROM cycles WHERE state != 'dry_run' "
                 "ORDER BY id DESC LIMIT 1");
  if (!s.Step()) return std::nullopt;
  JournalCycle c;
  c.id = s.Int(0);
  c.day = ParseIsoDate(s.Text(1)).value_or(Days{});
  c.state = s.Text(2);
  c.reason = s.Text(3);
  return c;
}

std::int64_t Journal::BeginCycle(Days day, std::string_view reason, Timestamp now) {
  sqlite::Stmt s(
      *db_,
      "INSERT INTO cycles(session_day, reason, state, started_ns) VALUES (?, ?, 'started', ?)");
  s.Bind(1, FormatDate(day)).Bind(2, reason).Bind(3, static_cast<std::int64_t>(now)).Step();
  return sqlite3_last_insert_rowid(db_->Handle());
}

void Journal::SetCycleState(std::int64_t cycle, std::string_view state, std::string_view detail) {
  sqlite::Stmt s(*db_, "UPDATE cycles SET state = ?, detail = ? WHERE id = ?");
  s.Bind(1, state).Bind(2, detail).Bind(3, cycle).Step();
}

void Journal::PlanOrders(std::int64_t cycle, const std::vector<JournalOrder>& orders,
                         std::string_view preview_json) {
  db_->Exec("BEGIN IMMEDIATE");
  try {
    for (const auto& o : orders) {
      sqlite::Stmt s(
          *db_,
          "INSERT INTO orders(client_order_id, cycle_id, symbol, side, qty, ref_price, state, "
          "reason, limit_price) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
      s.Bind(1, o.client_order_id)
          .Bind(2, cycle)
          .Bind(3, o.symbol)
          .Bind(4, o.side)
          .Bind(5, o.qty)
          .Bind(6, o.ref_price)
          .Bind(7, o.state)
          .Bind(8, o.reason)
          .Bind(9, o.limit_price)
          .Step();
    }
    sqlite::Stmt c(*db_, "UPDATE cycles SET state = 'planned', preview = ? WHERE id = ?");
    c.Bind(1, preview_json).Bind(2, cycle).Step();
    db_->Exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_->Handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void Journal::SetOrderState(std::string_view id, std::string_view state, std::string_view broker_id,
                            std::string_view reason) {
  sqlite::Stmt s(
      *db_,
      "UPDATE orders SET state = ?, broker_id = CASE WHEN ? = '' THEN broker_id ELSE ? END, "
      "reason = CASE WHEN ? = '' THEN reason ELSE ? END WHERE client_order_id = ?");
  s.Bind(1, state)
      .Bind(2, broker_id)
      .Bind(3, broker_id)
      .Bind(4, reason)
      .Bind(5, reason)
      .Bind(6, id)
      .Step();
}

void Journal::SetOrderProgress(std::string_view id, double filled_qty, double avg_price) {
  sqlite::Stmt s(*db_, "UPDATE orders SET filled_qty = ?, avg_price = ? WHERE client_order_id = ?");
  s.Bind(1, filled_qty).Bind(2, avg_price).Bind(3, id).Step();
}

void Journal::SetOrderQty(std::string_view id, double qty) {
  sqlite::Stmt s(*db_, "UPDATE orders SET qty = ? WHERE client_order_id = ?");
  s.Bind(1, qty).Bind(2, id).Step();
}

void Journal::SetOrderStatus(std::string_view id, std::string_view status) {
  sqlite::Stmt s(*db_, "UPDATE orders SET status = ? WHERE client_order_id = ?");
  s.Bind(1, status).Bind(2, id).Step();
}

bool Journal::RecordFill(const JournalFill& f) {
  sqlite::Stmt s(*db_,
                 "INSERT OR IGNORE INTO fills(exec_key, client_order_id, symbol, side, qty, price, "
                 "commission, at_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  s.Bind(1, f.exec_key)
      .Bind(2, f.client_order_id)
      .Bind(3, f.symbol)
      .Bind(4, f.side)
      .Bind(5, f.qty)
      .Bind(6, f.price)
      .Bind(7, f.commission)
      .Bind(8, static_cast<std::int64_t>(f.at))
      .Step();
  return sqlite3_changes(db_->Handle()) == 1;
}

std::vector<JournalOrder> Journal::CycleOrders(std::int64_t cycle) {
  sqlite::Stmt s(
      *db_, fmt::format("SELECT {} FROM orders WHERE cycle_id = ? ORDER BY rowid", kOrderColumns)
                .c_str());
  s.Bind(1, cycle);
  return ReadOrders(s);
}

std::vector<JournalOrder> Journal::OpenOrders() {
  sqlite::Stmt s(
      *db_,
      fmt::format("SELECT {} FROM orders WHERE state NOT IN ('filled', 'canceled', 'expired', "
                  "'rejected', 'denied', 'dry_run', 'abandoned', 'done_for_day') ORDER BY rowid",
                  kOrderColumns)
          .c_str());
  return ReadOrders(s);
}

std::vector<std::string> Journal::BrokerIds() {
  sqlite::Stmt s(*db_, "SELECT broker_id FROM orders WHERE broker_id != '' ORDER BY rowid");
  std::vector<std::string> out;
  while (s.Step())
    out.push_back(s.Text(0));
  return out;
}

std::vector<JournalFill> Journal::Fills() {
  sqlite::Stmt s(
      *db_,
      "SELECT exec_key, client_order_id, symbol, side, qty, price, commission, at_ns FROM fills "
      "ORDER BY rowid");
  std::vector<JournalFill> out;
  while (s.Step()) {
    JournalFill f;
    f.exec_key = s.Text(0);
    f.client_order_id = s.Text(1);
    f.symbol = s.Text(2);
    f.side = s.Text(3);
    f.qty = s.Real(4);
    f.price = s.Real(5);
    f.commission = s.Real(6);
    f.at = s.Int(7);
    out.push_back(std::move(f));
  }
  return out;
}

double Journal::FilledQty(std::string_view id) {
  sqlite::Stmt s(*db_, "SELECT COALESCE(SUM(qty), 0) FROM fills WHERE client_order_id = ?");
  s.Bind(1, id);
  return s.Step() ? s.Real(0) : 0.0;
}

double Journal::FilledNotional(std::string_view id) {
  sqlite::Stmt s(*db_, "SELECT COALESCE(SUM(qty * price), 0) FROM fills WHERE client_order_id = ?");
  s.Bind(1, id);
  return s.Step() ? s.Real(0) : 0.0;
}

double Journal::SentNotional(Days day) {
  sqlite::Stmt s(
      *db_,
      "SELECT COALESCE(SUM(o.qty * o.ref_price), 0) FROM orders o JOIN cycles c ON "
      "o.cycle_id = c.id WHERE c.session_day = ? AND o.state NOT IN ('planned', 'denied', "
      "'dry_run', 'abandoned', 'rejected')");
  s.Bind(1, FormatDate(day));
  return s.Step() ? s.Real(0) : 0.0;
}

void Journal::SetState(std::string_view key, std::string_view value) {
  sqlite::Stmt s(
      *db_,
      "INSERT INTO schedule(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = "
      "excluded.value");
  s.Bind(1, key).Bind(2, value).Step();
}

std::optional<std::string> Journal::State(std::string_view key) {
  sqlite::Stmt s(*db_, "SELECT value FROM schedule WHERE key = ?");
  s.Bind(1, key);
  if (!s.Step()) return std::nullopt;
  return s.Text(0);
}

std::string EquityCsv(const std::vector<EquityRow>& rows, double base, bool benchmark_same_flows) {
  std::string out =
      "date,equity,cash,positions_value,daily_return,drawdown,flow,benchmark_equity,drift,"
      "cycle_state,time\n";
  if (rows.empty()) return out;
  if (!(base > 0.0)) base = rows.front().equity - rows.front().flow;
  auto ratio = [](double a, double b) { return b > 0.0 ? a / b : 1.0; };
  double peak = 0.0;
  double index = 1.0;
  std::vector<double> prices, flows;
  for (const auto& r : rows) {
    prices.push_back(r.benchmark_close > 0.0 ? r.benchmark_close
                                             : std::numeric_limits<double>::quiet_NaN());
    flows.push_back(r.flow);
  }
  const std::vector<double> account = BenchmarkAccount(prices, flows, base, benchmark_same_flows);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    // The backtest's time-weighted index: each day's growth excludes that day's flow.
    const double prev = index;
    index = i == 0 ? ratio(r.equity - r.flow, base)
                   : prev * ratio(r.equity - r.flow, rows[i - 1].equity);
    const double ret = i == 0 ? index - 1.0 : ratio(index, prev) - 1.0;
    peak = std::max(peak, index);
    const std::string bench = std::isfinite(account[i]) ? JsonNumber(account[i]) : std::string();
    out +=
        fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", FormatDate(r.day), JsonNumber(r.equity),
                    JsonNumber(r.cash), JsonNumber(r.equity - r.cash), JsonNumber(ret),
                    JsonNumber(peak > 0 ? index / peak - 1.0 : 0.0), JsonNumber(r.flow), bench,
                    JsonNumber(r.drift), r.cycle_state, alpaca::FormatRfc3339(r.at));
  }
  return out;
}

void Journal::SetFlow(Days day, double amount) {
  sqlite::Stmt s(*db_,
                 "INSERT INTO flows(session_day, amount) VALUES (?, ?) ON CONFLICT(session_day) "
                 "DO UPDATE SET amount = excluded.amount");
  s.Bind(1, FormatDate(day)).Bind(2, amount).Step();
}

double Journal::FlowTotal() {
  sqlite::Stmt s(*db_, "SELECT COALESCE(SUM(amount), 0) FROM flows");
  return s.Step() ? s.Real(0) : 0.0;
}

bool Journal::BookIncome(std::string_view id, Days day, std::string_view symbol, double amount) {
  sqlite::Stmt s(
      *db_, "INSERT OR IGNORE INTO income(id, session_day, symbol, amount) VALUES (?, ?, ?, ?)");
  s.Bind(1, id).Bind(2, FormatDate(day)).Bind(3, symbol).Bind(4, amount).Step();
  return sqlite3_changes(db_->Handle()) == 1;
}

double Journal::IncomeTotal() {
  sqlite::Stmt s(*db_, "SELECT COALESCE(SUM(amount), 0) FROM income");
  return s.Step() ? s.Real(0) : 0.0;
}

void Journal::RecordEquity(const EquityRow& r) {
  sqlite::Stmt s(
      *db_,
      "INSERT INTO equity(session_day, at_ns, equity, cash, drift, cycle_state, "
      "benchmark_close) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(session_day) DO UPDATE SET "
      "at_ns = excluded.at_ns, equity = excluded.equity, cash = excluded.cash, drift = "
      "excluded.drift, cycle_state = excluded.cycle_state, benchmark_close = "
      "excluded.benchmark_close");
  s.Bind(1, FormatDate(r.day))
      .Bind(2, static_cast<std::int64_t>(r.at))
      .Bind(3, r.equity)
      .Bind(4, r.cash)
      .Bind(5, r.drift)
      .Bind(6, r.cycle_state)
      .Bind(7, r.benchmark_close)
      .Step();
}

std::vector<EquityRow> Journal::EquityRows() {
  sqlite::Stmt s(*db_,
                 "SELECT e.session_day, e.at_ns, e.equity, e.cash, e.drift, e.cycle_state, "
                 "COALESCE(e.benchmark_close, 0), COALESCE(f.amount, 0) FROM equity e "
                 "LEFT JOIN flows f ON f.session_day = e.session_day ORDER BY e.session_day");
  std::vector<EquityRow> rows;
  while (s.Step()) {
    EquityRow r;
    r.day = ParseIsoDate(s.Text(0)).value_or(Days{});
    r.at = s.Int(1);
    r.equity = s.Real(2);
    r.cash = s.Real(3);
    r.drift = s.Real(4);
    r.cycle_state = s.Text(5);
    r.benchmark_close = s.Real(6);
    r.flow = s.Real(7);
    rows.push_back(std::move(r));
  }
  return rows;
}

void Journal::Event(Timestamp at, std::string_view kind, std::string_view detail_json) {
  sqlite::Stmt s(*db_, "INSERT INTO events(at_ns, kind, detail) VALUES (?, ?, ?)");
  s.Bind(1, static_cast<std::int64_t>(at)).Bind(2, kind).Bind(3, detail_json).Step();
}

}  // namespace ballast::live
