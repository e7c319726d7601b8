#pragma once
/// A directory of outputs written whole or not at all, and never at the cost of files ballast did
/// not write. Everything goes into a staging directory beside the target (`DIR.tmp-PID`), which is
/// moved into place only when complete: exclusively when the target is new (a second run into the
/// same directory fails instead of replacing the first), or, when replacing, by moving the old
/// directory aside first and removing it only after the new one is in place. Only a directory that
/// carries ballast's marker file is ever replaced.

#include <filesystem>
#include <string>
#include <vector>

namespace ballast::backtests {

/// The marker file in every directory ballast writes; `--force` replaces only directories with it.
inline constexpr const char* kRunMarker = ".ballast-run";

class OutputDir {
 public:
  /// Checks `target` before any work is done, creating nothing. Throws Error(kUsage), naming the
  /// directory, when it exists and `replace` is false; when replacing it is not allowed: not a
  /// directory, a symbolic link, without the marker, `/`, the home directory, the current
  /// directory, one of `protect`, or a directory holding any of these.
  /// `pick_free_name` (default directory names): when another run took `target` meanwhile,
  /// Commit moves the outputs to `target-2`, `target-3`, ... instead of failing.
  OutputDir(std::string target, bool replace, std::vector<std::filesystem::path> protect = {},
            bool pick_free_name = false);
  /// Removes the staging directory (and the parent directories Begin created) unless committed.
  ~OutputDir();
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;

  /// The target as the user named it, without trailing separators (for messages).
  [[nodiscard]] const std::string& Display() const noexcept { return display_; }
  /// Creates the staging directory with the marker (and missing parents) and returns it. Staging
  /// directories of the same target left by a killed run (their process is gone) are removed
  /// first and reported in Notes().
  const std::filesystem::path& Begin();
  [[nodiscard]] const std::filesystem::path& Staging() const noexcept { return staging_; }
  /// Moves the staging directory into place (see the file comment). Throws Error(kUsage) when the
  /// target appeared meanwhile and is not replaced, Error(kIo) when a move fails; either way the
  /// target is as it was.
  void Commit();
  /// What Begin cleaned up, one line each, for the caller to log.
  [[nodiscard]] const std::vector<std::string>& Notes() const noexcept { return notes_; }

 private:
  void CheckReplaceable() const;

  std::string display_;
  std::filesystem::path target_;  // absolute, normalised
  std::filesystem::path staging_;
  bool replace_ = false;
  bool pick_free_name_ = false;
  bool committed_ = false;
  std::vector<std::filesystem::path> protect_;
  std::vector<std::filesystem::path> created_parents_;  // innermost first
  std::vector<std::string> notes_;
};

/// Writes the marker file into `dir` (which must exist).
void WriteRunMarker(const std::filesystem::path& dir);

}  // namespace ballast::backtests
