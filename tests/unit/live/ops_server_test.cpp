// The ops server under abuse (issue 13): connections past the cap get 503, idle ones are closed,
// running out of file descriptors does not make it spin, and malformed requests get 400.

#include "ballast/live/ops_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace ballast::live {
namespace {

OpsReply Health(std::string_view path) {
  if (path == "/health") return {200, "text/plain; charset=utf-8", "ok\n"};
  return {404, "text/plain; charset=utf-8", "not found\n"};
}

// The server on its own io_context thread.
class Server {
 public:
  explicit Server(OpsLimits limits)
      : work_(boost::asio::make_work_guard(io_)), server_(io_, 0, Health, limits) {
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Server() {
    io_.post([this] { work_.reset(); });
    io_.stop();
    thread_.join();
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  [[nodiscard]] unsigned short Port() const { return server_.Port(); }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  OpsServer server_;
  std::thread thread_;
};

sockaddr_in Loopback(unsigned short port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Connects `fd` (a TCP socket); false when it cannot.
bool ConnectSocket(int fd, unsigned short port) {
  const sockaddr_in a = Loopback(port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) return false;
  timeval tv{20, 0};  // a bound, not a pace: the server answers or closes well before
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return true;
}

int Connect(unsigned short port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (!ConnectSocket(fd, port)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `request` (may be empty) and reads one reply: until its Content-Length is in, or the
// server closes, or 20 s pass.
std::string Exchange(int fd, const std::string& request) {
  if (!request.empty()) (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  while (true) {
    const auto end = out.find("\r\n\r\n");
    const auto cl = out.find("Content-Length: ");
    if (end != std::string::npos && cl != std::string::npos &&
        out.size() >= end + 4 + std::stoul(out.substr(cl + 16)))
      break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

const std::string kGet = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";

TEST(OpsServerTest, ConnectionsPastTheCapGet503AndTheServerStaysUp) {
  OpsLimits limits;
  limits.max_connections = 4;
  Server s(limits);
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(Connect(s.Port()));
    ASSERT_GE(held.back(), 0);
    ASSERT_NE(Exchange(held.back(), kGet).find("200 OK"), std::string::npos);  // accepted
  }
  const int extra = Connect(s.Port());
  EXPECT_NE(Exchange(extra, "").find("503"), std::string::npos);
  ::close(extra);
  for (int fd : held)
    ::close(fd);
  // Once they are gone, /health answers again (the server notices the closes; bounded wait).
  std::string reply;
  for (int i = 0; i < 200 && reply.find("200 OK") == std::string::npos; ++i) {
    const int fd = Connect(s.Port());
    reply = Exchange(fd, kGet);
    ::close(fd);
    if (reply.find("200 OK") == std::string::npos)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(reply.find("200 OK"), std::string::npos) << reply;
}

TEST(OpsServerTest, IdleConnectionsAreClosed) {
  OpsLimits limits;
  limits.idle_timeout = std::chrono::milliseconds(200);
  Server s(limits);
  const int fd = Connect(s.Port());
  ASSERT_GE(fd, 0);
  // Nothing sent: the server closes the connection (recv returns 0) instead of holding it.
  char c = 0;
  EXPECT_EQ(::recv(fd, &c, 1, 0), 0);
  ::close(fd);
}

TEST(OpsServerTest, OutOfFileDescriptorsDoesNotSpin) {
  Server s({});
  rlimit old{};
  ::getrlimit(RLIMIT_NOFILE, &old);
  // Client sockets are made first; then no new descriptor can be opened, and their connections
  // wait in the backlog while the server cannot accept them (EMFILE).
  std::vector<int> clients;
  for (int i = 0; i < 8; ++i)
    clients.push_back(::socket(AF_INET, SOCK_STREAM, 0));
  // New descriptors take the lowest free number, which must be below the limit: a limit at the
  // lowest free number leaves none to take.
  int lowest_free = 0;
  while (::fcntl(lowest_free, F_GETFD) != -1)
    ++lowest_free;
  rlimit low = old;
  low.rlim_cur = static_cast<rlim_t>(lowest_free);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  for (int fd : clients)
    ASSERT_TRUE(ConnectSocket(fd, s.Port()));
  rusage before{}, after{};
  ::getrusage(RUSAGE_SELF, &before);
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(800));  // the window observed
  ::getrusage(RUSAGE_SELF, &after);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old), 0);
  auto cpu = [](const rusage& u) {
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  };
  // Spinning on accept would use the whole window; backing off uses almost none.
  EXPECT_LT(cpu(after) - cpu(before), 0.25 * wall);
  // With descriptors back, the waiting clients are served.
  EXPECT_NE(Exchange(clients[0], kGet).find("200 OK"), std::string::npos);
  for (int fd : clients)
    ::close(fd);
}

TEST(OpsServerTest, MalformedRequestsGet400) {
  EXPECT_NE(OpsServer::AnswerRaw(kGet, Health).find("HTTP/1.1 200 OK"), std::string::npos);
  for (const std::string& bad :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/9.9\r\n\r\n"),
        "GET /health HTTP/1.1\r\nX: " + std::string(10000, 'a') + "\r\n\r\n",
        std::string("POST /health HTTP/1.1\r\nContent-Length: 99999\r\n\r\n")}) {
    EXPECT_NE(OpsServer::AnswerRaw(bad, Health).find("400 Bad Request"), std::string::npos)
        << bad.substr(0, 40);
  }
  EXPECT_NE(OpsServer::AnswerRaw("DELETE /health HTTP/1.1\r\n\r\n", Health).find("405"),
            std::string::npos);
}

}  // namespace
}  // namespace ballast::live
