#include "ballast/backtests/tracking_workbook.hpp"

#include <fmt/format.h>
#include <xlsxwriter.h>

#include <chrono>
#include <cmath>
#include <vector>

#include "ballast/engine/config_node.hpp"
#include "ballast/engine/error.hpp"
#include "ballast/engine/metrics.hpp"

namespace ballast::backtests {
namespace {

lxw_datetime ExcelDate(Timestamp t) {
  const std::chrono::year_month_day ymd{TimestampToDay(t)};
  return lxw_datetime{static_cast<int>(ymd.year()),
                      static_cast<int>(static_cast<unsigned>(ymd.month())),
                      static_cast<int>(static_cast<unsigned>(ymd.day())),
                      0,
                      0,
                      0.0};
}

void Check(lxw_error err, const std::string& path, const char* what) {
  if (err != LXW_NO_ERROR) {
    throw Error(ErrorKind::kIo,
                fmt::format("{}: cannot write {} ({})", path, what, lxw_strerror(err)));
  }
}

void Header(lxw_worksheet* ws, std::initializer_list<const char*> names, lxw_format* bold) {
  lxw_col_t c = 0;
  for (const char* n : names)
    worksheet_write_string(ws, 0, c++, n, bold);
  worksheet_freeze_panes(ws, 1, 0);
}

}  // namespace

void WriteTrackingWorkbook(const BacktestResult& r, const std::string& path) {
  const RunRecord& rec = r.record;
  if (rec.weights.size() != rec.times.size() * rec.symbols) {
    throw Error(ErrorKind::kInternal,
                "tracking workbook needs per-day weights (a full-detail run)");
  }
  lxw_workbook_options options = {};
  options.constant_memory = LXW_TRUE;  // rows are written in order; memory stays flat
  lxw_workbook* wb = workbook_new_opt(path.c_str(), &options);
  if (wb == nullptr) throw Error(ErrorKind::kIo, fmt::format("{}: cannot create workbook", path));
  lxw_doc_properties props = {};
  // libxlsxwriter's C API takes non-const strings it does not modify.
  static char title[] = "ballast tracking workbook";
  static char author[] = "ballast";
  props.title = title;
  props.author = author;
  props.created = rec.times.empty() ? 1 : static_cast<time_t>(rec.times.back() / 1'000'000'000);
  workbook_set_properties(wb, &props);
  lxw_format* bold = workbook_add_format(wb);
  format_set_bold(bold);
  lxw_format* date = workbook_add_format(wb);
  format_set_num_format(date, "yyyy-mm-dd");
  lxw_format* pct = workbook_add_format(wb);
  format_set_num_format(pct, "0.00%");
  lxw_format* money = workbook_add_format(wb);
  format_set_num_format(money, "#,##0.00");

  const BarPanel& panel = *r.panel;
  const std::size_t n = rec.symbols;

  // Positions: every held position at each month's last session and at the run's last session
  // (daily rows for hundreds of symbols would not be a spreadsheet anyone reads).
  lxw_worksheet* pos = workbook_add_worksheet(wb, "Positions");
  Header(pos, {"date", "symbol", "weight", "value", "shares", "price"}, bold);
  worksheet_set_column(pos, 0, 0, 11, nullptr);
  lxw_row_t row = 1;
  std::vector<double> last(n, std::nan(""));
  for (std::size_t t = 0; t < rec.times.size(); ++t) {
    const std::size_t prow = r.first_row + t;
    for (std::size_t c = 0; c < n; ++c) {
      if (panel.HasBar(prow, c)) last[c] = panel.Close(prow, c);
    }
    const bool month_end =
        t + 1 == rec.times.size() ||
        std::chrono::year_month_day{TimestampToDay(rec.times[t])}.month() !=
            std::chrono::year_month_day{TimestampToDay(rec.times[t + 1])}.month();
    if (!month_end) continue;
    lxw_datetime d = ExcelDate(rec.times[t]);
    for (std::size_t c = 0; c < n; ++c) {
      const double w = rec.weights[t * n + c];
      if (w == 0.0) continue;
      const double value = w * rec.equity[t];
      worksheet_write_datetime(pos, row, 0, &d, date);
      worksheet_write_string(pos, row, 1, r.symbols[c].c_str(), nullptr);
      worksheet_write_number(pos, row, 2, w, pct);
      worksheet_write_number(pos, row, 3, value, money);
      worksheet_write_number(pos, row, 4, value / last[c], nullptr);
      worksheet_write_number(pos, row, 5, last[c], money);
      ++row;
    }
  }

  lxw_worksheet* trades = workbook_add_worksheet(wb, "Trades");
  Header(trades, {"date", "symbol", "side", "shares", "price", "value", "fees"}, bold);
  worksheet_set_column(trades, 0, 0, 11, nullptr);
  row = 1;
  for (const auto& tr : rec.trades) {
    lxw_datetime d = ExcelDate(tr.time);
    worksheet_write_datetime(trades, row, 0, &d, date);
    worksheet_write_string(trades, row, 1, r.symbols[tr.symbol].c_str(), nullptr);
    worksheet_write_string(trades, row, 2, tr.side == Side::kBuy ? "buy" : "sell", nullptr);
    worksheet_write_number(trades, row, 3, tr.quantity, nullptr);
    worksheet_write_number(trades, row, 4, tr.price, money);
    worksheet_write_number(trades, row, 5, tr.quantity * tr.price, money);
    worksheet_write_number(trades, row, 6, tr.commission + tr.slippage, money);
    ++row;
  }

  lxw_worksheet* perf = workbook_add_worksheet(wb, "Performance");
  Header(perf, {"date", "value", "return", "drawdown", "contributions"}, bold);
  worksheet_set_column(perf, 0, 0, 11, nullptr);
  // Time-weighted daily return and drawdown, as in summary.json.
  const std::vector<double> index = TimeWeightedIndex(rec, r.config.initial_cash);
  double peak = 0.0;
  for (std::size_t t = 0; t < rec.times.size(); ++t) {
    const double ret = t == 0 ? index[0] - 1.0 : index[t] / index[t - 1] - 1.0;
    peak = std::max(peak, index[t]);
    lxw_datetime d = ExcelDate(rec.times[t]);
    const auto prow = static_cast<lxw_row_t>(t + 1);
    worksheet_write_datetime(perf, prow, 0, &d, date);
    worksheet_write_number(perf, prow, 1, rec.equity[t], money);
    worksheet_write_number(perf, prow, 2, ret, pct);
    worksheet_write_number(perf, prow, 3, index[t] / peak - 1.0, pct);
    worksheet_write_number(perf, prow, 4, rec.flows[t], money);
  }

  lxw_worksheet* meta = workbook_add_worksheet(wb, "Metadata");
  Header(meta, {"key", "value"}, bold);
  worksheet_set_column(meta, 0, 0, 16, nullptr);
  worksheet_set_column(meta, 1, 1, 80, nullptr);
  const auto doc = ConfigDocument::FromText(r.config.resolved_json, r.config.origin);
  const std::string parameters = doc.Root().At("strategy").Dump();
  const std::pair<const char*, std::string> rows[] = {
      {"name", r.config.name},
      {"strategy", r.config.strategy.type},
      {"parameters", parameters},
      {"data range", rec.times.empty()
                         ? ""
                         : fmt::format("{} .. {}", FormatDate(TimestampToDay(rec.times.front())),
                                       FormatDate(TimestampToDay(rec.times.back())))},
      {"store", r.config.store_path},
      {"engine version", "ballast " BALLAST_VERSION},
      {"config", r.config.resolved_json},
  };
  row = 1;
  for (const auto& [k, v] : rows) {
    worksheet_write_string(meta, row, 0, k, bold);
    worksheet_write_string(meta, row, 1, v.substr(0, 32767).c_str(),
                           nullptr);  // Excel's cell limit
    ++row;
  }
  Check(workbook_close(wb), path, "workbook");
}

}  // namespace ballast::backtests
