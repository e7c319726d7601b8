#include "ballast/adapters/alpaca/io_thread.hpp"

#include <exception>
#include <future>
#include <thread>
#include <utility>  // Boost 1.74 Asio headers need it under GCC 12 + C++20.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace ballast::alpaca {

struct IoThread::Impl {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{io.get_executor()};
  std::thread thread;
};

IoThread::IoThread() : impl_(std::make_unique<Impl>()) {
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

IoThread::~IoThread() {
  Join();
}

boost::asio::io_context& IoThread::Io() noexcept {
  return impl_->io;
}

void IoThread::Run(const std::function<void()>& fn) {
  if (!impl_->thread.joinable() || impl_->thread.get_id() == std::this_thread::get_id()) {
    fn();
    return;
  }
  std::promise<void> done;
  auto finished = done.get_future();
  boost::asio::post(impl_->io, [&] {
    try {
      fn();
      done.set_value();
    } catch (...) {
      done.set_exception(std::current_exception());
    }
  });
  finished.get();
}

void IoThread::Join() {
  if (!impl_->thread.joinable()) return;
  impl_->guard.reset();
  impl_->io.stop();
  impl_->thread.join();
}

void IoThread::Post(std::function<void()> fn) {
  boost::asio::post(impl_->io, std::move(fn));
}

}  // namespace ballast::alpaca
