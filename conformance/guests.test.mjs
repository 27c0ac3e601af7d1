// Event guests conformance, driven through the official SDK (@wix/auto_sdk_events_guests
// 1.0.62 on @wix/sdk 1.21.16): queryGuests as a builder (cursor paging: find, next) and as a
// typed query, on both path families (`www.wixapis.com` -> /events/v2/guests/query, any other
// host -> /_api/events-guests/v2/guests/query), its refusals, and the guest webhooks the
// package declares, received and parsed by the SDK's own receiver (AppStrategy with the
// server's public key): onGuestCreated / onGuestUpdated (an order is confirmed),
// onGuestCheckedIn (a ticket is checked in), onGuestEventStarts (the event starts),
// onGuestEventCanceled (the event is canceled).
// onGuestOrderCanceled and onGuestDeleted follow an order's cancellation, which no SDK
// method here triggers yet: their bodies are checked in tests/test_guests.py.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, ApiKeyStrategy, AppStrategy } from '@wix/sdk';
import * as guests from '@wix/auto_sdk_events_guests';
import {
  makeRewritingFetch,
  requireEnv,
  RUN_ID,
  eventInput,
  tdInput,
  expectWixError,
  deleteEventsQuietly,
  requestLog,
  admin,
  startWebhookReceiver,
  sleep,
  wixEventsV2,
  ticketDefinitions,
  ticketReservations,
  orders,
  tickets,
  testEnvironment,
} from './client.mjs';

const isGuid = (s) => typeof s === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
const WAIT_MS = 15_000;

/** The guest module's seven webhooks: handler name and event type, as the package declares them. */
const HANDLERS = [
  ['onGuestCreated', 'wix.events.guests.v1.guest_created'],
  ['onGuestUpdated', 'wix.events.guests.v1.guest_updated'],
  ['onGuestDeleted', 'wix.events.guests.v1.guest_deleted'],
  ['onGuestCheckedIn', 'wix.events.guests.v1.guest_guest_checked_in'],
  ['onGuestOrderCanceled', 'wix.events.guests.v1.guest_guest_order_canceled'],
  ['onGuestEventCanceled', 'wix.events.guests.v1.guest_guest_event_canceled'],
  ['onGuestEventStarts', 'wix.events.guests.v1.guest_guest_event_starts'],
];

function sdk({ apiKey = requireEnv('BOXOFFICE_API_KEY'), apiBaseUrl } = {}) {
  return createClient({
    modules: { guests, wixEventsV2, ticketDefinitions, ticketReservations, orders, tickets },
    auth: ApiKeyStrategy({ siteId: requireEnv('BOXOFFICE_SITE_ID'), apiKey }),
    // a non-Wix host makes the SDK resolve the `_` mapping: /_api/events-guests/...
    ...(apiBaseUrl ? { host: { apiBaseUrl } } : {}),
    fetch: makeRewritingFetch(requireEnv('BOXOFFICE_URL'), apiBaseUrl ? { fromOrigin: `https://${apiBaseUrl}` } : {}),
  });
}

let _owner;
const owner = () => (_owner ??= sdk());
const createdEventIds = [];
const dispatched = []; // {handler, envelope}
let receiver;
let subscriptionId;
let wh;

function lastRequest(pathPart) {
  return [...requestLog].reverse().find((r) => r.url.includes(pathPart));
}

function assertDate(value, label) {
  assert.ok(value instanceof Date, `${label} must be a JS Date (the SDK converts ISO strings), got ${typeof value}: ${value}`);
  assert.ok(!Number.isNaN(value.getTime()), `${label} must be a valid date`);
}

const waitFor = (handler, match, label = handler) =>
  receiver.waitFor(() => {
    const hit = dispatched.filter((d) => d.handler === handler && safe(() => match(d.envelope)));
    return hit.length ? hit : undefined;
  }, `${handler} call (${label})`, WAIT_MS);
function safe(fn) {
  try {
    return fn();
  } catch {
    return false;
  }
}

/** A published event with a paid, confirmed order of two tickets (Ann buys, Bo holds the second). */
async function soldEvent(label) {
  const e = await owner().wixEventsV2.createEvent(eventInput(`GUESTS ${label} ${RUN_ID}`), { draft: false });
  createdEventIds.push(e._id);
  const td = await owner().ticketDefinitions.createTicketDefinition(tdInput(e._id, 'Entry', { initialLimit: 10 }));
  const r = await owner().ticketReservations.createTicketReservation({ tickets: [{ ticketDefinitionId: td._id, quantity: 2 }] });
  const form = (first, last, email) => ({
    form: {
      inputValues: [
        { inputName: 'firstName', value: first },
        { inputName: 'lastName', value: last },
        { inputName: 'email', value: email },
      ],
    },
  });
  const co = await owner().orders.checkout(e._id, {
    reservationId: r._id,
    guests: [form('Ann', 'Lee', `ann.${RUN_ID}@example.com`), form('Bo', 'Kim', `bo.${RUN_ID}@example.com`)],
  });
  const conf = await owner().orders.confirmOrder(e._id, { orderNumber: [co.order.orderNumber] });
  assert.equal(conf.orders[0].status, 'PAID');
  return { event: e, td, order: conf.orders[0] };
}

before(async () => {
  receiver = await startWebhookReceiver((body) => wh.webhooks.process(body));
});

after(async () => {
  if (_owner) await deleteEventsQuietly(_owner, createdEventIds);
  if (subscriptionId) await admin('DELETE', `/boxoffice/v1/webhooks/${subscriptionId}`).catch(() => {});
  if (receiver) {
    await receiver.settled();
    await receiver.close();
  }
});

testEnvironment();

describe('event guests through the SDK', () => {
  const s = {};
  const need = (...keys) => {
    for (const k of keys) if (s[k] === undefined) throw new Error(`an earlier step failed: no ${k}`);
  };

  test('the receiver subscribes to the seven guest webhooks (AppStrategy with the server key)', async () => {
    for (const [name, type] of HANDLERS) assert.equal(guests[name].type, type, `the package declares ${name} as ${type}`);
    const sub = await admin('POST', '/boxoffice/v1/webhooks', { url: `${receiver.url}/guests`, eventTypes: HANDLERS.map(([, t]) => t) });
    assert.equal(sub.status, 200, sub.text);
    subscriptionId = sub.json.webhook.id;
    const list = await admin('GET', '/boxoffice/v1/webhooks');
    wh = createClient({ auth: AppStrategy({ appId: 'boxoffice-conformance', publicKey: list.json.publicKey }), modules: { guests } });
    for (const [name] of HANDLERS) wh.guests[name]((envelope) => dispatched.push({ handler: name, envelope }));
    s.ready = true;
  });

  test('a confirmed order makes a BUYER and two TICKET_HOLDER guests: onGuestCreated and onGuestUpdated each', async () => {
    need('ready');
    Object.assign(s, await soldEvent('main'));
    const mine = (e) => e.entity.eventId === s.event._id && e.entity.orderNumber === s.order.orderNumber;
    let all = await waitFor('onGuestCreated', mine);
    for (let i = 0; i < 200 && all.length < 3; i++) {
      await sleep(50);
      all = dispatched.filter((d) => d.handler === 'onGuestCreated' && mine(d.envelope));
    }
    assert.equal(all.length, 3);
    const first = all[0].envelope;
    assert.ok(isGuid(first.entity._id), `entity._id is a GUID, got ${first.entity._id}`);
    assertDate(first.entity._createdDate, 'entity._createdDate');
    assertDate(first.entity.attendanceStatusUpdatedDate, 'entity.attendanceStatusUpdatedDate');
    assert.equal(first.entity.attendanceStatus, 'ATTENDING');
    assert.equal(first.metadata.entityFqdn, 'wix.events.guests.v1.guest');
    assert.equal(first.metadata.slug, 'created');
    assert.equal(first.metadata.entityId, first.entity._id);
    assertDate(first.metadata.eventTime, 'metadata.eventTime');
    assert.deepEqual(all.map((d) => d.envelope.entity.guestType).sort(), ['BUYER', 'TICKET_HOLDER', 'TICKET_HOLDER']);
    const updated = await waitFor('onGuestUpdated', (e) => e.entity._id === first.entity._id);
    assert.equal(updated[0].envelope.entity.revision, '1');
    s.createdIds = all.map((d) => d.envelope.entity._id);
  });

  test('queryGuests builder: filter, sort, cursor paging (find, next), fields; on /events/v2/guests/query', async () => {
    need('event', 'createdIds');
    const q = () =>
      owner().guests.queryGuests({ fields: ['GUEST_DETAILS', 'GUEST_TOTAL'] }).eq('eventId', s.event._id).ascending('_createdDate');
    const page = await q().limit(2).find();
    const req = lastRequest('/v2/guests/query');
    assert.equal(new URL(req.url).pathname, '/events/v2/guests/query');
    assert.equal(req.method, 'POST');
    const sent = JSON.parse(req.body);
    assert.deepEqual(sent.fields, ['GUEST_DETAILS', 'GUEST_TOTAL']);
    assert.deepEqual(sent.query.cursorPaging, { limit: 2 });
    assert.equal(page.items.length, 2);
    assert.equal(page.hasNext(), true);
    const [buyer, ann] = page.items;
    assert.equal(buyer.guestType, 'BUYER');
    assert.equal(ann.guestType, 'TICKET_HOLDER');
    assert.ok(isGuid(buyer._id) && !('id' in buyer), 'REST "id" is renamed to _id');
    assertDate(buyer._createdDate, '_createdDate');
    assertDate(buyer._updatedDate, '_updatedDate');
    assert.equal(buyer.orderNumber, s.order.orderNumber);
    assert.equal(buyer.totalGuests, 2);
    assert.equal(ann.totalGuests, 1);
    assert.equal(ann.ticketNumber, s.order.tickets[0].ticketNumber);
    assert.deepEqual(buyer.tickets.map((t) => t.number), s.order.tickets.map((t) => t.ticketNumber));
    assert.equal(buyer.guestDetails.firstName, 'Ann');
    assert.equal(buyer.guestDetails.checkedIn, false);
    assert.deepEqual(
      buyer.guestDetails.formResponse.inputValues.map((v) => v.inputName),
      ['firstName', 'lastName', 'email'],
    );
    assert.equal(buyer.additionalDetails.orderStatus, 'PAID');
    assertDate(buyer.additionalDetails._createdDate, 'additionalDetails._createdDate');
    const more = await page.next();
    assert.equal(more.items.length, 1);
    assert.equal(more.items[0].guestDetails.firstName, 'Bo');
    assert.equal(more.hasNext(), false);
    assert.deepEqual([...page.items, ...more.items].map((g) => g._id).sort(), [...s.createdIds].sort());
    const plain = await owner().guests.queryGuests().eq('eventId', s.event._id).eq('guestType', 'BUYER').find();
    assert.equal(plain.items.length, 1);
    assert.equal(plain.items[0].guestDetails, undefined, 'no guestDetails without the GUEST_DETAILS fieldset');
    const desc = await owner().guests.queryGuests().eq('eventId', s.event._id).descending('_createdDate').find();
    assert.deepEqual(desc.items.map((g) => g._id), [...page.items, ...more.items].map((g) => g._id).reverse());
  });

  test('queryGuests typed query on the other path family (/_api/events-guests/v2/guests/query)', async () => {
    need('event');
    const alt = sdk({ apiBaseUrl: 'boxoffice.alt.example' });
    const res = await alt.guests.queryGuests(
      { filter: { eventId: s.event._id, guestType: { $in: ['TICKET_HOLDER'] } }, cursorPaging: { limit: 10 } },
      { fields: ['GUEST_DETAILS'] },
    );
    assert.equal(new URL(lastRequest('/v2/guests/query').url).pathname, '/_api/events-guests/v2/guests/query');
    assert.equal(res.guests.length, 2);
    assert.deepEqual(res.guests.map((g) => g.guestDetails.firstName), ['Ann', 'Bo']);
    assert.equal(res.pagingMetadata.count, 2);
  });

  test('queryGuests refusals: a visitor (403), a bad filter, sort or limit (400)', async () => {
    need('event');
    const visitor = sdk({ apiKey: requireEnv('BOXOFFICE_VISITOR_KEY') });
    await expectWixError(visitor.guests.queryGuests().find(), { status: 403 });
    await expectWixError(owner().guests.queryGuests({ filter: { name: 'x' } }), { status: 400 });
    await expectWixError(owner().guests.queryGuests().eq('guestType', 'NOBODY').find(), { status: 400 });
    await expectWixError(owner().guests.queryGuests({ sort: [{ fieldName: 'eventId', order: 'ASC' }] }), { status: 400 });
    await expectWixError(owner().guests.queryGuests().limit(101).find(), { status: 400 });
  });

  test('checking a ticket in: onGuestCheckedIn {guest, eventDetails} and the guest reads checked in', async () => {
    need('event', 'order');
    const number = s.order.tickets[0].ticketNumber;
    await owner().tickets.checkInTickets(s.event._id, { ticketNumber: [number] });
    const [hit] = await waitFor('onGuestCheckedIn', (e) => e.data.guest.ticketNumber === number);
    const { data, metadata } = hit.envelope;
    assert.equal(data.guest.guestDetails.checkedIn, true);
    assertDate(data.guest.guestDetails.checkInDetails[0].checkInDate, 'guestDetails.checkInDetails[0].checkInDate');
    assert.equal(data.eventDetails.title, s.event.title);
    assertDate(data.eventDetails.dateAndTimeSettings.startDate, 'eventDetails.dateAndTimeSettings.startDate');
    assert.equal(metadata.slug, 'guest_checked_in');
    const q = await owner().guests.queryGuests({ fields: ['GUEST_DETAILS'] }).eq('ticketNumber', number).find();
    assert.equal(q.items[0].guestDetails.checkedIn, true);
    const only = await owner().guests.queryGuests().eq('eventId', s.event._id).eq('guestDetails.checkedIn', true).find();
    assert.deepEqual(only.items.map((g) => g.ticketNumber), [number]);
    await waitFor('onGuestUpdated', (e) => e.entity.ticketNumber === number && e.entity.revision === '2');
  });

  test('the event starting: onGuestEventStarts {guest, event, timing NOW} for each guest', async () => {
    need('event');
    const start = new Date(Date.now() - 60_000); // moved into the past: it starts now, once
    await owner().wixEventsV2.updateEvent(s.event._id, {
      event: { dateAndTimeSettings: { startDate: start, endDate: new Date(start.getTime() + 4 * 3600_000), timeZoneId: 'UTC' } },
    });
    const hits = await waitFor('onGuestEventStarts', (e) => e.data.event.title === s.event.title && e.data.guest.eventId === s.event._id);
    const { data } = hits[0].envelope;
    assert.equal(data.timing, 'NOW');
    assert.equal(data.guest.attendanceStatus, 'ATTENDING');
    assertDate(data.event.dateAndTimeSettings.startDate, 'event.dateAndTimeSettings.startDate');
  });

  test('the event canceled: onGuestEventCanceled {guest, event} for each guest; the guests stay', async () => {
    need('event');
    await owner().wixEventsV2.cancelEvent(s.event._id);
    const hits = await waitFor('onGuestEventCanceled', (e) => e.data.guest.eventId === s.event._id);
    const { data, metadata } = hits[0].envelope;
    assert.equal(data.event.status, 'CANCELED');
    assertDate(data.guest._createdDate, 'guest._createdDate');
    assert.equal(metadata.slug, 'guest_event_canceled');
    const left = await owner().guests.queryGuests().eq('eventId', s.event._id).find();
    assert.equal(left.items.length, 3);
    assert.deepEqual(receiver.errors, [], 'every delivery verified and parsed');
  });
});
