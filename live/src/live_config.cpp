// The live sections of a config: endpoints (checked before any file or request), schedule,
// timeouts, buffers and pre-trade limits.
#include <charconv>
#include <cmath>

#include "session_impl.hpp"

namespace ballast::live::detail {

bool SameOrder(const broker::BrokerOrder& b, const JournalOrder& o) {
  return b.symbol == o.symbol && ToString(b.side) == o.side &&
         (b.qty <= 0.0 || std::abs(b.qty - o.qty) <= 1e-6 * std::max(1.0, o.qty));
}

std::string_view JournalState(broker::OrderPhase phase) noexcept {
  switch (phase) {
    case broker::OrderPhase::kFilled:
      return "filled";
    case broker::OrderPhase::kPartiallyFilled:
      return "partially_filled";
    case broker::OrderPhase::kCanceled:
      return "canceled";
    case broker::OrderPhase::kRejected:
      return "rejected";
    case broker::OrderPhase::kExpired:
      return "expired";
    case broker::OrderPhase::kPending:
    case broker::OrderPhase::kWorking:
    case broker::OrderPhase::kUnknown:
      return "accepted";
  }
  return "accepted";
}

namespace {

bool IsAlpacaHost(std::string_view url, std::string_view host) {
  return url.find(std::string("://").append(host)) != std::string_view::npos;
}

// broker.ib, then the IB_* environment the users' .env files set (it wins).
void ParseIb(const std::optional<ConfigNode>& node, bool live, ib::IbOptions& ib) {
  ib.connect.port = live ? 7496 : 7497;  // TWS; IB Gateway listens on 4001 live, 4002 paper
  double timeout_s = 10.0;
  if (node) {
    node->ExpectKeys({"host", "port", "client_id", "account", "connect_timeout_seconds",
                      "fractional", "primary_exchanges"});
    if (auto p = node->Find("primary_exchanges")) {
      if (!p->IsObject())
        p->Fail("an object of symbol: primary exchange, e.g. {\"AGG\": \"ARCA\"}");
      for (const auto& symbol : p->Keys())
        ib.primary_exchanges[symbol] = p->At(symbol).String();
    }
    ib.connect.host = node->StringOr("host", ib.connect.host);
    if (auto p = node->Find("port")) {
      const auto v = p->Integer();
      if (v < 1 || v > 65535) p->Fail("a TCP port (7497 paper TWS, 7496 live, 4002/4001 Gateway)");
      ib.connect.port = static_cast<unsigned short>(v);
    }
    if (auto id = node->Find("client_id")) {
      const auto v = id->Integer();
      if (v < 0 || v > 2147483646) id->Fail("a whole number from 0 to 2147483646");
      ib.connect.client_id = static_cast<int>(v);
    }
    ib.account = node->StringOr("account", ib.account);
    timeout_s = node->NumberOr("connect_timeout_seconds", timeout_s);
    if (!(timeout_s >= 1.0 && timeout_s <= 600.0))
      node->At("connect_timeout_seconds").Fail("seconds from 1 to 600");
    ib.fractional = node->BoolOr("fractional", false);
  }
  ib.connect.timeout = std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000.0));
  auto whole = [](const char* name, long long lo, long long hi, long long& into) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return false;
    const std::string_view text(v);
    long long x = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
    if (ec != std::errc() || p != text.data() + text.size() || x < lo || x > hi) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("{}: '{}' is not a whole number from {} to {}", name, text, lo, hi));
    }
    into = x;
    return true;
  };
  long long n = 0;
  if (const char* h = std::getenv("IB_HOST"); h != nullptr && *h != '\0') ib.connect.host = h;
  if (whole("IB_PORT", 1, 65535, n)) ib.connect.port = static_cast<unsigned short>(n);
  if (whole("IB_CLIENT_ID", 0, 2147483646, n)) ib.connect.client_id = static_cast<int>(n);
  if (const char* a = std::getenv("IB_ACCOUNT"); a != nullptr && *a != '\0') ib.account = a;
}

}  // namespace

LiveConfig ParseLiveConfig(const ConfigDocument& doc, const LiveOptions& o) {
  LiveConfig c;
  const ConfigNode root = doc.Root();
  auto& e = c.endpoints;
  if (o.live) {
    e.trading_url = "https://api.alpaca.markets";
    e.trading_stream_url = "wss://api.alpaca.markets/stream";
  }
  if (auto b = root.Find("broker")) {
    b->ExpectKeys({"alpaca", "ib"});
    if (auto a = b->Find("alpaca")) {
      a->ExpectKeys(
          {"trading_url", "data_url", "trading_stream_url", "data_stream_url", "feed", "ca_file"});
      e.trading_url = a->StringOr("trading_url", e.trading_url);
      e.data_url = a->StringOr("data_url", e.data_url);
      e.trading_stream_url = a->StringOr("trading_stream_url", e.trading_stream_url);
      e.data_stream_url = a->StringOr("data_stream_url", e.data_stream_url);
      e.feed = a->EnumOr("feed", {"iex", "sip", "test", "delayed_sip"}, e.feed);
      if (auto ca = a->Find("ca_file")) {
        e.tls.ca_file = (fs::path(doc.Origin()).parent_path() / ca->String()).string();
      }
    }
  }
  // A replay's simulated broker fills at the price it was decided on: no buffer needed (and
  // none lets the replay match a backtest of the same period).
  if (o.replay) {
    c.cash_buffer = 0.0;
    c.history_days = 0;  // all the store holds before the start, as the backtest reads
  }
  if (auto l = root.Find("live")) {
    l->ExpectKeys({"check_time", "history_days", "fill_timeout_seconds", "metrics_port",
                   "confirm_live", "stale_data_seconds", "cash_buffer", "stream_connect_seconds",
                   "retry_seconds", "watch_seconds", "prefault_mb", "risk"});
    c.cash_buffer = l->NumberOr("cash_buffer", c.cash_buffer);
    if (!(c.cash_buffer >= 0.0 && c.cash_buffer < 0.5))
      l->At("cash_buffer").Fail("a fraction of equity in [0, 0.5)");
    c.stream_connect_s = l->NumberOr("stream_connect_seconds", c.stream_connect_s);
    if (!(c.stream_connect_s >= 1.0 && c.stream_connect_s <= 3600.0))
      l->At("stream_connect_seconds").Fail("seconds from 1 to 3600");
    c.retry_s = l->NumberOr("retry_seconds", c.retry_s);
    if (!(c.retry_s >= 1.0 && c.retry_s <= 3600.0))
      l->At("retry_seconds").Fail("seconds from 1 to 3600");
    c.watch_s = l->NumberOr("watch_seconds", c.watch_s);
    if (!(c.watch_s == 0.0 || (c.watch_s >= 0.1 && c.watch_s <= 86400.0)))
      l->At("watch_seconds").Fail("0 (only the scheduled checks) or seconds from 0.1 to 86400");
    const double prefault = l->NumberOr("prefault_mb", c.prefault_mb);
    if (!(prefault >= 0.0 && prefault <= 4096.0 && prefault == std::floor(prefault)))
      l->At("prefault_mb").Fail("whole MiB from 0 (none) to 4096");
    c.prefault_mb = static_cast<int>(prefault);
    if (auto t = l->Find("check_time")) {
      const std::string s = t->String();
      int h = -1, m = -1;
      if (s.size() == 5 && s[2] == ':') {
        h = std::stoi(s.substr(0, 2));
        m = std::stoi(s.substr(3, 2));
      }
      if (h < 9 || h > 16 || m < 0 || m > 59 || h * 60 + m < 9 * 60 + 30 || h * 60 + m > 16 * 60)
        t->Fail("a New York time between 09:30 and 16:00 as HH:MM, e.g. \"15:45\"");
      c.check_minutes = h * 60 + m;
    }
    if (auto v = l->Find("history_days")) {
      c.history_days = static_cast<int>(v->Integer());
      if (c.history_days < 5 || c.history_days > 3650) v->Fail("calendar days in [5, 3650]");
    }
    c.fill_timeout_s = l->NumberOr("fill_timeout_seconds", c.fill_timeout_s);
    if (!(c.fill_timeout_s >= 1.0 && c.fill_timeout_s <= 86400.0))
      l->At("fill_timeout_seconds").Fail("seconds from 1 to 86400");
    if (auto v = l->Find("metrics_port")) {
      c.metrics_port = static_cast<int>(v->Integer());
      if (c.metrics_port < 0 || c.metrics_port > 65535) v->Fail("a TCP port, or 0 for none");
    }
    c.confirm_live = l->BoolOr("confirm_live", false);
    c.stale_data_s = l->NumberOr("stale_data_seconds", c.stale_data_s);
    if (!(c.stale_data_s > 0.0 && c.stale_data_s <= 86400.0))
      l->At("stale_data_seconds").Fail("seconds > 0, at most 86400");
    if (auto r = l->Find("risk")) {
      r->ExpectKeys({"max_order_notional", "max_daily_turnover", "max_weight", "kill_switch_file",
                     "cancel_on_kill"});
      c.risk.limits.max_order_notional = r->NumberOr("max_order_notional", 0.0);
      c.risk.limits.max_daily_turnover = r->NumberOr("max_daily_turnover", 0.0);
      c.risk.limits.max_weight = r->NumberOr("max_weight", 0.0);
      if (c.risk.limits.max_order_notional < 0.0)
        r->At("max_order_notional").Fail("an amount >= 0");
      if (c.risk.limits.max_daily_turnover < 0.0)
        r->At("max_daily_turnover").Fail("a fraction >= 0");
      if (c.risk.limits.max_weight < 0.0 || c.risk.limits.max_weight > 1.0)
        r->At("max_weight").Fail("a weight in [0, 1]");
      if (auto k = r->Find("kill_switch_file")) {
        c.risk.kill_switch_file = (fs::path(doc.Origin()).parent_path() / k->String()).string();
      }
      c.risk.cancel_on_kill = r->BoolOr("cancel_on_kill", true);
    }
  }
  if (o.replay) return c;  // no broker endpoint is used
  if (o.broker == BrokerKind::kIb) {
    std::optional<ConfigNode> node;
    if (auto b = root.Find("broker")) node = b->Find("ib");
    ParseIb(node, o.live, c.ib);
    return c;
  }
  // The environment wins over the config (as Alpaca's SDKs read it).
  auto env = [](const char* name, std::string& into) {
    if (const char* v = std::getenv(name); v != nullptr && *v != '\0') into = v;
  };
  env("APCA_API_BASE_URL", e.trading_url);
  env("APCA_API_DATA_URL", e.data_url);
  env("APCA_API_STREAM_URL", e.trading_stream_url);
  env("APCA_API_DATA_STREAM_URL", e.data_stream_url);
  // Refuse a mode/endpoint mismatch before any request: paper keys on the live host or the other
  // way round would fail at best and trade real money at worst.
  if (!o.live && IsAlpacaHost(e.trading_url, "api.alpaca.markets")) {
    throw Error(ErrorKind::kUsage,
                fmt::format("--paper, but the trading URL is Alpaca's live endpoint ({}); unset "
                            "APCA_API_BASE_URL or broker.alpaca.trading_url, or pass --live",
                            e.trading_url));
  }
  if (o.live && IsAlpacaHost(e.trading_url, "paper-api.alpaca.markets")) {
    throw Error(
        ErrorKind::kUsage,
        fmt::format("--live, but the trading URL is Alpaca's paper endpoint ({})", e.trading_url));
  }
  // Every endpoint is checked here, before anything is sent: a plain http URL to a host that is
  // not loopback would carry the keys in clear.
  const std::string data_stream = alpaca::DataStream::Url(e);
  const std::pair<const std::string*, const char*> urls[] = {
      {&e.trading_url, "broker.alpaca.trading_url (or APCA_API_BASE_URL)"},
      {&e.data_url, "broker.alpaca.data_url (or APCA_API_DATA_URL)"},
      {&e.trading_stream_url, "broker.alpaca.trading_stream_url (or APCA_API_STREAM_URL)"},
      {&data_stream, "broker.alpaca.data_stream_url (or APCA_API_DATA_STREAM_URL)"}};
  for (const auto& [url, key] : urls) {
    try {
      (void)net::ParseUrl(*url);
    } catch (const std::invalid_argument& ex) {
      throw Error(ErrorKind::kConfig, fmt::format("{}: {}: {}", doc.Origin(), key, ex.what()));
    }
  }
  return c;
}

}  // namespace ballast::live::detail
