// OutputDir: a run directory is written whole or not at all, never replaces what ballast did not
// write, and a second writer fails instead of silently replacing the first (issue 13).

#include "ballast/backtests/output_dir.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "ballast/engine/error.hpp"
#include "testkit.hpp"

namespace ballast::backtests {
namespace {

namespace fs = std::filesystem;
using testkit::Listing;
using testkit::TempDir;

std::string UsageErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage) << e.what();
    return e.what();
  }
  return "";
}

void WriteRun(const std::string& target, bool replace, const std::string& content) {
  OutputDir out(target, replace);
  testkit::WriteFile(out.Begin() / "summary.json", content);
  out.Commit();
}

// A pid that belonged to a process that has exited (and been reaped).
long DeadPid() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  int status = 0;
  waitpid(child, &status, 0);
  return child;
}

TEST(OutputDirTest, TrailingSlashWritesAndReplacesTheDirectoryItself) {
  TempDir dir;
  WriteRun(dir / "run/", false, "1");
  EXPECT_EQ(testkit::ReadFile(dir.path() / "run/summary.json"), "1");
  EXPECT_TRUE(fs::exists(dir.path() / "run" / kRunMarker));
  WriteRun(dir / "run//", true, "2");
  EXPECT_EQ(testkit::ReadFile(dir.path() / "run/summary.json"), "2");
  EXPECT_EQ(Listing(dir.path()),
            (std::vector<std::string>{"run", "run/.ballast-run", "run/summary.json"}));
}

TEST(OutputDirTest, ExistingDirectoryNeedsReplaceAndTheMarker) {
  TempDir dir;
  testkit::WriteFile(dir.path() / "mine/thesis.tex", "years of work");
  EXPECT_EQ(UsageErrorOf([&] { OutputDir(dir / "mine", false); }),
            (dir / "mine") + ": output directory already exists (use --force to replace it)");
  const auto msg = UsageErrorOf([&] { OutputDir(dir / "mine", true); });
  EXPECT_NE(msg.find("not a directory ballast wrote (no .ballast-run file)"), std::string::npos)
      << msg;
  testkit::WriteFile(dir.path() / "afile", "x");
  EXPECT_NE(UsageErrorOf([&] { OutputDir(dir / "afile", true); }).find("is not a directory"),
            std::string::npos);
  fs::create_symlink(dir.path() / "mine", dir.path() / "link");
  EXPECT_NE(UsageErrorOf([&] { OutputDir(dir / "link", true); }).find("symbolic link"),
            std::string::npos);
  EXPECT_EQ(testkit::ReadFile(dir.path() / "mine/thesis.tex"), "years of work");
}

TEST(OutputDirTest, NeverReplacesCurrentHomeRootProtectedOrTheirAncestors) {
  TempDir dir;
  // Even a directory with the marker is refused when it is (or holds) one of these.
  for (const char* d : {"cwd", "home", "config", "outer"}) {
    fs::create_directories(dir.path() / d);
    testkit::WriteFile(dir.path() / d / kRunMarker, "");
  }
  fs::create_directories(dir.path() / "outer/inner");
  const fs::path old_cwd = fs::current_path();
  const char* old_home = std::getenv("HOME");
  const std::string saved_home = old_home != nullptr ? old_home : "";
  fs::current_path(dir.path() / "cwd");
  setenv("HOME", (dir / "home").c_str(), 1);
  std::vector<std::string> errors{
      UsageErrorOf([&] { OutputDir(".", true); }),
      UsageErrorOf([&] { OutputDir("./", true); }),
      UsageErrorOf([&] { OutputDir(dir / "home", true); }),
      UsageErrorOf([&] { OutputDir(dir / "config", true, {dir.path() / "config"}); }),
      UsageErrorOf([&] { OutputDir(dir / "outer", true, {dir.path() / "outer/inner"}); }),
      UsageErrorOf([&] { OutputDir("/", true); }),
      UsageErrorOf([&] { OutputDir("..", true); })};
  fs::current_path(old_cwd);
  setenv("HOME", saved_home.c_str(), 1);
  EXPECT_EQ(errors[0], ".: refusing to replace the current directory with outputs");
  EXPECT_EQ(errors[1], ".: refusing to replace the current directory with outputs");
  EXPECT_NE(errors[2].find("refusing to replace the home directory"), std::string::npos);
  EXPECT_NE(errors[3].find("refusing to replace " + (dir / "config")), std::string::npos)
      << errors[3];
  EXPECT_NE(errors[4].find("refusing to replace a directory that holds"), std::string::npos);
  EXPECT_EQ(errors[5], "/: refusing to replace the root directory with outputs");
  EXPECT_NE(errors[6].find("refusing to replace a directory that holds the current directory"),
            std::string::npos)
      << errors[6];
  for (const char* d : {"cwd", "home", "config", "outer"})
    EXPECT_TRUE(fs::exists(dir.path() / d / kRunMarker)) << d;
}

TEST(OutputDirTest, SecondWriterIntoANewDirectoryFailsInsteadOfReplacing) {
  TempDir dir;
  OutputDir first(dir / "run", false);
  OutputDir second(dir / "run", false);  // both checked before either wrote
  testkit::WriteFile(first.Begin() / "summary.json", "first");
  // Begin of the second must not take the first's staging directory (same process here).
  fs::path staging;
  EXPECT_THROW(staging = second.Begin(), Error);
  first.Commit();
  OutputDir third(dir / "other", false);
  testkit::WriteFile(third.Begin() / "summary.json", "third");
  fs::rename(dir.path() / "run", dir.path() / "moved");
  fs::create_directories(dir.path() / "other");  // someone else created the target meanwhile
  testkit::WriteFile(dir.path() / "other/theirs", "theirs");
  EXPECT_NE(UsageErrorOf([&] { third.Commit(); }).find("another run created this directory"),
            std::string::npos);
  EXPECT_EQ(testkit::ReadFile(dir.path() / "other/theirs"), "theirs");
  EXPECT_EQ(testkit::ReadFile(dir.path() / "moved/summary.json"), "first");
}

TEST(OutputDirTest, DefaultNamesTakeTheNextFreeNameInsteadOfFailing) {
  TempDir dir;
  // Both chose the same default name (the same second); the first commits first.
  OutputDir first(dir / "runs/x-20261201-120000", false, {}, true);
  OutputDir third(dir / "runs/x-20261201-120000", false, {}, true);
  testkit::WriteFile(first.Begin() / "summary.json", "first");
  first.Commit();
  testkit::WriteFile(third.Begin() / "summary.json", "third");
  third.Commit();
  EXPECT_EQ(third.Display(), (dir / "runs/x-20261201-120000") + "-2");
  EXPECT_EQ(testkit::ReadFile(dir.path() / "runs/x-20261201-120000/summary.json"), "first");
  EXPECT_EQ(testkit::ReadFile(dir.path() / "runs/x-20261201-120000-2/summary.json"), "third");
}

TEST(OutputDirTest, UncommittedRunLeavesNothingNotEvenParentsItCreated) {
  TempDir dir;
  testkit::WriteFile(dir.path() / "keep", "");
  {
    OutputDir out(dir / "a/b/run", false);
    testkit::WriteFile(out.Begin() / "equity.csv", "half");
    EXPECT_TRUE(fs::exists(dir.path() / "a/b"));
  }
  EXPECT_EQ(Listing(dir.path()), std::vector<std::string>{"keep"});
  // Replacing: the old directory survives a failed run untouched.
  WriteRun(dir / "run", false, "old");
  {
    OutputDir out(dir / "run", true);
    testkit::WriteFile(out.Begin() / "summary.json", "new");
  }
  EXPECT_EQ(testkit::ReadFile(dir.path() / "run/summary.json"), "old");
  EXPECT_EQ(Listing(dir.path()),
            (std::vector<std::string>{"keep", "run", "run/.ballast-run", "run/summary.json"}));
}

TEST(OutputDirTest, StaleStagingOfAKilledRunIsReportedAndRemoved) {
  TempDir dir;
  const long dead = DeadPid();
  const fs::path stale = dir.path() / ("run.tmp-" + std::to_string(dead));
  testkit::WriteFile(stale / kRunMarker, "");
  testkit::WriteFile(stale / "equity.csv", "half");
  const fs::path aside = dir.path() / ("run.old-" + std::to_string(dead));
  testkit::WriteFile(aside / kRunMarker, "");
  // Not ours (no marker), or of a process still running: kept.
  const fs::path foreign = dir.path() / ("run.tmp-" + std::to_string(DeadPid()));
  testkit::WriteFile(foreign / "data", "");
  const fs::path running = dir.path() / ("run.tmp-" + std::to_string(getppid()));
  testkit::WriteFile(running / kRunMarker, "");
  OutputDir out(dir / "run", false);
  out.Begin();
  ASSERT_EQ(out.Notes().size(), 2u);
  EXPECT_NE(out.Notes()[0].find("left by an interrupted run"), std::string::npos);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_FALSE(fs::exists(aside));
  EXPECT_TRUE(fs::exists(foreign));
  EXPECT_TRUE(fs::exists(running));
  out.Commit();
  EXPECT_TRUE(fs::exists(dir.path() / "run" / kRunMarker));
}

}  // namespace
}  // namespace ballast::backtests
