#pragma once
// Shared test helpers: temporary directories, stores built from the repository's CSV files, and
// running the real `ballast` binary.

#include <filesystem>
#include <string>
#include <vector>

namespace ballast::testkit {

/// Repository root (compile-time).
[[nodiscard]] std::filesystem::path SourceDir();

/// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  [[nodiscard]] std::string operator/(const std::string& name) const {
    return (path_ / name).string();
  }

 private:
  std::filesystem::path path_;
};

/// The bundled sample store (data/samples/etfs/*.csv.gz imported with --assume-adjusted), built
/// once per test process into a temp directory.
[[nodiscard]] const std::string& SampleStore();
/// QQQ and TLT 2015-2016 with real OHLC (tests/data/yahoo), adjusted.
[[nodiscard]] const std::string& YahooStore();
/// The bundled S&P 500 sample (40 stocks, 2013-2018) plus SPY, as `scripts/setup.sh` builds it.
[[nodiscard]] const std::string& Sp500Store();

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
/// Runs the built `ballast` binary with `args` (each shell-quoted), in `cwd` when given, after the
/// shell text `shell_prefix` (e.g. "ulimit -f 64;") when given.
[[nodiscard]] CliResult RunCli(const std::vector<std::string>& args, const std::string& cwd = "",
                               const std::string& shell_prefix = "");
/// Starts the built `ballast` binary with `args` in the background, stdout to `log` and stderr to
/// `log`.err; returns its pid.
[[nodiscard]] int SpawnCli(const std::vector<std::string>& args, const std::string& log);
/// Waits for a process SpawnCli started: its exit code, or minus the signal that ended it.
[[nodiscard]] int WaitCli(int pid);
/// Names in `dir` (recursively, relative, sorted): to check that a failure left nothing behind.
[[nodiscard]] std::vector<std::string> Listing(const std::filesystem::path& dir);

[[nodiscard]] std::string ReadFile(const std::filesystem::path& p);
void WriteFile(const std::filesystem::path& p, const std::string& text);

/// Parses a CSV (header + rows) into string cells.
[[nodiscard]] std::vector<std::vector<std::string>> ReadCsv(const std::filesystem::path& p);

/// Rows of a query on a SQLite file (read-only), cells as text ("" for NULL); throws on errors.
[[nodiscard]] std::vector<std::vector<std::string>> SqlRows(const std::string& db_path,
                                                            const std::string& sql);
/// Runs `sql` (statements separated by `;`) on a SQLite file, read-write.
void SqlExec(const std::string& db_path, const std::string& sql);

}  // namespace ballast::testkit
