#include "ballast/engine/bar_panel.hpp"

#include <algorithm>
#include <cassert>

namespace ballast {

BarPanel::BarPanel(std::vector<std::string> symbols) : symbols_(std::move(symbols)) {}

std::ptrdiff_t BarPanel::IndexOf(std::string_view symbol) const noexcept {
  for (std::size_t i = 0; i < symbols_.size(); ++i) {
    if (symbols_[i] == symbol) return static_cast<std::ptrdiff_t>(i);
  }
  return -1;
}

void BarPanel::Reserve(std::size_t rows) {
  times_.reserve(rows);
  for (auto* v : {&open_, &high_, &low_, &close_, &volume_})
    v->reserve(rows * Cols());
}

std::size_t BarPanel::AppendRow(Timestamp ts) {
  assert(times_.empty() || ts > times_.back());
  times_.push_back(ts);
  for (auto* v : {&open_, &high_, &low_, &close_})
    v->resize(v->size() + Cols(), kNaN);
  volume_.resize(volume_.size() + Cols(), 0.0);
  return times_.size() - 1;
}

void BarPanel::SetBar(std::size_t row, std::size_t col, double open, double high, double low,
                      double close, double volume) noexcept {
  const std::size_t i = row * Cols() + col;
  open_[i] = open;
  high_[i] = high;
  low_[i] = low;
  close_[i] = close;
  volume_[i] = volume;
}

namespace {
bool ActionBefore(const PanelAction& a, const PanelAction& b) noexcept {
  return a.row != b.row ? a.row < b.row : a.kind < b.kind;
}
}  // namespace

void BarPanel::AddAction(const PanelAction& action) {
  actions_.insert(std::upper_bound(actions_.begin(), actions_.end(), action, ActionBefore), action);
}

std::span<const PanelAction> BarPanel::ActionsAt(std::size_t row) const noexcept {
  if (actions_.empty()) return {};
  const auto lo = std::lower_bound(actions_.begin(), actions_.end(), row,
                                   [](const PanelAction& a, std::size_t r) { return a.row < r; });
  auto hi = lo;
  while (hi != actions_.end() && hi->row == row)
    ++hi;
  return {lo, hi};
}

}  // namespace ballast
