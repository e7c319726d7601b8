#include "ballast/strategies/weighers.hpp"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#include "ballast/engine/error.hpp"

namespace ballast::strategies {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMap = Eigen::Map<const RowMatrix>;

Days MinusMonths(Days d, int months) {
  using namespace std::chrono;
  const year_month_day ymd{d};
  const year_month ym = year_month{ymd.year(), ymd.month()} - std::chrono::months{months};
  const auto last = year_month_day_last{ym.year(), month_day_last{ym.month()}}.day();
  return sys_days{ym.year() / ym.month() / std::min(ymd.day(), last)};
}

// ---- Box-constrained QP: min 1/2 w'Sw - c'w subject to 1'w = 1, lo <= w_i <= hi ----------------
// A primal active-set method started from a vertex (every weight at a bound but one), so it adds
// the few weights that end up strictly inside their bounds one at a time: each step solves the
// KKT system of the free weights only (k x k, k small for long-only portfolios), and the gradient
// costs O(n * nonzero weights). Exact up to the linear solves; finite steps.
class BoxQp {
 public:
  using Index = Eigen::Index;
  BoxQp(const RowMap& s, double lo, double hi)
      : s_(s), n_(static_cast<std::size_t>(s.rows())), lo_(lo), hi_(hi) {}

  /// A feasible vertex: every weight at lo, then the cheapest (by 1/2 s_ii - c_i) filled to hi
  /// in turn; the one left partly filled (or the last one filled) stays free.
  void Start(const Eigen::VectorXd& c) {
    std::vector<Index> order(n_);
    for (std::size_t i = 0; i < n_; ++i)
      order[i] = static_cast<Index>(i);
    std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) {
      return 0.5 * s_(a, a) - c[a] < 0.5 * s_(b, b) - c[b];
    });
    w_ = Eigen::VectorXd::Constant(static_cast<Index>(n_), lo_);
    state_.assign(n_, -1);
    double rest = 1.0 - lo_ * static_cast<double>(n_);
    for (std::size_t k = 0; k < n_; ++k) {
      const Index i = order[k];
      const double add = std::min(hi_ - lo_, rest);
      w_[i] += add;
      rest -= add;
      if (rest <= 0.0 || k + 1 == n_) {
        state_[static_cast<std::size_t>(i)] = 0;
        break;
      }
      state_[static_cast<std::size_t>(i)] = 1;
    }
  }

  /// Solves for linear term c from the current point (a vertex from Start or a previous
  /// solution: any feasible point with at least one free weight).
  void Solve(const Eigen::VectorXd& c) {
    const Index n = static_cast<Index>(n_);
    const int max_iter = 20 * static_cast<int>(n_) + 100;
    for (int iter = 0; iter < max_iter; ++iter) {
      SolveFree(c, Eigen::VectorXd(), nullptr);
      // Move toward the free-set optimum, stopping at the first bound in the way.
      double alpha = 1.0;
      Index blocking = -1;
      int side = 0;
      for (const Index i : free_) {
        const double step = x_[i] - w_[i];
        if (x_[i] < lo_ && step < 0.0 && (lo_ - w_[i]) / step < alpha) {
          alpha = std::max(0.0, (lo_ - w_[i]) / step);
          blocking = i;
          side = -1;
        } else if (x_[i] > hi_ && step > 0.0 && (hi_ - w_[i]) / step < alpha) {
          alpha = std::max(0.0, (hi_ - w_[i]) / step);
          blocking = i;
          side = 1;
        }
      }
      for (const Index i : free_)
        w_[i] += alpha * (x_[i] - w_[i]);
      if (blocking >= 0) {
        w_[blocking] = side < 0 ? lo_ : hi_;
        // The last free weight stays free (at its bound) so the budget keeps a multiplier.
        if (free_.size() > 1) state_[static_cast<std::size_t>(blocking)] = side;
        continue;
      }
      // Optimal on this set. Release the held weight whose multiplier has the wrong sign
      // (m = Sw - c - nu: at a lower bound m_i must be >= 0, at an upper bound <= 0).
      Gradient(c);
      double worst = 1e-13 * std::max(1.0, scale_);
      std::ptrdiff_t release = -1;
      for (Index i = 0; i < n; ++i) {
        const int st = state_[static_cast<std::size_t>(i)];
        const double m = g_[i] - nu_;
        const double wrong = st < 0 ? -m : st > 0 ? m : 0.0;
        if (wrong > worst) {
          worst = wrong;
          release = i;
        }
      }
      if (release < 0) return;  // KKT conditions hold
      state_[static_cast<std::size_t>(release)] = 0;
    }
  }

  /// Solves the equality-constrained problem on the free set for the linear term c (into x_, nu_)
  /// and, when `d` is given, also for linear term d alone with a zero budget (into *dx, nu_d_):
  /// the direction in which the solution moves per unit of d added to c.
  void SolveFree(const Eigen::VectorXd& c, const Eigen::VectorXd& d, Eigen::VectorXd* dx) {
    free_.clear();
    held_sum_ = 0.0;
    Eigen::VectorXd held = Eigen::VectorXd::Zero(static_cast<Index>(n_));
    for (std::size_t i = 0; i < n_; ++i) {
      const auto k = static_cast<Index>(i);
      if (state_[i] == 0) {
        free_.push_back(k);
      } else {
        held[k] = w_[k];
        held_sum_ += w_[k];
      }
    }
    const auto k = static_cast<Index>(free_.size());
    // Cross term S_FH w_H over the nonzero held weights only.
    Eigen::VectorXd cross = Eigen::VectorXd::Zero(k);
    for (std::size_t j = 0; j < n_; ++j) {
      const auto jj = static_cast<Index>(j);
      if (state_[j] == 0 || held[jj] == 0.0) continue;
      for (Index a = 0; a < k; ++a)
        cross[a] += s_(free_[static_cast<std::size_t>(a)], jj) * held[jj];
    }
    Eigen::MatrixXd kkt(k + 1, k + 1);
    Eigen::MatrixXd rhs(k + 1, dx ? 2 : 1);
    for (Index a = 0; a < k; ++a) {
      const Index fa = free_[static_cast<std::size_t>(a)];
      for (Index b = 0; b < k; ++b)
        kkt(a, b) = s_(fa, free_[static_cast<std::size_t>(b)]);
      kkt(a, k) = -1.0;
      kkt(k, a) = 1.0;
      rhs(a, 0) = c[fa] - cross[a];
      if (dx) rhs(a, 1) = d[fa];
    }
    kkt(k, k) = 0.0;
    rhs(k, 0) = 1.0 - held_sum_;
    if (dx) rhs(k, 1) = 0.0;
    const Eigen::MatrixXd sol = kkt.fullPivLu().solve(rhs);
    x_ = held;
    for (Index a = 0; a < k; ++a)
      x_[free_[static_cast<std::size_t>(a)]] = sol(a, 0);
    nu_ = sol(k, 0);
    if (dx) {
      *dx = Eigen::VectorXd::Zero(static_cast<Index>(n_));
      for (Index a = 0; a < k; ++a)
        (*dx)[free_[static_cast<std::size_t>(a)]] = sol(a, 1);
      nu_d_ = sol(k, 1);
    }
  }

  /// g_ = S w - c over the nonzero weights.
  void Gradient(const Eigen::VectorXd& c) {
    g_ = -c;
    for (std::size_t j = 0; j < n_; ++j) {
      const auto jj = static_cast<Index>(j);
      if (w_[jj] != 0.0) g_ += s_.row(jj).transpose() * w_[jj];
    }
  }

  RowMap s_;
  std::size_t n_;
  double lo_, hi_;
  double scale_ = 1.0;  ///< magnitude of the multipliers, for the optimality tolerance
  Eigen::VectorXd w_, x_, g_;
  std::vector<int> state_;  ///< 0 free, -1 held at lo, +1 held at hi
  std::vector<Index> free_;
  double held_sum_ = 0.0, nu_ = 0.0, nu_d_ = 0.0;
};

/// X'X, computing one triangle (a symmetric rank-k update) and mirroring it.
Eigen::MatrixXd CrossProduct(const Eigen::MatrixXd& x) {
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(x.cols(), x.cols());
  out.selfadjointView<Eigen::Lower>().rankUpdate(x.transpose());
  out.triangularView<Eigen::StrictlyUpper>() = out.transpose();
  return out;
}

}  // namespace

WeigherConfig WeigherConfig::Parse(const ConfigNode& w, std::size_t universe_size) {
  w.ExpectKeys({"model", "lookback", "covariance", "warmup", "short_history", "budgets",
                "min_weight", "max_weight", "risk_free_rate", "score", "factors", "positions",
                "weighting"});
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
  } else if (m == "max_sharpe") {
    c.model = WeightModel::kMaxSharpe;
  } else if (m == "rank") {
    c.model = WeightModel::kRank;
  } else if (m == "factor") {
    c.model = WeightModel::kFactor;
  } else {
    model.Fail(
        "one of \"equal\", \"inverse_vol\", \"risk_parity\", \"min_variance\", \"max_sharpe\", "
        "\"rank\", \"factor\", \"glide_path\"");
  }
  const bool selects = c.model == WeightModel::kRank || c.model == WeightModel::kFactor;
  for (const char* key : {"score", "factors", "positions", "weighting"}) {
    if (!selects && w.Has(key))
      w.At(key).Fail(std::string(key) + " only with model \"rank\" or \"factor\"");
  }
  if (selects) {
    auto parse_score = [](const ConfigNode& node, const std::string& name, bool allow_return) {
      if (name == "momentum") return Score::kMomentum;
      if (name == "low_volatility") return Score::kLowVolatility;
      if (name == "quality") return Score::kQuality;
      if (name == "value") return Score::kValue;
      if (allow_return && name == "return") return Score::kReturn;
      node.Fail(std::string("a score: \"momentum\", \"low_volatility\", \"quality\", \"value\"") +
                (allow_return ? ", \"return\"" : ""));
    };
    if (c.model == WeightModel::kRank) {
      if (w.Has("factors"))
        w.At("factors").Fail("\"score\" for model \"rank\" (\"factors\" is for \"factor\")");
      const ConfigNode score = w.At("score");
      c.factors.emplace_back(parse_score(score, score.String(), true), 1.0);
    } else {
      if (w.Has("score")) w.At("score").Fail("\"factors\" for model \"factor\"");
      const ConfigNode factors = w.At("factors");
      if (!factors.IsObject() || factors.Keys().empty())
        factors.Fail(
            "an object of factor: weight, e.g. {\"momentum\": 1, \"low_volatility\": 0.5}");
      for (const auto& key : factors.Keys()) {
        const ConfigNode f = factors.At(key);
        const double weight = f.Number();
        if (!std::isfinite(weight)) f.Fail("a finite weight");
        c.factors.emplace_back(parse_score(f, key, false), weight);
      }
    }
    const ConfigNode positions = w.At("positions");
    const double p = positions.Number();
    if (!(p >= 1.0) || p != std::floor(p) || p > static_cast<double>(universe_size))
      positions.Fail(
          fmt::format("a whole number of assets from 1 to the universe's {}", universe_size));
    c.positions = static_cast<std::size_t>(p);
    if (auto weighting = w.Find("weighting")) {
      if (weighting->IsObject()) {
        c.weighting = Weighting::kModel;
        const ConfigNode inner_model = weighting->At("model");
        if (inner_model.String() == "rank" || inner_model.String() == "factor")
          inner_model.Fail("a weights model for the selection (not rank or factor)");
        WeigherConfig inner = Parse(*weighting, c.positions);
        if (!inner.budgets.empty())
          weighting->At("budgets").Fail("no budgets (the selection changes)");
        if (inner.warmup != 0) weighting->At("warmup").Fail("the warm-up on the outer model");
        c.inner = std::make_shared<const WeigherConfig>(std::move(inner));
      } else {
        c.weighting = weighting->String() == "rank" ? Weighting::kRank : Weighting::kEqual;
        if (weighting->String() != "rank" && weighting->String() != "equal")
          weighting->Fail(
              "\"equal\", \"rank\" or a model object like {\"model\": \"inverse_vol\"}");
      }
    }
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
  c.covariance = w.EnumOr("covariance", {"sample", "ledoit_wolf"}, "sample") == "ledoit_wolf"
                     ? CovarianceKind::kLedoitWolf
                     : CovarianceKind::kSample;
  c.risk_free_rate = w.NumberOr("risk_free_rate", 0.0);
  if (w.Has("risk_free_rate") && c.model != WeightModel::kMaxSharpe)
    w.At("risk_free_rate").Fail("risk_free_rate only with model \"max_sharpe\"");
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

std::pair<double, double> MeanStdev(const std::vector<double>& x) {
  const auto n = static_cast<double>(x.size());
  double mean = 0.0;
  for (double v : x)
    mean += v;
  mean /= n;
  double ss = 0.0;
  for (double v : x)
    ss += (v - mean) * (v - mean);
  return {mean, x.size() > 1 ? std::sqrt(ss / (n - 1.0)) : 0.0};
}

std::vector<double> ZScores(const std::vector<double>& x) {
  const auto [mean, sd] = MeanStdev(x);
  std::vector<double> z(x.size(), 0.0);
  for (std::size_t i = 0; i < x.size() && sd > 0.0; ++i)
    z[i] = (x[i] - mean) / sd;
  return z;
}

std::vector<double> SampleCovariance(const std::vector<double>& returns, std::size_t rows,
                                     std::size_t cols) {
  const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> r(
      returns.data(), static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  const Eigen::MatrixXd centered = r.rowwise() - r.colwise().mean();
  const Eigen::MatrixXd cov = CrossProduct(centered) / static_cast<double>(rows - 1);
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
  const RowMap s(cov.data(), static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
  BoxQp qp(s, lo, hi);
  const Eigen::VectorXd zero = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(n));
  qp.Start(zero);
  qp.Solve(zero);
  return {qp.w_.data(), qp.w_.data() + n};
}

std::optional<std::vector<double>> MaxSharpeWeights(const std::vector<double>& cov,
                                                    const std::vector<double>& excess,
                                                    std::size_t n, double lo, double hi) {
  using Eigen::Index;
  const RowMap s(cov.data(), static_cast<Index>(n), static_cast<Index>(n));
  const Eigen::Map<const Eigen::VectorXd> e(excess.data(), static_cast<Index>(n));
  // Does any feasible portfolio earn a positive excess return? (The LP max: fill the best first.)
  {
    std::vector<double> sorted(excess);
    std::sort(sorted.begin(), sorted.end(), std::greater<>());
    double rest = 1.0 - lo * static_cast<double>(n);
    double best = 0.0;
    for (double x : sorted) {
      const double add = std::min(hi - lo, std::max(0.0, rest));
      best += x * (lo + add);
      rest -= add;
    }
    if (!(best > 0.0)) return std::nullopt;
  }
  // The efficient frontier w(lambda) = argmin 1/2 w'Sw - lambda e'w is piecewise affine in lambda
  // (one piece per working set), and on a piece the Sharpe ratio (p0 + t p1) / sqrt(q0 + 2 t q1 +
  // t^2 q2) has its stationary point in closed form. Walk the pieces from the minimum-variance
  // portfolio (lambda = 0) up to the one that holds the maximum (the critical line algorithm,
  // with the QP above finding each next working set).
  BoxQp qp(s, lo, hi);
  const Eigen::VectorXd zero = Eigen::VectorXd::Zero(static_cast<Index>(n));
  qp.Start(zero);
  qp.Solve(zero);
  double lambda = 0.0;
  Eigen::VectorXd a, b;
  for (std::size_t piece = 0; piece < 10 * n + 100; ++piece) {
    qp.SolveFree(lambda * e, e, &b);
    a = qp.x_;
    // One free weight cannot move (the budget pins it): the piece is flat, w is the same
    // throughout, and only a held weight's multiplier changing sign ends it.
    const bool flat = qp.free_.size() == 1;
    if (flat) b.setZero();
    const Eigen::VectorXd sa = s * a;
    const Eigen::VectorXd sb = s * b;
    const double p0 = e.dot(a), p1 = e.dot(b);
    const double q0 = a.dot(sa), q1 = a.dot(sb), q2 = b.dot(sb);
    // Where the piece ends: a free weight reaches a bound or a held one's multiplier changes sign.
    double t_end = std::numeric_limits<double>::infinity();
    std::ptrdiff_t event = -1;
    int event_state = 0;  // the state the event's weight takes next
    const double tiny = 1e-14;
    auto consider = [&](double t, std::size_t i, int next) {
      if (t < t_end) {
        t_end = std::max(0.0, t);
        event = static_cast<std::ptrdiff_t>(i);
        event_state = next;
      }
    };
    for (std::size_t i = 0; i < n; ++i) {
      const auto k = static_cast<Index>(i);
      const int st = qp.state_[i];
      if (st == 0) {
        if (b[k] > tiny) consider((hi - a[k]) / b[k], i, 1);
        if (b[k] < -tiny) consider((lo - a[k]) / b[k], i, -1);
      } else {
        const double m0 = sa[k] - lambda * e[k] - qp.nu_;
        const double m1 = sb[k] - e[k] - qp.nu_d_;
        if ((st < 0 && m1 < -tiny) || (st > 0 && m1 > tiny)) consider(-m0 / m1, i, 0);
      }
    }
    // d/dt Sharpe has the sign of A + B t.
    const double da = p1 * q0 - p0 * q1;
    const double db = p1 * q1 - p0 * q2;
    if (std::isfinite(t_end) && (flat || da + db * t_end > 0.0)) {
      // Still rising at the end of the piece: the next working set differs by the one weight
      // whose event ended it (it reaches its bound and is held, or it is released).
      qp.w_ = a + t_end * b;
      for (Index k = 0; k < static_cast<Index>(n); ++k)
        qp.w_[k] = std::clamp(qp.w_[k], lo, hi);
      const auto ev = static_cast<std::size_t>(event);
      if (event_state != 0) qp.w_[static_cast<Index>(ev)] = event_state < 0 ? lo : hi;
      qp.state_[ev] = event_state;
      lambda += t_end;
      continue;
    }
    double t = 0.0;
    if (da > 0.0) t = db < 0.0 ? std::min(-da / db, t_end) : 0.0;
    if (!std::isfinite(t)) t = 0.0;
    Eigen::VectorXd w = a + t * b;
    for (Index k = 0; k < static_cast<Index>(n); ++k)
      w[k] = std::clamp(w[k], lo, hi);
    return std::vector<double>(w.data(), w.data() + n);
  }
  return std::vector<double>(a.data(), a.data() + n);
}

std::vector<double> LedoitWolfCovariance(const std::vector<double>& returns, std::size_t rows,
                                         std::size_t cols) {
  // scikit-learn's ledoit_wolf (assume_centered=False): the empirical covariance (ddof 0) of the
  // centred returns shrunk toward mu*I, mu = trace/p, with the Ledoit-Wolf (2004) intensity.
  const Eigen::Map<const RowMatrix> r(returns.data(), static_cast<Eigen::Index>(rows),
                                      static_cast<Eigen::Index>(cols));
  const Eigen::MatrixXd x = r.rowwise() - r.colwise().mean();
  const auto nobs = static_cast<double>(rows);
  const auto p = static_cast<double>(cols);
  const Eigen::MatrixXd emp = CrossProduct(x) / nobs;
  const double mu = emp.trace() / p;
  // sum_ij (X2'X2)_ij = sum_t (sum_i x_ti^2)^2, so no second p x p product is needed.
  const double beta_sum = x.array().square().rowwise().sum().square().sum();
  const double delta_sum = emp.array().square().sum();
  double beta = (beta_sum / nobs - delta_sum) / (p * nobs);
  double delta = (delta_sum - 2.0 * mu * emp.trace() + p * mu * mu) / p;
  beta = std::min(beta, delta);
  const double shrinkage = beta == 0.0 ? 0.0 : beta / delta;
  Eigen::MatrixXd shrunk = (1.0 - shrinkage) * emp;
  shrunk.diagonal().array() += shrinkage * mu;
  std::vector<double> out(cols * cols);
  Eigen::Map<RowMatrix>(out.data(), static_cast<Eigen::Index>(cols),
                        static_cast<Eigen::Index>(cols)) = shrunk;
  return out;
}

namespace {

// First row of the trailing window [t - lookback, t] (not before ctx.history_row).
std::size_t WindowStart(const StrategyContext& ctx, int months, int days) {
  std::size_t lo = ctx.history_row;
  if (days > 0) {
    const auto want = static_cast<std::size_t>(days);
    return ctx.row >= lo + want ? ctx.row - want : lo;
  }
  const Timestamp from = DayToTimestamp(MinusMonths(ctx.day, months));
  while (lo < ctx.row && ctx.panel.Time(lo) < from)
    ++lo;
  return lo;
}

// Last close of `col` at or before row `r` (not before ctx.history_row); NaN if none.
double CloseAtOrBefore(const StrategyContext& ctx, std::size_t col, std::size_t r) {
  for (std::size_t i = r + 1; i-- > ctx.history_row;) {
    if (ctx.panel.HasBar(i, col)) return ctx.panel.Close(i, col);
  }
  return kNaN;
}

// Close of `col` on the last session on or before `d`; NaN when `d` is before the history.
double CloseOn(const StrategyContext& ctx, std::size_t col, Days d) {
  const Timestamp t = DayToTimestamp(d);
  if (ctx.panel.Time(ctx.history_row) > t) return kNaN;
  std::size_t r = ctx.row;
  while (r > ctx.history_row && ctx.panel.Time(r) > t)
    --r;
  return CloseAtOrBefore(ctx, col, r);
}

// Simple daily returns of `cols` over rows (lo, ctx.row], carrying a missing bar at the last
// close: (ctx.row - lo) x cols.size(), row-major. False when a price is missing.
bool WindowReturns(const StrategyContext& ctx, std::size_t lo, const std::vector<std::size_t>& cols,
                   std::vector<double>& returns) {
  const std::size_t k = cols.size();
  returns.resize((ctx.row - lo) * k);
  for (std::size_t j = 0; j < k; ++j) {
    double prev = CloseAtOrBefore(ctx, cols[j], lo);
    for (std::size_t r = lo + 1; r <= ctx.row; ++r) {
      const double px = ctx.panel.HasBar(r, cols[j]) ? ctx.panel.Close(r, cols[j]) : prev;
      if (std::isnan(prev) || std::isnan(px)) return false;
      returns[(r - lo - 1) * k + j] = px / prev - 1.0;
      prev = px;
    }
  }
  return true;
}

// Mean and sample stdev of the last `count` daily returns of `col` (NaN when too short).
std::pair<double, double> TrailingStats(const StrategyContext& ctx, std::size_t col,
                                        std::size_t count) {
  if (ctx.row < ctx.history_row + count) return {kNaN, kNaN};
  std::vector<double> r;
  if (!WindowReturns(ctx, ctx.row - count, {col}, r)) return {kNaN, kNaN};
  return MeanStdev(r);
}

// Weights of model `c` for columns `cols` of ctx (scattered into out[cols[j]]). False when the
// window is too short and short_history is "cash".
bool ModelWeights(const WeigherConfig& c, const StrategyContext& ctx,
                  const std::vector<std::size_t>& cols, std::vector<double>& out) {
  const std::size_t k = cols.size();
  auto scatter = [&](const std::vector<double>& w) {
    for (std::size_t j = 0; j < k; ++j)
      out[cols[j]] = w[j];
  };
  const std::vector<double> equal(k, 1.0 / static_cast<double>(k));
  if (c.model == WeightModel::kEqual) {
    scatter(equal);
    return true;
  }
  const std::size_t lo = WindowStart(ctx, c.lookback_months, c.lookback_days);
  std::vector<double> returns;
  if (ctx.row < lo + 2 || !WindowReturns(ctx, lo, cols, returns)) {  // fewer than 2 returns
    if (c.short_history_equal) scatter(equal);
    return c.short_history_equal;
  }
  const std::size_t rows = ctx.row - lo;
  if (c.model == WeightModel::kInverseVol) {
    scatter(InverseVolWeights(returns, rows, k));
    return true;
  }
  const std::vector<double> cov = c.covariance == CovarianceKind::kLedoitWolf
                                      ? LedoitWolfCovariance(returns, rows, k)
                                      : SampleCovariance(returns, rows, k);
  if (c.model == WeightModel::kRiskParity) {
    scatter(RiskParityWeights(cov, k, c.budgets));
  } else if (c.model == WeightModel::kMaxSharpe) {
    std::vector<double> excess(k, 0.0);
    const double rf = c.risk_free_rate / 252.0;
    for (std::size_t j = 0; j < k; ++j) {
      for (std::size_t t = 0; t < rows; ++t)
        excess[j] += returns[t * k + j];
      excess[j] = excess[j] / static_cast<double>(rows) - rf;
    }
    if (auto w = MaxSharpeWeights(cov, excess, k, c.min_weight, c.max_weight)) {
      scatter(*w);
    } else {
      // No long-only portfolio beats the risk-free rate: the stated fallback.
      ctx.events.AddEvent(DayToTimestamp(ctx.day), "model_fallback",
                          JsonFields()
                              .Add("model", "max_sharpe")
                              .Add("used", "min_variance")
                              .Add("reason", "no feasible portfolio has a positive excess return")
                              .Take());
      scatter(MinVarianceWeights(cov, k, c.min_weight, c.max_weight));
    }
  } else {
    scatter(MinVarianceWeights(cov, k, c.min_weight, c.max_weight));
  }
  return true;
}

}  // namespace

double ScoreOf(const StrategyContext& ctx, std::size_t col, Score score, int lookback_months,
               int lookback_days) {
  switch (score) {
    case Score::kMomentum:
      return CloseOn(ctx, col, MinusMonths(ctx.day, 1)) /
                 CloseOn(ctx, col, MinusMonths(ctx.day, 12)) -
             1.0;
    case Score::kValue:
      return -(CloseOn(ctx, col, MinusMonths(ctx.day, 12)) /
                   CloseOn(ctx, col, MinusMonths(ctx.day, 36)) -
               1.0);
    case Score::kLowVolatility:
      return -TrailingStats(ctx, col, 90).second;
    case Score::kQuality: {
      const auto [mean, sd] = TrailingStats(ctx, col, 252);
      return sd > 0.0 ? mean / sd : kNaN;
    }
    case Score::kReturn: {
      const std::size_t lo = WindowStart(ctx, lookback_months, lookback_days);
      if (lo == ctx.row) return kNaN;
      return CloseAtOrBefore(ctx, col, ctx.row) / CloseAtOrBefore(ctx, col, lo) - 1.0;
    }
  }
  return kNaN;
}

bool Weigher::Compute(const StrategyContext& ctx, std::vector<double>& out) {
  out.assign(ctx.tradable, 0.0);
  if (config_.model == WeightModel::kRank || config_.model == WeightModel::kFactor)
    return Select(ctx, out);
  std::vector<std::size_t> cols(ctx.tradable);
  std::iota(cols.begin(), cols.end(), std::size_t{0});
  return ModelWeights(config_, ctx, cols, out);
}

bool Weigher::Select(const StrategyContext& ctx, std::vector<double>& out) {
  const std::size_t n = ctx.tradable;
  // Scores per factor; an asset is eligible when it has every score.
  std::vector<std::vector<double>> scores(config_.factors.size(), std::vector<double>(n));
  std::vector<std::size_t> eligible;
  for (std::size_t c = 0; c < n; ++c) {
    bool ok = true;
    for (std::size_t f = 0; f < config_.factors.size(); ++f) {
      scores[f][c] =
          ScoreOf(ctx, c, config_.factors[f].first, config_.lookback_months, config_.lookback_days);
      ok = ok && std::isfinite(scores[f][c]);
    }
    if (ok) eligible.push_back(c);
  }
  if (eligible.empty()) {
    if (config_.short_history_equal)
      std::fill(out.begin(), out.end(), 1.0 / static_cast<double>(n));
    return config_.short_history_equal;
  }
  // Composite: the weighted sum of cross-sectional z-scores (mean and sample stdev over the
  // eligible assets; a factor with no dispersion adds 0).
  std::vector<double> composite(n, 0.0);
  std::vector<double> values(eligible.size());
  for (std::size_t f = 0; f < config_.factors.size(); ++f) {
    for (std::size_t j = 0; j < eligible.size(); ++j)
      values[j] = scores[f][eligible[j]];
    const std::vector<double> z = ZScores(values);
    for (std::size_t j = 0; j < eligible.size(); ++j)
      composite[eligible[j]] += config_.factors[f].second * z[j];
  }
  // The top `positions` by composite (ties: universe order).
  std::stable_sort(eligible.begin(), eligible.end(),
                   [&](std::size_t a, std::size_t b) { return composite[a] > composite[b]; });
  eligible.resize(std::min(eligible.size(), config_.positions));
  if (ctx.events.Enabled()) {
    std::vector<std::string> names;
    for (std::size_t c : eligible)
      names.push_back(ctx.panel.Symbols()[c]);
    if (names != last_selection_) {
      std::string list = "[";
      for (std::size_t j = 0; j < eligible.size(); ++j) {
        if (j > 0) list += ',';
        list += "{\"symbol\":";
        AppendJsonString(list, names[j]);
        list += fmt::format(",\"score\":{}}}", composite[eligible[j]]);
      }
      list += ']';
      ctx.events.AddEvent(DayToTimestamp(ctx.day), "model_selection",
                          JsonFields()
                              .Add("model", config_.model == WeightModel::kRank ? "rank" : "factor")
                              .AddRaw("selected", list)
                              .Take());
      last_selection_ = std::move(names);
    }
  }
  const std::size_t k = eligible.size();
  if (config_.weighting == Weighting::kModel)
    return ModelWeights(*config_.inner, ctx, eligible, out);
  double total = 0.0;
  for (std::size_t j = 0; j < k; ++j)
    total += config_.weighting == Weighting::kRank ? static_cast<double>(k - j) : 1.0;
  for (std::size_t j = 0; j < k; ++j)
    out[eligible[j]] =
        (config_.weighting == Weighting::kRank ? static_cast<double>(k - j) : 1.0) / total;
  return true;
}

}  // namespace ballast::strategies
