#pragma once
/// A thread of its own for network reads: the websockets run on it, so a REST call or a
/// rate-limit wait on the session's thread never stalls them (pings are answered, frames read);
/// what they receive is posted to the session's io_context, where the session handles it.

#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace ballast::alpaca {

class IoThread {
 public:
  IoThread();
  /// Join()s, then destroys the io_context (handlers never run are destroyed with it).
  ~IoThread();
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  [[nodiscard]] boost::asio::io_context& Io() noexcept;
  /// Runs `fn` on the thread and waits for it (exceptions are rethrown here). After Join() it
  /// runs `fn` on the caller's thread: nothing else runs the io_context then.
  void Run(const std::function<void()>& fn);
  /// Stops the io_context and joins the thread. Objects whose handlers it runs may be destroyed
  /// after this, from any thread.
  void Join();
  /// Posts `fn` to run on the thread.
  void Post(std::function<void()> fn);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ballast::alpaca
