#include "ballast/data/bar_store.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "ballast/data/csv_import.hpp"
#include "ballast/engine/error.hpp"
#include "testkit.hpp"

namespace ballast::data {
namespace {

namespace fs = std::filesystem;
using testkit::TempDir;

SymbolSeries Series(std::string sym, std::vector<const char*> dates, std::vector<double> closes) {
  SymbolSeries s;
  s.symbol = std::move(sym);
  for (std::size_t i = 0; i < dates.size(); ++i) {
    s.time.push_back(DayToTimestamp(*ParseIsoDate(dates[i])));
    s.open.push_back(closes[i]);
    s.high.push_back(closes[i]);
    s.low.push_back(closes[i]);
    s.close.push_back(closes[i]);
    s.volume.push_back(1000);
  }
  return s;
}

TEST(BarStoreTest, RoundTripsSeriesAndMetadata) {
  TempDir dir;
  const std::string path = dir / "s.h5";
  auto a = Series("AAA", {"2020-01-02", "2020-01-03", "2020-01-06"}, {1.5, 2.25, 3.125});
  a.price_adjustment = "adjusted";
  a.source = "AAA.csv";
  a.repaired_rows = 1;
  WriteStore(path, {a, Series("BBB", {"2020-01-03"}, {7})}, false);
  const auto info = ReadStoreInfo(path);
  EXPECT_EQ(info.format_version, kStoreFormatVersion);
  EXPECT_EQ(info.price_adjustment, "mixed");
  ASSERT_EQ(info.symbols.size(), 2u);
  EXPECT_EQ(info.symbols[0].symbol, "AAA");
  EXPECT_EQ(info.symbols[0].rows, 3u);
  EXPECT_EQ(info.symbols[0].repaired_rows, 1u);
  EXPECT_EQ(FormatDate(TimestampToDay(info.symbols[0].last)), "2020-01-06");
  EXPECT_NE(info.Find("BBB"), nullptr);
  EXPECT_EQ(info.Find("CCC"), nullptr);

  const auto loaded =
      LoadSeries(path, {"AAA"}, ParseIsoDate("2020-01-03"), ParseIsoDate("2020-01-06"));
  ASSERT_EQ(loaded.size(), 1u);
  ASSERT_EQ(loaded[0].Rows(), 2u);
  EXPECT_EQ(loaded[0].close, (std::vector<double>{2.25, 3.125}));
}

TEST(BarStoreTest, RefusesToOverwriteAndLeavesNoTempFiles) {
  TempDir dir;
  const std::string path = dir / "s.h5";
  WriteStore(path, {Series("A", {"2020-01-02"}, {1})}, false);
  EXPECT_THROW(WriteStore(path, {Series("A", {"2020-01-02"}, {1})}, false), Error);
  EXPECT_THROW(WriteStore(dir / "bad.h5", {Series("A/B", {"2020-01-02"}, {1})}, false), Error);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path()))
    names.push_back(e.path().filename().string());
  EXPECT_EQ(names, (std::vector<std::string>{"s.h5"}));  // nothing half-written
}

TEST(BarStoreTest, SameInputGivesByteIdenticalFile) {
  TempDir dir;
  const auto s = Series("A", {"2020-01-02", "2020-01-03"}, {1, 2});
  WriteStore(dir / "1.h5", {s}, false);
  WriteStore(dir / "2.h5", {s}, false);
  EXPECT_EQ(testkit::ReadFile(dir.path() / "1.h5"), testkit::ReadFile(dir.path() / "2.h5"));
}

TEST(BarStoreTest, LoadValidatesPricesAndNamesSymbolAndRow) {
  TempDir dir;
  const std::string path = dir / "s.h5";
  auto bad = Series("BAD", {"2020-01-02", "2020-01-03"}, {1, 2});
  bad.close[1] = std::nan("");
  WriteStore(path, {bad}, false);
  try {
    (void)LoadSeries(path, {"BAD"}, std::nullopt, std::nullopt);
    FAIL() << "expected a data error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kData);
    EXPECT_NE(std::string(e.what()).find("BAD: close at row 1 (2020-01-03) is nan"),
              std::string::npos)
        << e.what();
  }
  auto unsorted = Series("UNS", {"2020-01-03", "2020-01-02"}, {1, 2});
  WriteStore(dir / "u.h5", {unsorted}, false);
  EXPECT_THROW((void)LoadSeries(dir / "u.h5", {"UNS"}, std::nullopt, std::nullopt), Error);
}

TEST(BarStoreTest, RejectsFilesThatAreNotStores) {
  TempDir dir;
  testkit::WriteFile(dir.path() / "x.h5", "not hdf5");
  try {
    (void)ReadStoreInfo(dir / "x.h5");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), (dir / "x.h5") + ": not an HDF5 file");
  }
  EXPECT_THROW((void)ReadStoreInfo(dir / "missing.h5"), Error);
}

// The layout is plain HDF5: Debian's h5dump reads the datasets and attributes.
TEST(BarStoreTest, H5dumpReadsTheLayout) {
  if (std::system("command -v h5dump >/dev/null 2>&1") != 0) {
    if (std::getenv("CI") != nullptr) FAIL() << "h5dump (hdf5-tools) is required in CI";
    GTEST_SKIP() << "h5dump not installed (apt-get install hdf5-tools)";
  }
  TempDir dir;
  const std::string path = dir / "s.h5";
  WriteStore(path, {Series("SPY", {"2020-01-02", "2020-01-03"}, {321.5, 320.25})}, false);
  const std::string cmd =
      "h5dump -d /bars/1d/SPY/close -d /bars/1d/SPY/timestamp -a /format_version '" + path +
      "' > '" + (dir / "dump.txt") + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string dump = testkit::ReadFile(dir.path() / "dump.txt");
  EXPECT_NE(dump.find("321.5, 320.25"), std::string::npos) << dump;
  EXPECT_NE(dump.find("1577923200000000000, 1578009600000000000"), std::string::npos) << dump;
  EXPECT_NE(dump.find("H5T_IEEE_F64LE"), std::string::npos);
  EXPECT_NE(dump.find("(0): 1"), std::string::npos);  // format_version
}

}  // namespace
}  // namespace ballast::data
