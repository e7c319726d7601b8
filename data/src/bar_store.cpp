#include "ballast/data/bar_store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include "ballast/engine/error.hpp"

namespace ballast::data {
namespace {

constexpr const char* kBarsGroup = "/bars/1d";

/// Owns an HDF5 identifier and closes it with the matching function.
class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept {
    std::swap(id_, o.id_);
    std::swap(close_, o.close_);
    return *this;
  }
  ~Handle() {
    if (id_ >= 0 && close_ != nullptr) close_(id_);
  }
  [[nodiscard]] hid_t get() const noexcept { return id_; }
  [[nodiscard]] bool ok() const noexcept { return id_ >= 0; }

 private:
  hid_t id_ = H5I_INVALID_HID;
  herr_t (*close_)(hid_t) = nullptr;
};

void QuietHdf5() {
  static const bool once = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)once;
}

[[noreturn]] void Fail(ErrorKind kind, const std::string& path, const std::string& what) {
  throw Error(kind, fmt::format("{}: {}", path, what));
}

Handle Check(hid_t id, herr_t (*close)(hid_t), const std::string& path, const std::string& what) {
  if (id < 0) Fail(ErrorKind::kIo, path, what);
  return Handle(id, close);
}

void WriteStringAttr(hid_t obj, const char* name, const std::string& value,
                     const std::string& path) {
  Handle type = Check(H5Tcopy(H5T_C_S1), H5Tclose, path, "H5Tcopy");
  H5Tset_size(type.get(), std::max<std::size_t>(value.size(), 1));
  H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  Handle space = Check(H5Screate(H5S_SCALAR), H5Sclose, path, "H5Screate");
  Handle attr = Check(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                      H5Aclose, path, fmt::format("cannot create attribute {}", name));
  if (H5Awrite(attr.get(), type.get(), value.c_str()) < 0) Fail(ErrorKind::kIo, path, "H5Awrite");
}

void WriteIntAttr(hid_t obj, const char* name, long long value, const std::string& path) {
  Handle space = Check(H5Screate(H5S_SCALAR), H5Sclose, path, "H5Screate");
  Handle attr = Check(H5Acreate2(obj, name, H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                      H5Aclose, path, fmt::format("cannot create attribute {}", name));
  if (H5Awrite(attr.get(), H5T_NATIVE_LLONG, &value) < 0) Fail(ErrorKind::kIo, path, "H5Awrite");
}

std::optional<std::string> ReadStringAttr(hid_t obj, const char* name) {
  if (H5Aexists(obj, name) <= 0) return std::nullopt;
  Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  if (!attr.ok()) return std::nullopt;
  Handle ftype(H5Aget_type(attr.get()), H5Tclose);
  if (H5Tget_class(ftype.get()) != H5T_STRING) return std::nullopt;
  Handle space(H5Aget_space(attr.get()), H5Sclose);
  if (!space.ok() || H5Sget_simple_extent_npoints(space.get()) != 1) return std::nullopt;
  if (H5Tis_variable_str(ftype.get()) > 0) {
    // h5py writes str attributes as variable-length UTF-8 strings.
    Handle mtype(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mtype.get(), H5T_VARIABLE);
    H5Tset_cset(mtype.get(), H5Tget_cset(ftype.get()));
    char* text = nullptr;
    if (H5Aread(attr.get(), mtype.get(), &text) < 0) return std::nullopt;
    std::optional<std::string> out;
    if (text != nullptr) out = std::string(text);
    H5free_memory(text);
    return out;
  }
  const std::size_t size = H5Tget_size(ftype.get());
  Handle mtype(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(mtype.get(), size + 1);
  H5Tset_cset(mtype.get(), H5Tget_cset(ftype.get()));
  std::string buf(size + 1, '\0');
  if (H5Aread(attr.get(), mtype.get(), buf.data()) < 0) return std::nullopt;
  buf.resize(std::strlen(buf.c_str()));
  return buf;
}

std::optional<long long> ReadIntAttr(hid_t obj, const char* name) {
  if (H5Aexists(obj, name) <= 0) return std::nullopt;
  Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  long long v = 0;
  if (!attr.ok() || H5Aread(attr.get(), H5T_NATIVE_LLONG, &v) < 0) return std::nullopt;
  return v;
}

// Creation properties without modification times, so the same input gives a byte-identical file.
Handle NoTimesPlist(hid_t cls, const std::string& path) {
  Handle p = Check(H5Pcreate(cls), H5Pclose, path, "H5Pcreate");
  H5Pset_obj_track_times(p.get(), 0);
  return p;
}

template <typename T>
void WriteColumn(hid_t group, const char* name, hid_t file_type, hid_t mem_type,
                 const std::vector<T>& data, const std::string& path) {
  const hsize_t dims[1] = {static_cast<hsize_t>(data.size())};
  Handle space = Check(H5Screate_simple(1, dims, nullptr), H5Sclose, path, "H5Screate_simple");
  Handle dcpl = NoTimesPlist(H5P_DATASET_CREATE, path);
  Handle ds =
      Check(H5Dcreate2(group, name, file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
            H5Dclose, path, fmt::format("cannot create dataset {}", name));
  if (H5Dwrite(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) < 0) {
    Fail(ErrorKind::kIo, path, fmt::format("cannot write dataset {}", name));
  }
}

std::string StoreAdjustment(const std::vector<SymbolSeries>& series) {
  std::set<std::string> kinds;
  for (const auto& s : series)
    kinds.insert(s.price_adjustment);
  if (kinds.size() == 1) return *kinds.begin();
  return kinds.empty() ? "unknown" : "mixed";
}

// A stored basis label as this ballast names it: stores before the labels were truthful wrote
// "source" for prices the file did not describe, which is "unknown".
std::string BasisLabel(const std::optional<std::string>& stored, bool root = false) {
  if (!stored) return "unknown";
  if (*stored == "adjusted" || *stored == "raw" || *stored == "split_adjusted") return *stored;
  if (root && *stored == "mixed") return *stored;
  return "unknown";
}

Handle OpenStore(const std::string& path) {
  QuietHdf5();
  if (!std::filesystem::is_regular_file(path)) Fail(ErrorKind::kData, path, "no such store file");
  if (H5Fis_hdf5(path.c_str()) <= 0) Fail(ErrorKind::kData, path, "not an HDF5 file");
  Handle f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!f.ok()) Fail(ErrorKind::kData, path, "cannot open HDF5 file");
  Handle root(H5Gopen2(f.get(), "/", H5P_DEFAULT), H5Gclose);
  const auto format = ReadStringAttr(root.get(), "format");
  if (!format || *format != kStoreFormatName) {
    Fail(ErrorKind::kData, path,
         fmt::format("not a ballast bar store (root attribute 'format' is not '{}')",
                     kStoreFormatName));
  }
  const auto version = ReadIntAttr(root.get(), "format_version");
  if (!version) Fail(ErrorKind::kData, path, "missing root attribute 'format_version'");
  if (*version > kStoreFormatVersion || *version < 1) {
    Fail(ErrorKind::kData, path,
         fmt::format("format_version {} is not supported (this ballast reads version {})", *version,
                     kStoreFormatVersion));
  }
  return f;
}

std::vector<std::string> ListSymbols(hid_t file) {
  std::vector<std::string> names;
  if (H5Lexists(file, "/bars", H5P_DEFAULT) <= 0 || H5Lexists(file, kBarsGroup, H5P_DEFAULT) <= 0)
    return names;
  Handle g(H5Gopen2(file, kBarsGroup, H5P_DEFAULT), H5Gclose);
  H5G_info_t info;
  if (!g.ok() || H5Gget_info(g.get(), &info) < 0) return names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t len =
        H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (len < 0) continue;
    std::string name(static_cast<std::size_t>(len) + 1, '\0');
    H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(),
                       H5P_DEFAULT);
    name.resize(static_cast<std::size_t>(len));
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The row count a column declares, checked against what the file can hold: a one-dimensional
// dataset of numbers whose stored bytes can hold its rows (an extent is only a claim: a tiny
// file can declare 10^9 rows, and reading them would allocate gigabytes).
hsize_t DatasetLength(hid_t ds, const std::string& path, const std::string& symbol,
                      const char* name) {
  Handle space(H5Dget_space(ds), H5Sclose);
  if (!space.ok() || H5Sget_simple_extent_ndims(space.get()) != 1) {
    Fail(ErrorKind::kData, path,
         fmt::format("{}: dataset '{}' is not one-dimensional", symbol, name));
  }
  hsize_t dims[1] = {0};
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  Handle type(H5Dget_type(ds), H5Tclose);
  const H5T_class_t cls = type.ok() ? H5Tget_class(type.get()) : H5T_NO_CLASS;
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
    Fail(ErrorKind::kData, path,
         fmt::format("{}: dataset '{}' does not hold numbers", symbol, name));
  }
  const std::size_t elem = H5Tget_size(type.get());
  const hsize_t stored = H5Dget_storage_size(ds);
  Handle dcpl(H5Dget_create_plist(ds), H5Pclose);
  const int filters = dcpl.ok() ? H5Pget_nfilters(dcpl.get()) : 0;
  // Compression can shrink a column, but no codec HDF5 ships does better than about 1000:1.
  const double need = static_cast<double>(dims[0]) * static_cast<double>(elem);
  const double can_hold = static_cast<double>(stored) * (filters > 0 ? 1024.0 : 1.0);
  if (dims[0] > 0 && can_hold < need) {
    Fail(ErrorKind::kData, path,
         fmt::format("{}: dataset '{}' declares {} rows but the file holds only {} bytes of it; "
                     "the store is damaged",
                     symbol, name, dims[0], stored));
  }
  return dims[0];
}

template <typename T>
void ReadColumn(hid_t group, const char* name, hid_t mem_type, hsize_t offset, hsize_t count,
                std::vector<T>& out, const std::string& path, const std::string& symbol,
                std::optional<hsize_t> expected_length = std::nullopt) {
  Handle ds(H5Dopen2(group, name, H5P_DEFAULT), H5Dclose);
  if (!ds.ok()) Fail(ErrorKind::kData, path, fmt::format("{}: missing dataset '{}'", symbol, name));
  const hsize_t length = DatasetLength(ds.get(), path, symbol, name);
  if (expected_length && length != *expected_length) {
    Fail(ErrorKind::kData, path,
         fmt::format("{}: dataset '{}' has {} rows but 'timestamp' has {}; every column of a "
                     "symbol must have the same length",
                     symbol, name, length, *expected_length));
  }
  if (offset + count > length) {
    Fail(ErrorKind::kData, path,
         fmt::format("{}: dataset '{}' has {} rows, fewer than the {} needed", symbol, name, length,
                     offset + count));
  }
  out.resize(count);
  if (count == 0) return;
  Handle fspace(H5Dget_space(ds.get()), H5Sclose);
  const hsize_t start[1] = {offset};
  const hsize_t cnt[1] = {count};
  H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start, nullptr, cnt, nullptr);
  Handle mspace(H5Screate_simple(1, cnt, nullptr), H5Sclose);
  if (H5Dread(ds.get(), mem_type, mspace.get(), fspace.get(), H5P_DEFAULT, out.data()) < 0) {
    Fail(ErrorKind::kData, path, fmt::format("{}: cannot read dataset '{}'", symbol, name));
  }
}

// A symbol's splits and dividends with ex-dates in [lo, hi] (none in a version 1 store).
void ReadActions(hid_t g, Timestamp lo, Timestamp hi, std::vector<CorporateAction>& out,
                 const std::string& path, const std::string& symbol) {
  for (const ActionKind kind : {ActionKind::kSplit, ActionKind::kDividend}) {
    const bool split = kind == ActionKind::kSplit;
    const char* tname = split ? "split_timestamp" : "dividend_timestamp";
    const char* vname = split ? "split_ratio" : "dividend_amount";
    if (H5Lexists(g, tname, H5P_DEFAULT) <= 0) continue;
    std::vector<Timestamp> when;
    std::vector<double> value;
    {
      Handle ds(H5Dopen2(g, tname, H5P_DEFAULT), H5Dclose);
      const hsize_t n = DatasetLength(ds.get(), path, symbol, tname);
      ReadColumn(g, tname, H5T_NATIVE_INT64, 0, n, when, path, symbol);
      ReadColumn(g, vname, H5T_NATIVE_DOUBLE, 0, n, value, path, symbol, n);
    }
    for (std::size_t i = 0; i < when.size(); ++i) {
      if (i > 0 && when[i] <= when[i - 1]) {
        Fail(ErrorKind::kData, path,
             fmt::format("{}: {} row {} is not after row {}: ex-dates must strictly increase",
                         symbol, tname, i, i - 1));
      }
      if (!std::isfinite(value[i]) || !(value[i] > 0.0)) {
        Fail(ErrorKind::kData, path,
             fmt::format("{}: {} at row {} ({}) is {}; expected a finite positive number", symbol,
                         vname, i, FormatDate(TimestampToDay(when[i])), value[i]));
      }
      if (when[i] >= lo && when[i] <= hi) out.push_back({TimestampToDay(when[i]), kind, value[i]});
    }
  }
  std::sort(out.begin(), out.end());
}

}  // namespace

const StoreSymbolInfo* StoreInfo::Find(std::string_view symbol) const noexcept {
  auto it =
      std::lower_bound(symbols.begin(), symbols.end(), symbol,
                       [](const StoreSymbolInfo& a, std::string_view b) { return a.symbol < b; });
  return it != symbols.end() && it->symbol == symbol ? &*it : nullptr;
}

std::string SymbolProblem(std::string_view symbol) {
  if (symbol.empty()) return "empty symbol";
  if (symbol.size() > kMaxSymbolLength)
    return fmt::format("symbol longer than {} characters", kMaxSymbolLength);
  bool alnum = false;
  for (char c : symbol) {
    const bool letter = std::isalnum(static_cast<unsigned char>(c)) != 0;
    alnum = alnum || letter;
    if (!letter && c != '.' && c != '-' && c != '_' && c != '^' && c != '=') {
      return fmt::format("symbol '{}' has character '{}' (allowed: letters, digits, . - _ ^ =)",
                         symbol, c);
    }
  }
  if (!alnum) return fmt::format("symbol '{}' has no letter or digit", symbol);
  return "";
}

namespace {

// Writes `image` to a new file `path` (which must not exist), flushed to disk; the errno text on
// failure (a full disk, a file size limit), with nothing left behind.
void WriteImage(const std::string& path, const std::vector<char>& image, const std::string& shown) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    Fail(ErrorKind::kIo, shown, fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  }
  std::size_t done = 0;
  int err = 0;
  while (done < image.size()) {
    const ssize_t n = ::write(fd, image.data() + done, image.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(path.c_str());
    Fail(ErrorKind::kIo, shown, fmt::format("cannot write the store: {}", std::strerror(err)));
  }
}

// Splits and dividends as two pairs of columns (ex-date timestamp, value), written only when a
// symbol has some; `splits` and `dividends` count them.
void WriteActions(hid_t g, const std::vector<CorporateAction>& actions, const std::string& shown) {
  for (const ActionKind kind : {ActionKind::kSplit, ActionKind::kDividend}) {
    std::vector<Timestamp> when;
    std::vector<double> value;
    for (const auto& a : actions) {
      if (a.kind != kind) continue;
      when.push_back(DayToTimestamp(a.ex_date));
      value.push_back(a.value);
    }
    const bool split = kind == ActionKind::kSplit;
    WriteIntAttr(g, split ? "splits" : "dividends", static_cast<long long>(when.size()), shown);
    if (when.empty()) continue;
    WriteColumn(g, split ? "split_timestamp" : "dividend_timestamp", H5T_STD_I64LE,
                H5T_NATIVE_INT64, when, shown);
    WriteColumn(g, split ? "split_ratio" : "dividend_amount", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                value, shown);
  }
}

// The whole store built in memory (HDF5's core driver, no backing file), so that every disk error
// is ours to report: HDF5 never holds a half-written file open.
std::vector<char> BuildImage(const std::vector<SymbolSeries>& series, const std::string& shown) {
  Handle fcpl = NoTimesPlist(H5P_FILE_CREATE, shown);
  Handle fapl = Check(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, shown, "H5Pcreate");
  if (H5Pset_fapl_core(fapl.get(), 1 << 20, 0) < 0) Fail(ErrorKind::kIo, shown, "H5Pset_fapl_core");
  Handle f = Check(H5Fcreate("ballast-store-image", H5F_ACC_TRUNC, fcpl.get(), fapl.get()),
                   H5Fclose, shown, "cannot create the store in memory");
  {
    Handle root = Check(H5Gopen2(f.get(), "/", H5P_DEFAULT), H5Gclose, shown, "open /");
    WriteStringAttr(root.get(), "format", kStoreFormatName, shown);
    WriteIntAttr(root.get(), "format_version", kStoreFormatVersion, shown);
    WriteStringAttr(root.get(), "price_adjustment", StoreAdjustment(series), shown);
    WriteStringAttr(root.get(), "created_by", "ballast " BALLAST_VERSION, shown);
    WriteStringAttr(root.get(), "timestamp_unit",
                    "ns since 1970-01-01 UTC; daily bars at 00:00 UTC of the session date", shown);
    Handle gcpl = NoTimesPlist(H5P_GROUP_CREATE, shown);
    Handle lcpl = Check(H5Pcreate(H5P_LINK_CREATE), H5Pclose, shown, "H5Pcreate");
    H5Pset_create_intermediate_group(lcpl.get(), 1);
    Handle bars = Check(H5Gcreate2(f.get(), kBarsGroup, lcpl.get(), gcpl.get(), H5P_DEFAULT),
                        H5Gclose, shown, "cannot create /bars/1d");
    for (const auto& s : series) {
      Handle g =
          Check(H5Gcreate2(bars.get(), s.symbol.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT),
                H5Gclose, shown, fmt::format("cannot create group for {}", s.symbol));
      WriteStringAttr(g.get(), "price_adjustment", s.price_adjustment, shown);
      WriteStringAttr(g.get(), "source", s.source, shown);
      WriteStringAttr(g.get(), "first_date",
                      s.Rows() ? FormatDate(TimestampToDay(s.time.front())) : "", shown);
      WriteStringAttr(g.get(), "last_date",
                      s.Rows() ? FormatDate(TimestampToDay(s.time.back())) : "", shown);
      WriteIntAttr(g.get(), "rows", static_cast<long long>(s.Rows()), shown);
      WriteIntAttr(g.get(), "repaired_rows", static_cast<long long>(s.repaired_rows), shown);
      WriteIntAttr(g.get(), "ohlc_warnings", static_cast<long long>(s.ohlc_warnings), shown);
      WriteColumn(g.get(), "timestamp", H5T_STD_I64LE, H5T_NATIVE_INT64, s.time, shown);
      WriteColumn(g.get(), "open", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s.open, shown);
      WriteColumn(g.get(), "high", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s.high, shown);
      WriteColumn(g.get(), "low", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s.low, shown);
      WriteColumn(g.get(), "close", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s.close, shown);
      WriteColumn(g.get(), "volume", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s.volume, shown);
      WriteActions(g.get(), s.actions, shown);
    }
  }
  if (H5Fflush(f.get(), H5F_SCOPE_GLOBAL) < 0) Fail(ErrorKind::kIo, shown, "flush failed");
  const ssize_t size = H5Fget_file_image(f.get(), nullptr, 0);
  if (size <= 0) Fail(ErrorKind::kIo, shown, "cannot read back the store image");
  std::vector<char> image(static_cast<std::size_t>(size));
  if (H5Fget_file_image(f.get(), image.data(), image.size()) != size)
    Fail(ErrorKind::kIo, shown, "cannot read back the store image");
  return image;
}

}  // namespace

void WriteStore(const std::string& path, const std::vector<SymbolSeries>& series, bool overwrite) {
  QuietHdf5();
  namespace fs = std::filesystem;
  // Everything is checked before anything is created.
  std::error_code ec;
  if (fs::exists(fs::symlink_status(path, ec))) {
    if (!overwrite) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("{}: already exists (use --force to replace it)", path));
    }
    if (!IsBallastStore(path)) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("{}: exists and is not a ballast bar store; --force replaces only "
                              "stores ballast wrote",
                              path));
    }
  }
  for (const auto& s : series) {
    if (const auto problem = SymbolProblem(s.symbol); !problem.empty()) {
      throw Error(ErrorKind::kData,
                  fmt::format("{}: cannot store {}: {}", path, s.symbol, problem));
    }
    const std::size_t n = s.time.size();
    if (s.open.size() != n || s.high.size() != n || s.low.size() != n || s.close.size() != n ||
        s.volume.size() != n) {
      throw Error(ErrorKind::kInternal,
                  fmt::format("{}: {}: columns of different lengths", path, s.symbol));
    }
  }
  if (series.empty()) throw Error(ErrorKind::kData, fmt::format("{}: no bars to store", path));
  const std::vector<char> image = BuildImage(series, path);

  const fs::path target = fs::absolute(path).lexically_normal();
  // Parents this import creates are removed again when it fails.
  std::vector<fs::path> created;
  for (fs::path p = target.parent_path(); !p.empty() && !fs::exists(p); p = p.parent_path()) {
    created.push_back(p);
    if (p == p.parent_path()) break;
  }
  auto cleanup = [&] {
    for (const auto& p : created)
      fs::remove(p, ec);  // only while empty
  };
  fs::create_directories(target.parent_path(), ec);
  if (ec) {
    cleanup();
    Fail(ErrorKind::kIo, path,
         fmt::format("cannot create {}: {}", target.parent_path().string(), ec.message()));
  }
  const std::string tmp = fmt::format("{}.tmp-{}", target.string(), ::getpid());
  fs::remove(tmp, ec);
  try {
    WriteImage(tmp, image, path);
  } catch (...) {
    cleanup();
    throw;
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    cleanup();
    Fail(ErrorKind::kIo, path,
         fmt::format("cannot move the new store into place: {}", std::strerror(err)));
  }
}

bool IsBallastStore(const std::string& path) {
  QuietHdf5();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec) || H5Fis_hdf5(path.c_str()) <= 0) return false;
  Handle f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!f.ok()) return false;
  Handle root(H5Gopen2(f.get(), "/", H5P_DEFAULT), H5Gclose);
  const auto format = root.ok() ? ReadStringAttr(root.get(), "format") : std::nullopt;
  return format && *format == kStoreFormatName;
}

std::vector<std::string> ListStoreSymbols(const std::string& path) {
  Handle f = OpenStore(path);
  return ListSymbols(f.get());
}

StoreInfo ReadStoreInfo(const std::string& path) {
  Handle f = OpenStore(path);
  StoreInfo info;
  info.path = path;
  Handle root(H5Gopen2(f.get(), "/", H5P_DEFAULT), H5Gclose);
  info.format_version = static_cast<int>(ReadIntAttr(root.get(), "format_version").value_or(0));
  info.price_adjustment = BasisLabel(ReadStringAttr(root.get(), "price_adjustment"), true);
  info.created_by = ReadStringAttr(root.get(), "created_by").value_or("");
  for (const auto& name : ListSymbols(f.get())) {
    const std::string gpath = fmt::format("{}/{}", kBarsGroup, name);
    Handle g(H5Gopen2(f.get(), gpath.c_str(), H5P_DEFAULT), H5Gclose);
    if (!g.ok()) continue;
    StoreSymbolInfo s;
    s.symbol = name;
    s.price_adjustment = BasisLabel(ReadStringAttr(g.get(), "price_adjustment"));
    s.source = ReadStringAttr(g.get(), "source").value_or("");
    auto count = [&](const char* attr) {
      return static_cast<std::size_t>(std::max(0LL, ReadIntAttr(g.get(), attr).value_or(0)));
    };
    s.repaired_rows = count("repaired_rows");
    s.ohlc_warnings = count("ohlc_warnings");
    s.splits = count("splits");
    s.dividends = count("dividends");
    // The group's attributes carry rows and first/last dates; read the timestamps only when a
    // store written by another tool lacks them.
    const auto rows = ReadIntAttr(g.get(), "rows");
    const auto first = ReadStringAttr(g.get(), "first_date");
    const auto last = ReadStringAttr(g.get(), "last_date");
    const auto first_day = first ? ParseIsoDate(*first) : std::nullopt;
    const auto last_day = last ? ParseIsoDate(*last) : std::nullopt;
    if (rows && *rows > 0 && first_day && last_day) {
      s.rows = static_cast<std::size_t>(*rows);
      s.first = DayToTimestamp(*first_day);
      s.last = DayToTimestamp(*last_day);
      info.symbols.push_back(std::move(s));
      continue;
    }
    Handle ds(H5Dopen2(g.get(), "timestamp", H5P_DEFAULT), H5Dclose);
    if (!ds.ok())
      Fail(ErrorKind::kData, path, fmt::format("{}: missing dataset 'timestamp'", name));
    s.rows = static_cast<std::size_t>(DatasetLength(ds.get(), path, name, "timestamp"));
    if (s.rows > 0) {
      std::vector<Timestamp> ends;
      ReadColumn(g.get(), "timestamp", H5T_NATIVE_INT64, 0, 1, ends, path, name);
      s.first = ends[0];
      ReadColumn(g.get(), "timestamp", H5T_NATIVE_INT64, s.rows - 1, 1, ends, path, name);
      s.last = ends[0];
    }
    info.symbols.push_back(std::move(s));
  }
  return info;
}

std::vector<SymbolSeries> LoadSeries(const std::string& path,
                                     const std::vector<std::string>& symbols,
                                     std::optional<Days> from, std::optional<Days> to,
                                     LoadColumns columns) {
  Handle f = OpenStore(path);
  std::vector<SymbolSeries> out;
  out.reserve(symbols.size());
  for (const auto& symbol : symbols) {
    const std::string gpath = fmt::format("{}/{}", kBarsGroup, symbol);
    if (symbol.empty() || symbol.find('/') != std::string::npos ||
        H5Lexists(f.get(), "/bars", H5P_DEFAULT) <= 0 ||
        H5Lexists(f.get(), kBarsGroup, H5P_DEFAULT) <= 0 ||
        H5Lexists(f.get(), gpath.c_str(), H5P_DEFAULT) <= 0) {
      Fail(ErrorKind::kData, path, fmt::format("symbol '{}' is not in the store", symbol));
    }
    Handle g(H5Gopen2(f.get(), gpath.c_str(), H5P_DEFAULT), H5Gclose);
    SymbolSeries s;
    s.symbol = symbol;
    s.price_adjustment = BasisLabel(ReadStringAttr(g.get(), "price_adjustment"));
    s.source = ReadStringAttr(g.get(), "source").value_or("");
    std::vector<Timestamp> all;
    Handle ds(H5Dopen2(g.get(), "timestamp", H5P_DEFAULT), H5Dclose);
    if (!ds.ok())
      Fail(ErrorKind::kData, path, fmt::format("{}: missing dataset 'timestamp'", symbol));
    const hsize_t n = DatasetLength(ds.get(), path, symbol, "timestamp");
    ReadColumn(g.get(), "timestamp", H5T_NATIVE_INT64, 0, n, all, path, symbol);
    for (std::size_t i = 1; i < all.size(); ++i) {
      if (all[i] <= all[i - 1]) {
        Fail(ErrorKind::kData, path,
             fmt::format(
                 "{}: timestamp row {} ({}) is not after row {} ({}): dates must strictly increase",
                 symbol, i, FormatDate(TimestampToDay(all[i])), i - 1,
                 FormatDate(TimestampToDay(all[i - 1]))));
      }
    }
    const Timestamp lo = from ? DayToTimestamp(*from) : std::numeric_limits<Timestamp>::min();
    const Timestamp hi = to ? DayToTimestamp(*to) : std::numeric_limits<Timestamp>::max();
    const auto b = std::lower_bound(all.begin(), all.end(), lo);
    const auto e = std::upper_bound(all.begin(), all.end(), hi);
    const hsize_t offset = static_cast<hsize_t>(b - all.begin());
    const hsize_t count = e > b ? static_cast<hsize_t>(e - b) : 0;
    s.time.assign(b, b + static_cast<std::ptrdiff_t>(count));
    const std::pair<const char*, std::vector<double>*> prices[] = {
        {"close", &s.close},
        {"open", columns.open ? &s.open : nullptr},
        {"high", columns.high ? &s.high : nullptr},
        {"low", columns.low ? &s.low : nullptr}};
    for (auto [name, col] : prices) {
      if (col == nullptr) continue;
      ReadColumn(g.get(), name, H5T_NATIVE_DOUBLE, offset, count, *col, path, symbol, n);
      for (std::size_t i = 0; i < count; ++i) {
        const double v = (*col)[i];
        if (!std::isfinite(v) || !(v > 0.0)) {
          Fail(ErrorKind::kData, path,
               fmt::format("{}: {} at row {} ({}) is {}; expected a finite positive price", symbol,
                           name, offset + i, FormatDate(TimestampToDay(s.time[i])), v));
        }
      }
    }
    ReadActions(g.get(), lo, hi, s.actions, path, symbol);
    if (columns.volume)
      ReadColumn(g.get(), "volume", H5T_NATIVE_DOUBLE, offset, count, s.volume, path, symbol, n);
    for (std::size_t i = 0; i < s.volume.size(); ++i) {
      if (!std::isfinite(s.volume[i]) || s.volume[i] < 0.0) {
        Fail(ErrorKind::kData, path,
             fmt::format("{}: volume at row {} is {}; expected a finite non-negative number",
                         symbol, offset + i, s.volume[i]));
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace ballast::data
