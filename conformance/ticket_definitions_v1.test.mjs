// Ticket Definitions v1 (legacy) conformance, driven through the official SDK
// (@wix/auto_sdk_events_ticket-definitions 1.0.53 on @wix/sdk 1.21.16): all 8 methods on both
// path families (`www.wixapis.com` -> /events/v1/ticket-definitions..., /events/v2/ticket-definitions/query;
// any other host -> /_api/events/v1/ticket-definitions..., /_api/events/v2/ticket-definition/query),
// the round trip with Ticket Definitions v3 (one store), sales seen through v1, and the three
// legacy webhooks (TicketDefinition{Created,Updated,Deleted}) verified and parsed by the SDK's own
// receiver (AppStrategy + webhooks.process).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, ApiKeyStrategy, AppStrategy } from '@wix/sdk';
import * as tdv1 from '@wix/auto_sdk_events_ticket-definitions';
import {
  makeRewritingFetch,
  buildClient,
  requireEnv,
  RUN_ID,
  randomGuid,
  minuteFromNow,
  days,
  eventInput,
  tdInput,
  expectWixError,
  admin,
  startWebhookReceiver,
  deleteEventsQuietly,
  requestLog,
  testEnvironment,
} from './client.mjs';

const isGuid = (s) => typeof s === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

/** A client with the legacy module (client.mjs's buildClient does not carry it). */
function v1Client({ apiKey, apiBaseUrl } = {}) {
  const baseUrl = requireEnv('BOXOFFICE_URL');
  return createClient({
    modules: { tdv1 },
    auth: ApiKeyStrategy({ siteId: requireEnv('BOXOFFICE_SITE_ID'), apiKey: apiKey ?? requireEnv('BOXOFFICE_API_KEY') }),
    // a non-Wix host makes the SDK resolve the `_` mapping: /_api/events/...
    ...(apiBaseUrl ? { host: { apiBaseUrl } } : {}),
    fetch: makeRewritingFetch(baseUrl, apiBaseUrl ? { fromOrigin: `https://${apiBaseUrl}` } : {}),
  }).tdv1;
}

let _main;
const main = () => (_main ??= buildClient()); // v3, events, reservations, orders
let _v1;
const v1 = () => (_v1 ??= v1Client());
let _alt;
const alt = () => (_alt ??= v1Client({ apiBaseUrl: 'boxoffice.invalid' }));

const createdEventIds = [];
async function newEvent(label, { draft = true } = {}) {
  const e = await main().wixEventsV2.createEvent(eventInput(`TDV1 ${label} ${RUN_ID}`), { draft });
  createdEventIds.push(e._id);
  return e;
}

function lastRequest(pathPart) {
  return [...requestLog].reverse().find((r) => r.url.includes(pathPart));
}
const pathOf = (r) => new URL(r.url).pathname;

function assertDate(value, label) {
  assert.ok(value instanceof Date, `${label} must be a JS Date (the SDK converts ISO strings), got ${typeof value}: ${value}`);
  assert.ok(!Number.isNaN(value.getTime()), `${label} must be a valid date`);
}

// --- the webhook receiver ----------------------------------------------------------------

const HANDLERS = ['onTicketDefinitionCreated', 'onTicketDefinitionUpdated', 'onTicketDefinitionDeleted'];
const TYPES = HANDLERS.map((h) => `wix.events.ticketing.events.${h.slice(2)}`);
const dispatched = [];
let receiver;
let subscriptionId;
let wh;

const waitFor = (handler, match, timeoutMs) =>
  receiver.waitFor(() => dispatched.find((d) => d.handler === handler && match(d.envelope))?.envelope, handler, timeoutMs);

before(async () => {
  receiver = await startWebhookReceiver((body) => wh.webhooks.process(body));
});

after(async () => {
  if (_main) await deleteEventsQuietly(_main, createdEventIds);
  if (subscriptionId) await admin('DELETE', `/boxoffice/v1/webhooks/${subscriptionId}`).catch(() => {});
  if (receiver) {
    await receiver.settled();
    await receiver.close();
  }
});

testEnvironment();

describe('ticket definitions v1 through the SDK', () => {
  const s = {};
  const need = (...keys) => {
    for (const k of keys) if (s[k] === undefined) throw new Error(`an earlier step failed: no ${k}`);
  };

  test('the receiver subscribes to the three legacy webhooks (AppStrategy with the server key)', async () => {
    assert.deepEqual(HANDLERS.map((n) => tdv1[n].type), TYPES, 'the package handles exactly these event types');
    const sub = await admin('POST', '/boxoffice/v1/webhooks', { url: `${receiver.url}/tdv1`, eventTypes: TYPES });
    assert.equal(sub.status, 200, sub.text);
    subscriptionId = sub.json.webhook.id;
    const list = await admin('GET', '/boxoffice/v1/webhooks');
    wh = createClient({ auth: AppStrategy({ appId: 'boxoffice-conformance', publicKey: list.json.publicKey }), modules: { tdv1 } });
    for (const name of HANDLERS) wh.tdv1[name]((envelope) => dispatched.push({ handler: name, envelope }));
    s.ready = true;
  });

  test('createTicketDefinition (POST /events/v1/ticket-definitions) returns {definition} in the legacy shape', async () => {
    const e = await newEvent('create');
    s.event = e;
    const start = minuteFromNow(days(1));
    const end = minuteFromNow(days(5));
    const res = await v1().createTicketDefinition(e._id, {
      definition: {
        name: 'Early Bird',
        description: 'First ten seats',
        policy: 'No refunds',
        price: { value: '25', currency: 'USD' },
        limited: true,
        quantity: 10,
        orderIndex: 3,
        wixFeeConfig: { type: 'FEE_INCLUDED' },
        salePeriod: { startDate: start, endDate: end, hideNotOnSale: false },
      },
    });
    const req = lastRequest('/v1/ticket-definitions');
    assert.equal(req.method, 'POST');
    assert.equal(pathOf(req), '/events/v1/ticket-definitions');
    const d = res.definition;
    assert.ok(isGuid(d._id), `_id must be a GUID, got ${d._id}`);
    assert.equal('id' in d, false, 'REST "id" is renamed to _id');
    assert.equal(d.eventId, e._id);
    assert.deepEqual(d.price, { amount: '25.00', value: '25.00', currency: 'USD' });
    assert.deepEqual(d.pricing, { fixedPrice: { amount: '25.00', value: '25.00', currency: 'USD' }, pricingType: 'STANDARD' });
    assert.equal(d.free, false);
    assert.equal(d.name, 'Early Bird');
    assert.equal(d.description, 'First ten seats');
    assert.equal(d.limitPerCheckout, 10);
    assert.equal(d.orderIndex, 3);
    assert.deepEqual(d.wixFeeConfig, { type: 'FEE_INCLUDED' });
    assert.equal(d.saleStatus, 'SALE_SCHEDULED');
    assert.deepEqual(d.state, ['INCLUDE_HIDDEN_NOT_ON_SALE']);
    assertDate(d.salePeriod.startDate, 'salePeriod.startDate');
    assert.equal(d.salePeriod.startDate.getTime(), start.getTime());
    assertDate(d.salePeriod.endDate, 'salePeriod.endDate');
    assert.equal(d.salePeriod.hideNotOnSale, false);
    s.def = d;
  });

  test('onTicketDefinitionCreated receives {ticketDefinitionId, eventId, timestamp: Date}', async () => {
    need('ready', 'def');
    const env = await waitFor('onTicketDefinitionCreated', (en) => en.data?.ticketDefinitionId === s.def._id);
    assert.equal(env.data.eventId, s.event._id);
    assertDate(env.data.timestamp, 'data.timestamp');
    // a legacy (non-domain) event: the handler gets {data, metadata: {instanceId, identity, accountInfo}}
    assert.equal(env.metadata.identity?.identityType, 'APP');
    assert.equal(typeof env.metadata.instanceId, 'string');
  });

  test('the v1 definition is the v3 one (Ticket Definitions v3 reads and updates it)', async () => {
    need('def');
    const v3 = await main().ticketDefinitions.getTicketDefinition(s.def._id, { fields: ['SALES_DETAILS'] });
    assert.equal(v3.name, 'Early Bird');
    assert.equal(v3.policyText, 'No refunds');
    assert.equal(v3.initialLimit, 10);
    assert.deepEqual(v3.pricingMethod.fixedPrice, { value: '25.00', currency: 'USD' });
    assert.equal(v3.feeType, 'FEE_INCLUDED');
    assert.equal(v3.salePeriod.displayNotOnSale, true);
    assert.equal(v3.salesDetails.unsoldCount, 10);
    const u = await main().ticketDefinitions.updateTicketDefinition(s.def._id, { revision: v3.revision, initialLimit: 12 });
    assert.equal(u.initialLimit, 12);
  });

  test('getTicketDefinition (GET /events/v1/ticket-definitions/{id}) with POLICY and DASHBOARD', async () => {
    need('def');
    const d = await v1().getTicketDefinition(s.def._id, { fieldset: ['POLICY', 'DASHBOARD'] });
    const req = lastRequest(`/v1/ticket-definitions/${s.def._id}`);
    assert.equal(req.method, 'GET');
    assert.equal(pathOf(req), `/events/v1/ticket-definitions/${s.def._id}`);
    assert.equal(d._id, s.def._id);
    assert.equal(d.policy, 'No refunds');
    assert.deepEqual(d.dashboard, { hidden: false, sold: 0, limited: true, quantity: 12, unsold: 12, ticketsSold: 0, ticketsReserved: 0 });
    const plain = await v1().getTicketDefinition(s.def._id);
    assert.equal('policy' in plain, false);
    assert.equal('dashboard' in plain, false);
  });

  test('a v3 definition reads through v1 (guest price -> minPrice, NO_FEE -> FEE_INCLUDED)', async () => {
    need('event');
    const v3 = await main().ticketDefinitions.createTicketDefinition(
      tdInput(s.event._id, 'Donation', { pricingMethod: { guestPrice: { value: '3', currency: 'USD' } }, feeType: 'FEE_ADDED_AT_CHECKOUT' }),
    );
    const d = await v1().getTicketDefinition(v3._id);
    assert.equal(d.pricing.pricingType, 'DONATION');
    assert.deepEqual(d.pricing.minPrice, { amount: '3.00', value: '3.00', currency: 'USD' });
    assert.deepEqual(d.wixFeeConfig, { type: 'FEE_ADDED_AT_CHECKOUT' });
    assert.equal(d.limitPerCheckout, 20, 'unlimited: the legacy typings cap of 20');
    s.donation = v3;
  });

  test('updateTicketDefinition (PATCH /events/v1/ticket-definitions/{id}) changes what the mask names', async () => {
    need('def');
    const res = await v1().updateTicketDefinition(s.def._id, s.event._id, {
      definition: { name: 'Early Bird II', description: 'not me' },
      fields: ['name'],
    });
    const req = lastRequest(`/v1/ticket-definitions/${s.def._id}`);
    assert.equal(req.method, 'PATCH');
    assert.equal(pathOf(req), `/events/v1/ticket-definitions/${s.def._id}`);
    assert.equal(res.definition.name, 'Early Bird II');
    assert.equal(res.definition.description, 'First ten seats');
    const v3 = await main().ticketDefinitions.getTicketDefinition(s.def._id);
    assert.equal(v3.name, 'Early Bird II');
    assert.equal(v3.revision, '3');
    // no mask: what the definition carries changes
    const again = await v1().updateTicketDefinition(s.def._id, s.event._id, { definition: { hidden: true } });
    assert.deepEqual(again.definition.state, ['INCLUDE_HIDDEN_NOT_ON_SALE']);
    assert.equal(again.definition.name, 'Early Bird II');
  });

  test('onTicketDefinitionUpdated receives the change', async () => {
    need('ready', 'def');
    const env = await waitFor('onTicketDefinitionUpdated', (en) => en.data?.ticketDefinitionId === s.def._id);
    assert.equal(env.data.eventId, s.event._id);
    assertDate(env.data.timestamp, 'data.timestamp');
  });

  test('listTicketDefinitions (GET /events/v1/ticket-definitions) filters by event and state', async () => {
    need('def', 'donation');
    const res = await v1().listTicketDefinitions({ eventId: [s.event._id], fieldset: ['DASHBOARD'], sort: 'orderIndex:asc' });
    const req = lastRequest('/v1/ticket-definitions?');
    assert.equal(req.method, 'GET');
    assert.equal(pathOf(req), '/events/v1/ticket-definitions');
    assert.deepEqual(res.definitions.map((d) => d._id), [s.def._id, s.donation._id]);
    assert.deepEqual(res.metaData, { count: 2, offset: 0, total: 2 });
    assert.equal(typeof res.definitions[0].dashboard.ticketsSold, 'number');
    const hidden = await v1().listTicketDefinitions({ eventId: [s.event._id], state: ['HIDDEN'] });
    assert.deepEqual(hidden.definitions.map((d) => d._id), [s.def._id]);
    await expectWixError(v1().listTicketDefinitions({ limit: 101 }), { status: 400, validation: true, field: /(^|\.)limit$/ });
  });

  test('queryTicketDefinitions (POST /events/v1/ticket-definitions/query): filter, sort string, offset paging, facets', async () => {
    need('def', 'donation');
    const res = await v1().queryTicketDefinitions({
      filter: { eventId: s.event._id },
      sort: 'name:asc',
      limit: 1,
      offset: 1,
      fieldset: ['POLICY'],
      facet: ['free'],
    });
    const req = lastRequest('/v1/ticket-definitions/query');
    assert.equal(req.method, 'POST');
    assert.equal(pathOf(req), '/events/v1/ticket-definitions/query');
    assert.equal(res.total, 2);
    assert.equal(res.offset, 1);
    assert.equal(res.limit, 1);
    assert.deepEqual(res.definitions.map((d) => d.name), ['Early Bird II']);
    assert.equal(res.definitions[0].policy, 'No refunds');
    assert.deepEqual(res.facets.free.counts, { false: 2 });
    await expectWixError(v1().queryTicketDefinitions({ filter: { noSuchField: 1 } }), { status: 400, code: 'FILTER_PARSER_ERROR' });
  });

  test('queryTicketDefinitionsV2 (POST /events/v2/ticket-definitions/query): typed query and the cursor builder', async () => {
    need('def', 'donation');
    const typed = await v1().queryTicketDefinitionsV2({
      filter: { eventId: s.event._id },
      sort: [{ fieldName: 'name', order: 'DESC' }],
      cursorPaging: { limit: 1 },
    });
    const req = lastRequest('/v2/ticket-definitions/query');
    assert.equal(pathOf(req), '/events/v2/ticket-definitions/query');
    assert.deepEqual(typed.definitions.map((d) => d.name), ['Early Bird II']);
    assert.equal(typed.metadata.count, 1);
    assert.equal(typeof typed.metadata.cursors.next, 'string');
    const more = await v1().queryTicketDefinitionsV2({ cursorPaging: { limit: 1, cursor: typed.metadata.cursors.next } });
    assert.deepEqual(more.definitions.map((d) => d.name), ['Donation']);
    assert.ok(!more.metadata.cursors.next, 'the last page has no next cursor');
    // the builder (limit/skipTo/find only): pages through the whole site
    const page = await v1().queryTicketDefinitionsV2().limit(1).find();
    assert.equal(page.items.length, 1);
    assert.ok(isGuid(page.items[0]._id));
    assert.equal(page.hasNext(), true);
    const page2 = await page.next();
    assert.equal(page2.items.length, 1);
    assert.notEqual(page2.items[0]._id, page.items[0]._id);
    const sent = JSON.parse(lastRequest('/v2/ticket-definitions/query').body);
    assert.equal(typeof sent.query.cursorPaging.cursor, 'string');
  });

  test('sold and reserved seats come from the one inventory: reserve and check out, then read through v1', async () => {
    const e = await newEvent('sales', { draft: false });
    const res = await v1().createTicketDefinition(e._id, {
      definition: { name: 'Free', price: { value: '0', currency: 'USD' }, limited: true, quantity: 5 },
    });
    const id = res.definition._id;
    const r = await main().ticketReservations.createTicketReservation({ tickets: [{ ticketDefinitionId: id, quantity: 2 }] });
    const guest = { form: { inputValues: [
      { inputName: 'firstName', value: 'Ada' }, { inputName: 'lastName', value: 'Lovelace' },
      { inputName: 'email', value: `ada.tdv1.${RUN_ID}@example.com` },
    ] } };
    const order = await main().orders.checkout(e._id, { reservationId: r._id, guests: [guest] });
    assert.equal(order.order.status, 'FREE');
    await main().ticketReservations.createTicketReservation({ tickets: [{ ticketDefinitionId: id, quantity: 1 }] });
    const d = await v1().getTicketDefinition(id, { fieldset: ['DASHBOARD'] });
    assert.deepEqual(d.dashboard, { hidden: false, sold: 3, limited: true, quantity: 5, unsold: 2, ticketsSold: 2, ticketsReserved: 1 });
    assert.equal(d.limitPerCheckout, 2);
    s.soldEvent = e;
    s.sold = d;
  });

  test('changeCurrency (PUT /events/v1/ticket-definitions/currency) moves the event; refused once sold', async () => {
    need('def', 'donation', 'soldEvent');
    const res = await v1().changeCurrency({ eventId: s.event._id, currency: 'EUR' });
    assert.equal(res, undefined);
    const req = lastRequest('/v1/ticket-definitions/currency');
    assert.equal(req.method, 'PUT');
    assert.equal(pathOf(req), '/events/v1/ticket-definitions/currency');
    const d = await v1().getTicketDefinition(s.def._id);
    assert.deepEqual(d.price, { amount: '25.00', value: '25.00', currency: 'EUR' });
    const v3 = await main().ticketDefinitions.getTicketDefinition(s.donation._id);
    assert.equal(v3.pricingMethod.guestPrice.currency, 'EUR');
    await expectWixError(v1().changeCurrency({ eventId: s.soldEvent._id, currency: 'EUR' }), { status: 428, code: 'CURRENCY_LOCKED' });
    await expectWixError(v1().changeCurrency({ eventId: s.event._id, currency: 'ZZZ' }), { status: 400, validation: true, field: /(^|\.)currency$/ });
  });

  test('deleteTicketDefinition (DELETE /events/v1/ticket-definitions) by ids, then all; refused while seats are sold', async () => {
    need('def', 'donation', 'soldEvent', 'sold');
    await expectWixError(v1().deleteTicketDefinition(s.soldEvent._id, { all: true }), { status: 428, code: 'TICKET_DEFINITION_HAS_SALES' });
    const res = await v1().deleteTicketDefinition(s.event._id, { byId: { definitionId: [s.def._id] } });
    assert.equal(res, undefined);
    const req = lastRequest('/v1/ticket-definitions?');
    assert.equal(req.method, 'DELETE');
    assert.equal(pathOf(req), '/events/v1/ticket-definitions');
    await expectWixError(v1().getTicketDefinition(s.def._id), { status: 404, code: 'TICKET_DEFINITION_NOT_FOUND' });
    await v1().deleteTicketDefinition(s.event._id, { all: true });
    await expectWixError(main().ticketDefinitions.getTicketDefinition(s.donation._id), { status: 404 });
  });

  test('onTicketDefinitionDeleted receives the deletion', async () => {
    need('ready', 'def');
    const env = await waitFor('onTicketDefinitionDeleted', (en) => en.data?.ticketDefinitionId === s.def._id);
    assert.equal(env.data.eventId, s.event._id);
    assertDate(env.data.timestamp, 'data.timestamp');
  });
});

describe('the /_api path family (SDK with a non-Wix host)', () => {
  test('all 8 methods on /_api/events/v1/ticket-definitions and /_api/events/v2/ticket-definition/query', async () => {
    const e = await newEvent('alt');
    const { definition } = await alt().createTicketDefinition(e._id, { definition: { name: 'Alt', price: { value: '5', currency: 'USD' } } });
    assert.equal(pathOf(lastRequest('/v1/ticket-definitions')), '/_api/events/v1/ticket-definitions');
    const got = await alt().getTicketDefinition(definition._id);
    assert.equal(pathOf(lastRequest(`/ticket-definitions/${definition._id}`)), `/_api/events/v1/ticket-definitions/${definition._id}`);
    assert.equal(got.name, 'Alt');
    const u = await alt().updateTicketDefinition(definition._id, e._id, { definition: { name: 'Alt 2' } });
    assert.equal(u.definition.name, 'Alt 2');
    const list = await alt().listTicketDefinitions({ eventId: [e._id] });
    assert.deepEqual(list.definitions.map((d) => d._id), [definition._id]);
    assert.equal(pathOf(lastRequest('/ticket-definitions?')), '/_api/events/v1/ticket-definitions');
    const q = await alt().queryTicketDefinitions({ filter: { eventId: e._id } });
    assert.equal(q.total, 1);
    assert.equal(pathOf(lastRequest('/ticket-definitions/query')), '/_api/events/v1/ticket-definitions/query');
    const q2 = await alt().queryTicketDefinitionsV2({ filter: { eventId: e._id }, cursorPaging: { limit: 5 } });
    assert.deepEqual(q2.definitions.map((d) => d._id), [definition._id]);
    assert.equal(pathOf(lastRequest('/ticket-definition/query')), '/_api/events/v2/ticket-definition/query');
    await alt().changeCurrency({ eventId: e._id, currency: 'GBP' });
    assert.equal(pathOf(lastRequest('/currency')), '/_api/events/v1/ticket-definitions/currency');
    assert.equal((await alt().getTicketDefinition(definition._id)).price.currency, 'GBP');
    await alt().deleteTicketDefinition(e._id, { all: true });
    assert.equal(pathOf(lastRequest('/ticket-definitions?')), '/_api/events/v1/ticket-definitions');
    await expectWixError(alt().getTicketDefinition(definition._id), { status: 404 });
  });
});

describe('refusals', () => {
  test('a visitor may not create, update, delete, change currency, nor read (403)', async () => {
    const e = await newEvent('visitor');
    const { definition } = await v1().createTicketDefinition(e._id, { definition: { name: 'Mine', price: { value: '1', currency: 'USD' } } });
    const visitor = v1Client({ apiKey: requireEnv('BOXOFFICE_VISITOR_KEY') });
    const calls = {
      createTicketDefinition: () => visitor.createTicketDefinition(e._id, { definition: { name: 'X', price: { value: '1', currency: 'USD' } } }),
      updateTicketDefinition: () => visitor.updateTicketDefinition(definition._id, e._id, { definition: { name: 'hijacked' } }),
      deleteTicketDefinition: () => visitor.deleteTicketDefinition(e._id, { all: true }),
      changeCurrency: () => visitor.changeCurrency({ eventId: e._id, currency: 'EUR' }),
      getTicketDefinition: () => visitor.getTicketDefinition(definition._id),
      listTicketDefinitions: () => visitor.listTicketDefinitions({}),
    };
    for (const [name, call] of Object.entries(calls)) {
      try {
        await expectWixError(call(), { status: 403 });
      } catch (err) {
        err.message = `${name}: ${err.message}`;
        throw err;
      }
    }
    assert.equal((await v1().getTicketDefinition(definition._id)).name, 'Mine');
  });

  test('bad input is a 400 naming the v1 field; unknown ids are 404', async () => {
    const e = await newEvent('bad');
    await expectWixError(
      v1().createTicketDefinition(e._id, { definition: { name: 'x'.repeat(31), price: { value: '1', currency: 'USD' } } }),
      { status: 400, validation: true, field: /(^|\.)definition\.name$/ },
    );
    await expectWixError(
      v1().createTicketDefinition(e._id, { definition: { name: 'Opts', pricing: { pricingOptions: { options: [{ price: { value: '1', currency: 'USD' } }] } } } }),
      { status: 400, validation: true, field: /(^|\.)definition\.pricing\.pricingOptions\.options\[0\]\.name$/ },
    );
    await expectWixError(
      v1().createTicketDefinition(e._id, { definition: { name: 'Lim', price: { value: '1', currency: 'USD' }, limited: true } }),
      { status: 400, validation: true, field: /(^|\.)definition\.quantity$/ },
    );
    await expectWixError(
      v1().createTicketDefinition(randomGuid(), { definition: { name: 'Nowhere', price: { value: '1', currency: 'USD' } } }),
      { status: 404, code: 'EVENT_NOT_FOUND' },
    );
    await expectWixError(v1().getTicketDefinition(randomGuid()), { status: 404, code: 'TICKET_DEFINITION_NOT_FOUND' });
    await expectWixError(v1().updateTicketDefinition(randomGuid(), e._id, { definition: { name: 'x' } }), { status: 404 });
    await expectWixError(v1().deleteTicketDefinition(e._id, {}), { status: 400, validation: true, field: /(^|\.)byId\.definitionId$/ });
  });
});
