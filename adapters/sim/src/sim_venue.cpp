#include "ballast/adapters/sim/sim_venue.hpp"

#include <cmath>
#include <optional>

namespace ballast::sim {

SimVenue::SimVenue(const BarPanel& panel, SimVenueOptions options,
                   std::function<double()> available_cash)
    : panel_(panel), options_(options), available_cash_(std::move(available_cash)) {}

void SimVenue::Submit(const Order& order) {
  pending_.push_back({order, row_});
  listener_->OnOrderAccepted(order.id, panel_.Time(row_));
}

void SimVenue::Cancel(OrderId id, std::string_view reason) {
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    if (pending_[i].order.id == id) {
      pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
      listener_->OnOrderCanceled(id, reason, panel_.Time(row_));
      return;
    }
  }
}

std::optional<SimVenue::Price> SimVenue::FillPrice(const Order& o, double at,
                                                   double through) const {
  const bool buy = o.side == Side::kBuy;
  const double slipped = SlippedPrice(at, buy, options_.slippage_bps);
  if (!(o.limit_price > 0.0)) return Price{at, slipped};
  // At the open or the close, after slippage, at the limit or better: fills there.
  if (buy ? slipped <= o.limit_price : slipped >= o.limit_price) return Price{at, slipped};
  // Later in the bar, when its range reaches the limit: fills at the limit, as a resting order.
  if (buy ? through <= o.limit_price : through >= o.limit_price)
    return Price{o.limit_price, o.limit_price};
  return std::nullopt;
}

bool SimVenue::Execute(const PendingOrder& p, Price price, Timestamp t) {
  const Order& o = p.order;
  const bool buy = o.side == Side::kBuy;
  const double fill_price = price.fill;
  double qty = o.quantity;
  if (buy) {
    const double cash = available_cash_();
    auto cost = [&](double q) { return q * fill_price + options_.commission.Fee(q, fill_price); };
    if (cost(qty) > cash + 1e-9 * (std::abs(cash) + cost(qty)) + 1e-9) {
      // Largest quantity that fits (cost is monotone in quantity).
      double lo = 0.0;
      double hi = qty;
      for (int it = 0; it < 64; ++it) {
        const double mid = 0.5 * (lo + hi);
        (cost(mid) <= cash ? lo : hi) = mid;
      }
      if (options_.shares == ShareMode::kWhole) {
        lo = std::floor(lo / options_.lot_size + 1e-9) * options_.lot_size;
        while (lo > 0.0 && cost(lo) > cash)
          lo -= options_.lot_size;
      }
      if (lo <= 0.0) {
        listener_->OnOrderRejected(o.id, "insufficient_buying_power", t);
        return true;
      }
      qty = lo;
    }
  }
  Fill f;
  f.order = o.id;
  f.symbol = o.symbol;
  f.side = o.side;
  f.quantity = qty;
  f.price = fill_price;
  f.commission = options_.commission.Fee(qty, fill_price);
  f.slippage = std::abs(fill_price - price.market) * qty;
  f.time = t;
  listener_->OnFill(f);
  if (qty < o.quantity) listener_->OnOrderCanceled(o.id, "insufficient_buying_power", t);
  return true;
}

void SimVenue::OnSplit(SymbolIndex symbol, double ratio, Timestamp t) {
  if (!(ratio > 0.0)) return;
  for (auto& p : pending_) {
    Order& o = p.order;
    if (o.symbol != symbol) continue;
    double qty = o.quantity * ratio;
    if (options_.shares == ShareMode::kWhole) {
      qty = std::floor(qty / options_.lot_size + 1e-9) * options_.lot_size;
    }
    o.quantity = qty;
    o.reference_price /= ratio;
    if (o.limit_price > 0.0) o.limit_price /= ratio;
    if (qty > 0.0) {
      listener_->OnOrderAmended(o.id, qty, t);
    } else {  // less than a lot after a reverse split: nothing left to trade
      listener_->OnOrderCanceled(o.id, "split_below_lot", t);
    }
  }
  std::erase_if(pending_, [&](const PendingOrder& p) {
    return p.order.symbol == symbol && !(p.order.quantity > 0.0);
  });
}

void SimVenue::OnSliceOpen(std::size_t row) {
  row_ = row;
  if (options_.fill != FillModel::kNextOpen || pending_.empty()) return;
  const Timestamp t = panel_.Time(row);
  keep_.clear();
  // Submission order is kept, so a plan's sells fill before its buys.
  auto batch = std::move(pending_);
  pending_.clear();
  for (const auto& p : batch) {
    const SymbolIndex sym = p.order.symbol;
    if (p.row < row && panel_.HasBar(row, sym)) {
      // A day limit order works through this bar; what its range does not reach expires.
      const auto price =
          FillPrice(p.order, panel_.Open(row, sym),
                    p.order.side == Side::kBuy ? panel_.Low(row, sym) : panel_.High(row, sym));
      if (price) {
        Execute(p, *price, t);
      } else {
        listener_->OnOrderExpired(p.order.id, t);
      }
    } else {
      keep_.push_back(p);
    }
  }
  pending_.swap(keep_);
}

void SimVenue::OnSliceClose(std::size_t row) {
  row_ = row;
  if (options_.fill != FillModel::kClose || pending_.empty()) return;
  const Timestamp t = panel_.Time(row);
  auto batch = std::move(pending_);
  pending_.clear();
  for (const auto& p : batch) {
    if (panel_.HasBar(row, p.order.symbol)) {
      // Decided on the close, filled on it: nothing of the bar is left for a limit to work in.
      const auto price = FillPrice(p.order, panel_.Close(row, p.order.symbol), kNaN);
      if (price) {
        Execute(p, *price, t);
      } else {
        listener_->OnOrderExpired(p.order.id, t);
      }
    } else {
      listener_->OnOrderRejected(p.order.id, "no_bar_for_symbol", t);
    }
  }
}

}  // namespace ballast::sim
