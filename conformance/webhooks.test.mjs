// Webhook conformance: Boxoffice delivers Wix-style webhooks that the official SDK's own receiver
// (`client.webhooks.process(body)`, @wix/sdk 1.21.16 build/event-handlers-modules.js) verifies,
// parses and dispatches to the packages' handler functions:
//   @wix/auto_sdk_events_ticket-definitions-v-2 1.0.133  onTicketDefinition{Created,Updated,Deleted,
//                                                          SaleStarted,SaleEnded,SalePeriodUpdated}
//   @wix/auto_sdk_events_wix-events-v-2 1.0.112          onEvent{Created,Updated,Published,Deleted}
//   @wix/auto_sdk_events_ticket-reservations 1.0.54      onTicketReservation{Created,Updated,Deleted}
//   @wix/auto_sdk_events_orders 1.0.73                   onOrder{Initiated,Confirmed,Updated} (legacy)
//   @wix/auto_sdk_events_tickets 1.0.51                  onTicketOrderUpdated (legacy, same type as OrderUpdated)
//   @wix/auto_sdk_events_staff-members 1.0.56            onStaffMember{Created,Updated,Deleted}
//
// How it runs: a node:http receiver on 127.0.0.1 collects raw POST bodies; the site owner
// (BOXOFFICE_OWNER_KEY, a `wix-user` key) subscribes it via POST /boxoffice/v1/webhooks and
// reads the signing key (SPKI PEM) from GET /boxoffice/v1/webhooks. A second client built with
// AppStrategy({appId, publicKey}) is the receiver side; every handler of the five packages is
// registered on it. Actions are driven through the SDK with the app key (BOXOFFICE_API_KEY);
// each expectation polls the dispatched handler calls for at most ~10 s.
//
// The subscription is site-wide, so deliveries caused by the other test files (run in parallel
// on the same site) arrive too: every expectation matches on the ids this file created.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import crypto from 'node:crypto';
import { createClient, AppStrategy } from '@wix/sdk';
import {
  buildClient,
  requireEnv,
  RUN_ID,
  minuteFromNow,
  days,
  eventInput,
  tdInput,
  sleep,
  deleteEventsQuietly,
  ticketDefinitions,
  wixEventsV2,
  ticketReservations,
  orders,
  tickets,
} from './client.mjs';
import * as policies from '@wix/auto_sdk_events_policies';
import * as staffMembers from '@wix/auto_sdk_events_staff-members';
import * as ticketDefinitionsV1 from '@wix/auto_sdk_events_ticket-definitions';
import * as guests from '@wix/auto_sdk_events_guests';
import { ApiKeyStrategy } from '@wix/sdk';
import { makeRewritingFetch } from './client.mjs';

const MINUTE = 60_000;
const WAIT_MS = 10_000;
const isGuid = (s) => typeof s === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

const MODULES = { ticketDefinitions, wixEventsV2, ticketReservations, orders, tickets, policies, staffMembers, ticketDefinitionsV1, guests };

/**
 * Every event type the server sends, with the SDK handler that must receive it.
 * The type strings are the packages' own EventDefinition(type, isDomainEvent) arguments:
 *   TD build/cjs/index.js 2009-2177, EV 3809/3977/4165/4237, TR 546/563/580,
 *   OR 2654/2688/2722, TK 1147.
 */
const HANDLERS = [
  ['ticketDefinitions', 'onTicketDefinitionCreated', 'wix.events.v3.ticket_definition_created'],
  ['ticketDefinitions', 'onTicketDefinitionUpdated', 'wix.events.v3.ticket_definition_updated'],
  ['ticketDefinitions', 'onTicketDefinitionDeleted', 'wix.events.v3.ticket_definition_deleted'],
  ['ticketDefinitions', 'onTicketDefinitionSaleStarted', 'wix.events.v3.ticket_definition_sale_started'],
  ['ticketDefinitions', 'onTicketDefinitionSaleEnded', 'wix.events.v3.ticket_definition_sale_ended'],
  ['ticketDefinitions', 'onTicketDefinitionSalePeriodUpdated', 'wix.events.v3.ticket_definition_sale_period_updated'],
  ['wixEventsV2', 'onEventCreated', 'wix.events.v3.event_created'],
  ['wixEventsV2', 'onEventUpdated', 'wix.events.v3.event_updated'],
  ['wixEventsV2', 'onEventPublished', 'wix.events.v3.event_published'],
  ['wixEventsV2', 'onEventDeleted', 'wix.events.v3.event_deleted'],
  ['wixEventsV2', 'onEventCanceled', 'wix.events.v3.event_canceled'],
  ['wixEventsV2', 'onEventCloned', 'wix.events.v3.event_cloned'],
  ['wixEventsV2', 'onEventReminder', 'wix.events.v3.event_reminder'],
  ['wixEventsV2', 'onEventStarted', 'wix.events.v3.event_started'],
  ['wixEventsV2', 'onEventEnded', 'wix.events.v3.event_ended'],
  ['policies', 'onPolicyCreated', 'wix.events.v2.policy_created'],
  ['policies', 'onPolicyUpdated', 'wix.events.v2.policy_updated'],
  ['policies', 'onPolicyDeleted', 'wix.events.v2.policy_deleted'],
  ['staffMembers', 'onStaffMemberCreated', 'wix.events.staffmembers.v1.staff_member_created'],
  ['staffMembers', 'onStaffMemberUpdated', 'wix.events.staffmembers.v1.staff_member_updated'],
  ['staffMembers', 'onStaffMemberDeleted', 'wix.events.staffmembers.v1.staff_member_deleted'],
  ['ticketReservations', 'onTicketReservationCreated', 'wix.events.v1.ticket_reservation_created'],
  ['ticketReservations', 'onTicketReservationUpdated', 'wix.events.v1.ticket_reservation_updated'],
  ['ticketReservations', 'onTicketReservationDeleted', 'wix.events.v1.ticket_reservation_deleted'],
  ['orders', 'onOrderInitiated', 'wix.events.ticketing.events.OrderInitiated'],
  ['orders', 'onOrderConfirmed', 'wix.events.ticketing.events.OrderConfirmed'],
  ['orders', 'onOrderUpdated', 'wix.events.ticketing.events.OrderUpdated'],
  ['tickets', 'onTicketOrderUpdated', 'wix.events.ticketing.events.OrderUpdated'],
  ['ticketDefinitionsV1', 'onTicketDefinitionCreated', 'wix.events.ticketing.events.TicketDefinitionCreated'],
  ['ticketDefinitionsV1', 'onTicketDefinitionUpdated', 'wix.events.ticketing.events.TicketDefinitionUpdated'],
  ['ticketDefinitionsV1', 'onTicketDefinitionDeleted', 'wix.events.ticketing.events.TicketDefinitionDeleted'],
  ['guests', 'onGuestCreated', 'wix.events.guests.v1.guest_created'],
  ['guests', 'onGuestUpdated', 'wix.events.guests.v1.guest_updated'],
  ['guests', 'onGuestDeleted', 'wix.events.guests.v1.guest_deleted'],
  ['guests', 'onGuestCheckedIn', 'wix.events.guests.v1.guest_guest_checked_in'],
  ['guests', 'onGuestOrderCanceled', 'wix.events.guests.v1.guest_guest_order_canceled'],
  ['guests', 'onGuestEventCanceled', 'wix.events.guests.v1.guest_guest_event_canceled'],
  ['guests', 'onGuestEventStarts', 'wix.events.guests.v1.guest_guest_event_starts'],
];

// ---------------------------------------------------------------------------
// Receiver state
// ---------------------------------------------------------------------------

/** Every POST the receiver got: {path, body, contentType, receivedAt, decoded?, result?, error?}. */
const deliveries = [];
/** Every handler call made by client.webhooks.process: {handler: 'module.onX', envelope, delivery}. */
const dispatched = [];
let processing = Promise.resolve();
let current; // the delivery being processed (handlers run inside client.webhooks.process)
let server;
let receiverUrl;
let wh; // the AppStrategy client (receiver side)
let publicKey;
const subscriptionIds = [];

let _client;
const client = () => (_client ??= buildClient());
const createdEventIds = [];

const b64urlJson = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

/** Decode (without verifying) a delivered JWT, for diagnostics and the structural checks. */
function decodeUnverified(body) {
  const [h, p] = body.split('.');
  const header = b64urlJson(h);
  const claims = b64urlJson(p);
  const envelope = typeof claims.data === 'string' ? JSON.parse(claims.data) : undefined;
  let inner;
  try {
    inner = envelope && typeof envelope.data === 'string' ? JSON.parse(envelope.data) : undefined;
  } catch {
    inner = undefined;
  }
  return { header, claims, envelope, inner, eventType: envelope?.eventType };
}

function decode(entry) {
  try {
    entry.decoded = decodeUnverified(entry.body);
  } catch (e) {
    entry.decodeError = String(e);
  }
}

function onDelivery(entry) {
  processing = processing.then(async () => {
    const before = dispatched.length;
    current = entry;
    try {
      entry.result = await wh.webhooks.process(entry.body);
    } catch (e) {
      entry.error = e;
    } finally {
      current = undefined;
    }
    for (const d of dispatched.slice(before)) d.delivery ??= entry;
  });
}

function startReceiver() {
  server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const entry = {
        path: req.url,
        method: req.method,
        contentType: req.headers['content-type'],
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
      };
      decode(entry);
      deliveries.push(entry);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      // only the "*" subscription's deliveries are fed to the SDK receiver
      if (entry.path === '/all') onDelivery(entry);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      receiverUrl = `http://127.0.0.1:${server.address().port}`;
      resolve();
    }),
  );
}

/** Boxoffice admin API (not part of the Wix SDK): plain fetch with a raw key. */
async function admin(method, path, { key = requireEnv('BOXOFFICE_OWNER_KEY'), body } = {}) {
  const base = requireEnv('BOXOFFICE_URL').replace(/\/+$/, '');
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      Authorization: key,
      'wix-site-id': requireEnv('BOXOFFICE_SITE_ID'),
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

function diagnostics(filter) {
  const mine = deliveries.filter((d) => d.path === '/all' && filter(d));
  return JSON.stringify(
    mine.slice(-10).map((d) => ({
      eventType: d.decoded?.eventType,
      processError: d.error ? String(d.error?.message ?? d.error) : undefined,
      inner: d.decoded?.inner,
    })),
    null,
    1,
  ).slice(0, 6000);
}

const mentions = (d, id) => typeof d.body === 'string' && d.decoded && JSON.stringify(d.decoded.envelope ?? {}).includes(id);

/**
 * Wait (at most WAIT_MS) until `handler` ('module.onX') was called with an envelope for which
 * `match(envelope)` holds; returns that call. `id` narrows the diagnostics shown on timeout.
 */
async function waitFor(handler, match, { id, label = handler, timeoutMs = WAIT_MS } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = dispatched.find((d) => d.handler === handler && safe(() => match(d.envelope)));
    if (hit) return hit;
    if (Date.now() > deadline) {
      await processing;
      const again = dispatched.find((d) => d.handler === handler && safe(() => match(d.envelope)));
      if (again) return again;
      const errs = deliveries.filter((d) => d.error && (!id || mentions(d, id)));
      throw new Error(
        `${label}: no ${handler} call within ${timeoutMs} ms.\n` +
          `deliveries received so far: ${deliveries.length}; SDK process() errors${id ? ' for this id' : ''}: ` +
          `${JSON.stringify(errs.slice(-5).map((d) => ({ eventType: d.decoded?.eventType, error: String(d.error?.message ?? d.error) })))}\n` +
          `deliveries mentioning ${id ?? '(any)'} (decoded, unverified):\n${diagnostics((d) => !id || mentions(d, id))}`,
      );
    }
    await sleep(50);
  }
}
function safe(fn) {
  try {
    return fn();
  } catch {
    return false;
  }
}

function assertDate(value, label) {
  assert.ok(value instanceof Date, `${label} must be a JS Date (the SDK handler converts ISO strings), got ${typeof value}: ${JSON.stringify(value)}`);
  assert.ok(!Number.isNaN(value.getTime()), `${label} must be a valid date, got ${value}`);
}
function assertAboutNow(value, label, slackMs = 5 * MINUTE) {
  assertDate(value, label);
  assert.ok(Math.abs(value.getTime() - Date.now()) < slackMs, `${label} must be about now, got ${value.toISOString()}`);
}

/** Domain-event metadata (event-handlers-modules.js runHandler: domain fields + instanceId/identity, id -> _id). */
function assertDomainMetadata(md, { fqdn, slug, entityId, identity = true }) {
  assert.ok(md && typeof md === 'object', `metadata must be an object, got ${JSON.stringify(md)}`);
  assert.ok(isGuid(md._id), `metadata._id is the domain event id (REST "id" renamed), got ${JSON.stringify(md._id)}`);
  assert.equal(md.entityFqdn, fqdn, 'metadata.entityFqdn');
  assert.equal(md.slug, slug, 'metadata.slug');
  assert.equal(md.entityId, entityId, 'metadata.entityId');
  assertAboutNow(md.eventTime, 'metadata.eventTime');
  assert.equal(typeof md.entityEventSequence, 'string', `metadata.entityEventSequence is an int64 string, got ${JSON.stringify(md.entityEventSequence)}`);
  assert.ok(/^\d+$/.test(md.entityEventSequence), `metadata.entityEventSequence must be digits, got ${md.entityEventSequence}`);
  assert.equal(md.instanceId, requireEnv('BOXOFFICE_SITE_ID'), 'metadata.instanceId');
  if (identity) {
    assert.equal(md.identity?.identityType, 'APP', `an app-key action is attributed to identityType APP, got ${JSON.stringify(md.identity)}`);
    assert.equal(typeof md.identity?.appId, 'string', `identity.appId, got ${JSON.stringify(md.identity)}`);
  }
}

/** Legacy (non-domain) metadata: only instanceId/identity/accountInfo (event-handlers-modules.js:52-57). */
function assertLegacyEnvelope(env, orderNumber) {
  assert.equal(env.data?.orderNumber, orderNumber, 'data.orderNumber');
  assert.equal(env.metadata?.instanceId, requireEnv('BOXOFFICE_SITE_ID'), 'metadata.instanceId');
  assert.equal(env.metadata?._id, undefined, 'legacy events have no metadata._id');
  assertAboutNow(env.data.timestamp, 'data.timestamp');
  assertDate(env.data.created, 'data.created');
  assertDate(env.data.updated, 'data.updated');
  assert.equal(env.data.firstName, 'Hook');
  assert.equal(env.data.lastName, 'Receiver');
}

const guest = () => ({
  form: {
    inputValues: [
      { inputName: 'firstName', value: 'Hook' },
      { inputName: 'lastName', value: 'Receiver' },
      { inputName: 'email', value: `hook.${RUN_ID}@example.com` },
    ],
  },
});

// ---------------------------------------------------------------------------

before(async () => {
  await startReceiver();
});

after(async () => {
  if (_client) await deleteEventsQuietly(_client, createdEventIds);
  for (const id of subscriptionIds.splice(0)) {
    try {
      await admin('DELETE', `/boxoffice/v1/webhooks/${id}`);
    } catch {
      /* best effort */
    }
  }
  await processing;
  await new Promise((r) => (server ? server.close(r) : r()));
});

describe('environment', () => {
  test('BOXOFFICE_URL and keys are configured, including the owner key (never skips)', () => {
    requireEnv('BOXOFFICE_URL');
    requireEnv('BOXOFFICE_API_KEY');
    requireEnv('BOXOFFICE_SITE_ID');
    requireEnv('BOXOFFICE_OWNER_KEY');
  });
});

describe('webhooks: delivered to the SDK receiver (AppStrategy + client.webhooks.process)', () => {
  const s = {};
  const need = (...keys) => {
    for (const k of keys) if (s[k] === undefined) throw new Error(`an earlier step failed: no ${k}`);
  };

  test('admin API: only the site owner manages subscriptions (app and visitor keys -> 403)', async () => {
    const body = { url: `${receiverUrl}/never`, eventTypes: ['*'] };
    const asApp = await admin('POST', '/boxoffice/v1/webhooks', { key: requireEnv('BOXOFFICE_API_KEY'), body });
    assert.equal(asApp.status, 403, `an app key must not add subscriptions, got ${asApp.status} ${asApp.text}`);
    const visitor = process.env.BOXOFFICE_VISITOR_KEY;
    if (visitor) {
      const asVisitor = await admin('GET', '/boxoffice/v1/webhooks', { key: visitor });
      assert.equal(asVisitor.status, 403, `a visitor key must not list subscriptions, got ${asVisitor.status} ${asVisitor.text}`);
    }
  });

  test('owner subscribes the receiver ("*" and a filtered one); GET lists them with an SPKI publicKey', async () => {
    const all = await admin('POST', '/boxoffice/v1/webhooks', { body: { url: `${receiverUrl}/all`, eventTypes: ['*'] } });
    assert.equal(all.status, 200, `POST /boxoffice/v1/webhooks -> ${all.status} ${all.text}`);
    assert.ok(isGuid(all.json?.webhook?.id), `response {webhook:{id}}, got ${all.text}`);
    assert.equal(all.json.webhook.url, `${receiverUrl}/all`);
    assert.deepEqual(all.json.webhook.eventTypes, ['*']);
    subscriptionIds.push(all.json.webhook.id);
    s.subAll = all.json.webhook.id;

    const only = await admin('POST', '/boxoffice/v1/webhooks', {
      body: { url: `${receiverUrl}/only-deleted`, eventTypes: ['wix.events.v3.event_deleted'] },
    });
    assert.equal(only.status, 200, `POST (filtered) -> ${only.status} ${only.text}`);
    subscriptionIds.push(only.json.webhook.id);
    s.subOnly = only.json.webhook.id;

    const list = await admin('GET', '/boxoffice/v1/webhooks');
    assert.equal(list.status, 200, `GET /boxoffice/v1/webhooks -> ${list.status} ${list.text}`);
    const ids = (list.json?.webhooks ?? []).map((w) => w.id);
    assert.ok(ids.includes(s.subAll) && ids.includes(s.subOnly), `GET lists both subscriptions, got ${list.text}`);
    publicKey = list.json.publicKey;
    assert.equal(typeof publicKey, 'string');
    assert.match(publicKey, /^-----BEGIN PUBLIC KEY-----\r?\n/, 'publicKey must be an SPKI PEM (AppStrategy importSPKI refuses PKCS#1)');
    crypto.createPublicKey(publicKey); // parses

    // The receiver side: AppStrategy with the public key, every handler of the five packages registered.
    wh = createClient({ auth: AppStrategy({ appId: 'boxoffice-conformance', publicKey }), modules: MODULES });
    for (const [mod, ns] of Object.entries(MODULES)) {
      for (const name of Object.keys(ns).filter((k) => /^on[A-Z]/.test(k))) {
        wh[mod][name]((envelope) => {
          dispatched.push({ handler: `${mod}.${name}`, envelope, delivery: current });
        });
      }
    }
    for (const [mod, name, type] of HANDLERS) {
      assert.equal(MODULES[mod][name]?.type, type, `${mod}.${name} handles ${type} (package EventDefinition)`);
    }
    const registered = wh.webhooks.getRegisteredEvents();
    for (const [, , type] of HANDLERS) assert.ok(registered.has(type), `a handler is registered for ${type}`);
    s.ready = true;
  });

  test('draft event + ticket definitions -> onEventCreated, onTicketDefinitionCreated', async () => {
    need('ready');
    const e = await client().wixEventsV2.createEvent(eventInput(`Hooks ${RUN_ID}`), { draft: true });
    createdEventIds.push(e._id);
    s.event = e;
    const mk = (name, extra) => client().ticketDefinitions.createTicketDefinition(tdInput(e._id, name, extra));
    s.paid = await mk('Paid', { initialLimit: 10, pricingMethod: { fixedPrice: { value: '10', currency: 'USD' } } });
    s.spare = await mk('Spare', {});
    s.timed = await mk('Timed', { salePeriod: { startDate: minuteFromNow(days(2)), endDate: minuteFromNow(days(5)) } });
    assert.equal(s.timed.saleStatus, 'SALE_SCHEDULED');

    const { envelope: ec } = await waitFor('wixEventsV2.onEventCreated', (x) => x.metadata.entityId === e._id, { id: e._id });
    assertDomainMetadata(ec.metadata, { fqdn: 'wix.events.v3.event', slug: 'created', entityId: e._id });
    assert.equal(ec.entity?._id, e._id, 'entity._id (REST id renamed)');
    assert.equal(ec.entity.title, `Hooks ${RUN_ID}`);
    assert.equal(ec.entity.status, 'DRAFT');
    assertDate(ec.entity._createdDate, 'entity._createdDate');
    assertDate(ec.entity._updatedDate, 'entity._updatedDate');
    assertDate(ec.entity.dateAndTimeSettings?.startDate, 'entity.dateAndTimeSettings.startDate');
    assert.equal(ec.entity.dateAndTimeSettings.startDate.getTime(), e.dateAndTimeSettings.startDate.getTime());
    assert.equal(ec.entity.location?.address?.formatted, '1 Main St, Springfield', 'entity.location.address.formatted (SDK address transform)');
    s.eventCreatedSeq = Number(ec.metadata.entityEventSequence);

    const { envelope: tc } = await waitFor('ticketDefinitions.onTicketDefinitionCreated', (x) => x.metadata.entityId === s.timed._id, { id: s.timed._id });
    assertDomainMetadata(tc.metadata, { fqdn: 'wix.events.v3.ticket_definition', slug: 'created', entityId: s.timed._id });
    assert.equal(tc.entity?._id, s.timed._id, 'entity._id');
    assert.equal(tc.entity.eventId, e._id);
    assert.equal(tc.entity.name, 'Timed');
    assert.equal(tc.entity.revision, s.timed.revision);
    assert.equal(tc.entity.saleStatus, 'SALE_SCHEDULED');
    assertDate(tc.entity._createdDate, 'entity._createdDate');
    assertDate(tc.entity._updatedDate, 'entity._updatedDate');
    assertDate(tc.entity.salePeriod?.startDate, 'entity.salePeriod.startDate');
    assert.equal(tc.entity.salePeriod.startDate.getTime(), s.timed.salePeriod.startDate.getTime());
    assertDate(tc.entity.salePeriod.endDate, 'entity.salePeriod.endDate');
    s.timedSeq = [Number(tc.metadata.entityEventSequence)];

    const { envelope: pc } = await waitFor('ticketDefinitions.onTicketDefinitionCreated', (x) => x.metadata.entityId === s.paid._id, { id: s.paid._id });
    assert.equal(pc.entity._id, s.paid._id);
    assert.equal(Number(pc.entity.pricingMethod?.fixedPrice?.value), 10);
    assert.equal(pc.entity.initialLimit, 10);
  });

  test('updateEvent -> onEventUpdated', async () => {
    need('event');
    const e = s.event;
    await client().wixEventsV2.updateEvent(e._id, { event: { title: `Hooks renamed ${RUN_ID}` } });
    const { envelope: eu } = await waitFor(
      'wixEventsV2.onEventUpdated',
      (x) => x.metadata.entityId === e._id && x.entity?.title === `Hooks renamed ${RUN_ID}`,
      { id: e._id },
    );
    assertDomainMetadata(eu.metadata, { fqdn: 'wix.events.v3.event', slug: 'updated', entityId: e._id });
    assert.equal(eu.entity._id, e._id);
    assertDate(eu.entity._updatedDate, 'entity._updatedDate');
    assertDate(eu.entity.dateAndTimeSettings?.startDate, 'entity.dateAndTimeSettings.startDate');
    assert.ok(Number(eu.metadata.entityEventSequence) > s.eventCreatedSeq, 'entityEventSequence grows with each change of the entity');
  });

  test('publishDraftEvent -> onEventPublished with an EventPublished body {eventId, timestamp, title, status, dateAndTimeSettings, ...}', async () => {
    need('event');
    const e = s.event;
    await client().wixEventsV2.publishDraftEvent(e._id);
    s.published = true; // the later steps need the published event, whatever its webhook looks like
    const { envelope: ep } = await waitFor('wixEventsV2.onEventPublished', (x) => x.metadata.entityId === e._id, { id: e._id });
    assertDomainMetadata(ep.metadata, { fqdn: 'wix.events.v3.event', slug: 'published', entityId: e._id });
    // EventPublishedEnvelope = {data: EventPublished, metadata} (EV typings 5433-5436); EventPublished is the
    // flat {timestamp, eventId, status, title, location, dateAndTimeSettings, eventPageUrl, registration}
    // (EV typings 4100-4135); onEventPublished transforms data.timestamp / data.dateAndTimeSettings.* (EV index.js 4165-4197).
    assert.ok(ep.data && typeof ep.data === 'object', 'an action event hands the handler {data}');
    assert.equal(
      ep.data.eventId,
      e._id,
      `data.eventId (EventPublished.eventId) must be the event id; the handler got data keys ${JSON.stringify(Object.keys(ep.data))}`,
    );
    assertAboutNow(ep.data.timestamp, 'data.timestamp (EventPublished.timestamp)');
    assert.equal(ep.data.title, `Hooks renamed ${RUN_ID}`, 'data.title');
    assert.equal(ep.data.status, 'UPCOMING', 'data.status');
    assertDate(ep.data.dateAndTimeSettings?.startDate, 'data.dateAndTimeSettings.startDate');
  });

  test('sale period moves -> onTicketDefinitionUpdated + onTicketDefinitionSalePeriodUpdated, then the scheduler -> SaleStarted, SaleEnded', async () => {
    need('published', 'timed');
    const start = minuteFromNow(-2 * MINUTE);
    const end = minuteFromNow(days(5));
    const u1 = await client().ticketDefinitions.updateTicketDefinition(s.timed._id, {
      revision: s.timed.revision,
      salePeriod: { startDate: start, endDate: end },
    });
    assert.equal(u1.saleStatus, 'SALE_STARTED', 'a start in the past starts the sale');

    const { envelope: up } = await waitFor(
      'ticketDefinitions.onTicketDefinitionUpdated',
      (x) => x.metadata.entityId === s.timed._id && x.entity?.revision === u1.revision,
      { id: s.timed._id },
    );
    assertDomainMetadata(up.metadata, { fqdn: 'wix.events.v3.ticket_definition', slug: 'updated', entityId: s.timed._id });
    assert.equal(up.entity._id, s.timed._id, 'updatedEvent.currentEntity is the entity itself');
    assertDate(up.entity.salePeriod?.startDate, 'entity.salePeriod.startDate');
    assert.equal(up.entity.salePeriod.startDate.getTime(), start.getTime());
    assertDate(up.entity._updatedDate, 'entity._updatedDate');
    s.timedSeq.push(Number(up.metadata.entityEventSequence));

    const { envelope: sp } = await waitFor(
      'ticketDefinitions.onTicketDefinitionSalePeriodUpdated',
      (x) => x.metadata.entityId === s.timed._id && x.data?.afterUpdate?.startDate?.getTime?.() === start.getTime(),
      { id: s.timed._id },
    );
    assertDomainMetadata(sp.metadata, { fqdn: 'wix.events.v3.ticket_definition', slug: 'sale_period_updated', entityId: s.timed._id });
    assertDate(sp.data.afterUpdate.startDate, 'data.afterUpdate.startDate');
    assertDate(sp.data.afterUpdate.endDate, 'data.afterUpdate.endDate');
    assert.equal(sp.data.afterUpdate.endDate.getTime(), end.getTime());

    const { envelope: ss } = await waitFor(
      'ticketDefinitions.onTicketDefinitionSaleStarted',
      (x) => x.metadata.entityId === s.timed._id,
      { id: s.timed._id },
    );
    assertDomainMetadata(ss.metadata, { fqdn: 'wix.events.v3.ticket_definition', slug: 'sale_started', entityId: s.timed._id, identity: false });
    assert.equal(ss.data?.ticketDefinition?._id, s.timed._id, 'data.ticketDefinition._id (TicketDefinitionSaleStarted)');
    assert.equal(ss.data.ticketDefinition.saleStatus, 'SALE_STARTED');
    assertDate(ss.data.ticketDefinition.salePeriod?.startDate, 'data.ticketDefinition.salePeriod.startDate');
    assertDate(ss.data.ticketDefinition._createdDate, 'data.ticketDefinition._createdDate');

    const endNow = minuteFromNow(-MINUTE);
    const u2 = await client().ticketDefinitions.updateTicketDefinition(s.timed._id, {
      revision: u1.revision,
      salePeriod: { startDate: start, endDate: endNow },
    });
    assert.equal(u2.saleStatus, 'SALE_ENDED', 'an end in the past ends the sale');
    await waitFor(
      'ticketDefinitions.onTicketDefinitionSalePeriodUpdated',
      (x) => x.metadata.entityId === s.timed._id && x.data?.afterUpdate?.endDate?.getTime?.() === endNow.getTime(),
      { id: s.timed._id, label: 'second sale_period_updated' },
    );
    const { envelope: se } = await waitFor(
      'ticketDefinitions.onTicketDefinitionSaleEnded',
      (x) => x.metadata.entityId === s.timed._id,
      { id: s.timed._id },
    );
    assertDomainMetadata(se.metadata, { fqdn: 'wix.events.v3.ticket_definition', slug: 'sale_ended', entityId: s.timed._id, identity: false });
    assert.equal(se.data?.ticketDefinition?._id, s.timed._id, 'data.ticketDefinition._id (TicketDefinitionSaleEnded)');
    assert.equal(se.data.ticketDefinition.saleStatus, 'SALE_ENDED');
    assertDate(se.data.ticketDefinition.salePeriod?.endDate, 'data.ticketDefinition.salePeriod.endDate');
    assert.equal(se.data.ticketDefinition.salePeriod.endDate.getTime(), endNow.getTime());
    s.timedSeq.push(Number(se.metadata.entityEventSequence));
    for (let i = 1; i < s.timedSeq.length; i++) {
      assert.ok(s.timedSeq[i] > s.timedSeq[i - 1], `entityEventSequence grows: ${JSON.stringify(s.timedSeq)}`);
    }
  });

  test('reserve -> onTicketReservationCreated; checkout -> onOrderInitiated; confirmOrder -> onOrderConfirmed + reservation updated CONFIRMED', async () => {
    need('published', 'paid');
    const r = await client().ticketReservations.createTicketReservation({ tickets: [{ ticketDefinitionId: s.paid._id, quantity: 2 }] });
    const { envelope: rc } = await waitFor('ticketReservations.onTicketReservationCreated', (x) => x.metadata.entityId === r._id, { id: r._id });
    assertDomainMetadata(rc.metadata, { fqdn: 'wix.events.v1.ticket_reservation', slug: 'created', entityId: r._id });
    assert.equal(rc.entity?._id, r._id, 'entity._id');
    assert.equal(rc.entity.status, 'PENDING');
    assertDate(rc.entity._createdDate, 'entity._createdDate');
    assertDate(rc.entity.expirationDate, 'entity.expirationDate');
    assert.equal(rc.entity.expirationDate.getTime(), r.expirationDate.getTime());
    assert.equal(rc.entity.tickets?.[0]?.ticketDefinitionId, s.paid._id);
    assert.equal(rc.entity.tickets[0].quantity, 2);

    const co = await client().orders.checkout(s.event._id, { reservationId: r._id, guests: [guest()] });
    const n = co.order.orderNumber;
    assert.equal(co.order.status, 'PENDING');
    const { envelope: oi } = await waitFor('orders.onOrderInitiated', (x) => x.data?.orderNumber === n, { id: n });
    assertLegacyEnvelope(oi, n);
    assert.equal(oi.data.eventId, s.event._id);
    assert.equal(oi.data.reservationId, r._id);
    assert.equal(oi.data.status, 'PENDING');
    assert.equal(oi.data.email, `hook.${RUN_ID}@example.com`);

    const conf = await client().orders.confirmOrder(s.event._id, { orderNumber: [n] });
    assert.equal(conf.orders[0].status, 'PAID');
    s.order = n;
    const { envelope: oc } = await waitFor('orders.onOrderConfirmed', (x) => x.data?.orderNumber === n, { id: n });
    assertLegacyEnvelope(oc, n);
    assert.equal(oc.data.eventId, s.event._id);
    assert.equal(oc.data.status, 'PAID');
    assert.equal(oc.data.reservationId, r._id);
    assert.ok(Array.isArray(oc.data.tickets) && oc.data.tickets.length === 2, `OrderConfirmed.tickets has the 2 tickets, got ${JSON.stringify(oc.data.tickets)}`);
    for (const t of oc.data.tickets) {
      // webhook Ticket (OR typings 718-765): legacy Money {amount, value, currency}
      assert.equal(typeof t.ticketNumber, 'string');
      assert.equal(t.ticketDefinitionId, s.paid._id);
      assert.equal(t.ticketName, 'Paid');
      assert.equal(t.confirmed, true);
      assert.equal(Number(t.price?.amount), 10, `tickets[].price.amount, got ${JSON.stringify(t.price)}`);
      assert.equal(Number(t.price?.value), 10, `tickets[].price.value, got ${JSON.stringify(t.price)}`);
      assert.equal(t.price.currency, 'USD');
    }
    assert.ok(oc.data.invoice && typeof oc.data.invoice === 'object', 'OrderConfirmed.invoice');
    s.ticketNumbers = oc.data.tickets.map((t) => t.ticketNumber);

    const { envelope: ru } = await waitFor(
      'ticketReservations.onTicketReservationUpdated',
      (x) => x.metadata.entityId === r._id && x.entity?.status === 'CONFIRMED',
      { id: r._id },
    );
    assertDomainMetadata(ru.metadata, { fqdn: 'wix.events.v1.ticket_reservation', slug: 'updated', entityId: r._id });
    assert.equal(ru.entity._id, r._id);
    assertDate(ru.entity._updatedDate, 'entity._updatedDate');
  });

  test('updateOrder(archived) -> legacy OrderUpdated dispatched to both orders.onOrderUpdated and tickets.onTicketOrderUpdated', async () => {
    need('order', 'ticketNumbers');
    // a checked-in ticket: OrderUpdated.tickets[].checkIn.created becomes a Date (OR index.js onOrderUpdated paths)
    await client().tickets.checkInTickets(s.event._id, { ticketNumber: [s.ticketNumbers[0]] });
    await client().orders.updateOrder({ eventId: s.event._id, orderNumber: s.order }, { fields: ['archived'], archived: true });
    const { envelope: ou, delivery } = await waitFor('orders.onOrderUpdated', (x) => x.data?.orderNumber === s.order && x.data.archived === true, { id: s.order });
    assertLegacyEnvelope(ou, s.order);
    assert.equal(ou.data.eventId, s.event._id);
    assert.equal(ou.data.status, 'PAID');
    assert.equal(ou.data.confirmed, true);
    assert.ok(Array.isArray(ou.data.tickets) && ou.data.tickets.length === 2, 'OrderUpdated.tickets');
    const checked = ou.data.tickets.find((t) => t.ticketNumber === s.ticketNumbers[0]);
    assertDate(checked?.checkIn?.created, 'data.tickets[].checkIn.created');
    const tk = await waitFor('tickets.onTicketOrderUpdated', (x) => x.data?.orderNumber === s.order && x.data.archived === true, { id: s.order });
    assert.equal(tk.delivery, delivery, 'one OrderUpdated delivery fires both packages\' handlers');
    assertDate(tk.envelope.data.created, 'data.created (tickets package)');
  });

  test('cancelTicketReservation -> onTicketReservationUpdated CANCELED_MANUALLY; deleteTicketReservation -> onTicketReservationDeleted', async () => {
    need('published', 'paid');
    const tr = client().ticketReservations;
    const c = await tr.createTicketReservation({ tickets: [{ ticketDefinitionId: s.paid._id, quantity: 1 }] });
    await tr.cancelTicketReservation(c._id);
    const { envelope: cu } = await waitFor(
      'ticketReservations.onTicketReservationUpdated',
      (x) => x.metadata.entityId === c._id && x.entity?.status === 'CANCELED_MANUALLY',
      { id: c._id },
    );
    assertDomainMetadata(cu.metadata, { fqdn: 'wix.events.v1.ticket_reservation', slug: 'updated', entityId: c._id });
    assertDate(cu.entity._updatedDate, 'entity._updatedDate');

    const d = await tr.createTicketReservation({ tickets: [{ ticketDefinitionId: s.paid._id, quantity: 1 }] });
    await tr.deleteTicketReservation(d._id);
    const { envelope: rd } = await waitFor('ticketReservations.onTicketReservationDeleted', (x) => x.metadata.entityId === d._id, { id: d._id });
    assertDomainMetadata(rd.metadata, { fqdn: 'wix.events.v1.ticket_reservation', slug: 'deleted', entityId: d._id });
    // TicketReservationDeletedEnvelope = {entity, metadata} (TR typings 1371-1374)
    assert.equal(rd.entity?._id, d._id, 'deletedEvent.deletedEntity reaches the handler as entity');
    assertDate(rd.entity._createdDate, 'entity._createdDate');
  });

  test('deleteTicketDefinition -> onTicketDefinitionDeleted; deleteEvent -> onEventDeleted (+ its definitions deleted), also on the filtered subscription', async () => {
    need('published', 'spare');
    await client().ticketDefinitions.deleteTicketDefinition(s.spare._id);
    const { envelope: td } = await waitFor('ticketDefinitions.onTicketDefinitionDeleted', (x) => x.metadata.entityId === s.spare._id, { id: s.spare._id });
    assertDomainMetadata(td.metadata, { fqdn: 'wix.events.v3.ticket_definition', slug: 'deleted', entityId: s.spare._id });
    // TicketDefinitionDeletedEnvelope = {entity, metadata} (TD typings 6105-6108)
    assert.equal(td.entity?._id, s.spare._id, 'entity._id of the deleted definition');
    assertDate(td.entity._createdDate, 'entity._createdDate');

    // a second, draft event (the first one has sales) with one definition, deleted as a whole
    const doomed = await client().wixEventsV2.createEvent(eventInput(`Hooks doomed ${RUN_ID}`), { draft: true });
    createdEventIds.push(doomed._id);
    const dtd = await client().ticketDefinitions.createTicketDefinition(tdInput(doomed._id, 'Doomed'));
    await client().wixEventsV2.deleteEvent(doomed._id);

    const { envelope: ed } = await waitFor('wixEventsV2.onEventDeleted', (x) => x.metadata.entityId === doomed._id, { id: doomed._id });
    assertDomainMetadata(ed.metadata, { fqdn: 'wix.events.v3.event', slug: 'deleted', entityId: doomed._id });
    const { envelope: tdd } = await waitFor('ticketDefinitions.onTicketDefinitionDeleted', (x) => x.metadata.entityId === dtd._id, {
      id: dtd._id,
      label: 'deleting an event deletes its ticket definitions',
    });
    assert.equal(tdd.entity?._id, dtd._id);

    // the filtered subscription got the event_deleted, and nothing but event_deleted
    const deadline = Date.now() + WAIT_MS;
    let hit;
    while (!(hit = deliveries.find((d) => d.path === '/only-deleted' && d.decoded?.inner?.entityId === doomed._id)) && Date.now() < deadline) {
      await sleep(50);
    }
    assert.ok(
      hit,
      `the eventTypes-filtered subscription receives event_deleted; it got ${JSON.stringify(
        deliveries.filter((d) => d.path === '/only-deleted').map((d) => [d.decoded?.eventType, d.decoded?.inner?.entityId]),
      )}`,
    );
    const types = new Set(deliveries.filter((d) => d.path === '/only-deleted').map((d) => d.decoded?.eventType));
    assert.deepEqual([...types], ['wix.events.v3.event_deleted'], 'a filtered subscription gets only its event types');
    s.deleted = true;
  });

  test('the scheduler -> onEventReminder (30 minutes before), then onEventStarted and onEventEnded, once each', async () => {
    need('ready');
    // starts a little over 30 minutes from now: the "30 minutes" reminder comes due within seconds
    const start = new Date(Date.now() + 30 * MINUTE + 3_000);
    const input = eventInput(`Hooks lifecycle ${RUN_ID}`);
    input.dateAndTimeSettings = { startDate: start, endDate: new Date(start.getTime() + 60 * MINUTE), timeZoneId: 'UTC' };
    const e = await client().wixEventsV2.createEvent(input, { draft: false });
    createdEventIds.push(e._id);
    const { envelope: er } = await waitFor('wixEventsV2.onEventReminder', (x) => x.data?.eventId === e._id, { id: e._id, timeoutMs: WAIT_MS + 5_000 });
    assertDomainMetadata(er.metadata, { fqdn: 'wix.events.v3.event', slug: 'reminder', entityId: e._id, identity: false });
    // EventReminder (EV typings 4072-4099): timestamp, eventId, location, dateAndTimeSettings, title, userId, startsIn, hasGuests
    assertDate(er.data.timestamp, 'data.timestamp (EventReminder.timestamp)');
    assert.deepEqual(er.data.startsIn, { minutes: 30 });
    assert.equal(er.data.title, input.title);
    assertDate(er.data.dateAndTimeSettings?.startDate, 'data.dateAndTimeSettings.startDate');
    assert.equal(er.data.hasGuests, false);

    // moved into the past while upcoming: it starts now and ends now, once each
    const newStart = new Date(Date.now() - 2 * MINUTE);
    await client().wixEventsV2.updateEvent(e._id, {
      event: { dateAndTimeSettings: { startDate: newStart, endDate: new Date(newStart.getTime() + MINUTE) } },
    });
    const { envelope: es } = await waitFor('wixEventsV2.onEventStarted', (x) => x.data?.eventId === e._id, { id: e._id });
    assertDomainMetadata(es.metadata, { fqdn: 'wix.events.v3.event', slug: 'started', entityId: e._id, identity: false });
    assertDate(es.data.timestamp, 'data.timestamp (EventStarted.timestamp)');
    assert.equal(es.data.timestamp.getTime(), newStart.getTime(), 'EventStarted.timestamp is the start');
    const { envelope: ee } = await waitFor('wixEventsV2.onEventEnded', (x) => x.data?.eventId === e._id, { id: e._id });
    assertDomainMetadata(ee.metadata, { fqdn: 'wix.events.v3.event', slug: 'ended', entityId: e._id, identity: false });
    assert.equal(ee.data.timestamp.getTime(), newStart.getTime() + MINUTE, 'EventEnded.timestamp is the end');
    assert.equal(ee.data.hasGuests, false);
    assert.ok(Number(ee.metadata.entityEventSequence) > Number(es.metadata.entityEventSequence));
    await sleep(1_000);
    const n = (h) => dispatched.filter((d) => d.handler === `wixEventsV2.${h}` && d.envelope.data?.eventId === e._id).length;
    assert.deepEqual([n('onEventReminder'), n('onEventStarted'), n('onEventEnded')], [1, 1, 1], 'each exactly once');
  });

  test('staff members: create, first login, update, delete -> onStaffMember{Created,Updated,Deleted}', async () => {
    need('ready');
    const withKey = (apiKey) =>
      createClient({
        modules: { staffMembers },
        ...(apiKey ? { auth: ApiKeyStrategy({ siteId: requireEnv('BOXOFFICE_SITE_ID'), apiKey }) } : {}),
        fetch: makeRewritingFetch(requireEnv('BOXOFFICE_URL')),
      }).staffMembers;
    const sm = withKey(requireEnv('BOXOFFICE_API_KEY'));
    const fqdn = 'wix.events.staffmembers.v1.staff_member';
    const m = await sm.createStaffMember({ name: `Hooks staff ${RUN_ID}`, permissions: ['CHECK_IN_GUESTS'], allEvents: {} });
    const { envelope: c } = await waitFor('staffMembers.onStaffMemberCreated', (x) => x.metadata.entityId === m._id, { id: m._id });
    assertDomainMetadata(c.metadata, { fqdn, slug: 'created', entityId: m._id });
    assert.equal(c.entity?._id, m._id, 'entity._id (REST id renamed)');
    assert.equal(c.entity.name, `Hooks staff ${RUN_ID}`);
    assert.equal(c.entity.status, 'PENDING');
    assert.deepEqual(c.entity.permissions, ['CHECK_IN_GUESTS']);
    assert.deepEqual(c.entity.allEvents, {});
    assert.equal(c.entity.loginLink, undefined, 'a webhook never carries the login link (a credential)');
    assertDate(c.entity._createdDate, 'entity._createdDate');
    assertDate(c.entity._updatedDate, 'entity._updatedDate');

    // the first login makes it HAS_ACCESS: an update made by the staff member itself
    const token = new URLSearchParams(new URL(m.loginLink).hash.slice(1)).get('loginToken');
    await withKey(null).loginStaffMember(token);
    const { envelope: l } = await waitFor(
      'staffMembers.onStaffMemberUpdated',
      (x) => x.metadata.entityId === m._id && x.entity?.status === 'HAS_ACCESS',
      { id: m._id },
    );
    assertDomainMetadata(l.metadata, { fqdn, slug: 'updated', entityId: m._id, identity: false });
    assert.equal(l.metadata.identity?.identityType, 'UNKNOWN', `a staff member's own change, got ${JSON.stringify(l.metadata.identity)}`);
    assert.equal(l.entity.revision, '2');

    const u = await sm.updateStaffMember(m._id, { revision: '2', name: `Hooks staff renamed ${RUN_ID}` });
    const { envelope: up } = await waitFor(
      'staffMembers.onStaffMemberUpdated',
      (x) => x.metadata.entityId === m._id && x.entity?.revision === u.revision,
      { id: m._id },
    );
    assertDomainMetadata(up.metadata, { fqdn, slug: 'updated', entityId: m._id });
    assert.equal(up.entity.name, `Hooks staff renamed ${RUN_ID}`);
    assertDate(up.entity._updatedDate, 'entity._updatedDate');
    assert.ok(Number(up.metadata.entityEventSequence) > Number(c.metadata.entityEventSequence));

    await sm.deleteStaffMember(m._id);
    const { envelope: d } = await waitFor('staffMembers.onStaffMemberDeleted', (x) => x.metadata.entityId === m._id, { id: m._id });
    assertDomainMetadata(d.metadata, { fqdn, slug: 'deleted', entityId: m._id });
    assert.equal(d.entity?._id, m._id, 'deletedEvent.deletedEntity reaches the handler as entity');
    assert.equal(d.entity.name, `Hooks staff renamed ${RUN_ID}`);
  });

  test('wire: bare compact RS256 JWT with kid; claims {data: string, iat, exp}; envelope strings', async () => {
    need('ready', 'event');
    await processing;
    const mine = deliveries.filter((d) => d.path === '/all' && d.decoded && mentions(d, s.event._id));
    assert.ok(mine.length > 0, 'deliveries about this run arrived');
    for (const d of mine) {
      assert.equal(d.method, 'POST');
      assert.match(d.body, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'the body is the bare compact JWT');
      const { header, claims, envelope } = d.decoded;
      assert.equal(header.alg, 'RS256');
      assert.equal(typeof header.kid, 'string', 'JWT header carries kid');
      assert.equal(typeof claims.data, 'string', 'claims.data is a JSON string');
      assert.equal(typeof claims.iat, 'number');
      assert.equal(typeof claims.exp, 'number');
      assert.ok(claims.exp > claims.iat, 'exp after iat');
      assert.ok(Math.abs(claims.iat * 1000 - d.receivedAt) < 5 * MINUTE, 'iat is the send time');
      assert.equal(typeof envelope.eventType, 'string');
      assert.equal(envelope.instanceId, requireEnv('BOXOFFICE_SITE_ID'));
      assert.equal(typeof envelope.data, 'string', 'envelope.data is a JSON string');
      if (envelope.identity !== undefined) assert.equal(typeof envelope.identity, 'string', 'envelope.identity is a JSON string');
      assert.equal(d.error, undefined, `client.webhooks.process accepted ${envelope.eventType}: ${d.error}`);
    }
  });

  test('every delivery of the "*" subscription (this file and the parallel ones) verifies and dispatches in the SDK', async () => {
    need('ready');
    await processing;
    const all = deliveries.filter((d) => d.path === '/all');
    assert.ok(all.length > 0);
    const failed = all.filter((d) => d.error);
    assert.deepEqual(
      failed.map((d) => ({ eventType: d.decoded?.eventType, error: String(d.error?.message ?? d.error) })),
      [],
      'client.webhooks.process must accept every delivery (unknown event types and bad signatures throw)',
    );
    const known = new Set(wh.webhooks.getRegisteredEvents().keys());
    const unknown = [...new Set(all.map((d) => d.decoded?.eventType))].filter((t) => !known.has(t));
    assert.deepEqual(unknown, [], 'every delivered event type has a handler in the SDK packages');
  });

  test('a tampered JWT (one signature byte changed) or one signed by another key is rejected by client.webhooks.process', async () => {
    need('ready', 'event');
    await processing;
    const good = deliveries.find((d) => d.path === '/all' && !d.error && d.decoded && mentions(d, s.event._id));
    assert.ok(good, 'a verified delivery to tamper with');
    const [h, p, sig] = good.body.split('.');
    const bytes = Buffer.from(sig, 'base64url');
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    const tampered = `${h}.${p}.${bytes.toString('base64url')}`;
    assert.notEqual(tampered, good.body);

    const before = dispatched.length;
    await assert.rejects(wh.webhooks.process(tampered), 'a changed signature byte must fail verification');

    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forgedHeader = Buffer.from(JSON.stringify(good.decoded.header)).toString('base64url');
    const signingInput = `${forgedHeader}.${p}`;
    const forged = `${signingInput}.${crypto.sign('sha256', Buffer.from(signingInput), privateKey).toString('base64url')}`;
    await assert.rejects(wh.webhooks.process(forged), 'a JWT signed by another key must fail verification');
    assert.equal(dispatched.length, before, 'no handler runs for a rejected JWT');

    // the untouched original still verifies (the rejections above are about the signature)
    const res = await wh.webhooks.process(good.body);
    assert.equal(res.eventType, good.decoded.eventType);
  });

  test('unsubscribe: DELETE -> {}; GET no longer lists it; DELETE again -> 404; no more deliveries', async () => {
    need('subAll', 'subOnly');
    for (const id of [s.subAll, s.subOnly]) {
      const del = await admin('DELETE', `/boxoffice/v1/webhooks/${id}`);
      assert.equal(del.status, 200, `DELETE /boxoffice/v1/webhooks/${id} -> ${del.status} ${del.text}`);
      assert.deepEqual(del.json, {});
      subscriptionIds.splice(subscriptionIds.indexOf(id), 1);
    }
    const list = await admin('GET', '/boxoffice/v1/webhooks');
    const ids = (list.json?.webhooks ?? []).map((w) => w.id);
    assert.ok(!ids.includes(s.subAll) && !ids.includes(s.subOnly), `GET must not list removed subscriptions, got ${list.text}`);
    const again = await admin('DELETE', `/boxoffice/v1/webhooks/${s.subAll}`);
    assert.equal(again.status, 404, `DELETE of a removed subscription -> 404, got ${again.status} ${again.text}`);

    const later = await client().wixEventsV2.createEvent(eventInput(`Hooks after ${RUN_ID}`), { draft: true });
    createdEventIds.push(later._id);
    await sleep(2000);
    assert.equal(
      deliveries.filter((d) => mentions(d, later._id)).length,
      0,
      'nothing is delivered to a removed subscription',
    );
  });
});
