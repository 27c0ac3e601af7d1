// Door sales and the rest of CheckoutService, driven through the official SDK
// (@wix/auto_sdk_events_orders 1.0.73 on @wix/sdk 1.21.16):
//   createReservation / cancelReservation (legacy, deprecated by Wix for Create Ticket Reservation)
//   posCheckout  (a staff member with SELL_TICKETS, logged in through the staff-members SDK, or the organiser)
//   updateCheckout (the buyer who checked out, or the organiser, while the order is unpaid)
// on both path families (`www.wixapis.com` -> /events/v1/..., any other host -> /_api/events/v1/...).

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, ApiKeyStrategy } from '@wix/sdk';
import * as staffMembers from '@wix/auto_sdk_events_staff-members';
import {
  makeRewritingFetch,
  buildClient,
  buildVisitorClient,
  requireEnv,
  RUN_ID,
  randomGuid,
  eventInput,
  tdInput,
  expectWixError,
  deleteEventsQuietly,
  orders,
  tickets,
  requestLog,
} from './client.mjs';

const isGuid = (s) => typeof s === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

/** A client with the orders, tickets and staff-members modules; `apiKey: null`: no key (a device before Login). */
function doorClient({ apiKey, apiBaseUrl } = {}) {
  const key = apiKey === undefined ? requireEnv('BOXOFFICE_API_KEY') : apiKey;
  return createClient({
    modules: { orders, tickets, staffMembers },
    ...(key === null ? {} : { auth: ApiKeyStrategy({ siteId: requireEnv('BOXOFFICE_SITE_ID'), apiKey: key }) }),
    ...(apiBaseUrl ? { host: { apiBaseUrl } } : {}),
    fetch: makeRewritingFetch(requireEnv('BOXOFFICE_URL'), apiBaseUrl ? { fromOrigin: `https://${apiBaseUrl}` } : {}),
  });
}

let _owner;
const owner = () => (_owner ??= buildClient());
let _visitor;
const visitor = () => (_visitor ??= buildVisitorClient());
const createdEventIds = [];

after(async () => {
  if (_owner) await deleteEventsQuietly(_owner, createdEventIds);
});

function lastRequest(pathPart) {
  return [...requestLog].reverse().find((r) => r.url.includes(pathPart));
}

async function sales(tdId) {
  return (await owner().ticketDefinitions.getTicketDefinition(tdId, { fields: ['SALES_DETAILS'] })).salesDetails;
}

const guest = (first, email) => ({
  form: {
    inputValues: [
      { inputName: 'firstName', value: first },
      { inputName: 'lastName', value: 'Guest' },
      { inputName: 'email', value: email },
    ],
  },
});

describe('environment', () => {
  test('BOXOFFICE_URL and keys are configured (the suite fails, never skips, without a server)', () => {
    requireEnv('BOXOFFICE_URL');
    requireEnv('BOXOFFICE_API_KEY');
    requireEnv('BOXOFFICE_SITE_ID');
    requireEnv('BOXOFFICE_VISITOR_KEY');
  });
});

describe('selling at the door through the SDK', () => {
  const s = {};
  const need = (...keys) => {
    for (const k of keys) if (s[k] === undefined) throw new Error(`an earlier step failed: no ${k}`);
  };

  test('setup: a published event with 5 seats at 10.00, and a staff member who sells and checks in for it', async () => {
    const e = await owner().wixEventsV2.createEvent(eventInput(`POS ${RUN_ID}`), { draft: false });
    createdEventIds.push(e._id);
    s.event = e;
    s.td = await owner().ticketDefinitions.createTicketDefinition(tdInput(e._id, 'Door', { initialLimit: 5 }));
    const m = await doorClient().staffMembers.createStaffMember({
      name: `Seller ${RUN_ID}`,
      permissions: ['SELL_TICKETS', 'CHECK_IN_GUESTS'],
      specificEvents: { events: [e._id] },
    });
    const token = new URLSearchParams(new URL(m.loginLink).hash.slice(1)).get('loginToken');
    const login = await doorClient({ apiKey: null }).staffMembers.loginStaffMember(token);
    s.door = doorClient({ apiKey: login.accessToken });
    s.staffMemberId = m._id;
  });

  test('createReservation (legacy): the staff member holds 2 seats; the answer is the typings\' CreateReservationResponse', async () => {
    need('door', 'td');
    const res = await s.door.orders.createReservation(s.event._id, {
      ticketQuantities: [{ ticketDefinitionId: s.td._id, quantity: 2 }],
    });
    assert.equal(lastRequest('/checkout/reservations').url.endsWith('/events/v1/checkout/reservations'), true);
    assert.ok(isGuid(res._id), `_id must be a GUID, got ${res._id}`);
    assert.ok(res.expires instanceof Date && res.expires > new Date(), 'expires is a future Date');
    assert.equal(res.reservationStatus, 'RESERVATION_PENDING');
    const [line] = res.reservations;
    assert.equal(line.quantity, 2);
    assert.equal(line.ticket._id, s.td._id);
    assert.equal(line.ticket.price.value, '10.00');
    assert.equal(line.ticket.dashboard.ticketsReserved, 2);
    assert.equal(typeof line.ticket.limitPerCheckout, 'number');
    assert.equal(line.ticket.saleStatus, 'SALE_STARTED');
    assert.equal(res.invoice.grandTotal.value, '20.00');
    assert.ok(isGuid(res.invoice.items[0]._id));
    assert.deepEqual(
      { reserved: (await sales(s.td._id)).reservedCount, sold: (await sales(s.td._id)).soldCount },
      { reserved: 2, sold: 0 },
    );
    s.reservation = res;
  });

  test('posCheckout: PAID at once, channel OFFLINE_POS, the held seats sold', async () => {
    need('reservation');
    const paymentDetailsId = randomGuid();
    const res = await s.door.orders.posCheckout(s.event._id, { reservationId: s.reservation._id, paymentDetailsId });
    assert.equal(lastRequest('/pos-checkout').url.endsWith('/events/v1/pos-checkout'), true);
    const o = res.order;
    assert.equal(o.status, 'PAID');
    assert.equal(o.confirmed, true);
    assert.equal(o.channel, 'OFFLINE_POS');
    assert.equal(o.reservationId, s.reservation._id);
    assert.equal(o.ticketsQuantity, 2);
    assert.equal(o.totalPrice.value, '20.00');
    assert.equal(o.paymentDetails.transaction.transactionId, paymentDetailsId);
    assert.ok(o.created instanceof Date);
    assert.deepEqual(o.tickets.map((t) => [t.channel, t.orderStatus]), [['OFFLINE_POS', 'PAID'], ['OFFLINE_POS', 'PAID']]);
    assert.equal(res.expires ?? null, null);
    assert.equal(res.reservations[0].ticket._id, s.td._id);
    assert.equal(res.reservations[0].ticket.dashboard.ticketsSold, 2);
    const d = await sales(s.td._id);
    assert.deepEqual([d.soldCount, d.reservedCount, d.unsoldCount], [2, 0, 3]);
    s.order = o;
    // the staff member checks the walk-ins in right away
    const c = await s.door.tickets.checkInTickets(s.event._id, { ticketNumber: o.tickets.map((t) => t.ticketNumber) });
    assert.ok(c.tickets.every((t) => t.checkIn?.created instanceof Date));
  });

  test('posCheckout by the organiser on the /_api path family; a visitor is refused (403)', async () => {
    need('td');
    const alt = doorClient({ apiBaseUrl: 'boxoffice.example' });
    const r = await alt.orders.createReservation(s.event._id, { ticketQuantities: [{ ticketDefinitionId: s.td._id, quantity: 1 }] });
    assert.equal(lastRequest('/checkout/reservations').url.includes('/_api/events/v1/checkout/reservations'), true);
    await expectWixError(visitor().orders.posCheckout(s.event._id, { reservationId: r._id }), { status: 403 });
    const res = await alt.orders.posCheckout(s.event._id, { reservationId: r._id });
    assert.equal(lastRequest('/pos-checkout').url.includes('/_api/events/v1/pos-checkout'), true);
    assert.equal(res.order.status, 'PAID');
    assert.equal(res.order.method, 'cash');
    // the same reservation again: not PENDING any more
    await expectWixError(alt.orders.posCheckout(s.event._id, { reservationId: r._id }), { status: 428, code: 'RESERVATION_NOT_PENDING' });
  });

  test('createReservation refuses what is sold out (428 SOLD_OUT) and a bad quantity (400)', async () => {
    need('td');
    await expectWixError(
      s.door.orders.createReservation(s.event._id, { ticketQuantities: [{ ticketDefinitionId: s.td._id, quantity: 3 }] }),
      { status: 428, code: 'SOLD_OUT' },
    );
    await expectWixError(
      s.door.orders.createReservation(s.event._id, { ticketQuantities: [{ ticketDefinitionId: s.td._id, quantity: 0 }] }),
      { status: 400, validation: true },
    );
    await expectWixError(
      s.door.orders.createReservation(s.event._id, { ticketQuantities: [{ ticketDefinitionId: randomGuid(), quantity: 1 }] }),
      { status: 404, code: 'TICKET_DEFINITION_NOT_FOUND' },
    );
  });

  test('cancelReservation (legacy): the seats are back at once; twice is 428; one with an order is refused', async () => {
    need('td');
    const r = await visitor().orders.createReservation(s.event._id, { ticketQuantities: [{ ticketDefinitionId: s.td._id, quantity: 2 }] });
    assert.equal((await sales(s.td._id)).unsoldCount, 0);
    const out = await visitor().orders.cancelReservation(r._id, s.event._id);
    assert.equal(out, undefined);
    const del = lastRequest('/checkout/reservations/');
    assert.equal(del.method, 'DELETE');
    assert.equal(new URL(del.url).searchParams.get('eventId'), s.event._id);
    assert.equal((await sales(s.td._id)).unsoldCount, 2);
    await expectWixError(visitor().orders.cancelReservation(r._id, s.event._id), { status: 428, code: 'RESERVATION_NOT_CANCELABLE' });
    await expectWixError(visitor().orders.cancelReservation(s.reservation._id, s.event._id), { status: 404 });
    await expectWixError(owner().orders.cancelReservation(s.reservation._id, s.event._id), { status: 428, code: 'RESERVATION_HAS_ORDER' });
  });
});

describe('updateCheckout through the SDK', () => {
  const s = {};
  const need = (...keys) => {
    for (const k of keys) if (s[k] === undefined) throw new Error(`an earlier step failed: no ${k}`);
  };

  test('the buyer changes the guests and the buyer of an unpaid (pay in person) order', async () => {
    const e = await owner().wixEventsV2.createEvent(eventInput(`UPDATE CHECKOUT ${RUN_ID}`), { draft: false });
    createdEventIds.push(e._id);
    s.event = e;
    const td = await owner().ticketDefinitions.createTicketDefinition(tdInput(e._id, 'General', { initialLimit: 10 }));
    const r = await visitor().ticketReservations.createTicketReservation({ tickets: [{ ticketDefinitionId: td._id, quantity: 2 }] });
    const co = await visitor().orders.checkout(e._id, {
      reservationId: r._id,
      guests: [guest('Ann', `ann.${RUN_ID}@example.com`)],
      options: { payInPerson: true },
    });
    assert.equal(co.order.status, 'OFFLINE_PENDING');
    s.orderNumber = co.order.orderNumber;
    const res = await visitor().orders.updateCheckout(s.orderNumber, e._id, {
      guests: [guest('Bea', `bea.${RUN_ID}@example.com`), guest('Cy', `cy.${RUN_ID}@example.com`)],
    });
    const req = lastRequest(`/checkout/${s.orderNumber}`);
    assert.equal(req.method, 'PATCH');
    assert.equal(res.order.firstName, 'Bea');
    assert.equal(res.order.email, `bea.${RUN_ID}@example.com`);
    assert.deepEqual(res.order.tickets.map((t) => t.guestDetails.firstName), ['Bea', 'Cy']);
    assert.equal(res.order.status, 'OFFLINE_PENDING');
    assert.equal(res.order.channel, 'ONLINE');
    assert.equal(typeof res.orderPageUrl, 'string');
    const res2 = await owner().orders.updateCheckout(s.orderNumber, e._id, { buyer: { firstName: 'Dee', lastName: 'Dove' } });
    assert.equal(res2.order.fullName, 'Dee Dove');
  });

  test('refusals: a bad answer (400), a coupon (428), another buyer\'s order (404), a paid order (428)', async () => {
    need('orderNumber');
    await expectWixError(
      visitor().orders.updateCheckout(s.orderNumber, s.event._id, { guests: [guest('Eve', 'not an email')] }),
      { status: 400, validation: true },
    );
    await expectWixError(
      visitor().orders.updateCheckout(s.orderNumber, s.event._id, { discount: { couponCode: 'SAVE10' } }),
      { status: 428, code: 'COUPONS_NOT_SUPPORTED' },
    );
    await expectWixError(
      visitor().orders.updateCheckout(s.orderNumber, s.event._id, { memberId: randomGuid() }),
      { status: 403 },
    );
    // an order the organiser checked out is not the visitor's
    const td = (await owner().ticketDefinitions.createTicketDefinition(tdInput(s.event._id, 'Other', { initialLimit: 2 })));
    const r = await owner().ticketReservations.createTicketReservation({ tickets: [{ ticketDefinitionId: td._id, quantity: 1 }] });
    const co = await owner().orders.checkout(s.event._id, { reservationId: r._id, guests: [guest('Org', `org.${RUN_ID}@example.com`)], options: { payInPerson: true } });
    await expectWixError(
      visitor().orders.updateCheckout(co.order.orderNumber, s.event._id, { buyer: { firstName: 'Mallory' } }),
      { status: 404, code: 'ORDER_NOT_FOUND' },
    );
    // paid: final
    await owner().orders.confirmOrder(s.event._id, { orderNumber: [s.orderNumber] });
    await expectWixError(
      visitor().orders.updateCheckout(s.orderNumber, s.event._id, { buyer: { firstName: 'Late' } }),
      { status: 428, code: 'ORDER_ACTION_NOT_AVAILABLE' },
    );
  });
});
