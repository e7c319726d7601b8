// Stores damaged or written by other tools: every one is read correctly or refused with a data
// error naming the file, the symbol and the dataset; none crashes or allocates what the file does
// not hold (issue 13).

#include <gtest/gtest.h>
#include <hdf5.h>

#include <filesystem>
#include <functional>
#include <string>

#include "ballast/data/bar_store.hpp"
#include "ballast/engine/error.hpp"
#include "testkit.hpp"

namespace ballast::data {
namespace {

using testkit::TempDir;

SymbolSeries Series(std::string sym, int rows) {
  SymbolSeries s;
  s.symbol = std::move(sym);
  Days d = *ParseIsoDate("2020-01-02");
  for (int i = 0; i < rows; ++i, d += std::chrono::days{1}) {
    s.time.push_back(DayToTimestamp(d));
    for (auto* col : {&s.open, &s.high, &s.low, &s.close})
      col->push_back(10.0 + i);
    s.volume.push_back(100);
  }
  s.price_adjustment = "adjusted";
  return s;
}

std::string ErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kData) << e.what();
    return e.what();
  }
  return "";
}

// Opens a store for editing with the HDF5 C API, as another tool would.
class Edit {
 public:
  explicit Edit(const std::string& path) : f_(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)) {
    EXPECT_GE(f_, 0);
  }
  ~Edit() { H5Fclose(f_); }
  Edit(const Edit&) = delete;
  Edit& operator=(const Edit&) = delete;
  [[nodiscard]] hid_t file() const { return f_; }

  // Replaces a dataset of a symbol with a float64 dataset of `rows` rows: written when `write`,
  // else chunked and never written (the file holds no data for it).
  void ReplaceColumn(const std::string& symbol, const char* name, hsize_t rows, bool write) {
    const std::string group = "/bars/1d/" + symbol;
    const hid_t g = H5Gopen2(f_, group.c_str(), H5P_DEFAULT);
    H5Ldelete(g, name, H5P_DEFAULT);
    hsize_t dims[1] = {rows};
    const hid_t space = H5Screate_simple(1, dims, nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (!write) {
      hsize_t chunk[1] = {1024};
      H5Pset_chunk(dcpl, 1, chunk);
    }
    const hid_t ds = H5Dcreate2(g, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (write) {
      std::vector<double> v(rows, 10.0);
      H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    }
    H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Gclose(g);
  }

  // Replaces a string attribute by a variable-length UTF-8 one, as h5py writes `str` values.
  void VlenAttr(const char* object, const char* name, const char* value) {
    const hid_t o = H5Oopen(f_, object, H5P_DEFAULT);
    H5Adelete(o, name);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(o, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, type, &value);
    H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
    H5Oclose(o);
  }

  void IntAttr(const char* object, const char* name, long long value) {
    const hid_t o = H5Oopen(f_, object, H5P_DEFAULT);
    const hid_t a = H5Aopen(o, name, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_LLONG, &value);
    H5Aclose(a);
    H5Oclose(o);
  }

 private:
  hid_t f_;
};

TEST(HostileStoreTest, ColumnsOfDifferentLengthsAreRefusedNamingTheDataset) {
  TempDir dir;
  const std::string path = dir / "s.h5";
  WriteStore(path, {Series("AAA", 5)}, false);
  { Edit(path).ReplaceColumn("AAA", "close", 7, true); }
  EXPECT_EQ(ErrorOf([&] { (void)LoadSeries(path, {"AAA"}, std::nullopt, std::nullopt); }),
            path +
                ": AAA: dataset 'close' has 7 rows but 'timestamp' has 5; every column of a "
                "symbol must have the same length");
  { Edit(path).ReplaceColumn("AAA", "close", 3, true); }
  EXPECT_NE(ErrorOf([&] {
              (void)LoadSeries(path, {"AAA"}, std::nullopt, std::nullopt);
            }).find("dataset 'close' has 3 rows but 'timestamp' has 5"),
            std::string::npos);
}

TEST(HostileStoreTest, DeclaredRowsTheFileCannotHoldAreRefusedBeforeAllocating) {
  TempDir dir;
  const std::string path = dir / "s.h5";
  WriteStore(path, {Series("AAA", 5)}, false);
  { Edit(path).ReplaceColumn("AAA", "timestamp", 2'000'000'000, false); }
  ASSERT_LT(std::filesystem::file_size(path), 100'000u);
  const auto msg = ErrorOf([&] { (void)LoadSeries(path, {"AAA"}, std::nullopt, std::nullopt); });
  EXPECT_NE(msg.find(path + ": AAA: dataset 'timestamp' declares 2000000000 rows but the file "
                            "holds only 0 bytes of it"),
            std::string::npos)
      << msg;
}

TEST(HostileStoreTest, VariableLengthStringAttributesFromH5pyAreRead) {
  TempDir dir;
  const std::string path = dir / "s.h5";
  WriteStore(path, {Series("AAA", 3)}, false);
  {
    Edit e(path);
    e.VlenAttr("/", "format", "ballast.bars");
    e.VlenAttr("/", "price_adjustment", "adjusted");
    e.VlenAttr("/bars/1d/AAA", "price_adjustment", "raw");
  }
  const auto info = ReadStoreInfo(path);
  EXPECT_EQ(info.price_adjustment, "adjusted");
  ASSERT_EQ(info.symbols.size(), 1u);
  EXPECT_EQ(info.symbols[0].price_adjustment, "raw");
  EXPECT_EQ(LoadSeries(path, {"AAA"}, std::nullopt, std::nullopt)[0].close.size(), 3u);
}

TEST(HostileStoreTest, NegativeRowAttributeFallsBackToTheDatasets) {
  TempDir dir;
  const std::string path = dir / "s.h5";
  WriteStore(path, {Series("AAA", 4)}, false);
  {
    Edit e(path);
    e.IntAttr("/bars/1d/AAA", "rows", -5);
    e.IntAttr("/bars/1d/AAA", "repaired_rows", -1);
  }
  const auto info = ReadStoreInfo(path);
  ASSERT_EQ(info.symbols.size(), 1u);
  EXPECT_EQ(info.symbols[0].rows, 4u);
  EXPECT_EQ(info.symbols[0].repaired_rows, 0u);
  EXPECT_EQ(FormatDate(TimestampToDay(info.symbols[0].last)), "2020-01-05");
}

TEST(HostileStoreTest, AVersionOneStoreLoadsWithoutActions) {
  TempDir dir;
  const std::string path = dir / "s.h5";
  WriteStore(path, {Series("AAA", 4)}, false);
  {
    // As ballast wrote stores before corporate actions: version 1, no action counts.
    Edit e(path);
    e.IntAttr("/", "format_version", 1);
    const hid_t g = H5Oopen(e.file(), "/bars/1d/AAA", H5P_DEFAULT);
    H5Adelete(g, "splits");
    H5Adelete(g, "dividends");
    H5Oclose(g);
  }
  const auto info = ReadStoreInfo(path);
  EXPECT_EQ(info.format_version, 1);
  EXPECT_EQ(info.symbols[0].splits, 0u);
  const auto loaded = LoadSeries(path, {"AAA"}, std::nullopt, std::nullopt);
  EXPECT_EQ(loaded[0].close.size(), 4u);
  EXPECT_TRUE(loaded[0].actions.empty());
}

TEST(HostileStoreTest, ActionsOutOfOrderOrNotPositiveAreRefusedNamingTheDataset) {
  TempDir dir;
  const std::string path = dir / "s.h5";
  auto s = Series("AAA", 4);
  s.actions = {{*ParseIsoDate("2020-01-03"), ActionKind::kDividend, 0.5}};
  WriteStore(path, {s}, false);
  { Edit(path).ReplaceColumn("AAA", "dividend_amount", 1, true); }  // 10.0 is fine
  EXPECT_DOUBLE_EQ(LoadSeries(path, {"AAA"}, std::nullopt, std::nullopt)[0].actions[0].value, 10.0);
  s.actions[0].value = -0.5;
  WriteStore(path, {s}, true);
  EXPECT_EQ(ErrorOf([&] { (void)LoadSeries(path, {"AAA"}, std::nullopt, std::nullopt); }),
            path +
                ": AAA: dividend_amount at row 0 (2020-01-03) is -0.5; expected a finite positive "
                "number");
}

TEST(HostileStoreTest, StringColumnsAreRefused) {
  TempDir dir;
  const std::string path = dir / "s.h5";
  WriteStore(path, {Series("AAA", 2)}, false);
  {
    Edit e(path);
    const hid_t g = H5Gopen2(e.file(), "/bars/1d/AAA", H5P_DEFAULT);
    H5Ldelete(g, "close", H5P_DEFAULT);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, 8);
    hsize_t dims[1] = {2};
    const hid_t space = H5Screate_simple(1, dims, nullptr);
    const hid_t ds = H5Dcreate2(g, "close", type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const char cells[16] = "1234567abcdefgh";  // two 8-byte strings
    H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, cells);
    H5Dclose(ds);
    H5Sclose(space);
    H5Tclose(type);
    H5Gclose(g);
  }
  EXPECT_EQ(ErrorOf([&] { (void)LoadSeries(path, {"AAA"}, std::nullopt, std::nullopt); }),
            path + ": AAA: dataset 'close' does not hold numbers");
}

TEST(HostileStoreTest, WriteRefusesSymbolsThatCannotNameASeries) {
  TempDir dir;
  for (const char* bad : {".", "..", "", "a/b", "../../x", "SPY TLT"}) {
    EXPECT_THROW(WriteStore(dir / "s.h5", {Series(bad, 1)}, false), Error) << bad;
  }
  EXPECT_EQ(SymbolProblem("BRK.B"), "");
  EXPECT_EQ(SymbolProblem("^GSPC"), "");
  EXPECT_EQ(SymbolProblem(".."), "symbol '..' has no letter or digit");
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(HostileStoreTest, ForceReplacesOnlyABallastStore) {
  TempDir dir;
  testkit::WriteFile(dir.path() / "notes.h5", "my notes");
  EXPECT_THROW(WriteStore(dir / "notes.h5", {Series("AAA", 1)}, true), Error);
  EXPECT_EQ(testkit::ReadFile(dir.path() / "notes.h5"), "my notes");
  WriteStore(dir / "s.h5", {Series("AAA", 1)}, false);
  WriteStore(dir / "s.h5", {Series("BBB", 2)}, true);
  EXPECT_EQ(ListStoreSymbols(dir / "s.h5"), std::vector<std::string>{"BBB"});
}

TEST(HostileStoreTest, FailedWriteRemovesTheDirectoriesItCreated) {
  TempDir dir;
  // A file where a parent directory should be: the write fails after checking.
  testkit::WriteFile(dir.path() / "a/file", "x");
  EXPECT_THROW(WriteStore(dir / "a/file/b/s.h5", {Series("AAA", 1)}, false), Error);
  EXPECT_THROW(WriteStore(dir / "new/deeper/s.h5", {Series(".", 1)}, false), Error);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "new"));
}

}  // namespace
}  // namespace ballast::data
