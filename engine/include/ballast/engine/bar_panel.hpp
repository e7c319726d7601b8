#pragma once
/// The market-data read model every part of the engine looks at: bars aligned on one time axis,
/// stored time-major (row = time slice, column = symbol) as struct-of-arrays columns. A missing bar
/// is NaN in every price column. Replay fills it once from the store; a live source appends rows.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "ballast/engine/corporate_action.hpp"
#include "ballast/engine/time.hpp"

namespace ballast {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// A corporate action the kernel applies at the start of `row`'s slice (the first row on or
/// after its ex-date).
struct PanelAction {
  std::size_t row = 0;
  std::size_t col = 0;
  ActionKind kind = ActionKind::kSplit;
  double value = 0.0;
};

class BarPanel {
 public:
  BarPanel() = default;
  explicit BarPanel(std::vector<std::string> symbols);

  [[nodiscard]] std::size_t Rows() const noexcept { return times_.size(); }
  [[nodiscard]] std::size_t Cols() const noexcept { return symbols_.size(); }
  [[nodiscard]] const std::vector<std::string>& Symbols() const noexcept { return symbols_; }
  /// Column of `symbol`, or -1.
  [[nodiscard]] std::ptrdiff_t IndexOf(std::string_view symbol) const noexcept;

  [[nodiscard]] Timestamp Time(std::size_t row) const noexcept { return times_[row]; }
  [[nodiscard]] Days Day(std::size_t row) const noexcept { return TimestampToDay(times_[row]); }
  [[nodiscard]] std::span<const Timestamp> Times() const noexcept { return times_; }

  [[nodiscard]] double Open(std::size_t row, std::size_t col) const noexcept {
    return open_[row * Cols() + col];
  }
  [[nodiscard]] double High(std::size_t row, std::size_t col) const noexcept {
    return high_[row * Cols() + col];
  }
  [[nodiscard]] double Low(std::size_t row, std::size_t col) const noexcept {
    return low_[row * Cols() + col];
  }
  [[nodiscard]] double Close(std::size_t row, std::size_t col) const noexcept {
    return close_[row * Cols() + col];
  }
  [[nodiscard]] double Volume(std::size_t row, std::size_t col) const noexcept {
    return volume_[row * Cols() + col];
  }
  [[nodiscard]] bool HasBar(std::size_t row, std::size_t col) const noexcept {
    return !std::isnan(close_[row * Cols() + col]);
  }
  /// All closes of one time slice (NaN where a symbol has no bar).
  [[nodiscard]] std::span<const double> CloseRow(std::size_t row) const noexcept {
    return {close_.data() + row * Cols(), Cols()};
  }
  [[nodiscard]] std::span<const double> OpenRow(std::size_t row) const noexcept {
    return {open_.data() + row * Cols(), Cols()};
  }

  /// Appends one time slice with every bar missing and returns its row. Rows must be appended in
  /// strictly increasing time.
  std::size_t AppendRow(Timestamp ts);
  void Reserve(std::size_t rows);
  /// Sets the bar of `col` in `row`.
  void SetBar(std::size_t row, std::size_t col, double open, double high, double low, double close,
              double volume) noexcept;
  /// Adds a corporate action (kept sorted by row, a split before a dividend).
  void AddAction(const PanelAction& action);
  /// The actions of `row` (none for a store read as adjusted prices).
  [[nodiscard]] std::span<const PanelAction> ActionsAt(std::size_t row) const noexcept;

 private:
  std::vector<std::string> symbols_;
  std::vector<Timestamp> times_;
  std::vector<double> open_, high_, low_, close_, volume_;
  std::vector<PanelAction> actions_;
};

}  // namespace ballast
