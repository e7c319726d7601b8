#pragma once
/// Everything a run produces, in memory, in columns. Written out by the backtests layer (CSV,
/// JSON) and read by metrics. Preallocated at start; the kernel appends one row per slice.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ballast/engine/orders.hpp"

namespace ballast {

struct TradeRecord {
  Timestamp time = 0;
  OrderId order = 0;
  std::uint64_t decision = 0;
  SymbolIndex symbol = 0;
  Side side = Side::kBuy;
  double quantity = 0.0;
  double price = 0.0;
  double commission = 0.0;
  double slippage = 0.0;
};

/// One line of events.jsonl: `fields_json` is the inside of a JSON object (`"a":1,"b":"x"`).
struct EventRecord {
  Timestamp time = 0;
  std::string type;
  std::string fields_json;
};

/// A technical signal a strategy produced at a decision (signal_swap; `ballast advise`): what it
/// saw and what it suggested. Written to signals.sqlite (docs/signals.md has the schema).
struct SignalRow {
  Timestamp time = 0;
  SymbolIndex symbol = 0;
  std::string action;  ///< buy | sell | hold
  double strength = 0.0;
  std::string confidence;  ///< high | medium | low
  double price = 0.0;
  double rsi = 0.0, macd = 0.0, macd_signal = 0.0, macd_histogram = 0.0;
  double ma_short = 0.0, ma_long = 0.0, volume_ratio = 0.0, alpha = 0.0;  ///< NaN = not ready
  std::string suggested_action;  ///< open | increase | keep | reduce | exit | none
  double suggested_weight = 0.0;
  bool uses_margin = false;
  std::string risk_level;  ///< low | medium | high
  std::string reason;      ///< why (swap, stop_loss, time_stop, tier, ...)
};

/// A swap recommendation: sell one holding, buy a stronger candidate.
struct RecommendationRow {
  Timestamp time = 0;
  SymbolIndex sell = 0, buy = 0;
  double sell_strength = 0.0, buy_strength = 0.0, improvement = 0.0;
  double suggested_weight = 0.0;
  bool uses_margin = false;
  std::string risk_level;
};

/// Where strategies and the kernel log events (`fields_json` is the inside of a JSON object).
class EventLog {
 public:
  virtual ~EventLog() = default;
  virtual void AddEvent(Timestamp t, std::string type, std::string fields_json) = 0;
  /// False when events are not kept (summary-only runs): callers may skip building them.
  [[nodiscard]] virtual bool Enabled() const noexcept { return true; }
  /// A strategy's own section of summary.json (`json` a complete JSON value), replaced on each
  /// call; e.g. per-sleeve attribution.
  virtual void SetSummaryField(std::string key, std::string json) {
    (void)key;
    (void)json;
  }
  /// Signals and recommendations for the tracker (signals.sqlite).
  virtual void AddSignal(SignalRow row) { (void)row; }
  virtual void AddRecommendation(RecommendationRow row) { (void)row; }
};

class RunRecord final : public EventLog {
 public:
  void Reserve(std::size_t rows, std::size_t symbols);

  // One entry per slice.
  std::vector<Timestamp> times;
  std::vector<double> equity;  ///< portfolio value at the close, after the slice's fills
  std::vector<double> cash;
  std::vector<double> flows;      ///< external cash flow booked on the slice
  std::vector<double> benchmark;  ///< benchmark close (last known), NaN without a benchmark
  std::vector<double> bought;     ///< buy notional filled on the slice
  std::vector<double> sold;       ///< sell notional filled on the slice
  std::vector<double> fees;       ///< commissions + slippage cost on the slice
  std::vector<double> weights;    ///< row-major slices x symbols, after the slice's fills
  std::size_t symbols = 0;

  std::vector<TradeRecord> trades;
  std::vector<EventRecord> events;
  std::uint64_t rebalances = 0;     ///< rebalance decisions (trade to targets)
  std::uint64_t investments = 0;    ///< investment decisions (buy-only, new cash)
  double interest_paid = 0.0;       ///< margin interest charged over the run
  double dividends_received = 0.0;  ///< cash dividends credited over the run
  double max_gross_leverage = 0.0;  ///< largest sum of position weights at a close

  bool events_enabled = true;   ///< false: events are dropped (summary-only runs)
  bool weights_enabled = true;  ///< false: per-slice weights are not recorded
  [[nodiscard]] bool Enabled() const noexcept override { return events_enabled; }
  void AddEvent(Timestamp t, std::string type, std::string fields_json) override {
    if (!events_enabled) return;
    events.push_back({t, std::move(type), std::move(fields_json)});
  }
  std::vector<SignalRow> signals;
  std::vector<RecommendationRow> recommendations;
  void AddSignal(SignalRow row) override {
    if (events_enabled) signals.push_back(std::move(row));
  }
  void AddRecommendation(RecommendationRow row) override {
    if (events_enabled) recommendations.push_back(std::move(row));
  }
  /// Strategy sections of summary.json, in first-set order.
  std::vector<std::pair<std::string, std::string>> summary_fields;
  void SetSummaryField(std::string key, std::string json) override {
    for (auto& [k, v] : summary_fields) {
      if (k == key) {
        v = std::move(json);
        return;
      }
    }
    summary_fields.emplace_back(std::move(key), std::move(json));
  }
};

/// Builds the inside of a JSON object for an event: `JsonFields().Add("a", 1).Add("s", "x")`.
/// Doubles print in shortest round-trip form; strings are escaped.
class JsonFields {
 public:
  JsonFields& Add(std::string_view key, std::string_view value);
  JsonFields& Add(std::string_view key, const char* value) {
    return Add(key, std::string_view(value));
  }
  JsonFields& Add(std::string_view key, double value);
  JsonFields& Add(std::string_view key, std::int64_t value);
  JsonFields& Add(std::string_view key, std::uint64_t value);
  JsonFields& Add(std::string_view key, int value) {
    return Add(key, static_cast<std::int64_t>(value));
  }
  JsonFields& Add(std::string_view key, bool value);
  /// Adds pre-rendered JSON (an object or array) as the value.
  JsonFields& AddRaw(std::string_view key, std::string_view json);
  [[nodiscard]] std::string Take() { return std::move(text_); }
  [[nodiscard]] const std::string& Text() const noexcept { return text_; }

 private:
  void Key(std::string_view key);
  std::string text_;
};

/// Appends `s` as a JSON string literal (with quotes) to `out`.
void AppendJsonString(std::string& out, std::string_view s);
/// Shortest round-trip text of a double; non-finite values become `null`.
std::string JsonNumber(double v);
/// Writes the shortest round-trip text of finite `v` into `buf` (>= 32 chars), returning the end:
/// plain decimal for 1e-4 <= |v| < 1e16 ("100000", "0.25"), exponent form otherwise ("1e-07"),
/// "0" for zero. Same text as JsonNumber.
char* FormatShortest(char* buf, double v) noexcept;

}  // namespace ballast
