#include "ballast/backtests/output_dir.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "ballast/engine/error.hpp"

namespace ballast::backtests {
namespace fs = std::filesystem;
namespace {

fs::path Normalise(const fs::path& p) {
  fs::path abs = fs::absolute(p).lexically_normal();
  while (abs.has_relative_path() && abs.filename().empty())
    abs = abs.parent_path();
  return abs;
}

fs::path Canonical(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(p, ec);
  return ec ? Normalise(p) : Normalise(c);
}

// True when `outer` is `inner` or one of its ancestors.
bool Holds(const fs::path& outer, const fs::path& inner) {
  auto o = outer.begin();
  auto i = inner.begin();
  for (; o != outer.end(); ++o, ++i) {
    if (i == inner.end() || *o != *i) return false;
  }
  return true;
}

bool ProcessAlive(long pid) {
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

bool HasMarker(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / kRunMarker, ec);
}

// rename(2) that fails with EEXIST instead of replacing an existing target. renameat2 is atomic;
// where the file system does not support it, an exclusive mkdir claims the name and rename(2)
// then replaces that empty directory.
int RenameNoReplace(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return errno;
  if (::mkdir(to.c_str(), 0755) != 0) return errno;
  if (::rename(from.c_str(), to.c_str()) != 0) {
    const int err = errno;
    ::rmdir(to.c_str());
    return err;
  }
  return 0;
}

}  // namespace

void WriteRunMarker(const fs::path& dir) {
  std::ofstream f(dir / kRunMarker, std::ios::binary);
  f << "Written by ballast. `--force` replaces this directory only while this file is here.\n";
  if (!f) {
    throw Error(ErrorKind::kIo, fmt::format("{}: cannot write {}", dir.string(), kRunMarker));
  }
}

OutputDir::OutputDir(std::string target, bool replace, std::vector<fs::path> protect,
                     bool pick_free_name)
    : replace_(replace), pick_free_name_(pick_free_name && !replace) {
  if (target.empty()) throw Error(ErrorKind::kUsage, "--out: expected a directory, got \"\"");
  display_ = target;
  while (display_.size() > 1 && display_.back() == '/')
    display_.pop_back();
  target_ = Normalise(target);
  for (auto& p : protect)
    protect_.push_back(Canonical(p));
  std::error_code ec;
  const auto st = fs::symlink_status(target_, ec);
  if (!fs::exists(st)) return;
  if (!replace_) {
    throw Error(
        ErrorKind::kUsage,
        fmt::format("{}: output directory already exists (use --force to replace it)", display_));
  }
  CheckReplaceable();
}

void OutputDir::CheckReplaceable() const {
  std::error_code ec;
  const auto st = fs::symlink_status(target_, ec);
  if (fs::is_symlink(st)) {
    throw Error(ErrorKind::kUsage,
                fmt::format("{}: is a symbolic link; --force replaces only a directory ballast "
                            "wrote (give the directory itself)",
                            display_));
  }
  if (!fs::is_directory(st)) {
    throw Error(ErrorKind::kUsage,
                fmt::format("{}: exists and is not a directory; not replacing it", display_));
  }
  const fs::path canon = Canonical(target_);
  std::vector<std::pair<fs::path, std::string>> keep{
      {fs::path("/"), "the root directory"},
      {Canonical(fs::current_path()), "the current directory"}};
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    keep.emplace_back(Canonical(home), "the home directory");
  for (const auto& p : protect_)
    keep.emplace_back(p, p.string());
  for (const auto& [path, what] : keep) {
    if (Holds(canon, path)) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("{}: refusing to replace {} with outputs{}", display_,
                              canon == path ? what : "a directory that holds " + what,
                              canon == path ? "" : fmt::format(" ({})", path.string())));
    }
  }
  if (!HasMarker(target_)) {
    throw Error(ErrorKind::kUsage,
                fmt::format("{}: not a directory ballast wrote (no {} file); --force replaces only "
                            "those. Remove it yourself or choose another --out",
                            display_, kRunMarker));
  }
}

const fs::path& OutputDir::Begin() {
  const fs::path parent = target_.parent_path();
  const std::string name = target_.filename().string();
  // Missing parents are created and, when the run fails, removed again.
  for (fs::path p = parent; !p.empty() && !fs::exists(p); p = p.parent_path()) {
    created_parents_.push_back(p);
    if (p == p.parent_path()) break;
  }
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) {
    throw Error(ErrorKind::kIo,
                fmt::format("{}: cannot create {}: {}", display_, parent.string(), ec.message()));
  }
  // Staging or set-aside directories of this target whose process is gone: a run killed with
  // SIGKILL (or a power cut) left them. Only ours (with the marker) are removed.
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    const std::string n = e.path().filename().string();
    for (const char* kind : {".tmp-", ".old-"}) {
      const std::string prefix = name + kind;
      if (n.size() <= prefix.size() || n.compare(0, prefix.size(), prefix) != 0) continue;
      const std::string digits = n.substr(prefix.size());
      if (digits.find_first_not_of("0123456789") != std::string::npos) continue;
      const long pid = std::strtol(digits.c_str(), nullptr, 10);
      // This process's own (another OutputDir in flight) and live processes' are not stale.
      if (pid == ::getpid() || ProcessAlive(pid) || !HasMarker(e.path())) continue;
      std::error_code rec;
      fs::remove_all(e.path(), rec);
      notes_.push_back(fmt::format(
          "{}: removed {}, left by an interrupted run (process {} is gone){}", display_,
          e.path().string(), pid, rec ? fmt::format(" (incompletely: {})", rec.message()) : ""));
    }
  }
  staging_ = parent / fmt::format("{}.tmp-{}", name, ::getpid());
  if (!fs::create_directory(staging_, ec) || ec) {
    throw Error(ErrorKind::kIo,
                fmt::format("{}: cannot create the staging directory {}: {}", display_,
                            staging_.string(), ec ? ec.message() : "it exists"));
  }
  WriteRunMarker(staging_);
  return staging_;
}

void OutputDir::Commit() {
  if (staging_.empty()) throw Error(ErrorKind::kInternal, "OutputDir::Commit before Begin");
  std::error_code ec;
  const bool exists = fs::exists(fs::symlink_status(target_, ec));
  if (exists && !replace_ && !pick_free_name_) {
    throw Error(ErrorKind::kUsage,
                fmt::format("{}: another run created this directory while this one was writing; "
                            "nothing was replaced (use --force to replace it)",
                            display_));
  }
  fs::path aside;
  if (exists && replace_) {
    CheckReplaceable();
    aside =
        target_.parent_path() / fmt::format("{}.old-{}", target_.filename().string(), ::getpid());
    fs::remove_all(aside, ec);
    if (::rename(target_.c_str(), aside.c_str()) != 0) {
      throw Error(ErrorKind::kIo, fmt::format("{}: cannot move the old directory aside: {}",
                                              display_, std::strerror(errno)));
    }
  }
  int err = RenameNoReplace(staging_, target_);
  for (int i = 2; pick_free_name_ && (err == EEXIST || err == ENOTEMPTY) && i < 1000; ++i) {
    const fs::path next = fs::path(target_.string() + fmt::format("-{}", i));
    err = RenameNoReplace(staging_, next);
    if (err == 0) {
      target_ = next;
      display_ += fmt::format("-{}", i);
    }
  }
  if (err != 0) {
    if (!aside.empty()) ::rename(aside.c_str(), target_.c_str());
    if (err == EEXIST || err == ENOTEMPTY) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("{}: another run created this directory while this one was "
                              "writing; nothing was replaced",
                              display_));
    }
    throw Error(ErrorKind::kIo, fmt::format("{}: cannot move the outputs into place: {}", display_,
                                            std::strerror(err)));
  }
  committed_ = true;
  created_parents_.clear();
  if (!aside.empty()) fs::remove_all(aside, ec);
}

OutputDir::~OutputDir() {
  if (committed_) return;
  std::error_code ec;
  if (!staging_.empty()) fs::remove_all(staging_, ec);
  for (const auto& p : created_parents_)
    fs::remove(p, ec);  // only while empty
}

}  // namespace ballast::backtests
