#pragma once
/// A thin RAII layer over SQLite for ballast's databases (the live journal, the signal tracker):
/// one connection, prepared statements with checked steps, and errors that name the file and
/// what the database is. Kept out of widely included headers.

#include <cstdint>
#include <string>
#include <string_view>

#include "ballast/engine/error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace ballast::sqlite {

class Db {
 public:
  /// Opens `path` with SQLite open `flags`; `label` names the database in errors ("journal",
  /// "signals database"); errors are `kind`.
  Db(std::string path, int flags, std::string label, ErrorKind kind = ErrorKind::kIo);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void Exec(const char* sql);
  [[nodiscard]] sqlite3* Handle() noexcept { return db_; }
  [[nodiscard]] const std::string& Path() const noexcept { return path_; }
  /// Throws "<path>: <label>: <what>".
  [[noreturn]] void Fail(std::string_view what) const;
  /// Fail() with SQLite's last error message.
  [[noreturn]] void FailWithLastError() const;

 private:
  std::string path_, label_;
  ErrorKind kind_;
  sqlite3* db_ = nullptr;
};

/// A prepared statement, finalized on scope exit. Text binds store "" (never NULL) for an empty
/// view; a NaN double binds NULL and a NULL column reads as NaN.
class Stmt {
 public:
  Stmt(Db& db, const char* sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Bind(int i, std::string_view v);
  Stmt& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, double v);
  Stmt& Bind(int i, std::int64_t v);
  Stmt& Bind(int i, int v) { return Bind(i, static_cast<std::int64_t>(v)); }
  Stmt& BindNull(int i);
  /// NULL for an empty view.
  Stmt& BindTextOrNull(int i, std::string_view v);

  /// True while there is a row; throws on an error.
  bool Step();
  /// Runs a statement that returns no rows, then resets it (bindings cleared) for reuse.
  void Run();

  [[nodiscard]] int Columns();
  [[nodiscard]] std::string Text(int i);
  [[nodiscard]] double Real(int i);
  [[nodiscard]] std::int64_t Int(int i);

 private:
  Db& db_;
  sqlite3_stmt* s_ = nullptr;
};

}  // namespace ballast::sqlite
