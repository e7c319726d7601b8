// libFuzzer target: the HDF5 store reader on hostile stores. The input does not mutate HDF5's
// bytes (that would fuzz libhdf5's own decoder, not our code); it drives the *contents* of a
// valid HDF5 file written with the HDF5 API: attributes fixed or variable-length, present or
// missing, of the wrong type or value; datasets missing, of other types, lengths or ranks,
// declared far larger than stored; timestamps and prices of any value. Every such store is read
// correctly or refused with ballast::Error, and what loads satisfies the store's invariants.

#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "ballast/data/bar_store.hpp"
#include "ballast/engine/error.hpp"

namespace {

// Consumes the fuzzer's bytes; zeros once they run out.
class Input {
 public:
  Input(const std::uint8_t* d, std::size_t n) : d_(d), n_(n) {}
  std::uint8_t Byte() { return i_ < n_ ? d_[i_++] : 0; }
  std::uint32_t U32() {
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k)
      v = (v << 8) | Byte();
    return v;
  }
  std::int64_t I64() { return static_cast<std::int64_t>((std::uint64_t{U32()} << 32) | U32()); }
  double Double() {
    switch (Byte() % 8) {
      case 0:
        return std::numeric_limits<double>::quiet_NaN();
      case 1:
        return -1.0;
      case 2:
        return 0.0;
      case 3:
        return std::numeric_limits<double>::infinity();
      case 4:
        return 1e308;
      default:
        return 1.0 + Byte();
    }
  }

 private:
  const std::uint8_t* d_;
  std::size_t n_;
  std::size_t i_ = 0;
};

void StringAttr(hid_t obj, const char* name, const std::string& value, bool variable) {
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, variable ? H5T_VARIABLE : std::max<std::size_t>(value.size(), 1));
  H5Tset_cset(type, H5T_CSET_UTF8);
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  const char* p = value.c_str();
  if (variable) {
    H5Awrite(a, type, &p);
  } else {
    H5Awrite(a, type, p);
  }
  H5Aclose(a);
  H5Sclose(space);
  H5Tclose(type);
}

void IntAttr(hid_t obj, const char* name, long long value) {
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t a = H5Acreate2(obj, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, H5T_NATIVE_LLONG, &value);
  H5Aclose(a);
  H5Sclose(space);
}

void MaybeStringAttr(Input& in, hid_t obj, const char* name, const std::string& good) {
  const std::uint8_t choice = in.Byte() % 6;
  if (choice == 0) return;                        // missing
  if (choice == 1) return IntAttr(obj, name, 7);  // wrong type
  const std::string value = choice == 2 ? "garbage" : good;
  StringAttr(obj, name, value, choice % 2 == 0);
}

void Column(Input& in, hid_t group, const char* name, std::size_t rows, bool timestamps) {
  const std::uint8_t shape = in.Byte() % 10;
  if (shape == 0) return;  // missing
  hsize_t n = rows;
  if (shape == 1) n = rows + 1 + in.Byte() % 3;
  if (shape == 2 && rows > 0) n = rows - 1;
  hid_t type = timestamps ? H5T_STD_I64LE : H5T_IEEE_F64LE;
  hid_t mem = timestamps ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE;
  if (shape == 3) type = timestamps ? H5T_STD_I32LE : H5T_IEEE_F32LE;  // converted by HDF5
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  hid_t space;
  bool write = true;
  if (shape == 4) {
    const hsize_t dims[2] = {n, 2};
    space = H5Screate_simple(2, dims, nullptr);
    write = false;
  } else if (shape == 5) {
    // Declared far larger than anything stored (chunked, never written).
    const hsize_t big[1] = {hsize_t{1} << (20 + in.Byte() % 12)};
    const hsize_t chunk[1] = {1024};
    H5Pset_chunk(dcpl, 1, chunk);
    space = H5Screate_simple(1, big, nullptr);
    write = false;
  } else if (shape == 6) {
    const hid_t str = H5Tcopy(H5T_C_S1);
    H5Tset_size(str, 4);
    const hsize_t dims[1] = {n};
    space = H5Screate_simple(1, dims, nullptr);
    const hid_t ds = H5Dcreate2(group, name, str, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Dclose(ds);
    H5Tclose(str);
    H5Sclose(space);
    H5Pclose(dcpl);
    return;
  } else {
    const hsize_t dims[1] = {n};
    space = H5Screate_simple(1, dims, nullptr);
  }
  const hid_t ds = H5Dcreate2(group, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (write && n > 0) {
    if (timestamps) {
      std::vector<std::int64_t> v(n);
      std::int64_t t = (in.Byte() % 4 == 0) ? in.I64() : 1'577'923'200'000'000'000LL;
      for (auto& x : v) {
        x = t;
        const std::uint8_t step = in.Byte();
        const std::int64_t day =
            step % 16 == 0 ? -86'400'000'000'000LL : (step % 16 == 1 ? 0 : 86'400'000'000'000LL);
        // Wrap rather than overflow: an arbitrary start near INT64_MAX is a valid input to
        // generate.
        t = static_cast<std::int64_t>(static_cast<std::uint64_t>(t) +
                                      static_cast<std::uint64_t>(day));
      }
      H5Dwrite(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    } else {
      std::vector<double> v(n);
      for (auto& x : v)
        x = in.Double();
      H5Dwrite(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    }
  }
  H5Dclose(ds);
  H5Sclose(space);
  H5Pclose(dcpl);
}

void BuildStore(Input& in, const std::string& path) {
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) std::abort();
  const hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
  MaybeStringAttr(in, root, "format", "ballast.bars");
  if (in.Byte() % 4 != 0) IntAttr(root, "format_version", in.Byte() % 4 == 0 ? in.I64() : 1);
  MaybeStringAttr(in, root, "price_adjustment", "adjusted");
  if (in.Byte() % 8 != 0) {
    const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    const hid_t bars = H5Gcreate2(f, "/bars/1d", lcpl, H5P_DEFAULT, H5P_DEFAULT);
    const char* names[] = {"AAA", "BBB", "C.D", "x y"};
    const int symbols = 1 + in.Byte() % 3;
    for (int k = 0; k < symbols; ++k) {
      const hid_t g = H5Gcreate2(bars, names[k], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      const std::size_t rows = in.Byte() % 40;
      if (in.Byte() % 3 != 0) {
        IntAttr(g, "rows", in.Byte() % 4 == 0 ? in.I64() : static_cast<long long>(rows));
      }
      MaybeStringAttr(in, g, "first_date", "2020-01-02");
      MaybeStringAttr(in, g, "last_date", "2020-02-10");
      MaybeStringAttr(in, g, "price_adjustment", "raw");
      if (in.Byte() % 4 == 0) IntAttr(g, "repaired_rows", in.I64());
      Column(in, g, "timestamp", rows, true);
      for (const char* col : {"open", "high", "low", "close", "volume"})
        Column(in, g, col, rows, false);
      H5Gclose(g);
    }
    H5Gclose(bars);
    H5Pclose(lcpl);
  }
  H5Gclose(root);
  H5Fclose(f);
}

void CheckLoaded(const ballast::data::SymbolSeries& s) {
  const std::size_t n = s.time.size();
  if (s.close.size() != n) std::abort();
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0 && s.time[i] <= s.time[i - 1]) std::abort();
    if (!std::isfinite(s.close[i]) || !(s.close[i] > 0.0)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ballast;
  // In memory where the machine has it (/dev/shm): a file per input is the cost of this target.
  static const std::string path =
      std::string(::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + "/ballast-fuzz-store-" +
      std::to_string(::getpid()) + ".h5";
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  Input in(data, size);
  BuildStore(in, path);
  try {
    const auto info = data::ReadStoreInfo(path);
    for (const auto& s : info.symbols) {
      data::LoadColumns columns;
      columns.open = in.Byte() % 2 == 0;
      for (const auto& loaded :
           data::LoadSeries(path, {s.symbol}, std::nullopt, std::nullopt, columns))
        CheckLoaded(loaded);
    }
  } catch (const Error&) {
  }
  ::unlink(path.c_str());
  return 0;
}
