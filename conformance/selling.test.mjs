// Selling conformance: ticket reservations -> checkout -> payment -> orders -> tickets -> check-in,
// driven through the official SDK only:
//   @wix/auto_sdk_events_ticket-reservations 1.0.54  (client.ticketReservations)
//   @wix/auto_sdk_events_orders 1.0.73               (client.orders)
//   @wix/auto_sdk_events_tickets 1.0.51              (client.tickets)
// plus the ticket-definitions v3 and events v3 modules for setup, on @wix/sdk 1.21.16.
//
// Run: BOXOFFICE_URL=... BOXOFFICE_API_KEY=... BOXOFFICE_SITE_ID=... BOXOFFICE_VISITOR_KEY=... node --test
// Every test builds its client lazily, so a missing BOXOFFICE_URL makes every test FAIL (never skip).
//
// Payment model of a Boxoffice server (test payment provider): a non-free online order is
// PENDING until the owner confirms it (orders.confirmOrder) -> PAID; a free order is FREE at
// once; checkout with options.payInPerson is OFFLINE_PENDING until confirmOrder -> PAID.
// Business refusals are HTTP 428 with details.applicationError.code; unknown ids are 404.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildClient,
  buildVisitorClient,
  requireEnv,
  RUN_ID,
  minuteFromNow,
  days,
  randomGuid,
  eventInput,
  tdInput,
  expectWixError,
  deleteEventsQuietly,
} from './client.mjs';

let _client;
const client = () => (_client ??= buildClient());
const td = () => client().ticketDefinitions;
const ev = () => client().wixEventsV2;
const tr = () => client().ticketReservations;
const or = () => client().orders;
const tk = () => client().tickets;

const createdEventIds = [];
after(async () => {
  if (_client) await deleteEventsQuietly(_client, createdEventIds);
});

const isGuid = (s) => typeof s === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
const MINUTE = 60_000;

function assertDate(value, label) {
  assert.ok(value instanceof Date, `${label} must be a JS Date (the SDK converts ISO strings), got ${typeof value}: ${value}`);
  assert.ok(!Number.isNaN(value.getTime()), `${label} must be a valid date, got ${value}`);
}

function assertAboutNow(value, label, slackMs = 5 * MINUTE) {
  assertDate(value, label);
  assert.ok(Math.abs(value.getTime() - Date.now()) < slackMs, `${label} must be about now, got ${value.toISOString()}`);
}

/** Ticket reservations use CommonMoney: exactly {value, currency}, no `amount` (TR typings 305-316). */
function assertCommonMoney(m, value, label, currency = 'USD') {
  assert.ok(m && typeof m === 'object', `${label} must be a money object, got ${JSON.stringify(m)}`);
  assert.deepEqual(Object.keys(m).sort(), ['currency', 'value'], `${label} is CommonMoney {value, currency} (no amount), got ${JSON.stringify(m)}`);
  assert.equal(typeof m.value, 'string', `${label}.value is a decimal string, got ${JSON.stringify(m)}`);
  assert.equal(Number(m.value), Number(value), `${label}.value must be ${value}, got ${JSON.stringify(m)}`);
  assert.equal(m.currency, currency, `${label}.currency`);
}

/** Legacy orders/tickets Money: {amount, value, currency}; the SDK typings read `amount` (OR typings 228-245). */
function assertLegacyMoney(m, value, label, currency = 'USD') {
  assert.ok(m && typeof m === 'object', `${label} must be a money object, got ${JSON.stringify(m)}`);
  assert.equal(typeof m.amount, 'string', `${label}.amount (the field the SDK typings name) must be a decimal string, got ${JSON.stringify(m)}`);
  assert.equal(typeof m.value, 'string', `${label}.value must be a decimal string, got ${JSON.stringify(m)}`);
  assert.equal(Number(m.amount), Number(value), `${label}.amount must be ${value}, got ${JSON.stringify(m)}`);
  assert.equal(Number(m.value), Number(value), `${label}.value must be ${value}, got ${JSON.stringify(m)}`);
  assert.equal(m.currency, currency, `${label}.currency`);
}

const usd = (value) => ({ fixedPrice: { value, currency: 'USD' } });

/** A published TICKETING event with the given ticket definitions (name -> createTicketDefinition input extras). */
async function newSellingEvent(label, defs) {
  const e = await ev().createEvent(eventInput(`Sell ${label} ${RUN_ID}`), { draft: true });
  assert.ok(isGuid(e?._id), 'createEvent must return an event with _id');
  createdEventIds.push(e._id);
  const tds = {};
  for (const [name, extra] of Object.entries(defs)) {
    tds[name] = await td().createTicketDefinition(tdInput(e._id, name, extra));
    assert.ok(isGuid(tds[name]._id), `createTicketDefinition(${name}) must return _id`);
  }
  await ev().publishDraftEvent(e._id);
  return { event: e, tds };
}

const guestForm = (first = 'Ada', last = 'Lovelace', email = `ada.${RUN_ID}@example.com`) => ({
  form: {
    inputValues: [
      { inputName: 'firstName', value: first },
      { inputName: 'lastName', value: last },
      { inputName: 'email', value: email },
    ],
  },
});

async function reserve(ticketDefinitionId, quantity, extra = {}) {
  return tr().createTicketReservation({ tickets: [{ ticketDefinitionId, quantity, ...extra }] });
}

async function salesDetails(ticketDefinitionId) {
  const t = await td().getTicketDefinition(ticketDefinitionId, { fields: ['SALES_DETAILS'] });
  assert.ok(t.salesDetails, `getTicketDefinition with SALES_DETAILS must return salesDetails, got ${JSON.stringify(t)}`);
  return t.salesDetails;
}

function pick(sd) {
  return { unsoldCount: sd.unsoldCount, soldCount: sd.soldCount, reservedCount: sd.reservedCount, soldOut: sd.soldOut };
}

/** Origin-rewrite an absolute URL the server gave us to BOXOFFICE_URL, keeping path + query. */
function toBoxoffice(urlString) {
  const u = new URL(urlString);
  const base = new URL(requireEnv('BOXOFFICE_URL'));
  const basePath = base.pathname.replace(/\/+$/, '');
  const path = basePath && u.pathname.startsWith(`${basePath}/`) ? u.pathname : `${basePath}${u.pathname}`;
  return `${base.origin}${path}${u.search}`;
}

// ---------------------------------------------------------------------------

describe('environment', () => {
  test('BOXOFFICE_URL and keys are configured (the suite fails, never skips, without a server)', () => {
    requireEnv('BOXOFFICE_URL');
    requireEnv('BOXOFFICE_API_KEY');
    requireEnv('BOXOFFICE_SITE_ID');
    requireEnv('BOXOFFICE_VISITOR_KEY');
  });
});

// The whole paid flow, step by step. Each step needs the state of the previous ones.
describe('paid flow: reserve -> checkout (PENDING) -> confirmOrder (PAID) -> orders -> tickets -> check-in -> archive', () => {
  const s = {};
  const need = (...keys) => {
    for (const k of keys) if (s[k] === undefined) throw new Error(`an earlier step failed: no ${k}`);
  };

  test('setup: draft TICKETING event, ticket definitions (limited paid, free, pricing options), publish', async () => {
    const { event, tds } = await newSellingEvent('flow', {
      Paid: { initialLimit: 3, pricingMethod: usd('10') },
      Free: { initialLimit: 5, pricingMethod: usd('0') },
      Options: {
        pricingMethod: {
          pricingOptions: {
            optionDetails: [
              { name: 'Adult', price: { value: '50', currency: 'USD' } },
              { name: 'Child', price: { value: '25', currency: 'USD' } },
            ],
          },
        },
      },
    });
    assert.equal(tds.Free.pricingMethod.free, true);
    assert.equal(tds.Options.pricingMethod.pricingOptions.optionDetails.length, 2);
    s.event = event;
    s.tds = tds;
    const published = await ev().getEvent(event._id);
    assert.notEqual(published.status, 'DRAFT', 'publishDraftEvent must publish the event');
  });

  test('createTicketReservation: PENDING, Dates, CommonMoney price/subTotal, inventory held', async () => {
    need('event');
    const before = Date.now();
    const r = await reserve(s.tds.Paid._id, 2);
    assert.ok(isGuid(r._id), `reservation _id must be a GUID (REST id renamed by the SDK), got ${r._id}`);
    assert.equal('id' in r, false, 'REST "id" must have been renamed to _id');
    assert.equal(r.status, 'PENDING');
    assertAboutNow(r._createdDate, '_createdDate');
    assertAboutNow(r._updatedDate, '_updatedDate');
    assertDate(r.expirationDate, 'expirationDate');
    assert.ok(r.expirationDate.getTime() > before, 'a PENDING reservation expires in the future');
    assert.ok(r.expirationDate.getTime() <= Date.now() + 31 * MINUTE, 'reservation duration is at most 30 minutes');
    assert.equal(typeof r.revision, 'string', `revision is an int64 string, got ${JSON.stringify(r.revision)}`);
    assert.equal(r.tickets?.length, 1, `one line item, got ${JSON.stringify(r.tickets)}`);
    const li = r.tickets[0];
    assert.equal(li.ticketDefinitionId, s.tds.Paid._id);
    assert.equal(li.eventId, s.event._id);
    assert.equal(li.quantity, 2);
    assert.equal(li.ticketName, 'Paid');
    assertCommonMoney(li.price, 10, 'tickets[0].price');
    assertCommonMoney(li.subTotal, 20, 'tickets[0].subTotal');
    s.reservation = r;

    assert.deepEqual(pick(await salesDetails(s.tds.Paid._id)), { unsoldCount: 1, soldCount: 0, reservedCount: 2, soldOut: false });
  });

  test('getTicketReservation returns the same reservation (unwrapped, Dates, CommonMoney)', async () => {
    need('reservation');
    const g = await tr().getTicketReservation(s.reservation._id);
    assert.equal(g._id, s.reservation._id);
    assert.equal(g.status, 'PENDING');
    assertDate(g._createdDate, '_createdDate');
    assert.equal(g._createdDate.getTime(), s.reservation._createdDate.getTime());
    assertDate(g.expirationDate, 'expirationDate');
    assert.equal(g.expirationDate.getTime(), s.reservation.expirationDate.getTime());
    assert.equal(g.tickets[0].quantity, 2);
    assertCommonMoney(g.tickets[0].price, 10, 'tickets[0].price');
    assertCommonMoney(g.tickets[0].subTotal, 20, 'tickets[0].subTotal');
  });

  test('checkout: whole response {order, reservations, ...}; test payment -> order PENDING', async () => {
    need('reservation');
    const res = await or().checkout(s.event._id, { reservationId: s.reservation._id, guests: [guestForm()] });
    assert.ok(res && typeof res === 'object' && res.order, `checkout resolves to the whole response {order,...}, got ${JSON.stringify(res)}`);
    const o = res.order;
    assert.equal(typeof o.orderNumber, 'string');
    assert.ok(o.orderNumber.length > 0 && o.orderNumber.length <= 36);
    assert.equal(o.eventId, s.event._id);
    assert.equal(o.reservationId, s.reservation._id);
    assert.equal(o.status, 'PENDING', 'a non-free online order waits for payment');
    assert.equal(o.confirmed, false);
    assertAboutNow(o.created, 'order.created');
    assert.equal(o.firstName, 'Ada');
    assert.equal(o.lastName, 'Lovelace');
    assert.equal(o.email, `ada.${RUN_ID}@example.com`);
    assert.equal(o.ticketsQuantity, 2);
    assertLegacyMoney(o.totalPrice, 20, 'order.totalPrice');
    assert.ok(Array.isArray(o.tickets), 'order.tickets is a non-null path of CheckoutResponse');
    if (res.expires !== undefined && res.expires !== null) assertDate(res.expires, 'expires');
    assert.ok(Array.isArray(res.reservations) && res.reservations.length === 1, `reservations[] (legacy), got ${JSON.stringify(res.reservations)}`);
    const lr = res.reservations[0];
    assert.equal(lr.quantity, 2);
    assert.equal(lr.ticket?._id, s.tds.Paid._id, 'legacy TicketDefinition id is renamed to _id');
    assertLegacyMoney(lr.ticket.price, 10, 'reservations[0].ticket.price');
    s.order = o;

    // the seats stay held while the order waits for payment
    const sd = await salesDetails(s.tds.Paid._id);
    assert.equal(sd.unsoldCount, 1, `unsold must stay 1 while the order is PENDING, got ${JSON.stringify(sd)}`);
  });

  test('checkout of an already checked-out reservation fails with 428', async () => {
    need('order');
    await expectWixError(or().checkout(s.event._id, { reservationId: s.reservation._id, guests: [guestForm()] }), { status: 428 });
  });

  test('a ticket of an unpaid order cannot be checked in: 428 ORDER_NOT_CONFIRMED', async () => {
    need('order');
    const list = await tk().listTickets({ eventId: [s.event._id], orderNumber: [s.order.orderNumber], fieldset: ['TICKET_DETAILS'] });
    assert.equal(list.tickets?.length, 2, `a PENDING order already has its 2 tickets, got ${JSON.stringify(list)}`);
    for (const t of list.tickets) assert.equal(t.orderStatus, 'PENDING');
    await expectWixError(tk().checkInTickets(s.event._id, { ticketNumber: [list.tickets[0].ticketNumber] }), {
      status: 428,
      code: 'ORDER_NOT_CONFIRMED',
    });
  });

  test('confirmOrder -> {orders:[PAID]}; getOrder PAID; reservation CONFIRMED; seats sold', async () => {
    need('order');
    const res = await or().confirmOrder(s.event._id, { orderNumber: [s.order.orderNumber] });
    assert.ok(Array.isArray(res?.orders), `confirmOrder resolves to the whole response {orders}, got ${JSON.stringify(res)}`);
    assert.equal(res.orders.length, 1);
    assert.equal(res.orders[0].orderNumber, s.order.orderNumber);
    assert.equal(res.orders[0].status, 'PAID');
    assert.equal(res.orders[0].confirmed, true);
    assertDate(res.orders[0].created, 'orders[0].created');

    const g = await or().getOrder({ eventId: s.event._id, orderNumber: s.order.orderNumber }, { fieldset: ['DETAILS'] });
    assert.equal(g.status, 'PAID');
    s.paid = true;

    const r = await tr().getTicketReservation(s.reservation._id);
    assert.equal(r.status, 'CONFIRMED', 'the reservation of a paid order is CONFIRMED');
    assert.deepEqual(pick(await salesDetails(s.tds.Paid._id)), { unsoldCount: 1, soldCount: 2, reservedCount: 0, soldOut: false });
  });

  test('getOrder with DETAILS, TICKETS, INVOICE: Dates, legacy Money everywhere, tickets, invoice', async () => {
    need('paid');
    const o = await or().getOrder(
      { eventId: s.event._id, orderNumber: s.order.orderNumber },
      { fieldset: ['DETAILS', 'TICKETS', 'INVOICE'] },
    );
    assert.equal(o.orderNumber, s.order.orderNumber);
    assert.equal(o.eventId, s.event._id);
    assert.equal(o.reservationId, s.reservation._id);
    assert.equal(o.status, 'PAID');
    assert.equal(o.confirmed, true);
    assert.equal(o.archived, false);
    assert.equal(o.firstName, 'Ada');
    assert.equal(o.lastName, 'Lovelace');
    assert.equal(o.fullName, 'Ada Lovelace');
    assert.equal(o.ticketsQuantity, 2);
    assertDate(o.created, 'order.created');
    assert.equal(o.created.getTime(), s.order.created.getTime());
    assertLegacyMoney(o.totalPrice, 20, 'order.totalPrice');
    assert.equal(typeof o.ticketsPdf, 'string', 'ticketsPdf (DETAILS) is a URL');
    assert.ok(/^https?:\/\//.test(o.ticketsPdf), `ticketsPdf must be an absolute URL, got ${o.ticketsPdf}`);

    assert.equal(o.tickets?.length, 2, `TICKETS returns the 2 tickets, got ${JSON.stringify(o.tickets)}`);
    for (const [i, t] of o.tickets.entries()) {
      assert.equal(typeof t.ticketNumber, 'string');
      assert.equal(t.orderNumber, s.order.orderNumber);
      assert.equal(t.ticketDefinitionId, s.tds.Paid._id);
      assert.equal(t.name, 'Paid');
      assert.equal(t.free, false);
      assert.equal(t.orderStatus, 'PAID');
      assertLegacyMoney(t.price, 10, `tickets[${i}].price`);
      assert.equal(t.checkIn ?? null, null, 'not checked in yet');
    }
    assert.equal(new Set(o.tickets.map((t) => t.ticketNumber)).size, 2, 'ticket numbers are unique');

    const inv = o.invoice;
    assert.ok(inv && Array.isArray(inv.items), `INVOICE returns invoice.items, got ${JSON.stringify(inv)}`);
    assert.equal(inv.items.length, 1);
    const it = inv.items[0];
    assert.ok(typeof it._id === 'string' && it._id.length > 0, `invoice.items[].id is renamed to _id by the SDK, got ${JSON.stringify(it)}`);
    assert.equal(it.quantity, 2);
    assert.equal(it.name, 'Paid');
    assertLegacyMoney(it.price, 10, 'invoice.items[0].price');
    assertLegacyMoney(it.total, 20, 'invoice.items[0].total');
    assertLegacyMoney(inv.subTotal, 20, 'invoice.subTotal');
    assertLegacyMoney(inv.grandTotal, 20, 'invoice.grandTotal (fee included)');
    assert.ok(Array.isArray(inv.fees), 'invoice.fees is a non-null path');
    s.tickets = o.tickets;
    s.ticketsPdf = o.ticketsPdf;
  });

  test('ticketsPdf is a credential-free link that serves application/pdf', async () => {
    need('ticketsPdf');
    const res = await fetch(toBoxoffice(s.ticketsPdf));
    assert.equal(res.status, 200, `GET ${s.ticketsPdf} (no auth headers) must be 200, got ${res.status}`);
    assert.match(res.headers.get('content-type') ?? '', /^application\/pdf/);
    const bytes = new Uint8Array(await res.arrayBuffer());
    assert.equal(new TextDecoder().decode(bytes.slice(0, 5)), '%PDF-', 'the body is a PDF document');

    const t0 = s.tickets[0];
    if (typeof t0.ticketPdfUrl === 'string') {
      const one = await fetch(toBoxoffice(t0.ticketPdfUrl));
      assert.equal(one.status, 200, `GET ticketPdfUrl ${t0.ticketPdfUrl} must be 200, got ${one.status}`);
      assert.match(one.headers.get('content-type') ?? '', /^application\/pdf/);
    }

    const tampered = new URL(toBoxoffice(s.ticketsPdf));
    const bad = await fetch(`${tampered.origin}${tampered.pathname}x${tampered.search}`);
    assert.notEqual(bad.status, 200, 'an altered PDF link must not serve the tickets');
  });

  test('listOrders({eventId:[...], fieldset}) -> {total, orders[]}; created is a Date', async () => {
    need('paid');
    const res = await or().listOrders({ eventId: [s.event._id], fieldset: ['DETAILS', 'TICKETS'] });
    assert.equal(res.total, 1, `one order in this event, got ${JSON.stringify(res)}`);
    assert.equal(typeof res.offset, 'number');
    assert.equal(typeof res.limit, 'number');
    assert.equal(res.orders.length, 1);
    const o = res.orders[0];
    assert.equal(o.orderNumber, s.order.orderNumber);
    assert.equal(o.eventId, s.event._id);
    assert.equal(o.status, 'PAID');
    assertDate(o.created, 'orders[0].created');
    assertLegacyMoney(o.totalPrice, 20, 'orders[0].totalPrice');
    assert.equal(o.tickets?.length, 2);
    assertLegacyMoney(o.tickets[0].price, 10, 'orders[0].tickets[0].price');

    const byStatus = await or().listOrders({ eventId: [s.event._id], status: ['PENDING'], fieldset: ['DETAILS'] });
    assert.equal(byStatus.total, 0, 'status filter: no PENDING orders left');
    const other = await or().listOrders({ eventId: [randomGuid()] });
    assert.equal(other.total, 0);
    assert.deepEqual(other.orders ?? [], []);
  });

  test('getSummary({eventId}) -> sales per currency: total (legacy Money), totalOrders, totalTickets', async () => {
    need('paid');
    const res = await or().getSummary({ eventId: s.event._id });
    assert.ok(Array.isArray(res?.sales), `getSummary resolves to {sales:[...]}, got ${JSON.stringify(res)}`);
    assert.equal(res.sales.length, 1, 'one entry per currency');
    const sale = res.sales[0];
    assertLegacyMoney(sale.total, 20, 'sales[0].total');
    assert.equal(sale.totalOrders, 1);
    assert.equal(sale.totalTickets, 2);
    assert.ok(sale.revenue && typeof sale.revenue.currency === 'string', `sales[0].revenue is Money, got ${JSON.stringify(sale.revenue)}`);
  });

  test('listTickets({eventId:[...], fieldset:[TICKET_DETAILS, GUEST_DETAILS]})', async () => {
    need('tickets');
    const res = await tk().listTickets({ eventId: [s.event._id], fieldset: ['TICKET_DETAILS', 'GUEST_DETAILS'] });
    assert.equal(res.total, 2, `two tickets in this event, got ${JSON.stringify(res)}`);
    assert.equal(res.tickets.length, 2);
    assert.deepEqual(
      res.tickets.map((t) => t.ticketNumber),
      [...s.tickets.map((t) => t.ticketNumber)].sort(),
      'default sort is ticket_number:asc',
    );
    for (const [i, t] of res.tickets.entries()) {
      assert.equal(t.orderNumber, s.order.orderNumber);
      assert.equal(t.ticketDefinitionId, s.tds.Paid._id);
      assert.equal(t.name, 'Paid');
      assert.equal(t.free, false);
      assert.equal(t.orderStatus, 'PAID');
      assert.equal(t.archived, false);
      assert.equal(t.orderArchived, false);
      assertLegacyMoney(t.price, 10, `tickets[${i}].price`);
      assert.equal(typeof t.ticketPdfUrl, 'string', `TICKET_DETAILS returns ticketPdfUrl (TK typings 387), got ${JSON.stringify(t)}`);
      assert.ok(t.guestDetails && typeof t.guestDetails.guestAssigned === 'boolean', `GUEST_DETAILS returns guestDetails, got ${JSON.stringify(t.guestDetails)}`);
    }
    const one = await tk().listTickets({ eventId: [s.event._id], ticketNumber: [s.tickets[0].ticketNumber], fieldset: ['TICKET_DETAILS'] });
    assert.deepEqual(one.tickets.map((t) => t.ticketNumber), [s.tickets[0].ticketNumber]);
  });

  test('getTicket(ticketNumber, {eventId, fieldset}) returns the ticket (unwrapped)', async () => {
    need('tickets');
    const t = await tk().getTicket(s.tickets[0].ticketNumber, { eventId: s.event._id, fieldset: ['TICKET_DETAILS', 'GUEST_DETAILS'] });
    assert.equal(t.ticketNumber, s.tickets[0].ticketNumber);
    assert.equal(t.orderNumber, s.order.orderNumber);
    assert.equal(t.ticketDefinitionId, s.tds.Paid._id);
    assertLegacyMoney(t.price, 10, 'ticket.price');
    assert.equal(t.checkIn ?? null, null);
  });

  test('TICKET_DETAILS tickets carry checkInUrl (listTickets, getTicket)', async () => {
    need('tickets');
    // TK typings 387/523: TICKET_DETAILS returns ... `checkInUrl` and `ticketPdfUrl`; both are
    // NonNullablePaths of listTickets (typings 897) and getTicket (typings 1012).
    const list = await tk().listTickets({ eventId: [s.event._id], fieldset: ['TICKET_DETAILS'] });
    for (const t of list.tickets) {
      assert.equal(typeof t.checkInUrl, 'string', `listTickets: TICKET_DETAILS returns checkInUrl, got ${JSON.stringify(t)}`);
      assert.ok(t.checkInUrl.includes(t.ticketNumber), `checkInUrl names the ticket, got ${t.checkInUrl}`);
    }
    const g = await tk().getTicket(s.tickets[0].ticketNumber, { eventId: s.event._id, fieldset: ['TICKET_DETAILS'] });
    assert.equal(typeof g.checkInUrl, 'string', `getTicket: TICKET_DETAILS returns checkInUrl, got ${JSON.stringify(g)}`);
  });

  test('checkInTickets -> {tickets} with checkIn.created a Date; second check-in 428 TICKET_ALREADY_CHECKED_IN', async () => {
    need('tickets');
    const tn = s.tickets[0].ticketNumber;
    const res = await tk().checkInTickets(s.event._id, { ticketNumber: [tn] });
    assert.ok(Array.isArray(res?.tickets), `checkInTickets resolves to the whole response {tickets}, got ${JSON.stringify(res)}`);
    assert.equal(res.tickets.length, 1);
    assert.equal(res.tickets[0].ticketNumber, tn);
    assertAboutNow(res.tickets[0].checkIn?.created, 'tickets[0].checkIn.created');
    s.checkedIn = tn;

    await expectWixError(tk().checkInTickets(s.event._id, { ticketNumber: [tn] }), { status: 428, code: 'TICKET_ALREADY_CHECKED_IN' });

    const g = await tk().getTicket(tn, { eventId: s.event._id, fieldset: ['TICKET_DETAILS'] });
    assertDate(g.checkIn?.created, 'getTicket checkIn.created');
    const checked = await tk().listTickets({ eventId: [s.event._id], state: ['CHECKED_IN'], fieldset: ['TICKET_DETAILS'] });
    assert.deepEqual(checked.tickets.map((t) => t.ticketNumber), [tn], 'state CHECKED_IN lists the checked-in ticket only');
    const o = await or().getOrder({ eventId: s.event._id, orderNumber: s.order.orderNumber }, { fieldset: ['TICKETS'] });
    assert.equal(o.fullyCheckedIn, false, 'one of two tickets checked in: not fully checked in');
    assertDate(o.tickets.find((t) => t.ticketNumber === tn)?.checkIn?.created, 'order.tickets[].checkIn.created');
  });

  test('deleteTicketCheckIns -> {tickets} without checkIn; the ticket can be checked in again afterwards', async () => {
    need('checkedIn');
    const tn = s.checkedIn;
    const res = await tk().deleteTicketCheckIns(s.event._id, { ticketNumber: [tn] });
    assert.ok(Array.isArray(res?.tickets), `deleteTicketCheckIns resolves to {tickets}, got ${JSON.stringify(res)}`);
    assert.equal(res.tickets.length, 1);
    assert.equal(res.tickets[0].ticketNumber, tn);
    assert.equal(res.tickets[0].checkIn ?? null, null, 'the check-in is gone');
    const g = await tk().getTicket(tn, { eventId: s.event._id, fieldset: ['TICKET_DETAILS'] });
    assert.equal(g.checkIn ?? null, null);
  });

  test('updateTicket(archived) -> {ticket}; updateOrder(archived) -> {order}', async () => {
    need('tickets');
    const tn = s.tickets[1].ticketNumber;
    const ut = await tk().updateTicket(tn, { eventId: s.event._id, fields: ['archived'], archived: true });
    assert.ok(ut?.ticket, `updateTicket resolves to the whole response {ticket}, got ${JSON.stringify(ut)}`);
    assert.equal(ut.ticket.ticketNumber, tn);
    assert.equal(ut.ticket.archived, true);
    assert.equal((await tk().getTicket(tn, { eventId: s.event._id, fieldset: ['TICKET_DETAILS'] })).archived, true);

    const uo = await or().updateOrder(
      { eventId: s.event._id, orderNumber: s.order.orderNumber },
      { fields: ['archived'], archived: true },
    );
    assert.ok(uo?.order, `updateOrder resolves to the whole response {order}, got ${JSON.stringify(uo)}`);
    assert.equal(uo.order.orderNumber, s.order.orderNumber);
    assert.equal(uo.order.archived, true);
    assertDate(uo.order.created, 'order.created');
    const o = await or().getOrder({ eventId: s.event._id, orderNumber: s.order.orderNumber }, { fieldset: ['DETAILS', 'TICKETS'] });
    assert.equal(o.archived, true);
    assert.equal(o.status, 'PAID', 'archiving does not change the status');
    for (const t of o.tickets) assert.equal(t.orderArchived, true);
  });
});

describe('free and offline orders', () => {
  test('free ticket: checkout -> FREE at once, confirmed, total 0, ticket free, seat sold', async () => {
    const { event, tds } = await newSellingEvent('free', { Free: { initialLimit: 5, pricingMethod: usd('0') } });
    const r = await reserve(tds.Free._id, 1);
    assertCommonMoney(r.tickets[0].price, 0, 'free price');
    assertCommonMoney(r.tickets[0].subTotal, 0, 'free subTotal');
    const res = await or().checkout(event._id, { reservationId: r._id, guests: [guestForm('Free', 'Guest')] });
    const o = res.order;
    assert.equal(o.status, 'FREE');
    assert.equal(o.confirmed, true);
    assertLegacyMoney(o.totalPrice, 0, 'order.totalPrice');
    assertDate(o.created, 'order.created');
    const g = await or().getOrder({ eventId: event._id, orderNumber: o.orderNumber }, { fieldset: ['DETAILS', 'TICKETS'] });
    assert.equal(g.status, 'FREE');
    assert.equal(g.tickets.length, 1);
    assert.equal(g.tickets[0].free, true);
    assertLegacyMoney(g.tickets[0].price, 0, 'tickets[0].price');
    assert.deepEqual(pick(await salesDetails(tds.Free._id)), { unsoldCount: 4, soldCount: 1, reservedCount: 0, soldOut: false });
    assert.equal((await tr().getTicketReservation(r._id)).status, 'CONFIRMED');
    // a FREE order can be checked in right away
    const ci = await tk().checkInTickets(event._id, { ticketNumber: [g.tickets[0].ticketNumber] });
    assertDate(ci.tickets[0].checkIn?.created, 'checkIn.created');
  });

  test('payInPerson: checkout -> OFFLINE_PENDING (method inPerson); confirmOrder -> PAID', async () => {
    const { event, tds } = await newSellingEvent('offline', { Paid: { initialLimit: 3, pricingMethod: usd('10') } });
    const r = await reserve(tds.Paid._id, 1);
    const res = await or().checkout(event._id, { reservationId: r._id, guests: [guestForm('Pay', 'Later')], options: { payInPerson: true } });
    const o = res.order;
    assert.equal(o.status, 'OFFLINE_PENDING');
    assert.equal(o.confirmed, false);
    assert.equal(o.method, 'inPerson');
    assertLegacyMoney(o.totalPrice, 10, 'order.totalPrice');
    // offline orders hold their seats for good
    assert.equal((await salesDetails(tds.Paid._id)).unsoldCount, 2);

    const conf = await or().confirmOrder(event._id, { orderNumber: [o.orderNumber] });
    assert.equal(conf.orders[0].status, 'PAID');
    assert.equal(conf.orders[0].confirmed, true);
    const g = await or().getOrder({ eventId: event._id, orderNumber: o.orderNumber }, { fieldset: ['DETAILS'] });
    assert.equal(g.status, 'PAID');
    assert.deepEqual(pick(await salesDetails(tds.Paid._id)), { unsoldCount: 2, soldCount: 1, reservedCount: 0, soldOut: false });

    // confirming a PAID order again (idempotent, or refused with ORDER_ACTION_NOT_AVAILABLE) leaves it PAID
    try {
      const again = await or().confirmOrder(event._id, { orderNumber: [o.orderNumber] });
      assert.equal(again.orders[0].status, 'PAID');
    } catch (err) {
      if (err instanceof assert.AssertionError) throw err;
      await expectWixError(Promise.reject(err), { status: 428, code: 'ORDER_ACTION_NOT_AVAILABLE' });
    }
    assert.equal((await or().getOrder({ eventId: event._id, orderNumber: o.orderNumber }, { fieldset: ['DETAILS'] })).status, 'PAID');
    assert.equal((await salesDetails(tds.Paid._id)).soldCount, 1, 'a second confirm sells nothing more');
  });

  test('pricing options: the chosen option sets price, name and order total', async () => {
    const { event, tds } = await newSellingEvent('options', {
      Options: {
        pricingMethod: {
          pricingOptions: {
            optionDetails: [
              { name: 'Adult', price: { value: '50', currency: 'USD' } },
              { name: 'Child', price: { value: '25', currency: 'USD' } },
            ],
          },
        },
      },
    });
    const child = tds.Options.pricingMethod.pricingOptions.optionDetails.find((o) => o.name === 'Child');
    const r = await reserve(tds.Options._id, 2, { ticketInfo: { pricingOptionId: child.optionId } });
    const li = r.tickets[0];
    assert.equal(li.ticketInfo?.pricingOptionId, child.optionId);
    assert.equal(li.ticketInfo?.pricingOptionName, 'Child');
    assertCommonMoney(li.price, 25, 'price (Child)');
    assertCommonMoney(li.subTotal, 50, 'subTotal (2 x Child)');
    const res = await or().checkout(event._id, { reservationId: r._id, guests: [guestForm()] });
    assert.equal(res.order.status, 'PENDING');
    assertLegacyMoney(res.order.totalPrice, 50, 'order.totalPrice');

    await expectWixError(reserve(tds.Options._id, 1, { ticketInfo: { pricingOptionId: randomGuid() } }), {
      status: [400, 428],
      code: 'UNSUPPORTED_PRICING_OPTION',
    });
  });
});

describe('reservation lifecycle and refusals', () => {
  test('cancelTicketReservation -> {ticketReservation} CANCELED_MANUALLY; the seats are free again', async () => {
    const { tds } = await newSellingEvent('cancel', { Paid: { initialLimit: 3, pricingMethod: usd('10') } });
    const r = await reserve(tds.Paid._id, 2);
    assert.deepEqual(pick(await salesDetails(tds.Paid._id)), { unsoldCount: 1, soldCount: 0, reservedCount: 2, soldOut: false });
    const res = await tr().cancelTicketReservation(r._id);
    assert.ok(res?.ticketReservation, `cancelTicketReservation resolves to the whole response {ticketReservation}, got ${JSON.stringify(res)}`);
    assert.equal(res.ticketReservation._id, r._id);
    assert.equal(res.ticketReservation.status, 'CANCELED_MANUALLY');
    assertDate(res.ticketReservation._updatedDate, 'ticketReservation._updatedDate');
    assert.deepEqual(pick(await salesDetails(tds.Paid._id)), { unsoldCount: 3, soldCount: 0, reservedCount: 0, soldOut: false });
    assert.equal((await tr().getTicketReservation(r._id)).status, 'CANCELED_MANUALLY');
  });

  test('deleteTicketReservation of a PENDING reservation -> {ticketReservation}; seats free; then 404', async () => {
    const { tds } = await newSellingEvent('delete', { Paid: { initialLimit: 3, pricingMethod: usd('10') } });
    const r = await reserve(tds.Paid._id, 1);
    const res = await tr().deleteTicketReservation(r._id);
    assert.ok(res?.ticketReservation, `deleteTicketReservation resolves to the whole response {ticketReservation}, got ${JSON.stringify(res)}`);
    assert.equal(res.ticketReservation._id, r._id);
    assert.equal((await salesDetails(tds.Paid._id)).unsoldCount, 3);
    await expectWixError(tr().getTicketReservation(r._id), { status: 404, code: 'TICKET_RESERVATION_NOT_FOUND' });
  });

  test('reserving more than the remaining inventory -> 428 SOLD_OUT', async () => {
    const { tds } = await newSellingEvent('soldout', { Paid: { initialLimit: 3, pricingMethod: usd('10') } });
    await expectWixError(reserve(tds.Paid._id, 4), { status: 428, code: 'SOLD_OUT' });
    await reserve(tds.Paid._id, 2);
    await expectWixError(reserve(tds.Paid._id, 2), { status: 428, code: 'SOLD_OUT' });
    await reserve(tds.Paid._id, 1);
    assert.deepEqual(pick(await salesDetails(tds.Paid._id)), { unsoldCount: 0, soldCount: 0, reservedCount: 3, soldOut: true });
    await expectWixError(reserve(tds.Paid._id, 1), { status: 428, code: 'SOLD_OUT' });
  });

  test('hidden definition -> 428 TICKET_HIDDEN; not on sale (scheduled or ended) -> 428 TICKET_NOT_ON_SALE', async () => {
    const { tds } = await newSellingEvent('refusals', {
      Hidden: { hidden: true },
      Scheduled: { salePeriod: { startDate: minuteFromNow(days(2)), endDate: minuteFromNow(days(5)) } },
      Ended: { salePeriod: { startDate: minuteFromNow(-days(5)), endDate: minuteFromNow(-days(1)) } },
    });
    await expectWixError(reserve(tds.Hidden._id, 1), { status: 428, code: 'TICKET_HIDDEN' });
    await expectWixError(reserve(tds.Scheduled._id, 1), { status: 428, code: 'TICKET_NOT_ON_SALE' });
    await expectWixError(reserve(tds.Ended._id, 1), { status: 428, code: 'TICKET_NOT_ON_SALE' });
    for (const t of Object.values(tds)) {
      assert.equal((await salesDetails(t._id)).reservedCount, 0, `${t.name}: a refused reservation holds nothing`);
    }
  });

  test('unknown ids -> 404 with the named code', async () => {
    const { event } = await newSellingEvent('unknown', { Paid: {} });
    await expectWixError(reserve(randomGuid(), 1), { status: 404, code: 'TICKET_DEFINITION_NOT_FOUND' });
    await expectWixError(tr().getTicketReservation(randomGuid()), { status: 404, code: 'TICKET_RESERVATION_NOT_FOUND' });
    await expectWixError(tr().cancelTicketReservation(randomGuid()), { status: 404, code: 'TICKET_RESERVATION_NOT_FOUND' });
    await expectWixError(or().getOrder({ eventId: event._id, orderNumber: 'NOPE-0000' }), { status: 404, code: 'ORDER_NOT_FOUND' });
    await expectWixError(tk().getTicket(`NOPE${RUN_ID}`, { eventId: event._id }), { status: 404, code: 'TICKET_NOT_FOUND' });
  });
});

describe('wire variants', () => {
  test('the /_api/... path families (SDK with a non-Wix host) serve reservations, checkout, orders and tickets', async () => {
    const { event, tds } = await newSellingEvent('alt-host', { Paid: { initialLimit: 5, pricingMethod: usd('10') } });
    const alt = buildClient({ apiBaseUrl: 'boxoffice.invalid' });
    const r = await alt.ticketReservations.createTicketReservation({ tickets: [{ ticketDefinitionId: tds.Paid._id, quantity: 1 }] });
    assert.equal(r.status, 'PENDING');
    assert.equal((await alt.ticketReservations.getTicketReservation(r._id))._id, r._id);
    const res = await alt.orders.checkout(event._id, { reservationId: r._id, guests: [guestForm()] });
    const n = res.order.orderNumber;
    assert.equal((await alt.orders.confirmOrder(event._id, { orderNumber: [n] })).orders[0].status, 'PAID');
    const o = await alt.orders.getOrder({ eventId: event._id, orderNumber: n }, { fieldset: ['TICKETS'] });
    assert.equal(o.tickets.length, 1);
    assert.equal((await alt.orders.listOrders({ eventId: [event._id] })).total, 1);
    const tn = o.tickets[0].ticketNumber;
    assert.equal((await alt.tickets.listTickets({ eventId: [event._id] })).total, 1);
    assert.equal((await alt.tickets.getTicket(tn, { eventId: event._id, fieldset: ['TICKET_DETAILS'] })).ticketNumber, tn);
    assertDate((await alt.tickets.checkInTickets(event._id, { ticketNumber: [tn] })).tickets[0].checkIn?.created, 'checkIn.created');
    assert.equal((await alt.tickets.deleteTicketCheckIns(event._id, { ticketNumber: [tn] })).tickets[0].checkIn ?? null, null);
    const r2 = await alt.ticketReservations.createTicketReservation({ tickets: [{ ticketDefinitionId: tds.Paid._id, quantity: 1 }] });
    assert.equal((await alt.ticketReservations.cancelTicketReservation(r2._id)).ticketReservation.status, 'CANCELED_MANUALLY');
  });
});

describe('authorization', () => {
  test('visitor key: order and ticket management -> 403', async () => {
    const { event } = await newSellingEvent('visitor', { Paid: {} });
    const v = buildVisitorClient();
    const calls = {
      listOrders: () => v.orders.listOrders({ eventId: [event._id] }),
      confirmOrder: () => v.orders.confirmOrder(event._id, { orderNumber: ['AAAA-0000'] }),
      getSummary: () => v.orders.getSummary({ eventId: event._id }),
      listTickets: () => v.tickets.listTickets({ eventId: [event._id] }),
      checkInTickets: () => v.tickets.checkInTickets(event._id, { ticketNumber: ['T1'] }),
    };
    for (const [name, call] of Object.entries(calls)) {
      try {
        await expectWixError(call(), { status: 403 });
      } catch (e) {
        e.message = `${name}: ${e.message}`;
        throw e;
      }
    }
  });
});
