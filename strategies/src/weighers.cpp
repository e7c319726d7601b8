#include "ballast/strategies/weighers.hpp"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "ballast/engine/error.hpp"

namespace ballast::strategies {
namespace {

Days MinusMonths(Days d, int months) {
  using namespace std::chrono;
  const year_month_day ymd{d};
  const year_month ym = year_month{ymd.year(), ymd.month()} - std::chrono::months{months};
  const auto last = year_month_day_last{ym.year(), month_day_last{ym.month()}}.day();
  return sys_days{ym.year() / ym.month() / std::min(ymd.day(), last)};
}

}  // namespace

WeigherConfig WeigherConfig::Parse(const ConfigNode& w, std::size_t universe_size) {
  w.ExpectKeys({"model", "lookback", "covariance", "warmup", "short_history", "budgets",
                "min_weight", "max_weight"});
  WeigherConfig c;
  const ConfigNode model = w.At("model");
  const std::string m = model.String();
  if (m == "equal") {
    c.model = WeightModel::kEqual;
  } else if (m == "inverse_vol") {
    c.model = WeightModel::kInverseVol;
  } else if (m == "risk_parity") {
    c.model = WeightModel::kRiskParity;
  } else if (m == "min_variance") {
    c.model = WeightModel::kMinVariance;
  } else if (m == "max_sharpe" || m == "rank" || m == "factor") {
    model.Fail(
        std::string("a model this version has: \"equal\", \"inverse_vol\", \"risk_parity\", ") +
        "\"min_variance\" (\"" + m + "\" is not built yet)");
  } else {
    model.Fail("one of \"equal\", \"inverse_vol\", \"risk_parity\", \"min_variance\"");
  }
  if (auto lb = w.Find("lookback")) {
    const std::string text = lb->String();
    int n = 0;
    char unit = 0;
    if (text.size() >= 2) {
      unit = text.back();
      try {
        std::size_t used = 0;
        n = std::stoi(text.substr(0, text.size() - 1), &used);
        if (used != text.size() - 1) n = 0;
      } catch (...) {
        n = 0;
      }
    }
    if (n < 1 || (unit != 'M' && unit != 'D'))
      lb->Fail("a window like \"3M\" (calendar months) or \"63D\" (daily returns)");
    c.lookback_months = unit == 'M' ? n : 0;
    c.lookback_days = unit == 'D' ? n : 0;
  }
  c.warmup = static_cast<int>(w.NumberOr("warmup", 0));
  if (c.warmup < 0) w.At("warmup").Fail("a number of sessions >= 0");
  c.short_history_equal = w.EnumOr("short_history", {"cash", "equal"}, "cash") == "equal";
  if (w.EnumOr("covariance", {"sample"}, "sample") != "sample")
    w.At("covariance").Fail("\"sample\"");
  c.min_weight = w.NumberOr("min_weight", 0.0);
  c.max_weight = w.NumberOr("max_weight", 1.0);
  const auto n_assets = static_cast<double>(universe_size);
  if (c.min_weight < 0.0 || c.max_weight > 1.0 || c.min_weight > c.max_weight ||
      c.min_weight * n_assets > 1.0 + 1e-12 || c.max_weight * n_assets < 1.0 - 1e-12) {
    w.Fail(
        fmt::format("bounds with 0 <= min_weight <= max_weight <= 1 and min_weight * {0} <= 1 <= "
                    "max_weight * {0}",
                    universe_size));
  }
  if (auto b = w.Find("budgets")) {
    if (c.model != WeightModel::kRiskParity) b->Fail("budgets only with model \"risk_parity\"");
    if (!b->IsArray() || b->Size() != universe_size)
      b->Fail(fmt::format("an array of {} risk budgets", universe_size));
    double sum = 0;
    for (std::size_t i = 0; i < b->Size(); ++i) {
      const double v = b->Index(i).Number();
      if (!(v > 0)) b->Index(i).Fail("a positive budget");
      c.budgets.push_back(v);
      sum += v;
    }
    for (double& v : c.budgets)
      v /= sum;
  }
  return c;
}

std::vector<double> SampleCovariance(const std::vector<double>& returns, std::size_t rows,
                                     std::size_t cols) {
  const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> r(
      returns.data(), static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  const Eigen::MatrixXd centered = r.rowwise() - r.colwise().mean();
  const Eigen::MatrixXd cov = (centered.transpose() * centered) / static_cast<double>(rows - 1);
  std::vector<double> out(cols * cols);
  Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      out.data(), static_cast<Eigen::Index>(cols), static_cast<Eigen::Index>(cols)) = cov;
  return out;
}

std::vector<double> InverseVolWeights(const std::vector<double>& returns, std::size_t rows,
                                      std::size_t cols) {
  std::vector<double> w(cols, 0.0);
  double sum = 0.0;
  for (std::size_t c = 0; c < cols; ++c) {
    double mean = 0.0;
    for (std::size_t t = 0; t < rows; ++t)
      mean += returns[t * cols + c];
    mean /= static_cast<double>(rows);
    double ss = 0.0;
    for (std::size_t t = 0; t < rows; ++t)
      ss += (returns[t * cols + c] - mean) * (returns[t * cols + c] - mean);
    const double sd = std::sqrt(ss / static_cast<double>(rows - 1));
    w[c] = sd > 0.0 ? 1.0 / sd : 0.0;
    sum += w[c];
  }
  for (double& x : w)
    x = sum > 0.0 ? x / sum : 1.0 / static_cast<double>(cols);
  return w;
}

std::vector<double> RiskParityWeights(const std::vector<double>& cov, std::size_t n,
                                      const std::vector<double>& budgets) {
  const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> s(
      cov.data(), static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
  std::vector<double> b =
      budgets.empty() ? std::vector<double>(n, 1.0 / static_cast<double>(n)) : budgets;
  // Start from inverse volatility; each coordinate step solves x_i (s_ii x_i + c_i) = b_i exactly,
  // where c_i = sum_{j != i} s_ij x_j (Griveau-Billion, Richard & Roncalli 2013).
  Eigen::VectorXd x(static_cast<Eigen::Index>(n));
  for (std::size_t i = 0; i < n; ++i)
    x[static_cast<Eigen::Index>(i)] = 1.0 / std::sqrt(s(i, i));
  auto converged = [&](const Eigen::VectorXd& w) {
    const Eigen::VectorXd sw = s * w;
    const double total = w.dot(sw);
    double worst = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const auto k = static_cast<Eigen::Index>(i);
      worst = std::max(worst, std::abs(w[k] * sw[k] / total / b[i] - 1.0));
    }
    return worst < 1e-12;
  };
  for (int sweep = 0; sweep < 100000 && !converged(x); ++sweep) {
    for (std::size_t i = 0; i < n; ++i) {
      const auto k = static_cast<Eigen::Index>(i);
      const double sii = s(k, k);
      const double c = s.row(k).dot(x) - sii * x[k];
      x[k] = (-c + std::sqrt(c * c + 4.0 * sii * b[i])) / (2.0 * sii);
    }
  }
  x /= x.sum();
  return {x.data(), x.data() + n};
}

std::vector<double> MinVarianceWeights(const std::vector<double>& cov, std::size_t n, double lo,
                                       double hi) {
  using Eigen::Index;
  const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> s(
      cov.data(), static_cast<Index>(n), static_cast<Index>(n));
  // A feasible start: every weight at its lower bound plus an equal share of the rest.
  Eigen::VectorXd w =
      Eigen::VectorXd::Constant(static_cast<Index>(n), 1.0 / static_cast<double>(n));
  // state: 0 free, -1 held at the lower bound, +1 at the upper bound.
  std::vector<int> state(n, 0);
  for (int iter = 0; iter < 10000; ++iter) {
    // The optimum with the held variables fixed: min 1/2 w'Sw, 1'w = 1 (a KKT linear system).
    std::vector<Index> free;
    Eigen::VectorXd target = w;
    double fixed_sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      if (state[i] == 0) {
        free.push_back(static_cast<Index>(i));
      } else {
        target[static_cast<Index>(i)] = state[i] < 0 ? lo : hi;
        fixed_sum += target[static_cast<Index>(i)];
      }
    }
    const auto k = static_cast<Index>(free.size());
    double lambda = 0.0;
    if (k > 0) {
      Eigen::MatrixXd kkt = Eigen::MatrixXd::Zero(k + 1, k + 1);
      Eigen::VectorXd rhs = Eigen::VectorXd::Zero(k + 1);
      for (Index a = 0; a < k; ++a) {
        double cross = 0.0;
        for (std::size_t j = 0; j < n; ++j) {
          if (state[j] != 0)
            cross += s(free[a], static_cast<Index>(j)) * target[static_cast<Index>(j)];
        }
        for (Index b = 0; b < k; ++b)
          kkt(a, b) = s(free[a], free[b]);
        kkt(a, k) = -1.0;
        kkt(k, a) = 1.0;
        rhs[a] = -cross;
      }
      rhs[k] = 1.0 - fixed_sum;
      const Eigen::VectorXd sol = kkt.fullPivLu().solve(rhs);
      for (Index a = 0; a < k; ++a)
        target[free[a]] = sol[a];
      lambda = sol[k];
    }
    // Move toward it, stopping at the first bound in the way (which then becomes held).
    const Eigen::VectorXd step = target - w;
    double alpha = 1.0;
    Index blocking = -1;
    int side = 0;
    for (const Index i : free) {
      if (target[i] < lo && step[i] < 0.0 && (lo - w[i]) / step[i] < alpha) {
        alpha = std::max(0.0, (lo - w[i]) / step[i]);
        blocking = i;
        side = -1;
      } else if (target[i] > hi && step[i] > 0.0 && (hi - w[i]) / step[i] < alpha) {
        alpha = std::max(0.0, (hi - w[i]) / step[i]);
        blocking = i;
        side = 1;
      }
    }
    w += alpha * step;
    if (blocking >= 0) {
      state[static_cast<std::size_t>(blocking)] = side;
      w[blocking] = side < 0 ? lo : hi;
      continue;
    }
    // Optimal for this set. Release the held variable whose multiplier has the wrong sign
    // (gradient g = S w - lambda: at a lower bound g_i must be >= 0, at an upper bound <= 0).
    const Eigen::VectorXd g = s * w - Eigen::VectorXd::Constant(static_cast<Index>(n), lambda);
    double worst = 1e-13 * std::max(1.0, s.diagonal().maxCoeff());
    std::ptrdiff_t release = -1;
    for (std::size_t i = 0; i < n; ++i) {
      const double wrong = state[i] < 0   ? -g[static_cast<Index>(i)]
                           : state[i] > 0 ? g[static_cast<Index>(i)]
                                          : 0.0;
      if (wrong > worst) {
        worst = wrong;
        release = static_cast<std::ptrdiff_t>(i);
      }
    }
    if (release < 0) break;  // KKT conditions hold
    state[static_cast<std::size_t>(release)] = 0;
  }
  return {w.data(), w.data() + n};
}

bool Weigher::Compute(const StrategyContext& ctx, std::size_t first_row, std::vector<double>& out) {
  const std::size_t n = ctx.tradable;
  out.assign(n, 1.0 / static_cast<double>(n));
  if (config_.model == WeightModel::kEqual) return true;
  // Window rows: [t - lookback, t], not before the run's first session.
  std::size_t lo = first_row;
  if (config_.lookback_days > 0) {
    const std::size_t want = static_cast<std::size_t>(config_.lookback_days);
    lo = ctx.row >= first_row + want ? ctx.row - want : first_row;
  } else {
    const Timestamp from = DayToTimestamp(MinusMonths(ctx.day, config_.lookback_months));
    while (lo < ctx.row && ctx.panel.Time(lo) < from)
      ++lo;
  }
  const std::size_t rows = ctx.row - lo + 1;
  if (rows < 3) return config_.short_history_equal;  // fewer than 2 returns
  // Prices carried at the last close; returns rows-1 x n.
  std::vector<double> last(n, kNaN);
  for (std::size_t c = 0; c < n; ++c) {
    for (std::size_t r = lo + 1; r-- > first_row;) {
      if (ctx.panel.HasBar(r, c)) {
        last[c] = ctx.panel.Close(r, c);
        break;
      }
    }
  }
  std::vector<double> returns((rows - 1) * n);
  for (std::size_t c = 0; c < n; ++c) {
    double prev = last[c];
    for (std::size_t r = lo + 1; r <= ctx.row; ++r) {
      const double px = ctx.panel.HasBar(r, c) ? ctx.panel.Close(r, c) : prev;
      if (std::isnan(prev) || std::isnan(px)) return config_.short_history_equal;
      returns[(r - lo - 1) * n + c] = px / prev - 1.0;
      prev = px;
    }
  }
  if (config_.model == WeightModel::kInverseVol) {
    out = InverseVolWeights(returns, rows - 1, n);
  } else {
    out = config_.model == WeightModel::kMinVariance
              ? MinVarianceWeights(SampleCovariance(returns, rows - 1, n), n, config_.min_weight,
                                   config_.max_weight)
              : RiskParityWeights(SampleCovariance(returns, rows - 1, n), n, config_.budgets);
  }
  return true;
}

}  // namespace ballast::strategies
