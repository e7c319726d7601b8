#include "ballast/data/sqlite.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <cmath>
#include <limits>

namespace ballast::sqlite {

Db::Db(std::string path, int flags, std::string label, ErrorKind kind)
    : path_(std::move(path)), label_(std::move(label)), kind_(kind) {
  if (sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(kind_, fmt::format("{}: cannot open the {}: {}", path_, label_, why));
  }
}

Db::~Db() {
  sqlite3_close(db_);
}

void Db::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string why = err ? err : "unknown error";
    sqlite3_free(err);
    Fail(why);
  }
}

void Db::Fail(std::string_view what) const {
  throw Error(kind_, fmt::format("{}: {}: {}", path_, label_, what));
}

void Db::FailWithLastError() const {
  Fail(sqlite3_errmsg(db_));
}

Stmt::Stmt(Db& db, const char* sql) : db_(db) {
  if (sqlite3_prepare_v2(db.Handle(), sql, -1, &s_, nullptr) != SQLITE_OK) {
    db.FailWithLastError();
  }
}

Stmt::~Stmt() {
  sqlite3_finalize(s_);
}

Stmt& Stmt::Bind(int i, std::string_view v) {
  // An empty view may have a null data pointer, which SQLite would store as NULL.
  sqlite3_bind_text(s_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::Bind(int i, double v) {
  if (std::isnan(v)) return BindNull(i);
  sqlite3_bind_double(s_, i, v);
  return *this;
}

Stmt& Stmt::Bind(int i, std::int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}

Stmt& Stmt::BindNull(int i) {
  sqlite3_bind_null(s_, i);
  return *this;
}

Stmt& Stmt::BindTextOrNull(int i, std::string_view v) {
  return v.empty() ? BindNull(i) : Bind(i, v);
}

bool Stmt::Step() {
  const int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.FailWithLastError();
}

void Stmt::Run() {
  if (Step()) db_.Fail("a statement meant to change rows returned one");
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

int Stmt::Columns() {
  return sqlite3_column_count(s_);
}

std::string Stmt::Text(int i) {
  const auto* p = sqlite3_column_text(s_, i);
  return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
}

double Stmt::Real(int i) {
  return sqlite3_column_type(s_, i) == SQLITE_NULL ? std::numeric_limits<double>::quiet_NaN()
                                                   : sqlite3_column_double(s_, i);
}

std::int64_t Stmt::Int(int i) {
  return sqlite3_column_int64(s_, i);
}

}  // namespace ballast::sqlite
