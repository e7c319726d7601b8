// Corporate actions at import: yfinance's Dividends / Stock Splits columns and a separate
// symbol,date,type,value file; every refusal names the file and line.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ballast/data/bar_store.hpp"
#include "ballast/data/csv_import.hpp"
#include "ballast/data/price_basis.hpp"
#include "ballast/engine/error.hpp"
#include "testkit.hpp"

namespace ballast::data {
namespace {

using testkit::TempDir;
using testkit::WriteFile;

constexpr const char* kPrices =
    "Date,Open,High,Low,Close,Volume\n"
    "2020-01-02,100,100,100,100,10\n"
    "2020-01-03,50,50,50,50,10\n"
    "2020-01-06,51,51,51,51,10\n";

std::string MergeError(const std::string& text, std::vector<SymbolSeries>& series) {
  try {
    MergeActionsCsv("actions.csv", text, series);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kData);
    return e.what();
  }
  return "";
}

TEST(ActionsImportTest, YahooActionColumnsBecomeActionsAndZeroIsNone) {
  const auto r = ImportCsvText("ABC.csv",
                               "Date,Open,High,Low,Close,Volume,Dividends,Stock Splits\n"
                               "2020-01-02,100,100,100,100,10,0,0\n"
                               "2020-01-03,50,50,50,50,10,0,2\n"
                               "2020-01-06,51,51,51,51,10,0.25,0.0\n",
                               {});
  ASSERT_EQ(r.series.size(), 1u);
  const auto& a = r.series[0].actions;
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].kind, ActionKind::kSplit);
  EXPECT_EQ(FormatDate(a[0].ex_date), "2020-01-03");
  EXPECT_DOUBLE_EQ(a[0].value, 2.0);
  EXPECT_EQ(a[1].kind, ActionKind::kDividend);
  EXPECT_DOUBLE_EQ(a[1].value, 0.25);

  try {
    (void)ImportCsvText("ABC.csv", "Date,Close,Dividends\n2020-01-02,100,x\n", {});
    ADD_FAILURE() << "a bad Dividends value was accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "ABC.csv:2: Dividends 'x' is not a number");
  }
}

TEST(ActionsImportTest, AnActionsFileMergesIntoTheSymbolsItNames) {
  auto series = ImportCsvText("ABC.csv", kPrices, {}).series;
  MergeActionsCsv("actions.csv",
                  "symbol,date,type,value\n"
                  "ABC,2020-01-06,dividend,0.5\n"
                  "ABC,2020-01-03,split,2\n"
                  "ABC,2020-01-06,split,0.5\n",
                  series);
  const auto& a = series[0].actions;
  ASSERT_EQ(a.size(), 3u);  // sorted: by date, a split before a dividend
  EXPECT_EQ(FormatDate(a[0].ex_date), "2020-01-03");
  EXPECT_EQ(a[1].kind, ActionKind::kSplit);
  EXPECT_DOUBLE_EQ(a[1].value, 0.5);  // a 1:2 reverse split
  EXPECT_EQ(a[2].kind, ActionKind::kDividend);
}

TEST(ActionsImportTest, BadRowsAreRefusedNamingTheFileAndLine) {
  auto series = ImportCsvText("ABC.csv", kPrices, {}).series;
  EXPECT_EQ(MergeError("symbol,when,type\n", series),
            "actions.csv:1: expected the header symbol,date,type,value (found 'symbol,when,type')");
  EXPECT_EQ(MergeError("symbol,date,type,value\nXYZ,2020-01-03,split,2\n", series),
            "actions.csv:2: symbol 'XYZ' has no prices in this import (actions belong to a symbol "
            "whose bars are imported with them)");
  EXPECT_EQ(MergeError("symbol,date,type,value\nABC,2020-13-03,split,2\n", series),
            "actions.csv:2: date '2020-13-03' is not a date YYYY-MM-DD");
  EXPECT_EQ(MergeError("symbol,date,type,value\nABC,2020-01-03,spinoff,2\n", series),
            "actions.csv:2: type 'spinoff' is not split or dividend");
  EXPECT_EQ(MergeError("symbol,date,type,value\nABC,2020-01-03,dividend,-1\n", series),
            "actions.csv:2: ABC dividend value -1 is not a positive finite number");
  EXPECT_EQ(MergeError("symbol,date,type,value\nABC,2020-01-03,split,1\n", series),
            "actions.csv:2: ABC split of 1 on 2020-01-03 changes nothing (expected new shares "
            "per old share, 2 for a 2:1 split)");
  EXPECT_EQ(MergeError("symbol,date,type,value\nABC,2020-01-03,split,2\nABC,2020-01-03,split,3\n",
                       series),
            "actions.csv:3: a second split for ABC on 2020-01-03");
}

TEST(ActionsImportTest, TheStoreKeepsActionsAndLoadsThoseInTheRange) {
  TempDir dir;
  auto series = ImportCsvText("ABC.csv", kPrices, {}).series;
  MergeActionsCsv("actions.csv",
                  "symbol,date,type,value\nABC,2020-01-03,split,2\nABC,2020-01-06,dividend,0.5\n",
                  series);
  const std::string path = dir / "s.h5";
  WriteStore(path, series, false);
  const auto info = ReadStoreInfo(path);
  EXPECT_EQ(info.format_version, 2);
  ASSERT_EQ(info.symbols.size(), 1u);
  EXPECT_EQ(info.symbols[0].splits, 1u);
  EXPECT_EQ(info.symbols[0].dividends, 1u);

  const auto all = LoadSeries(path, {"ABC"}, std::nullopt, std::nullopt);
  ASSERT_EQ(all[0].actions.size(), 2u);
  EXPECT_EQ(all[0].actions[0].kind, ActionKind::kSplit);
  EXPECT_DOUBLE_EQ(all[0].actions[0].value, 2.0);
  EXPECT_EQ(FormatDate(all[0].actions[1].ex_date), "2020-01-06");
  EXPECT_DOUBLE_EQ(all[0].actions[1].value, 0.5);
  const auto late = LoadSeries(path, {"ABC"}, ParseIsoDate("2020-01-06"), std::nullopt);
  ASSERT_EQ(late[0].actions.size(), 1u);  // the split is before the range
  EXPECT_EQ(late[0].actions[0].kind, ActionKind::kDividend);
}

// `data import --basis`: what a file does not say is "unknown" until the user declares it.
std::vector<SymbolSeries> Labelled(std::initializer_list<std::pair<const char*, const char*>> l) {
  std::vector<SymbolSeries> out;
  for (const auto& [symbol, label] : l) {
    SymbolSeries s;
    s.symbol = symbol;
    s.price_adjustment = label;
    out.push_back(std::move(s));
  }
  return out;
}

std::string DeclareError(std::vector<SymbolSeries>& series, std::vector<std::string> decl) {
  try {
    DeclareBasis(series, decl);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    return e.what();
  }
  return "";
}

TEST(DeclareBasisTest, TheDefaultLabelsOnlyWhatFilesDoNotSayAndASymbolWins) {
  auto s = Labelled(
      {{"AAA", "unknown"}, {"BBB", "unknown"}, {"QQQ", "split_adjusted"}, {"SPY", "adjusted"}});
  DeclareBasis(s, {"split_adjusted", "BBB=raw", "QQQ=raw"});
  EXPECT_EQ(s[0].price_adjustment, "split_adjusted");
  EXPECT_EQ(s[1].price_adjustment, "raw");
  EXPECT_EQ(s[2].price_adjustment, "raw");  // an inferred label may be corrected
  EXPECT_EQ(s[3].price_adjustment, "adjusted");
  auto none = Labelled({{"AAA", "unknown"}});
  DeclareBasis(none, {});
  EXPECT_EQ(none[0].price_adjustment, "unknown");
}

TEST(DeclareBasisTest, RefusalsNameTheDeclaration) {
  auto s = Labelled({{"AAA", "unknown"}, {"SPY", "adjusted"}});
  EXPECT_NE(DeclareError(s, {"total"}).find("--basis total: 'total' is not a price basis"),
            std::string::npos);
  EXPECT_NE(DeclareError(s, {"ZZZ=raw"}).find("--basis ZZZ=raw: 'ZZZ' is not in this import"),
            std::string::npos);
  EXPECT_NE(DeclareError(s, {"AAA=raw", "AAA=adjusted"}).find("AAA is declared twice"),
            std::string::npos);
  EXPECT_NE(DeclareError(s, {"raw", "adjusted"}).find("the default is already raw"),
            std::string::npos);
  EXPECT_NE(DeclareError(s, {"SPY=raw"}).find("SPY's prices were adjusted"), std::string::npos);
  EXPECT_EQ(s[0].price_adjustment, "unknown");  // nothing labelled by a refused declaration
}

}  // namespace
}  // namespace ballast::data
