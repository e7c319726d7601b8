#include "ballast/data/csv_import.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include "ballast/engine/error.hpp"
#include "testkit.hpp"

namespace ballast::data {
namespace {

using testkit::TempDir;
using testkit::WriteFile;

std::string ErrorOf(const std::vector<std::string>& files, ImportOptions opt = {}) {
  try {
    (void)ImportCsvFiles(files, opt);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kData);
    return e.what();
  }
  return "";
}

TEST(CsvImportTest, YahooStyleFileWithAdjClose) {
  TempDir dir;
  WriteFile(dir / "ABC.csv",
            "Date,Open,High,Low,Close,Adj Close,Volume\n"
            "2020-01-02,10,12,9,11,5.5,100\n"
            "2020-01-03,11,11,10,10,5,200\n");
  const auto r = ImportCsvFiles({dir / "ABC.csv"}, {});
  ASSERT_EQ(r.series.size(), 1u);
  const auto& s = r.series[0];
  EXPECT_EQ(s.symbol, "ABC");
  EXPECT_EQ(s.price_adjustment, "adjusted");
  ASSERT_EQ(s.Rows(), 2u);
  EXPECT_DOUBLE_EQ(s.close[0], 5.5);  // adjusted close
  EXPECT_DOUBLE_EQ(s.open[0], 5.0);   // 10 * 5.5 / 11
  EXPECT_DOUBLE_EQ(s.high[0], 6.0);
  EXPECT_DOUBLE_EQ(s.low[0], 4.5);
  EXPECT_DOUBLE_EQ(s.volume[1], 200);
  EXPECT_EQ(FormatDate(TimestampToDay(s.time[1])), "2020-01-03");

  ImportOptions raw;
  raw.price = PriceMode::kRaw;
  const auto rr = ImportCsvFiles({dir / "ABC.csv"}, raw);
  // Adj Close is Yahoo's column, and Yahoo's Close is split-adjusted.
  EXPECT_EQ(rr.series[0].price_adjustment, "split_adjusted");
  EXPECT_DOUBLE_EQ(rr.series[0].close[0], 11.0);
  EXPECT_DOUBLE_EQ(rr.series[0].open[0], 10.0);
}

TEST(CsvImportTest, HeadersAreCaseInsensitiveAndCloseOnlyFilesWork) {
  TempDir dir;
  WriteFile(dir / "xyz.CSV", "DATE,close\n2020-01-02,3.5\n");
  const auto r = ImportCsvFiles({dir / "xyz.CSV"}, {});
  ASSERT_EQ(r.series.size(), 1u);
  EXPECT_EQ(r.series[0].symbol, "xyz");
  EXPECT_EQ(r.series[0].price_adjustment, "unknown");
  EXPECT_DOUBLE_EQ(r.series[0].open[0], 3.5);
  ImportOptions assume;
  assume.assume_adjusted = true;
  EXPECT_EQ(ImportCsvFiles({dir / "xyz.CSV"}, assume).series[0].price_adjustment, "adjusted");
}

TEST(CsvImportTest, ReadsGzipFiles) {
  TempDir dir;
  const std::string path = dir / "GZ.csv.gz";
  gzFile f = gzopen(path.c_str(), "wb");
  const std::string text = "Date,Close\n2020-01-02,1.25\n2020-01-03,1.5\n";
  gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  gzclose(f);
  const auto r = ImportCsvFiles({path}, {});
  ASSERT_EQ(r.series.size(), 1u);
  EXPECT_EQ(r.series[0].symbol, "GZ");
  EXPECT_EQ(r.series[0].Rows(), 2u);
}

TEST(CsvImportTest, LongKaggleFileKeepsMissingOhlcRowsAsFlatBars) {
  const auto path = (testkit::SourceDir() / "tests/data/kaggle/sample_long.csv.gz").string();
  const auto r = ImportCsvFiles({path}, {});
  ASSERT_EQ(r.series.size(), 3u);
  EXPECT_EQ(r.series[0].symbol, "AOS");
  EXPECT_EQ(r.series[1].symbol, "DHR");
  EXPECT_EQ(r.series[2].symbol, "O");
  const auto& dhr = r.series[1];
  EXPECT_EQ(dhr.repaired_rows, 2u);  // 2015-07-17 (open missing) and 2016-01-12 (O/H/L missing)
  // Find 2016-01-12: close 88.55, O=H=L=C.
  const Timestamp t = DayToTimestamp(*ParseIsoDate("2016-01-12"));
  bool found = false;
  for (std::size_t i = 0; i < dhr.Rows(); ++i) {
    if (dhr.time[i] == t) {
      found = true;
      EXPECT_DOUBLE_EQ(dhr.close[i], 88.55);
      EXPECT_DOUBLE_EQ(dhr.open[i], 88.55);
      EXPECT_DOUBLE_EQ(dhr.high[i], 88.55);
      EXPECT_DOUBLE_EQ(dhr.low[i], 88.55);
      EXPECT_DOUBLE_EQ(dhr.volume[i], 0);
    }
  }
  EXPECT_TRUE(found);
}

TEST(CsvImportTest, InvalidCloseNamesFileAndLine) {
  TempDir dir;
  WriteFile(dir / "BAD.csv", "Date,Close\n2020-01-02,1.0\n2020-01-03,null\n");
  EXPECT_EQ(ErrorOf({dir / "BAD.csv"}),
            (dir / "BAD.csv") + ":3: Close 'null' is not a positive finite number");
  WriteFile(dir / "NEG.csv", "Date,Close\n2020-01-02,-1.0\n");
  EXPECT_NE(ErrorOf({dir / "NEG.csv"}).find("NEG.csv:2: Close '-1.0'"), std::string::npos);
  WriteFile(dir / "INF.csv", "Date,Close\n2020-01-02,inf\n");
  EXPECT_NE(ErrorOf({dir / "INF.csv"}).find("INF.csv:2:"), std::string::npos);
}

TEST(CsvImportTest, UnparsableNumbersAndDates) {
  TempDir dir;
  WriteFile(dir / "U.csv", "Date,Open,Close\n2020-01-02,1.x,1.0\n");
  EXPECT_EQ(ErrorOf({dir / "U.csv"}), (dir / "U.csv") + ":2: Open '1.x' is not a number");
  WriteFile(dir / "D.csv", "Date,Close\n01/02/2020,1.0\n");
  EXPECT_EQ(
      ErrorOf({dir / "D.csv"}),
      (dir / "D.csv") +
          ":2: Date '01/02/2020' is not a date YYYY-MM-DD from 1800-01-01 to 2200-12-31 (a time "
          "and zone after it, as yfinance writes, are fine)");
  WriteFile(dir / "T.csv", "Date,Close\n2020-01-02 noon,1.0\n");
  EXPECT_NE(ErrorOf({dir / "T.csv"}).find(":2: Date '2020-01-02 noon' is not a date"),
            std::string::npos);
}

TEST(CsvImportTest, DatesMustStrictlyIncrease) {
  TempDir dir;
  WriteFile(dir / "DUP.csv", "Date,Close\n2020-01-02,1\n2020-01-03,1\n2020-01-03,1\n");
  EXPECT_EQ(ErrorOf({dir / "DUP.csv"}),
            (dir / "DUP.csv") + ":4: duplicate date 2020-01-03 for DUP (first seen on line 3)");
  WriteFile(dir / "ORD.csv", "Date,Close\n2020-01-03,1\n2020-01-02,1\n");
  EXPECT_NE(ErrorOf({dir / "ORD.csv"}).find(":3: date 2020-01-02 for ORD is before"),
            std::string::npos);
}

TEST(CsvImportTest, MissingRequiredColumn) {
  TempDir dir;
  WriteFile(dir / "M.csv", "Date,Open\n2020-01-02,1\n");
  EXPECT_EQ(ErrorOf({dir / "M.csv"}),
            (dir / "M.csv") + ":1: missing required column 'Close' (header: Date,Open)");
}

TEST(CsvImportTest, SameSymbolInTwoFilesIsAnError) {
  TempDir dir;
  WriteFile(dir / "a/SPY.csv", "Date,Close\n2020-01-02,1\n");
  WriteFile(dir / "b/SPY.csv", "Date,Close\n2020-01-03,1\n");
  EXPECT_NE(ErrorOf({dir / "a/SPY.csv", dir / "b/SPY.csv"})
                .find("symbol 'SPY' was already imported from"),
            std::string::npos);
}

TEST(CsvImportTest, SkipInvalidKeepsGoodRowsAndWarns) {
  TempDir dir;
  WriteFile(dir / "S.csv", "Date,Close\n2020-01-02,1\n2020-01-03,NaN\n2020-01-06,2\n");
  ImportOptions opt;
  opt.on_invalid = OnInvalidRow::kSkip;
  const auto r = ImportCsvFiles({dir / "S.csv"}, opt);
  EXPECT_EQ(r.series[0].Rows(), 2u);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("S.csv:3: skipped"), std::string::npos);
}

TEST(CsvImportTest, CrlfAndBlankLinesAreTolerated) {
  TempDir dir;
  WriteFile(dir / "W.csv", "Date,Close\r\n2020-01-02,1\r\n\r\n2020-01-03,2\r\n");
  EXPECT_EQ(ImportCsvFiles({dir / "W.csv"}, {}).series[0].Rows(), 2u);
}

// Issue 15: what current yfinance writes. Dates carry the exchange's time and zone; the date
// part is the session.
TEST(CsvImportTest, YfinanceDatesWithTimeAndZone) {
  TempDir dir;
  WriteFile(dir / "SPY.csv",
            "Date,Open,High,Low,Close,Volume\n"
            "2020-01-02 00:00:00-05:00,10,12,9,11,100\n"
            "2020-01-03 00:00:00-05:00,11,11,10,10,200\n"
            "2020-01-06T00:00:00Z,10,11,9,10.5,300\n");
  const auto r = ImportCsvFiles({dir / "SPY.csv"}, {});
  ASSERT_EQ(r.series[0].Rows(), 3u);
  EXPECT_EQ(FormatDate(TimestampToDay(r.series[0].time[0])), "2020-01-02");
  EXPECT_EQ(FormatDate(TimestampToDay(r.series[0].time[2])), "2020-01-06");
}

// The multi-ticker download: a Price row (each column's field), a Ticker row (its symbol) and a
// Date row, then one row per date with every ticker's values; a ticker with nothing on a row
// has no bar that day. Columns that are not prices (Dividends) are left out.
TEST(CsvImportTest, YfinanceMultiTickerHeader) {
  TempDir dir;
  WriteFile(dir / "download.csv",
            "Price,Close,Close,High,High,Low,Low,Open,Open,Volume,Volume,Dividends,Dividends\n"
            "Ticker,AAPL,MSFT,AAPL,MSFT,AAPL,MSFT,AAPL,MSFT,AAPL,MSFT,AAPL,MSFT\n"
            "Date,,,,,,,,,,,,\n"
            "2020-01-02 00:00:00-05:00,75,160,75.5,160.7,74,158,74.1,158.8,135480400,22622100,0,0\n"
            "2020-01-03 00:00:00-05:00,,159,,159.9,,158,,158.3,,21116200,,0\n"
            "2020-01-06 "
            "00:00:00-05:00,74.9,159.5,75,159.9,73.2,156.5,73.4,157.1,118387200,20813700,0,0\n");
  const auto r = ImportCsvFiles({dir / "download.csv"}, {});
  ASSERT_EQ(r.series.size(), 2u);
  const auto& aapl = r.series[0];
  const auto& msft = r.series[1];
  EXPECT_EQ(aapl.symbol, "AAPL");
  EXPECT_EQ(msft.symbol, "MSFT");
  ASSERT_EQ(aapl.Rows(), 2u);  // nothing on 2020-01-03
  ASSERT_EQ(msft.Rows(), 3u);
  EXPECT_DOUBLE_EQ(aapl.close[1], 74.9);
  EXPECT_DOUBLE_EQ(aapl.open[0], 74.1);
  EXPECT_DOUBLE_EQ(msft.high[1], 159.9);
  EXPECT_DOUBLE_EQ(msft.volume[2], 20813700);
  EXPECT_EQ(FormatDate(TimestampToDay(msft.time[1])), "2020-01-03");
  EXPECT_EQ(aapl.price_adjustment, "unknown");
  // A shape it does not understand still names the file and line.
  WriteFile(dir / "bad.csv", "Price,Close\nSymbol,AAPL\n2020-01-02,1\n");
  EXPECT_EQ(ErrorOf({dir / "bad.csv"}),
            (dir / "bad.csv") +
                ":2: expected the 'Ticker' row of a yfinance header after its 'Price' row");
  WriteFile(dir / "half.csv", "Price,Close,Open\nTicker,AAPL,AAPL\nDate,,\n2020-01-02,,1\n");
  EXPECT_EQ(ErrorOf({dir / "half.csv"}),
            (dir / "half.csv") + ":4: Close '' for AAPL is not a positive finite number");
  WriteFile(dir / "noclose.csv", "Price,Open\nTicker,AAPL\n2020-01-02,1\n");
  EXPECT_EQ(ErrorOf({dir / "noclose.csv"}),
            (dir / "noclose.csv") + ":1: missing required column 'Close' for AAPL");
}

}  // namespace
}  // namespace ballast::data
