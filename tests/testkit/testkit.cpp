#include "testkit.hpp"

#include <sqlite3.h>

#include "ballast/data/sqlite.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "ballast/data/bar_store.hpp"
#include "ballast/data/csv_import.hpp"
#include "ballast/data/price_basis.hpp"

extern char** environ;  // NOLINT: POSIX

namespace ballast::testkit {
namespace fs = std::filesystem;

fs::path SourceDir() {
  return fs::path(BALLAST_SOURCE_DIR);
}

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = fs::temp_directory_path() /
          ("ballast-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {

// Imports as scripts/setup.sh does (`basis`: its --basis declarations).
std::string BuildStore(const std::string& name, const std::vector<std::string>& inputs,
                       const std::vector<std::string>& basis) {
  static TempDir dir;
  const std::string out = dir / name;
  auto result = data::ImportCsvFiles(inputs, {});
  data::DeclareBasis(result.series, basis);
  data::WriteStore(out, result.series, true);
  return out;
}

std::vector<std::string> FilesIn(const fs::path& dir) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir))
    files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

const std::string& SampleStore() {
  static const std::string path =
      BuildStore("etfs.h5", FilesIn(SourceDir() / "data/samples/etfs"), {"adjusted"});
  return path;
}

const std::string& Sp500Store() {
  static const std::string path =
      BuildStore("sp500.h5",
                 {(SourceDir() / "data/samples/sp500/sp500_subset.csv.gz").string(),
                  (SourceDir() / "data/samples/etfs/SPY.csv.gz").string()},
                 {"split_adjusted", "SPY=adjusted"});
  return path;
}

const std::string& YahooStore() {
  static const std::string path =
      BuildStore("yahoo.h5", FilesIn(SourceDir() / "tests/data/yahoo"), {});
  return path;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const fs::path& p, const std::string& text) {
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

std::vector<std::vector<std::string>> ReadCsv(const fs::path& p) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(ReadFile(p));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream ls(line);
    while (std::getline(ls, cell, ','))
      cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    rows.push_back(std::move(cells));
  }
  return rows;
}

CliResult RunCli(const std::vector<std::string>& args, const std::string& cwd,
                 const std::string& shell_prefix) {
  TempDir dir;
  std::string cmd = cwd.empty() ? "" : "cd '" + cwd + "' && ";
  cmd += shell_prefix;
  cmd += "'" + std::string(BALLAST_CLI) + "'";
  for (const auto& a : args) {
    std::string q;
    for (char c : a)
      q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    cmd += " '" + q + "'";
  }
  cmd += " >'" + (dir / "out") + "' 2>'" + (dir / "err") + "' </dev/null";
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadFile(dir.path() / "out");
  r.err = ReadFile(dir.path() / "err");
  return r;
}

int SpawnCli(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> full{BALLAST_CLI};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : full)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, (log + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, BALLAST_CLI, &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("posix_spawn failed for " + std::string(BALLAST_CLI));
  return pid;
}

int WaitCli(int pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

std::vector<std::string> Listing(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    names.push_back(std::filesystem::relative(e.path(), dir).string());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::vector<std::string>> SqlRows(const std::string& db_path, const std::string& sql) {
  sqlite::Db db(db_path, SQLITE_OPEN_READONLY, "test database");
  sqlite::Stmt st(db, sql.c_str());
  std::vector<std::vector<std::string>> rows;
  while (st.Step()) {
    std::vector<std::string> row;
    for (int i = 0; i < st.Columns(); ++i)
      row.push_back(st.Text(i));
    rows.push_back(std::move(row));
  }
  return rows;
}

void SqlExec(const std::string& db_path, const std::string& sql) {
  sqlite::Db db(db_path, SQLITE_OPEN_READWRITE, "test database");
  db.Exec(sql.c_str());
}

}  // namespace ballast::testkit
