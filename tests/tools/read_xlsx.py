"""Reads a ballast tracking.xlsx with openpyxl (an independent reader) and prints, per sheet, the
header, the row count and a few checksums as JSON, for tests/integration/workbook_test.cpp."""
import json
import sys

import openpyxl

wb = openpyxl.load_workbook(sys.argv[1], read_only=True)
out = {"sheets": wb.sheetnames}
for name in wb.sheetnames:
    rows = list(wb[name].iter_rows(values_only=True))
    sheet = {"header": list(rows[0]), "rows": len(rows) - 1}
    if name == "Trades":
        sheet["value_sum"] = sum(r[5] for r in rows[1:])
        sheet["fees_sum"] = sum(r[6] for r in rows[1:])
        sheet["first"] = [rows[1][0].date().isoformat(), rows[1][1], rows[1][2], rows[1][3], rows[1][4]]
    if name == "Performance":
        sheet["last"] = [rows[-1][0].date().isoformat(), rows[-1][1]]
        sheet["contributions"] = sum(r[4] for r in rows[1:])
    if name == "Positions":
        last_date = rows[-1][0]
        sheet["last_weights"] = sum(r[2] for r in rows[1:] if r[0] == last_date)
    if name == "Metadata":
        sheet["values"] = {r[0]: r[1] for r in rows[1:]}
    out[name] = sheet
print(json.dumps(out, default=str))
