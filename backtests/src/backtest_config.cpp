#include "ballast/backtests/backtest_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "ballast/engine/error.hpp"

namespace ballast::backtests {
namespace {

std::optional<Days> ParseDateKey(const ConfigNode& parent, std::string_view key) {
  auto node = parent.Find(key);
  if (!node) return std::nullopt;
  const auto d = ParseIsoDate(node->String());
  if (!d) node->Fail("a date YYYY-MM-DD");
  return d;
}

double NonNegative(const ConfigNode& parent, std::string_view key, double fallback) {
  auto node = parent.Find(key);
  if (!node) return fallback;
  const double v = node->Number();
  if (v < 0.0) node->Fail("a number >= 0");
  return v;
}

// A non-negative number strictly below `limit` (`why` says what the limit means).
double Below(const ConfigNode& parent, std::string_view key, double fallback, double limit,
             std::string_view why) {
  const double v = NonNegative(parent, key, fallback);
  if (v >= limit) parent.At(key).Fail(fmt::format("a number >= 0 and below {} ({})", limit, why));
  return v;
}

CommissionModel ParseCommission(const ConfigNode& node) {
  CommissionModel m;
  if (node.IsString()) {
    // Shorthand: "none".
    if (node.String() == "none") return m;
    node.Fail("an object like {\"model\": \"per_share\", ...} or \"none\"");
  }
  const auto model = node.EnumOr("model", {"none", "per_share", "bps", "fixed"}, "none");
  if (model == "none") {
    node.ExpectKeys({"model"});
    m.kind = CommissionModel::Kind::kNone;
  } else if (model == "per_share") {
    node.ExpectKeys({"model", "per_share", "min", "max_pct"});
    m.kind = CommissionModel::Kind::kPerShare;
    m.per_share = NonNegative(node, "per_share", 0.005);
    m.min = NonNegative(node, "min", 1.0);
    m.max_pct = Below(node, "max_pct", 0.01, 1.0, "a fee of the whole notional or more");
  } else if (model == "bps") {
    node.ExpectKeys({"model", "bps"});
    m.kind = CommissionModel::Kind::kBps;
    m.bps = Below(node, "bps", 0.0, 10000.0, "10000 bps is a fee of the whole notional");
  } else {
    node.ExpectKeys({"model", "per_order"});
    m.kind = CommissionModel::Kind::kFixed;
    m.per_order = NonNegative(node, "per_order", 0.0);
  }
  return m;
}

}  // namespace

BacktestConfig ParseBacktestConfig(const ConfigDocument& doc,
                                   const strategies::StrategyRegistry& registry) {
  const ConfigNode root = doc.Root();
  root.ExpectKeys({"name", "description", "data", "portfolio", "strategy", "execution",
                   "constraints", "cash_flows", "margin", "benchmark", "metrics", "broker", "live",
                   "advise"});  // broker and live: `ballast live`; advise: `ballast advise`
  BacktestConfig c;
  c.origin = doc.Origin();
  c.name = root.StringOr("name", std::filesystem::path(doc.Origin()).stem().string());
  if (auto d = root.Find("description")) (void)d->String();

  const ConfigNode data = root.At("data");
  data.ExpectKeys({"store", "start", "end", "use_history_before_start", "prices"});
  {
    const ConfigNode store = data.At("store");
    std::filesystem::path p(store.String());
    if (p.empty()) store.Fail("a path to an HDF5 store");
    if (p.is_relative()) p = std::filesystem::path(doc.Origin()).parent_path() / p;
    c.store_path = p.lexically_normal().string();
  }
  c.start = ParseDateKey(data, "start");
  c.end = ParseDateKey(data, "end");
  c.use_history_before_start = data.BoolOr("use_history_before_start", false);
  {
    const auto basis = data.EnumOr("prices", {"adjusted", "raw", "split_adjusted"}, "adjusted");
    c.prices = basis == "raw"              ? data::PriceBasis::kRaw
               : basis == "split_adjusted" ? data::PriceBasis::kSplitAdjusted
                                           : data::PriceBasis::kAdjusted;
  }
  if (c.start && c.end && *c.start >= *c.end) {
    data.At("end").Fail(fmt::format("a date after data.start ({})", FormatDate(*c.start)));
  }

  if (auto portfolio = root.Find("portfolio")) {
    portfolio->ExpectKeys({"initial_cash", "shares", "lot_size", "dividends"});
    c.reinvest_dividends =
        portfolio->EnumOr("dividends", {"cash", "reinvest"}, "cash") == "reinvest";
    if (auto cash = portfolio->Find("initial_cash")) {
      c.initial_cash = cash->Number();
      if (!(c.initial_cash > 0.0)) cash->Fail("a positive amount");
    }
    c.shares = portfolio->EnumOr("shares", {"fractional", "whole"}, "fractional") == "whole"
                   ? ShareMode::kWhole
                   : ShareMode::kFractional;
    if (auto lot = portfolio->Find("lot_size")) {
      c.lot_size = lot->Number();
      if (!(c.lot_size > 0.0)) lot->Fail("a positive number of shares");
    }
  }

  c.strategy = registry.Parse(root.At("strategy"));

  if (auto ex = root.Find("execution")) {
    ex->ExpectKeys({"fill", "commission", "slippage_bps", "min_trade_notional", "order_type",
                    "limit_offset_bps"});
    c.fill = ex->EnumOr("fill", {"close", "next_open"}, "close") == "close"
                 ? sim::FillModel::kClose
                 : sim::FillModel::kNextOpen;
    if (auto com = ex->Find("commission")) c.commission = ParseCommission(*com);
    c.slippage_bps =
        Below(*ex, "slippage_bps", 0.0, 10000.0, "10000 bps moves a sell's price to zero");
    c.min_trade_notional = NonNegative(*ex, "min_trade_notional", 0.0);
    c.order_type = ex->EnumOr("order_type", {"market", "limit"}, "market") == "limit"
                       ? OrderType::kLimit
                       : OrderType::kMarket;
    if (auto off = ex->Find("limit_offset_bps")) {
      if (c.order_type != OrderType::kLimit)
        off->Fail("no limit_offset_bps unless order_type is \"limit\"");
      c.limit_offset_bps = off->Number();
      if (!(std::abs(c.limit_offset_bps) <= 1000.0))
        off->Fail("basis points from the last price between -1000 and 1000 (10 %)");
    }
  }
  if (auto k = root.Find("constraints")) {
    // Portfolio rules, enforced by the planner for every strategy.
    k->ExpectKeys({"max_weight", "max_turnover", "cash_reserve", "min_trade", "lot_size"});
    c.max_weight = 0.4;
    if (auto v = k->Find("max_weight")) {
      c.max_weight = v->Number();
      if (!(c.max_weight > 0.0 && c.max_weight <= 1.0)) v->Fail("a fraction in (0, 1]");
    }
    if (auto v = k->Find("max_turnover")) {
      c.max_turnover = v->Number();
      if (!(c.max_turnover > 0.0))
        v->Fail("a positive fraction of the portfolio's value per rebalance");
    }
    if (auto v = k->Find("cash_reserve")) {
      c.cash_reserve = v->Number();
      if (!(c.cash_reserve >= 0.0 && c.cash_reserve < 1.0)) v->Fail("a fraction in [0, 1)");
    }
    c.min_trade_notional = std::max(c.min_trade_notional, NonNegative(*k, "min_trade", 0.0));
    if (auto v = k->Find("lot_size")) {
      if (auto p = root.Find("portfolio"); p && p->Has("lot_size"))
        v->Fail("one lot size (portfolio.lot_size is also set)");
      c.lot_size = v->Number();
      if (!(c.lot_size > 0.0)) v->Fail("a positive number of shares");
    }
  }
  if (auto flows = root.Find("cash_flows")) {
    // Sleeve books split the account's value; external flows would need a rule for which sleeve
    // gets them, and none is defined yet.
    if (c.strategy.type == "sleeves") flows->Fail("no cash_flows with a \"sleeves\" strategy");
    c.cash_flows = strategies::ParseCashFlows(*flows);
  }
  if (auto m = root.Find("margin")) {
    m->ExpectKeys({"max_leverage", "leverage", "interest_rate", "maintenance"});
    const ConfigNode max = m->At("max_leverage");
    c.max_leverage = max.Number();
    if (!(c.max_leverage >= 1.0 && c.max_leverage <= 10.0))
      max.Fail("gross exposure / equity between 1 and 10");
    if (auto l = m->Find("leverage")) {
      c.leverage = l->Number();
      if (!(c.leverage > 0.0 && c.leverage <= c.max_leverage)) {
        l->Fail(fmt::format("a target leverage in (0, max_leverage = {}]", c.max_leverage));
      }
    }
    c.interest_rate = NonNegative(*m, "interest_rate", 0.0);
    c.maintenance = NonNegative(*m, "maintenance", 0.25);
    if (c.maintenance >= 1.0)
      m->At("maintenance").Fail("a ratio of equity to exposure below 1, e.g. 0.25");
    if (c.maintenance > 0.0 && c.leverage * c.maintenance >= 1.0) {
      m->At("maintenance")
          .Fail(fmt::format("a ratio below 1 / leverage = {} (or every day is a margin call)",
                            1.0 / c.leverage));
    }
  }
  if (c.strategy.needs_margin && c.max_leverage <= 1.0) {
    root.At("strategy")
        .At("margin")
        .Fail(
            "a margin account to borrow from: add a top-level \"margin\": {\"max_leverage\": 1.25, "
            "\"leverage\": 1.0} (leverage 1: the strategy decides when to borrow)");
  }
  if (auto b = root.Find("benchmark")) {
    // "SPY", or {"symbol": "SPY", "flows": "same" | "none", "prices": "adjusted" | "raw"}.
    if (b->IsObject()) {
      b->ExpectKeys({"symbol", "flows", "prices"});
      c.benchmark_price_return = b->EnumOr("prices", {"adjusted", "raw"}, "adjusted") == "raw";
      const ConfigNode sym = b->At("symbol");
      c.benchmark = sym.String();
      if (c.benchmark.empty()) sym.Fail("a symbol in the store");
      c.benchmark_same_flows = b->EnumOr("flows", {"same", "none"}, "same") == "same";
    } else {
      c.benchmark = b->String();
      if (c.benchmark.empty()) b->Fail("a symbol in the store, or null for none");
    }
  }
  if (auto m = root.Find("metrics")) {
    m->ExpectKeys({"risk_free_rate"});
    if (auto rf = m->Find("risk_free_rate")) {
      c.risk_free_rate = rf->Number();
      if (c.risk_free_rate <= -1.0 || c.risk_free_rate > 1.0)
        rf->Fail("an annual rate as a fraction, e.g. 0.02");
    }
  }
  c.resolved_json = doc.Pretty();
  ConfigDocument identity = doc.Clone();
  identity.SetString("data.store", std::filesystem::path(c.store_path).filename().string());
  // FNV-1a: the same config always yields the same client order ids.
  std::uint32_t h = 2166136261u;
  for (unsigned char ch : identity.Pretty()) {
    h ^= ch;
    h *= 16777619u;
  }
  c.run_tag = fmt::format("bt{:08x}", h);
  return c;
}

PlannerOptions MakePlannerOptions(const BacktestConfig& c) {
  PlannerOptions o;
  o.shares = c.shares;
  o.lot_size = c.lot_size;
  o.min_trade_notional = std::max(c.min_trade_notional, c.strategy.min_trade_notional);
  o.commission = c.commission;
  o.slippage_bps = c.slippage_bps;
  o.max_weight = c.max_weight;
  o.max_turnover = c.max_turnover;
  o.cash_reserve = c.cash_reserve;
  o.leverage = c.leverage;
  o.max_leverage = c.max_leverage;
  o.order_type = c.order_type;
  o.limit_offset_bps = c.limit_offset_bps;
  return o;
}

BacktestConfig LoadBacktestConfig(const std::string& path, const std::vector<std::string>& sets,
                                  const strategies::StrategyRegistry& registry) {
  ConfigDocument doc = ConfigDocument::FromFile(path);
  for (const auto& s : sets)
    doc.ApplySet(s);
  return ParseBacktestConfig(doc, registry);
}

}  // namespace ballast::backtests
