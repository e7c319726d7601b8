#include "ballast/strategies/sleeves.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <tuple>

#include "ballast/engine/error.hpp"
#include "ballast/strategies/weighers.hpp"

namespace ballast::strategies {
namespace {

// Events of a sleeve's strategy, tagged with the sleeve's name.
class SleeveEvents final : public EventLog {
 public:
  SleeveEvents(EventLog* inner, std::string name) : inner_(inner), prefix_("\"sleeve\":") {
    AppendJsonString(prefix_, name);
  }
  void AddEvent(Timestamp t, std::string type, std::string fields_json) override {
    inner_->AddEvent(t, std::move(type),
                     fields_json.empty() ? prefix_ : prefix_ + "," + fields_json);
  }
  [[nodiscard]] bool Enabled() const noexcept override { return inner_->Enabled(); }

 private:
  EventLog* inner_;
  std::string prefix_;
};

void CopyRow(const BarPanel& panel, const std::vector<std::size_t>& cols, std::size_t r,
             BarPanel& out) {
  for (std::size_t j = 0; j < cols.size(); ++j) {
    const std::size_t c = cols[j];
    if (panel.HasBar(r, c)) {
      out.SetBar(r, j, panel.Open(r, c), panel.High(r, c), panel.Low(r, c), panel.Close(r, c),
                 panel.Volume(r, c));
    }
  }
}

BarPanel SubPanel(const BarPanel& panel, const std::vector<std::size_t>& cols) {
  std::vector<std::string> names;
  for (std::size_t c : cols)
    names.push_back(panel.Symbols()[c]);
  BarPanel out(std::move(names));
  out.Reserve(panel.Rows());
  for (std::size_t r = 0; r < panel.Rows(); ++r) {
    (void)out.AppendRow(panel.Time(r));
    CopyRow(panel, cols, r, out);
  }
  return out;
}

// A live session's panel grows by a row a session and revises its last rows in place (today's
// bar as the stream moves it, a few days of revised daily bars): the sleeve's copy follows, so
// its weights model reads what the account's panel holds. (A backtest's panel is complete from
// the start; the copy is then rewritten with what it already holds.)
constexpr std::size_t kRevisedRows = 8;

void SyncPanel(const BarPanel& panel, const std::vector<std::size_t>& cols, BarPanel& out) {
  const std::size_t had = out.Rows();
  for (std::size_t r = had; r < panel.Rows(); ++r) {
    (void)out.AppendRow(panel.Time(r));
    CopyRow(panel, cols, r, out);
  }
  for (std::size_t r = had > kRevisedRows ? had - kRevisedRows : 0; r < had; ++r)
    CopyRow(panel, cols, r, out);
}

}  // namespace

struct Sleeves::Book {
  BarPanel panel;
  std::unique_ptr<Strategy> strategy;
  std::unique_ptr<SleeveEvents> events;
  std::vector<double> qty, marks;
  double cash = 0.0;
  double equity = 0.0;
  double start_value = 0.0;
  double transfers = 0.0;  ///< net money moved in by reallocations
  double prev_after = 0.0;
  std::vector<double> index{1.0};  ///< time-weighted value index, one entry per session
  Target target;
};

Sleeves::Sleeves(std::shared_ptr<const SleevesOptions> options)
    : o_(std::move(options)), schedule_(o_->rebalance) {}
Sleeves::~Sleeves() = default;

void Sleeves::Start(const StrategyContext& ctx) {
  initial_value_ = ctx.portfolio.equity;
  double assigned = 0.0;
  for (const auto& s : o_->sleeves) {
    auto b = std::make_unique<Book>();
    b->panel = SubPanel(ctx.panel, s.columns);
    b->strategy = s.spec.make();
    b->events = std::make_unique<SleeveEvents>(&ctx.events, s.name);
    b->qty.assign(s.columns.size(), 0.0);
    b->marks.assign(s.columns.size(), 0.0);
    b->cash = b->start_value = s.weight * ctx.portfolio.equity;
    b->target.weights.assign(s.columns.size(), 0.0);
    assigned += b->cash;
    allocation_.push_back(s.weight);
    books_.push_back(std::move(b));
  }
  unallocated_ = ctx.portfolio.equity - assigned;
}

bool Sleeves::Decide(const StrategyContext& ctx, Target& target) {
  if (ctx.first_slice) Start(ctx);
  return Slice(ctx, target, /*recheck=*/false);
}

bool Sleeves::Recheck(const StrategyContext& ctx, Target& target) {
  if (books_.empty()) return false;
  return Slice(ctx, target, /*recheck=*/true);
}

bool Sleeves::Slice(const StrategyContext& ctx, Target& target, bool recheck) {
  // A recheck (a further slice of a day decided: a live session watching prices) asks each
  // sleeve to recheck its book at the moved prices; the allocation is not revisited.
  const bool due = !recheck && schedule_.IsDue(ctx.day, ctx.previous_session, ctx.sessions);
  const std::size_t n = ctx.tradable;
  // Mark every book at the last closes, and extend its time-weighted index (a recheck marks
  // today's entry again: the day's return runs to the latest prices).
  std::vector<std::vector<double>> before(books_.size());
  for (std::size_t s = 0; s < books_.size(); ++s) {
    Book& b = *books_[s];
    const auto& cols = o_->sleeves[s].columns;
    SyncPanel(ctx.panel, cols, b.panel);
    b.equity = b.cash;
    before[s].assign(cols.size(), 0.0);
    for (std::size_t j = 0; j < cols.size(); ++j) {
      const double px = ctx.portfolio.marks[cols[j]];
      if (!std::isnan(px) && px > 0.0) b.marks[j] = px;
      before[s][j] = b.qty[j] * b.marks[j];
      b.equity += before[s][j];
    }
    const double growth = b.prev_after > 0.0 ? b.equity / b.prev_after : 1.0;
    if (recheck)
      b.index.back() *= growth;
    else if (!ctx.first_slice)
      b.index.push_back(b.index.back() * growth);
  }
  // Each sleeve decides on its own book.
  bool any = false;
  for (std::size_t s = 0; s < books_.size(); ++s) {
    Book& b = *books_[s];
    const std::size_t k = b.qty.size();
    StrategyContext sub{b.panel,         ctx.row,
                        ctx.day,         k,
                        ctx.first_slice, ctx.previous_session,
                        ctx.sessions,    PortfolioView{b.qty, b.marks, b.cash, b.equity},
                        *b.events};
    sub.history_row = ctx.history_row;
    b.target.kind = Target::Kind::kRebalance;
    b.target.external_flow = 0.0;
    if (!(recheck ? b.strategy->Recheck(sub, b.target) : b.strategy->Decide(sub, b.target)))
      continue;
    // The book trades to its targets at today's closes (fractional, no costs: the account's
    // real fills and costs show up as the implementation difference).
    double invested = 0.0;
    for (std::size_t j = 0; j < k; ++j) {
      const double w = b.target.weights[j];
      if (!std::isnan(w) && b.marks[j] > 0.0) b.qty[j] = b.equity * w / b.marks[j];
      invested += b.qty[j] * b.marks[j];
    }
    b.cash = b.equity - invested;
    any = true;
  }
  // Back to the sleeve allocation on the sleeve schedule.
  if (due && !ctx.first_slice) {
    const std::vector<double> alloc = Allocation(ctx);
    double total = unallocated_;
    for (const auto& b : books_)
      total += b->equity;
    double placed = 0.0;
    for (std::size_t s = 0; s < books_.size(); ++s) {
      Book& b = *books_[s];
      const double want = alloc[s] * total;
      if (b.equity > 0.0) {
        const double f = want / b.equity;
        for (double& q : b.qty)
          q *= f;
        b.cash *= f;
      } else {
        b.cash = want;
      }
      b.transfers += want - b.equity;
      b.equity = want;
      placed += want;
    }
    unallocated_ = total - placed;
    allocation_ = alloc;
    any = true;
  }
  for (auto& b : books_)
    b->prev_after = b->equity;
  Publish(ctx);
  if (!any) return false;
  // One target for the account: the sum of the books, netted per symbol.
  std::vector<double> value(n, 0.0);
  double total = unallocated_, gross = 0.0;
  std::vector<double> delta(n, 0.0);
  for (std::size_t s = 0; s < books_.size(); ++s) {
    const Book& b = *books_[s];
    total += b.equity;
    for (std::size_t j = 0; j < b.qty.size(); ++j) {
      const double v = b.qty[j] * b.marks[j];
      value[o_->sleeves[s].columns[j]] += v;
      delta[o_->sleeves[s].columns[j]] += v - before[s][j];
      gross += std::abs(v - before[s][j]);
    }
  }
  double net = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    target.weights[i] = total > 0.0 ? value[i] / total : 0.0;
    net += std::abs(delta[i]);
  }
  if (gross > 0.0 && !ctx.first_slice) {
    ctx.events.AddEvent(DayToTimestamp(ctx.day), "sleeves_netted",
                        JsonFields().Add("gross", gross).Add("net", net).Take());
  }
  target.reason = ctx.first_slice ? "initial" : "sleeves";
  return true;
}

std::vector<double> Sleeves::Allocation(const StrategyContext& ctx) {
  const std::size_t m = books_.size();
  std::vector<double> w;
  for (const auto& s : o_->sleeves)
    w.push_back(s.weight);
  const double budget = std::accumulate(w.begin(), w.end(), 0.0);
  const std::size_t avail = books_[0]->index.size() - 1;
  const std::size_t count = std::min<std::size_t>(avail, static_cast<std::size_t>(o_->lookback));
  std::vector<bool> fixed(m, false);  // breached sleeves keep their reduced weight
  const Timestamp now = DayToTimestamp(ctx.day);
  if (count >= 20) {
    // Trailing daily returns, Sharpe, drawdown and correlations of the sleeves' indices.
    std::vector<std::vector<double>> r(m);
    std::vector<double> sharpe(m), drawdown(m), mean(m), sd(m);
    for (std::size_t s = 0; s < m; ++s) {
      const auto& idx = books_[s]->index;
      const std::size_t from = idx.size() - 1 - count;
      double peak = idx[from], dd = 0.0;
      for (std::size_t t = from + 1; t < idx.size(); ++t) {
        r[s].push_back(idx[t] / idx[t - 1] - 1.0);
        peak = std::max(peak, idx[t]);
        dd = std::max(dd, 1.0 - idx[t] / peak);
      }
      std::tie(mean[s], sd[s]) = MeanStdev(r[s]);
      sharpe[s] = sd[s] > 0.0 ? mean[s] / sd[s] * std::sqrt(252.0) : 0.0;
      drawdown[s] = dd;
    }
    auto corr = [&](std::size_t a, std::size_t b) {
      if (sd[a] == 0.0 || sd[b] == 0.0) return 0.0;
      double c = 0.0;
      for (std::size_t t = 0; t < count; ++t)
        c += (r[a][t] - mean[a]) * (r[b][t] - mean[b]);
      return c / static_cast<double>(count - 1) / (sd[a] * sd[b]);
    };
    std::vector<double> avg_corr(m, 0.0);
    std::vector<std::vector<double>> cm(m, std::vector<double>(m, 1.0));
    for (std::size_t a = 0; a < m; ++a) {
      for (std::size_t b = a + 1; b < m; ++b)
        cm[a][b] = cm[b][a] = corr(a, b);
    }
    for (std::size_t a = 0; a < m && m > 1; ++a) {
      for (std::size_t b = 0; b < m; ++b)
        avg_corr[a] += a == b ? 0.0 : cm[a][b] / static_cast<double>(m - 1);
    }
    if (o_->adaptive && m > 1) {
      // Tilt toward better trailing risk-adjusted return, away from volatile and from correlated
      // sleeves: score = (z(Sharpe) - z(volatility) - z(average correlation)) / 3, each z-scored
      // across the sleeves.
      const auto zs = ZScores(sharpe), zv = ZScores(sd), zc = ZScores(avg_corr);
      double sum = 0.0;
      for (std::size_t s = 0; s < m; ++s) {
        const double score = (zs[s] - zv[s] - zc[s]) / 3.0;
        sum += w[s] = w[s] * std::max(0.0, 1.0 + o_->tilt * score);
      }
      for (double& x : w)
        x = sum > 0.0 ? x * budget / sum : 0.0;
    }
    // Risk limits: a breaching sleeve is halved (or removed), logged.
    const SleeveLimits& l = o_->limits;
    auto breach = [&](std::size_t s, std::string_view rule, double value, double limit) {
      ctx.events.AddEvent(now, "sleeve_limit",
                          JsonFields()
                              .Add("sleeve", o_->sleeves[s].name)
                              .Add("rule", rule)
                              .Add("value", value)
                              .Add("limit", limit)
                              .Add("action", l.remove ? "remove" : "reduce")
                              .Take());
      if (!fixed[s]) w[s] = l.remove ? 0.0 : w[s] / 2.0;
      fixed[s] = true;
    };
    for (std::size_t s = 0; s < m; ++s) {
      if (l.min_sharpe && sharpe[s] < *l.min_sharpe)
        breach(s, "min_sharpe", sharpe[s], *l.min_sharpe);
      if (l.max_drawdown && drawdown[s] > *l.max_drawdown)
        breach(s, "max_drawdown", drawdown[s], *l.max_drawdown);
      if (l.max_avg_correlation && m > 1 && avg_corr[s] > *l.max_avg_correlation)
        breach(s, "max_avg_correlation", avg_corr[s], *l.max_avg_correlation);
    }
    if (l.max_correlation) {
      for (std::size_t a = 0; a < m; ++a) {
        for (std::size_t b = a + 1; b < m; ++b) {
          if (cm[a][b] > *l.max_correlation)
            breach(sharpe[a] < sharpe[b] ? a : b, "max_correlation", cm[a][b], *l.max_correlation);
        }
      }
    }
  }
  // Bounds: the sleeves that did not breach share what the breaching ones keep out of the budget,
  // within [min_weight, max_weight]; what no sleeve may take stays unallocated cash.
  double fixed_sum = 0.0;
  for (std::size_t s = 0; s < m; ++s)
    fixed_sum += fixed[s] ? w[s] : 0.0;
  std::vector<bool> clipped(fixed);
  for (std::size_t round = 0; round <= m; ++round) {
    double free_sum = 0.0, clipped_sum = 0.0;
    for (std::size_t s = 0; s < m; ++s) {
      if (!clipped[s]) free_sum += w[s];
      if (clipped[s] && !fixed[s]) clipped_sum += w[s];
    }
    const double room = std::max(0.0, budget - fixed_sum - clipped_sum);
    bool changed = false;
    for (std::size_t s = 0; s < m; ++s) {
      if (clipped[s]) continue;
      w[s] = free_sum > 0.0 ? w[s] * room / free_sum : 0.0;
      if (w[s] > o_->limits.max_weight || w[s] < o_->limits.min_weight) {
        w[s] = std::clamp(w[s], o_->limits.min_weight, o_->limits.max_weight);
        clipped[s] = changed = true;
      }
    }
    if (!changed) break;
  }
  if (o_->adaptive && std::none_of(fixed.begin(), fixed.end(), [](bool b) { return b; })) {
    double move = 0.0;
    for (std::size_t s = 0; s < m; ++s)
      move = std::max(move, std::abs(w[s] - allocation_[s]));
    if (move < o_->min_change) return allocation_;  // not worth changing
  }
  if (w != allocation_ && ctx.events.Enabled()) {
    std::string weights = "{";
    for (std::size_t s = 0; s < m; ++s) {
      if (s > 0) weights += ',';
      AppendJsonString(weights, o_->sleeves[s].name);
      weights += fmt::format(":{}", w[s]);
    }
    weights += '}';
    ctx.events.AddEvent(now, "sleeve_allocation", JsonFields().AddRaw("weights", weights).Take());
  }
  return w;
}

void Sleeves::Publish(const StrategyContext& ctx) {
  if (!ctx.events.Enabled()) return;
  double virtual_total = unallocated_;
  std::string out = "{\"sleeves\":[";
  for (std::size_t s = 0; s < books_.size(); ++s) {
    const Book& b = *books_[s];
    virtual_total += b.equity;
    const double profit = b.equity - b.start_value - b.transfers;
    if (s > 0) out += ',';
    out += '{';
    out += JsonFields()
               .Add("name", o_->sleeves[s].name)
               .Add("target_weight", o_->sleeves[s].weight)
               .Add("allocation", allocation_[s])
               .Add("start_value", b.start_value)
               .Add("final_value", b.equity)
               .Add("transfers", b.transfers)
               .Add("profit", profit)
               .Add("return", b.index.back() - 1.0)
               .Add("contribution", initial_value_ > 0.0 ? profit / initial_value_ : 0.0)
               .Take();
    out += '}';
  }
  out += "],";
  out += JsonFields()
             .Add("unallocated", unallocated_)
             .Add("books_value", virtual_total)
             .Add("implementation", ctx.portfolio.equity - virtual_total)
             .Take();
  out += '}';
  ctx.events.SetSummaryField("attribution", std::move(out));
}

void RegisterSleeves(StrategyRegistry& registry) {
  registry.Register("sleeves", [&registry](const ConfigNode& node) {
    node.ExpectKeys({"type", "sleeves", "rebalance", "on", "lookback", "limits", "adaptive"});
    auto o = std::make_shared<SleevesOptions>();
    const ConfigNode list = node.At("sleeves");
    if (!list.IsArray() || list.Size() == 0)
      list.Fail("an array of {\"name\", \"weight\", \"strategy\"}");
    double sum = 0.0;
    std::set<std::string> names;
    for (std::size_t i = 0; i < list.Size(); ++i) {
      const ConfigNode sl = list.Index(i);
      sl.ExpectKeys({"name", "weight", "strategy"});
      SleevesOptions::Sleeve s;
      s.name = sl.At("name").String();
      if (s.name.empty() || !names.insert(s.name).second)
        sl.At("name").Fail("a unique, non-empty sleeve name");
      s.weight = sl.At("weight").Number();
      if (!(s.weight >= 0.0)) sl.At("weight").Fail("a weight >= 0");
      sum += s.weight;
      const ConfigNode child = sl.At("strategy");
      s.spec = registry.Parse(child);
      if (s.spec.type != "calendar" && s.spec.type != "threshold" && s.spec.type != "buy_and_hold")
        child.At("type").Fail("a sleeve strategy: \"calendar\", \"threshold\" or \"buy_and_hold\"");
      for (const auto& sym : s.spec.symbols) {
        auto it = std::find(o->symbols.begin(), o->symbols.end(), sym);
        if (it == o->symbols.end()) it = o->symbols.insert(o->symbols.end(), sym);
        s.columns.push_back(static_cast<std::size_t>(it - o->symbols.begin()));
      }
      o->sleeves.push_back(std::move(s));
    }
    if (sum > 1.0 + 1e-9)
      list.Fail(fmt::format("sleeve weights summing to at most 1 (they sum to {})", sum));
    o->rebalance = Schedule::Parse(node, false, "quarterly", "rebalance");
    o->lookback = static_cast<int>(node.NumberOr("lookback", 126));
    if (o->lookback < 20) node.At("lookback").Fail("at least 20 sessions");
    if (auto l = node.Find("limits")) {
      l->ExpectKeys({"min_weight", "max_weight", "max_correlation", "max_avg_correlation",
                     "min_sharpe", "max_drawdown", "breach"});
      o->limits.min_weight = l->NumberOr("min_weight", 0.0);
      o->limits.max_weight = l->NumberOr("max_weight", 1.0);
      if (!(o->limits.min_weight >= 0.0 && o->limits.min_weight <= o->limits.max_weight &&
            o->limits.max_weight <= 1.0))
        l->Fail("0 <= min_weight <= max_weight <= 1");
      auto opt = [&](std::string_view key) -> std::optional<double> {
        if (auto v = l->Find(key)) return v->Number();
        return std::nullopt;
      };
      o->limits.max_correlation = opt("max_correlation");
      o->limits.max_avg_correlation = opt("max_avg_correlation");
      o->limits.min_sharpe = opt("min_sharpe");
      o->limits.max_drawdown = opt("max_drawdown");
      o->limits.remove = l->EnumOr("breach", {"reduce", "remove"}, "reduce") == "remove";
    }
    if (auto a = node.Find("adaptive")) {
      if (a->IsBool()) {
        o->adaptive = a->Bool();
      } else {
        a->ExpectKeys({"tilt", "min_change"});
        o->adaptive = true;
        o->tilt = a->NumberOr("tilt", 0.5);
        o->min_change = a->NumberOr("min_change", 0.05);
        if (!(o->tilt >= 0.0)) a->At("tilt").Fail("a tilt >= 0");
        if (!(o->min_change >= 0.0)) a->At("min_change").Fail("a weight change >= 0");
      }
    }
    StrategySpec spec;
    spec.symbols = o->symbols;
    spec.make = [o] { return std::make_unique<Sleeves>(o); };
    return spec;
  });
}

}  // namespace ballast::strategies
