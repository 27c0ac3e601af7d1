// The remaining selling methods (issue 12, section 4), through the official SDK only:
//   @wix/auto_sdk_events_ticket-reservations 1.0.54: bulkUpdateTicketReservationTags(ByFilter)
//   @wix/auto_sdk_events_orders 1.0.73: getCheckoutOptions, getInvoice, listAvailableTickets,
//     queryAvailableTickets, bulkUpdateOrders, captureAuthorizedPayment, voidAuthorizedPayment
//   @wix/auto_sdk_events_tickets 1.0.51: bulkUpdateTickets
// Both path families: the default host (`/events/v1/...`) and a non-Wix host (`/_api/...`).
//
// Run: conformance/run.sh --local selling_rest.test.mjs

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildClient,
  buildVisitorClient,
  RUN_ID,
  eventInput,
  tdInput,
  randomGuid,
  expectWixError,
  deleteEventsQuietly,
} from './client.mjs';

let _client;
let _alt;
let _visitor;
const client = () => (_client ??= buildClient());
const alt = () => (_alt ??= buildClient({ apiBaseUrl: 'api.example.com' }));
const visitor = () => (_visitor ??= buildVisitorClient());
const td = () => client().ticketDefinitions;
const ev = () => client().wixEventsV2;
const tr = () => client().ticketReservations;

const createdEventIds = [];
after(async () => {
  if (_client) await deleteEventsQuietly(_client, createdEventIds);
});

const usd = (value) => ({ fixedPrice: { value, currency: 'USD' } });

async function newSellingEvent(label, defs) {
  const e = await ev().createEvent(eventInput(`Rest ${label} ${RUN_ID}`), { draft: true });
  createdEventIds.push(e._id);
  const tds = {};
  for (const [name, extra] of Object.entries(defs)) {
    tds[name] = await td().createTicketDefinition(tdInput(e._id, name, extra));
  }
  await ev().publishDraftEvent(e._id);
  return { event: e, tds };
}

const reserve = (ticketDefinitionId, quantity = 1) =>
  tr().createTicketReservation({ tickets: [{ ticketDefinitionId, quantity }] });

const guestForm = (first = 'Ada', last = 'Lovelace', email = `ada.${RUN_ID}@example.com`) => ({
  form: {
    inputValues: [
      { inputName: 'firstName', value: first },
      { inputName: 'lastName', value: last },
      { inputName: 'email', value: email },
    ],
  },
});

describe('ticket reservations: bulk tag updates', () => {
  test('bulkUpdateTicketReservationTags and ...ByFilter, both path families; visitors refused', async () => {
    const { event, tds } = await newSellingEvent('tags', { Tag: { pricingMethod: usd('10'), initialLimit: 10 } });
    const a = await reserve(tds.Tag._id);
    const b = await reserve(tds.Tag._id);
    const missing = randomGuid();
    const res = await tr().bulkUpdateTicketReservationTags([a._id, missing], {
      assignTags: { tags: { tagIds: ['vip'] }, privateTags: { tagIds: ['p1'] } },
    });
    assert.equal(res.results.length, 2);
    assert.equal(res.results[0].itemMetadata._id, a._id, 'itemMetadata.id is renamed _id by the SDK');
    assert.equal(res.results[0].itemMetadata.success, true);
    assert.equal(res.results[1].itemMetadata.success, false);
    assert.equal(res.results[1].itemMetadata.error.code, 'TICKET_RESERVATION_NOT_FOUND');
    assert.deepEqual(res.bulkActionMetadata, { totalSuccesses: 1, totalFailures: 1, undetailedFailures: 0 });
    const got = await tr().getTicketReservation(a._id);
    assert.deepEqual(got.tags, { tags: { tagIds: ['vip'] }, privateTags: { tagIds: ['p1'] } });

    const job = await alt().ticketReservations.bulkUpdateTicketReservationTagsByFilter(
      { 'tickets.eventId': event._id, status: 'PENDING' },
      { assignTags: { tags: { tagIds: ['all'] } }, unassignTags: { tags: { tagIds: ['vip'] } } },
    );
    assert.match(job.jobId, /^[0-9a-f-]{36}$/);
    assert.deepEqual((await tr().getTicketReservation(a._id)).tags.tags.tagIds, ['all']);
    assert.deepEqual((await tr().getTicketReservation(b._id)).tags.tags.tagIds, ['all']);

    await expectWixError(visitor().ticketReservations.bulkUpdateTicketReservationTags([a._id], { assignTags: {} }), { status: 403 });
    await expectWixError(
      tr().bulkUpdateTicketReservationTagsByFilter({ nope: 1 }, { assignTags: {} }),
      { status: 400 },
    );
  });
});

describe('orders: checkout options, invoice, available tickets, bulk update', () => {
  test('getCheckoutOptions, getInvoice, listAvailableTickets, queryAvailableTickets, bulkUpdateOrders', async () => {
    const opts = await client().orders.getCheckoutOptions();
    assert.equal(opts.paymentMethodConfigured, true);
    assert.equal(opts.acceptCoupons, false);
    const { event, tds } = await newSellingEvent('orders', { Seat: { pricingMethod: usd('10'), initialLimit: 10 } });
    const r = await reserve(tds.Seat._id, 2);
    const inv = await alt().orders.getInvoice(r._id, event._id, {});
    assert.equal(inv.reservationStatus, 'RESERVATION_PENDING');
    assert.equal(inv.reservationOccupied, false);
    assert.ok(inv.expires instanceof Date, 'expires is a Date');
    assert.equal(Number(inv.invoice.subTotal.value), 20);
    assert.equal(inv.reservations[0].ticket._id, tds.Seat._id);

    const list = await visitor().orders.listAvailableTickets({ eventId: event._id, limit: 10 });
    assert.equal(list.metaData.total, 1);
    assert.equal(list.definitions[0]._id, tds.Seat._id);
    assert.equal(list.definitions[0].saleStatus, 'SALE_STARTED');
    const q = await alt().orders.queryAvailableTickets({ filter: { eventId: event._id }, limit: 5, fieldset: ['DASHBOARD'] });
    assert.equal(q.definitions[0].dashboard.ticketsReserved, 2);

    const o1 = await client().orders.checkout(event._id, { reservationId: r._id, guests: [guestForm()] });
    const n = o1.order.orderNumber;
    const bulk = await client().orders.bulkUpdateOrders(event._id, { orderNumber: [n], fields: ['archived'], archived: true });
    assert.equal(bulk.orders[0].archived, true);
    const back = await alt().orders.bulkUpdateOrders(event._id, { orderNumber: [n], archived: false });
    assert.equal(back.orders[0].archived, false);
    await expectWixError(client().orders.bulkUpdateOrders(event._id, { orderNumber: ['NOPE-NOPE'], archived: true }), { status: 404, code: 'ORDER_NOT_FOUND' });
    await expectWixError(visitor().orders.bulkUpdateOrders(event._id, { orderNumber: [n], archived: true }), { status: 403 });

    // Capture / Void Authorized Payment: this server's `test` provider takes payments at
    // once (only Stripe with BOXOFFICE_STRIPE_CAPTURE=manual authorizes), so both are
    // refused with a clear code; a visitor may not call them at all
    await expectWixError(client().orders.captureAuthorizedPayment(n, { eventId: event._id }), { status: 428, code: 'ORDER_STATUS_NOT_AUTHORIZED' });
    await expectWixError(alt().orders.voidAuthorizedPayment(n, { eventId: event._id }), { status: 428, code: 'ORDER_STATUS_NOT_AUTHORIZED' });
    await expectWixError(visitor().orders.captureAuthorizedPayment(n, { eventId: event._id }), { status: 403 });
    await expectWixError(client().orders.voidAuthorizedPayment('NOPE-NOPE', { eventId: event._id }), { status: 404, code: 'ORDER_NOT_FOUND' });
  });
});

describe('tickets: bulk update', () => {
  test('bulkUpdateTickets archives and unarchives, both path families; unknown ticket 404', async () => {
    const { event, tds } = await newSellingEvent('tickets', { Free: { pricingMethod: { fixedPrice: { value: '0', currency: 'USD' } }, initialLimit: 10 } });
    const r = await reserve(tds.Free._id, 2);
    const res = await client().orders.checkout(event._id, { reservationId: r._id, guests: [guestForm()] });
    const numbers = res.order.tickets.map((t) => t.ticketNumber);
    const up = await client().tickets.bulkUpdateTickets({ eventId: event._id, ticketNumber: numbers, archived: true });
    assert.deepEqual(up.tickets.map((t) => t.ticketNumber), numbers);
    assert.ok(up.tickets.every((t) => t.archived === true));
    const back = await alt().tickets.bulkUpdateTickets({ ticketNumber: [numbers[0]], archived: false });
    assert.equal(back.tickets[0].archived, false);
    await expectWixError(client().tickets.bulkUpdateTickets({ ticketNumber: ['NOPE'], archived: true }), { status: 404, code: 'TICKET_NOT_FOUND' });
    await expectWixError(visitor().tickets.bulkUpdateTickets({ ticketNumber: [numbers[0]], archived: true }), { status: 403 });
  });
});
