// Drives ballast's fake IB Gateway (tests/testkit/fake_tws.*) with a real TWS API client,
// @stoqey/ib, and prints what that client understood as one JSON line. Run by
// tests/integration/ib_real_client_test.cpp: node check.mjs PORT
import ib from "@stoqey/ib";

const { IBApi, EventName, SecType, BarSizeSetting, WhatToShow, OrderAction, OrderType } = ib;
const port = Number(process.argv[2]);
const api = new IBApi({ host: "127.0.0.1", port, clientId: 1 });
const out = { errors: [], notices: [], summary: {}, positions: {}, contracts: {}, history: [],
              orders: {}, open: [], executions: [], commissions: [] };
const fail = (why) => {
  out.failed = why;
  console.log(JSON.stringify(out));
  process.exit(1);
};
const timer = setTimeout(() => fail("timed out"), 30000);

let ready = 0;
const steps = [];
const next = () => {
  const step = steps.shift();
  if (step) step();
  else {
    clearTimeout(timer);
    out.serverVersion = api.serverVersion;
    api.disconnect();
    console.log(JSON.stringify(out));
    process.exit(0);
  }
};

api.on(EventName.error, (err, code, reqId) => {
  const entry = { code, reqId, text: err && err.message ? err.message : String(err) };
  if (reqId === -1 && code >= 2100 && code < 2200) out.notices.push(entry);
  else out.errors.push(entry);
  if (code === 200 || reqId === 9004) next();  // the unknown contract; no history
});
api.on(EventName.info, (message, code) => out.notices.push({ code, text: message }));
api.on(EventName.nextValidId, (id) => {
  out.nextValidId = id;
  if (++ready === 2) next();
});
api.on(EventName.managedAccounts, (accounts) => {
  out.accounts = accounts;
  if (++ready === 2) next();
});
api.on(EventName.currentTime, (t) => {
  out.currentTime = t;
  next();
});
api.on(EventName.accountSummary, (reqId, account, tag, value, currency) => {
  out.summary[tag] = { account, value, currency };
});
api.on(EventName.accountSummaryEnd, (reqId) => {
  api.cancelAccountSummary(reqId);
  next();
});
api.on(EventName.position, (account, contract, pos, avgCost) => {
  out.positions[contract.symbol] = { account, conId: contract.conId, pos, avgCost };
});
api.on(EventName.positionEnd, () => {
  api.cancelPositions();
  next();
});
api.on(EventName.contractDetails, (reqId, d) => {
  out.contracts[d.contract.symbol] = {
    conId: d.contract.conId,
    primaryExchange: d.contract.primaryExch,
    minTick: d.minTick,
    longName: d.longName,
    timeZoneId: d.timeZoneId,
    minSize: d.minSize,
  };
});
api.on(EventName.contractDetailsEnd, () => next());
api.on(EventName.historicalData, (reqId, date, open, high, low, close, volume) => {
  if (String(date).startsWith("finished")) next();
  else out.history.push({ date, open, high, low, close, volume });
});

// Orders: a step ends when `until` holds after an order event.
let until = null;
const check = () => {
  if (until && until()) {
    until = null;
    next();
  }
};
const order = (id) => (out.orders[id] = out.orders[id] || { statuses: [] });
api.on(EventName.orderStatus, (id, status, filled, remaining, avgFillPrice) => {
  const o = order(id);
  o.statuses.push(status);
  o.filled = filled;
  o.remaining = remaining;
  o.avgFillPrice = avgFillPrice;
  check();
});
api.on(EventName.openOrder, (id, contract, o, state) => {
  if (collectingOpen)
    out.open.push({ id, symbol: contract.symbol, conId: contract.conId, orderRef: o.orderRef,
                    action: o.action, qty: o.totalQuantity, type: o.orderType,
                    status: state.status });
});
let collectingOpen = false;
api.on(EventName.openOrderEnd, () => {
  collectingOpen = false;
  next();
});
api.on(EventName.execDetails, (reqId, contract, x) => {
  out.executions.push({ reqId, orderId: x.orderId, symbol: contract.symbol, execId: x.execId,
                        side: x.side, shares: x.shares, price: x.price, cumQty: x.cumQty,
                        orderRef: x.orderRef });
  check();
});
api.on(EventName.execDetailsEnd, () => next());
api.on(EventName.commissionReport, (r) => {
  out.commissions.push({ execId: r.execId, commission: r.commission, realizedPNL: r.realizedPNL });
  check();
});

const stock = (symbol) => ({ symbol, secType: SecType.STK, exchange: "SMART", currency: "USD" });
steps.push(() => api.reqCurrentTime());
steps.push(() => api.reqAccountSummary(9001, "All", "NetLiquidation,TotalCashValue,BuyingPower"));
steps.push(() => api.reqPositions());
steps.push(() => api.reqContractDetails(9002, stock("SPY")));
steps.push(() => api.reqContractDetails(9003, stock("NOPE")));
steps.push(() =>
  api.reqHistoricalData(9004, { ...stock("SPY"), conId: 756733 }, "", "10 D",
                        BarSizeSetting.DAYS_ONE, WhatToShow.ADJUSTED_LAST, 1, 1, false));
const spy = { ...stock("SPY"), conId: 756733 };
const agg = { ...stock("AGG"), conId: 39622943 };
steps.push(() => {
  until = () => out.commissions.length === 1 && (out.orders[117]?.statuses ?? []).includes("Filled");
  api.placeOrder(117, spy, { action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: 10,
                             tif: "DAY", account: "DU1234567", orderRef: "bltest-20260714-1-SPY",
                             transmit: true });
});
steps.push(() => {
  until = () => (out.orders[118]?.statuses ?? []).includes("Submitted");
  api.placeOrder(118, agg, { action: OrderAction.BUY, orderType: OrderType.LMT, lmtPrice: 1.5,
                             totalQuantity: 5, tif: "DAY", account: "DU1234567",
                             orderRef: "bltest-20260714-1-AGG", transmit: true });
});
steps.push(() => {
  collectingOpen = true;
  api.reqAllOpenOrders();
});
steps.push(() => {
  until = () => (out.orders[118]?.statuses ?? []).includes("Cancelled");
  api.cancelOrder(118);
});
steps.push(() => api.reqExecutions(9005, { clientId: 1 }));
api.connect();
