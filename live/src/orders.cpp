// The session's side of its orders: the kill switch, waiting for fills, and what the venue asks
// of its host (adopting an earlier process's order, a sell the ledger cannot take, the last
// order final). Sending and booking are the BrokerVenue's (broker_venue.cpp).
#include "session_impl.hpp"

namespace ballast::live::detail {

bool Session::KillSwitch() const {
  if (o_.kill != nullptr && o_.kill->load()) return true;
  return !live_.risk.kill_switch_file.empty() && fs::exists(live_.risk.kill_switch_file);
}

void Session::OnOrderUpdate(const broker::OrderUpdate& u) {
  if (venue_) venue_->OnBrokerUpdate(u);
}

OrderId Session::Adopt(const JournalOrder& jo) {
  Order o;
  o.symbol = static_cast<SymbolIndex>(std::find(symbols_.begin(), symbols_.end(), jo.symbol) -
                                      symbols_.begin());
  o.side = jo.side == "sell" ? Side::kSell : Side::kBuy;
  o.quantity = jo.qty;
  o.reference_price = jo.ref_price;
  o.limit_price = jo.limit_price;
  o.created = Now();
  return orders_->Adopt(o, jo.filled_qty, jo.avg_price);
}

bool Session::Oversells(SymbolIndex symbol, double qty) {
  const double held = ledger_->Quantity(symbol);
  if (qty <= held * (1 + 1e-9) + 1e-9) return false;
  // The broker sold more than the ledger holds (a manual trade?): the broker is right.
  JsonFields f;
  f.Add("symbol", symbols_[symbol]).Add("fill_qty", qty).Add("ledger", held);
  Log("reconcile_difference", f.Take(), spdlog::level::warn);
  Reconcile();
  return true;
}

void Session::OnOrdersSettled() {
  if (unfinished_cycle_ == 0) return;
  // A service cycle's last order is final: finish it now, not at the fill timeout.
  boost::asio::post(io_, [this, cycle = unfinished_cycle_] {
    if (unfinished_cycle_ != cycle) return;
    try {
      (void)FinishCycle(cycle, false);
    } catch (const std::exception& e) {
      JsonFields ef;
      ef.Add("detail", e.what());
      Log("cycle_error", ef.Take(), spdlog::level::err);
    }
  });
}

void Session::SendOrders(std::vector<JournalOrder>& planned, bool blocking) {
  venue_->Release(planned);
  if (!venue_->HasPendingBuys()) return;
  if (venue_->SellsOpen() && blocking) WaitForOrders(live_.fill_timeout_s, /*sells_only=*/true);
  // Else the trade update that closes the last sell sends them.
  if (!venue_->SellsOpen()) venue_->SendPendingBuys();
}

bool Session::WaitForOrders(double timeout_s, bool sells_only) {
  // Runs the loop until every open order is final, or the timeout (0: until the trade stream is
  // up, at most live.stream_connect_seconds: a stream refused with 429 backs off for seconds).
  const bool for_stream = timeout_s <= 0.0;
  boost::asio::steady_timer deadline(io_);
  deadline.expires_after(std::chrono::milliseconds(
      static_cast<long long>((for_stream ? live_.stream_connect_s : timeout_s) * 1000)));
  bool expired = false;
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) expired = true;
  });
  auto done = [&] {
    if (for_stream) return broker_->UpdatesReady();
    return sells_only ? !venue_->SellsOpen() : venue_->OpenCount() == 0;
  };
  while (!expired && fatal_.empty() && !(o_.stop && o_.stop->load())) {
    if (done()) break;
    io_.restart();
    io_.run_for(std::chrono::milliseconds(50));
  }
  deadline.cancel();
  io_.restart();
  io_.poll();
  if (!fatal_.empty()) throw Error(ErrorKind::kBroker, fatal_);
  return for_stream ? broker_->UpdatesReady() : venue_->OpenCount() == 0;
}

}  // namespace ballast::live::detail
