#include "ballast/adapters/ib/client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

namespace ballast::ib {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

bool KnownId(int id) {
  switch (id) {
    case in::kTickPrice:
    case in::kTickSize:
    case in::kOrderStatus:
    case in::kError:
    case in::kOpenOrder:
    case in::kNextValidId:
    case in::kContractDetails:
    case in::kExecDetails:
    case in::kManagedAccounts:
    case in::kHistoricalData:
    case in::kCurrentTime:
    case in::kContractDetailsEnd:
    case in::kOpenOrderEnd:
    case in::kExecDetailsEnd:
    case in::kTickSnapshotEnd:
    case in::kCommissionReport:
    case in::kPosition:
    case in::kPositionEnd:
    case in::kAccountSummary:
    case in::kAccountSummaryEnd:
    case in::kCompletedOrder:
    case in::kCompletedOrdersEnd:
      return true;
    default:
      return false;
  }
}

double Seconds(std::chrono::milliseconds ms) {
  return static_cast<double>(ms.count()) / 1000.0;
}

}  // namespace

struct TwsClient::Impl {
  struct Waiter {
    std::int64_t req_id = -1;
    Matcher match;
    std::vector<Fields> frames;
    bool done = false;   // nothing more will come (ended, refused, or the connection ended)
    bool ended = false;  // the reply's last message came
    std::optional<ErrorMessage> error;
  };
  enum class Phase : std::uint8_t { kIdle, kVersion, kReady, kFailed, kClosed };

  ConnectOptions o;
  Unsolicited unsolicited;
  Down on_down;
  asio::io_context io;
  tcp::socket socket{io};
  std::thread reader;
  std::mutex write_mu;

  mutable std::mutex mu;
  std::condition_variable cv;
  Phase phase = Phase::kIdle;
  int server_version = 0;
  std::string connection_time;
  std::vector<std::string> accounts;
  bool have_accounts = false;
  std::int64_t next_valid_id = 0;
  bool have_next_id = false;
  std::optional<ErrorMessage> refusal;  // a fatal error during the handshake
  std::string failure;                  // why the handshake failed (version, refusal)
  std::string down;
  std::vector<ErrorMessage> notices;
  std::uint64_t unknown = 0;
  std::int64_t next_req_id = 9000;
  std::uint64_t requests = 0;
  std::list<Waiter*> waiters;

  std::string Where() const { return fmt::format("{}:{}", o.host, o.port); }

  void WriteRaw(const std::string& bytes) {
    std::lock_guard lock(write_mu);
    boost::system::error_code ec;
    asio::write(socket, asio::buffer(bytes), ec);
    if (ec)
      throw TwsError(0, fmt::format("IB Gateway at {}: write failed: {}", Where(), ec.message()));
  }

  void Read() {
    FrameReader frames;
    std::string buf(64 * 1024, '\0');
    std::string why;
    for (;;) {
      boost::system::error_code ec;
      const std::size_t n = socket.read_some(asio::buffer(buf), ec);
      if (ec) {
        why = ec == asio::error::eof ? "the Gateway closed the connection"
                                     : fmt::format("read failed: {}", ec.message());
        break;
      }
      frames.Feed(std::string_view(buf.data(), n));
      std::optional<WireError> bad;
      bool stop = false;
      while (auto f = frames.Next(bad))
        stop = stop || !Dispatch(*f);
      if (bad) {
        why = bad->what;
        break;
      }
      if (stop) {
        why = failure;
        break;
      }
    }
    bool was_ready = false;
    {
      std::lock_guard lock(mu);
      if (down.empty()) down = why;
      if (phase == Phase::kVersion) {
        if (failure.empty()) failure = why;
        phase = Phase::kFailed;
      } else if (phase == Phase::kReady) {
        phase = Phase::kClosed;
        was_ready = true;
      }
      for (Waiter* w : waiters)
        w->done = true;
      cv.notify_all();
    }
    if (was_ready && on_down) on_down(why);
  }

  // One message. False ends the connection (a failed handshake).
  bool Dispatch(const Fields& f) {
    std::unique_lock lock(mu);
    if (phase == Phase::kVersion && server_version == 0) {
      // The server's version reply is [version, time]; anything before it is skipped.
      if (f.size() != 2 || !MessageId(f)) return true;
      try {
        const ServerHello h = ParseServerHello(f);
        server_version = h.server_version;
        connection_time = h.connection_time;
      } catch (const WireError& e) {
        failure = e.what;
        return false;
      }
      if (server_version < o.min_version || server_version > o.max_version) {
        failure = fmt::format(
            "IB Gateway at {} speaks API server version {}; ballast needs {} to {} (an IB "
            "Gateway or TWS of that API level)",
            Where(), server_version, o.min_version, o.max_version);
        return false;
      }
      lock.unlock();
      try {
        WriteRaw(Frame(StartApi(o.client_id)));
      } catch (const TwsError& e) {
        std::lock_guard again(mu);
        failure = e.what();
        return false;
      }
      return true;
    }
    const auto id = MessageId(f);
    if (!id) {
      ++unknown;
      return true;
    }
    try {
      if (*id == in::kError) {
        const ErrorMessage e = ParseError(f);
        for (Waiter* w : waiters) {
          if (e.req_id >= 0 && w->req_id == e.req_id && !w->done &&
              Classify(e.code) != ErrorClass::kInfo && Classify(e.code) != ErrorClass::kWarning) {
            w->error = e;
            w->done = true;
            cv.notify_all();
            return true;
          }
        }
        if (e.req_id < 0) notices.push_back(e);
        if (phase == Phase::kVersion && Classify(e.code) == ErrorClass::kFatal) {
          refusal = e;
          failure = fmt::format("IB Gateway at {} refused the connection: error {}: {}", Where(),
                                e.code, e.text);
          return false;
        }
      } else if (*id == in::kNextValidId) {
        next_valid_id = ParseNextValidId(f).order_id;
        have_next_id = true;
      } else if (*id == in::kManagedAccounts) {
        accounts = ParseManagedAccounts(f).accounts;
        have_accounts = true;
      }
    } catch (const WireError&) {
      ++unknown;  // a message we read, malformed: counted, not fatal
      return true;
    }
    if (phase == Phase::kVersion && have_next_id && have_accounts) {
      phase = Phase::kReady;
      cv.notify_all();
    }
    for (Waiter* w : waiters) {
      if (w->done) continue;
      const Reply r = w->match(*id, f);
      if (r == Reply::kNotMine) continue;
      w->frames.push_back(f);
      if (r == Reply::kEnd) {
        w->done = w->ended = true;
        cv.notify_all();
      }
      return true;
    }
    if (!KnownId(*id)) {
      ++unknown;
      return true;
    }
    if (unsolicited) {
      lock.unlock();
      unsolicited(*id, f);
    }
    return true;
  }
};

TwsClient::TwsClient(ConnectOptions options, Unsolicited unsolicited, Down on_down)
    : impl_(std::make_unique<Impl>()) {
  impl_->o = std::move(options);
  impl_->unsolicited = std::move(unsolicited);
  impl_->on_down = std::move(on_down);
}

TwsClient::~TwsClient() {
  Close();
}

void TwsClient::Connect() {
  Impl& m = *impl_;
  const auto deadline = std::chrono::steady_clock::now() + m.o.timeout;
  boost::system::error_code ec = asio::error::would_block;
  tcp::resolver resolver(m.io);
  boost::system::error_code rec;
  const auto endpoints = resolver.resolve(m.o.host, std::to_string(m.o.port), rec);
  if (rec)
    throw TwsError(
        0, fmt::format("IB Gateway at {}: cannot resolve the host: {}", m.Where(), rec.message()));
  asio::async_connect(m.socket, endpoints,
                      [&](const boost::system::error_code& e, const tcp::endpoint&) { ec = e; });
  m.io.restart();
  m.io.run_for(m.o.timeout);
  if (ec == asio::error::would_block) {
    m.socket.close();
    m.io.run();  // the cancelled connect's handler
    throw TwsError(0, fmt::format("IB Gateway at {}: no connection within {} s", m.Where(),
                                  Seconds(m.o.timeout)));
  }
  if (ec)
    throw TwsError(0, fmt::format("cannot connect to IB Gateway / TWS at {}: {} (is it running, "
                                  "with the API enabled on that port?)",
                                  m.Where(), ec.message()));
  m.socket.set_option(tcp::no_delay(true));
  {
    std::lock_guard lock(m.mu);
    m.phase = Impl::Phase::kVersion;
  }
  m.WriteRaw(HandshakeBytes(m.o.min_version, m.o.max_version));
  m.reader = std::thread([&m] { m.Read(); });
  std::unique_lock lock(m.mu);
  const bool settled =
      m.cv.wait_until(lock, deadline, [&] { return m.phase != Impl::Phase::kVersion; });
  if (settled && m.phase == Impl::Phase::kReady) return;
  const int code = m.refusal ? m.refusal->code : 0;
  const std::string why =
      !settled ? fmt::format(
                     "IB Gateway at {}: no handshake within {} s (server version {}, "
                     "{} account(s), next order id {})",
                     m.Where(), Seconds(m.o.timeout), m.server_version,
                     m.have_accounts ? "with" : "no", m.have_next_id ? "given" : "not given")
               : m.failure;
  lock.unlock();
  Close();
  throw TwsError(code, why);
}

void TwsClient::Close() {
  Impl& m = *impl_;
  boost::system::error_code ignored;
  if (m.socket.is_open()) {
    m.socket.shutdown(tcp::socket::shutdown_both, ignored);
  }
  if (m.reader.joinable()) m.reader.join();
  m.socket.close(ignored);
  std::lock_guard lock(m.mu);
  if (m.phase == Impl::Phase::kReady) m.phase = Impl::Phase::kClosed;
  if (m.down.empty() && m.phase != Impl::Phase::kIdle) m.down = "closed";
}

bool TwsClient::Connected() const {
  std::lock_guard lock(impl_->mu);
  return impl_->phase == Impl::Phase::kReady;
}

int TwsClient::ServerVersion() const {
  std::lock_guard lock(impl_->mu);
  return impl_->server_version;
}

std::string TwsClient::ConnectionTime() const {
  std::lock_guard lock(impl_->mu);
  return impl_->connection_time;
}

std::vector<std::string> TwsClient::Accounts() const {
  std::lock_guard lock(impl_->mu);
  return impl_->accounts;
}

std::int64_t TwsClient::NextValidId() const {
  std::lock_guard lock(impl_->mu);
  return impl_->next_valid_id;
}

std::uint64_t TwsClient::UnknownMessages() const {
  std::lock_guard lock(impl_->mu);
  return impl_->unknown;
}

std::vector<ErrorMessage> TwsClient::Notices() const {
  std::lock_guard lock(impl_->mu);
  return impl_->notices;
}

std::string TwsClient::DownReason() const {
  std::lock_guard lock(impl_->mu);
  return impl_->phase == Impl::Phase::kReady ? std::string() : impl_->down;
}

void TwsClient::Send(const Fields& fields) {
  if (!Connected())
    throw TwsError(
        0, fmt::format("IB Gateway at {}: not connected ({})", impl_->Where(), DownReason()));
  impl_->WriteRaw(Frame(fields));
}

std::int64_t TwsClient::NewRequestId() {
  std::lock_guard lock(impl_->mu);
  return impl_->next_req_id++;
}

std::vector<Fields> TwsClient::Request(const Fields& request, std::string_view what,
                                       std::int64_t req_id, Matcher match) {
  Impl& m = *impl_;
  Impl::Waiter w;
  w.req_id = req_id;
  w.match = std::move(match);
  {
    std::lock_guard lock(m.mu);
    m.waiters.push_back(&w);
    ++m.requests;
  }
  auto drop = [&] {
    std::lock_guard lock(m.mu);
    m.waiters.remove(&w);
  };
  try {
    Send(request);
  } catch (...) {
    drop();
    throw;
  }
  std::unique_lock lock(m.mu);
  const bool done = m.cv.wait_for(lock, m.o.timeout, [&] { return w.done; });
  m.waiters.remove(&w);
  if (w.error) {
    throw TwsError(w.error->code,
                   fmt::format("{}: IB error {}: {}", what, w.error->code, w.error->text));
  }
  if (!done)
    throw TwsError(0, fmt::format("{} did not complete within {} s: the answer is unknown", what,
                                  Seconds(m.o.timeout)));
  if (!w.ended)  // the connection ended first: what came is incomplete, so unknown
    throw TwsError(0, fmt::format("{}: the connection to IB Gateway at {} ended before the reply "
                                  "did ({}): the answer is unknown",
                                  what, m.Where(), m.down));
  return std::move(w.frames);
}

std::int64_t TwsClient::CurrentTime() {
  const auto frames = Request(ReqCurrentTime(), "reqCurrentTime", -1, [](int id, const Fields&) {
    return id == in::kCurrentTime ? Reply::kEnd : Reply::kNotMine;
  });
  return ParseCurrentTime(frames.back()).epoch_seconds;
}

std::vector<AccountValue> TwsClient::AccountSummary(const std::string& tags) {
  const std::int64_t req = NewRequestId();
  const auto frames = Request(ReqAccountSummary(req, tags), "reqAccountSummary", req,
                              [req](int id, const Fields& f) {
                                if (ReplyReqId(id, f) != req) return Reply::kNotMine;
                                if (id == in::kAccountSummary) return Reply::kPart;
                                return id == in::kAccountSummaryEnd ? Reply::kEnd : Reply::kNotMine;
                              });
  Send(CancelAccountSummary(req));  // it is a subscription: no updates wanted
  std::vector<AccountValue> out;
  for (const auto& f : frames) {
    if (MessageId(f) == in::kAccountSummary) out.push_back(ParseAccountSummary(f));
  }
  return out;
}

std::vector<PositionMessage> TwsClient::Positions() {
  const auto frames = Request(ReqPositions(), "reqPositions", -1, [](int id, const Fields&) {
    if (id == in::kPosition) return Reply::kPart;
    return id == in::kPositionEnd ? Reply::kEnd : Reply::kNotMine;
  });
  Send(CancelPositions());
  std::vector<PositionMessage> out;
  for (const auto& f : frames) {
    if (MessageId(f) == in::kPosition) out.push_back(ParsePosition(f));
  }
  return out;
}

HistoricalData TwsClient::DailyBars(const Contract& c, const std::string& duration,
                                    const std::string& what) {
  const std::int64_t req = NewRequestId();
  // ADJUSTED_LAST needs an empty end (now); so does TRADES here, for one rule.
  const auto frames = Request(
      ReqHistoricalData(req, c, "", "1 day", duration, true, what),
      fmt::format("reqHistoricalData for {}", c.symbol), req, [req](int id, const Fields& f) {
        return id == in::kHistoricalData && ReplyReqId(id, f) == req ? Reply::kEnd
                                                                     : Reply::kNotMine;
      });
  return ParseHistoricalData(frames.back());
}

std::vector<TwsClient::Open> TwsClient::OpenOrders() {
  const auto frames =
      Request(ReqAllOpenOrders(), "reqAllOpenOrders", -1, [](int id, const Fields&) {
        if (id == in::kOpenOrder || id == in::kOrderStatus) return Reply::kPart;
        return id == in::kOpenOrderEnd ? Reply::kEnd : Reply::kNotMine;
      });
  std::vector<Open> out;
  for (const auto& f : frames) {
    const auto id = MessageId(f);
    if (id == in::kOpenOrder) {
      out.push_back({ParseOpenOrder(f), std::nullopt});
    } else if (id == in::kOrderStatus) {
      const OrderStatus s = ParseOrderStatus(f);
      for (auto& o : out)
        if (o.order.order_id == s.order_id) o.status = s;
    }
  }
  return out;
}

std::vector<Execution> TwsClient::Executions(const ExecutionFilter& filter) {
  const std::int64_t req = NewRequestId();
  const int version = ServerVersion();
  const auto frames =
      Request(ReqExecutions(req, filter), "reqExecutions", req, [req](int id, const Fields& f) {
        if (ReplyReqId(id, f) != req) return Reply::kNotMine;
        if (id == in::kExecDetails) return Reply::kPart;
        return id == in::kExecDetailsEnd ? Reply::kEnd : Reply::kNotMine;
      });
  std::vector<Execution> out;
  for (const auto& f : frames) {
    if (MessageId(f) == in::kExecDetails) out.push_back(ParseExecDetails(f, version));
  }
  return out;
}

std::uint64_t TwsClient::Requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->requests;
}

ContractDetails TwsClient::ResolveStock(const std::string& symbol,
                                        const std::string& primary_exchange) {
  const std::int64_t req = NewRequestId();
  Contract c;
  c.symbol = symbol;
  c.primary_exchange = primary_exchange;
  const auto frames = Request(
      ReqContractDetails(req, c, ServerVersion()), fmt::format("reqContractDetails for {}", symbol),
      req, [req](int id, const Fields& f) {
        if (ReplyReqId(id, f) != req) return Reply::kNotMine;
        if (id == in::kContractDetails) return Reply::kPart;
        return id == in::kContractDetailsEnd ? Reply::kEnd : Reply::kNotMine;
      });
  std::vector<ContractDetails> found;
  for (const auto& f : frames) {
    if (MessageId(f) == in::kContractDetails) found.push_back(ParseContractDetails(f));
  }
  if (found.empty()) throw TwsError(200, fmt::format("IB has no US stock contract for {}", symbol));
  if (found.size() > 1) {
    std::string where;
    for (const auto& d : found)
      where += (where.empty() ? "" : ", ") + d.primary_exchange;
    throw TwsError(200, fmt::format("{} is ambiguous at IB: {} contracts (primary exchanges {}); "
                                    "name the primary exchange",
                                    symbol, found.size(), where));
  }
  return found.front();
}

}  // namespace ballast::ib
