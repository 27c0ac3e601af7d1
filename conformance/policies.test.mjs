// Policies v2 conformance, driven through the official SDK
// (@wix/auto_sdk_events_policies 1.0.49 on @wix/sdk 1.21.16): every method, both path
// families (`www.wixapis.com` -> /events-policies/v2/..., any other host -> /_api/events-policies/v2/...),
// and the three webhooks verified by the SDK's own receiver (AppStrategy + webhooks.process).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, ApiKeyStrategy, AppStrategy } from '@wix/sdk';
import * as policies from '@wix/auto_sdk_events_policies';
import {
  makeRewritingFetch,
  buildClient,
  requireEnv,
  RUN_ID,
  randomGuid,
  eventInput,
  expectWixError,
  admin,
  startWebhookReceiver,
  deleteEventsQuietly,
  requestLog,
  testEnvironment,
} from './client.mjs';

const isGuid = (s) => typeof s === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

/** A client with the policies module (client.mjs's buildClient does not carry it). */
function policiesClient({ apiKey, apiBaseUrl } = {}) {
  const baseUrl = requireEnv('BOXOFFICE_URL');
  return createClient({
    modules: { policies },
    auth: ApiKeyStrategy({ siteId: requireEnv('BOXOFFICE_SITE_ID'), apiKey: apiKey ?? requireEnv('BOXOFFICE_API_KEY') }),
    // a non-Wix host makes the SDK resolve the `_` mapping: /_api/events-policies/...
    ...(apiBaseUrl ? { host: { apiBaseUrl } } : {}),
    fetch: makeRewritingFetch(baseUrl, apiBaseUrl ? { fromOrigin: `https://${apiBaseUrl}` } : {}),
  });
}

let _events;
const events = () => (_events ??= buildClient());
let _pol;
const pol = () => (_pol ??= policiesClient()).policies;

const createdEventIds = [];
async function newEvent(label, { draft = true } = {}) {
  const e = await events().wixEventsV2.createEvent(eventInput(`POL ${label} ${RUN_ID}`), { draft });
  createdEventIds.push(e._id);
  return e;
}

function assertDate(value, label) {
  assert.ok(value instanceof Date, `${label} must be a JS Date (the SDK converts ISO strings), got ${typeof value}: ${value}`);
  assert.ok(!Number.isNaN(value.getTime()), `${label} must be a valid date`);
}

function lastRequest(pathPart) {
  return [...requestLog].reverse().find((r) => r.url.includes(pathPart));
}

// --- the webhook receiver ----------------------------------------------------------------

const TYPES = ['wix.events.v2.policy_created', 'wix.events.v2.policy_updated', 'wix.events.v2.policy_deleted'];
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
  if (_events) await deleteEventsQuietly(_events, createdEventIds);
  if (subscriptionId) await admin('DELETE', `/boxoffice/v1/webhooks/${subscriptionId}`).catch(() => {});
  if (receiver) {
    await receiver.settled();
    await receiver.close();
  }
});

testEnvironment();

describe('policies through the SDK', () => {
  const s = {};
  const need = (...keys) => {
    for (const k of keys) if (s[k] === undefined) throw new Error(`an earlier step failed: no ${k}`);
  };

  test('the receiver subscribes to the three policy webhooks (AppStrategy with the server key)', async () => {
    const sub = await admin('POST', '/boxoffice/v1/webhooks', { url: `${receiver.url}/policies`, eventTypes: TYPES });
    assert.equal(sub.status, 200, sub.text);
    subscriptionId = sub.json.webhook.id;
    const list = await admin('GET', '/boxoffice/v1/webhooks');
    wh = createClient({ auth: AppStrategy({ appId: 'boxoffice-conformance', publicKey: list.json.publicKey }), modules: { policies } });
    for (const name of ['onPolicyCreated', 'onPolicyUpdated', 'onPolicyDeleted']) {
      wh.policies[name]((envelope) => dispatched.push({ handler: name, envelope }));
    }
    assert.deepEqual(
      ['onPolicyCreated', 'onPolicyUpdated', 'onPolicyDeleted'].map((n) => policies[n].type),
      TYPES,
      'the package handles exactly these event types',
    );
    s.ready = true;
  });

  test('createPolicy returns the policy (GUID _id, revision "1", Dates) on /events-policies/v2/policies', async () => {
    const e = await newEvent('create');
    s.event = e;
    const p = await pol().createPolicy({ eventId: e._id, name: 'Refunds', body: '<p>No refunds after the event.</p>' });
    assert.ok(isGuid(p._id), `_id must be a GUID, got ${p._id}`);
    assert.equal('id' in p, false, 'REST "id" is renamed to _id');
    assert.equal(p.name, 'Refunds');
    assert.equal(p.body, '<p>No refunds after the event.</p>');
    assert.equal(p.eventId, e._id);
    assert.equal(p.revision, '1');
    assertDate(p._createdDate, '_createdDate');
    assertDate(p._updatedDate, '_updatedDate');
    const req = lastRequest('/v2/policies');
    assert.equal(new URL(req.url).pathname, '/events-policies/v2/policies');
    assert.equal(req.method, 'POST');
    s.policy = p;
  });

  test('onPolicyCreated receives the entity', async () => {
    need('ready', 'policy');
    const env = await waitFor('onPolicyCreated', (en) => en.entity?._id === s.policy._id);
    assert.equal(env.entity.name, 'Refunds');
    assert.equal(env.entity.eventId, s.event._id);
    assertDate(env.entity._createdDate, 'entity._createdDate');
    assert.equal(env.metadata.entityFqdn, 'wix.events.v2.policy');
    assert.equal(env.metadata.slug, 'created');
    assert.equal(env.metadata.entityId, s.policy._id);
    assert.equal(env.metadata.instanceId, requireEnv('BOXOFFICE_SITE_ID'));
    assert.equal(env.metadata.identity?.identityType, 'APP');
  });

  test('createPolicy refusals: missing name (400), unknown event (404), name over 40 (400), a 4th policy (428 POLICIES_LIMIT_REACHED)', async () => {
    need('event');
    await expectWixError(pol().createPolicy({ eventId: s.event._id, body: 'b' }), { status: 400, validation: true, field: /name/ });
    await expectWixError(pol().createPolicy({ eventId: randomGuid(), name: 'N', body: 'B' }), { status: 404, code: 'EVENT_NOT_FOUND' });
    await expectWixError(pol().createPolicy({ eventId: s.event._id, name: 'x'.repeat(41), body: 'B' }), {
      status: 400,
      validation: true,
      field: /name/,
    });
    s.second = await pol().createPolicy({ eventId: s.event._id, name: 'Transfers', body: 'Tickets may be transferred.' });
    s.third = await pol().createPolicy({ eventId: s.event._id, name: 'Conduct', body: 'Be kind.' });
    await expectWixError(pol().createPolicy({ eventId: s.event._id, name: 'Fourth', body: 'B' }), {
      status: 428,
      code: 'POLICIES_LIMIT_REACHED',
    });
  });

  test('getPolicy returns it', async () => {
    need('policy');
    const g = await pol().getPolicy(s.policy._id);
    assert.deepEqual(g, s.policy);
    const req = lastRequest(`/v2/policies/${s.policy._id}`);
    assert.equal(req.method, 'GET');
    await expectWixError(pol().getPolicy(randomGuid()), { status: 404, code: 'POLICY_NOT_FOUND' });
  });

  test('updatePolicy with the current revision changes it; a stale revision is 428 REVISION_MISMATCH', async () => {
    need('policy');
    const u = await pol().updatePolicy(s.policy._id, {
      name: 'Refund policy',
      body: '<p>Full refunds until a week before.</p>',
      eventId: s.event._id,
      revision: s.policy.revision,
    });
    assert.equal(u._id, s.policy._id);
    assert.equal(u.name, 'Refund policy');
    assert.equal(u.body, '<p>Full refunds until a week before.</p>');
    assert.equal(u.revision, '2');
    assertDate(u._updatedDate, '_updatedDate');
    assert.equal(lastRequest(`/v2/policies/${s.policy._id}`).method, 'PATCH');
    await expectWixError(
      pol().updatePolicy(s.policy._id, { name: 'Again', body: 'B', eventId: s.event._id, revision: '1' }),
      { status: 428, code: 'REVISION_MISMATCH' },
    );
    s.updated = u;
  });

  test('onPolicyUpdated receives the current entity', async () => {
    need('ready', 'updated');
    const env = await waitFor('onPolicyUpdated', (en) => en.entity?._id === s.policy._id && en.entity?.revision === '2');
    assert.equal(env.entity.name, 'Refund policy');
    assert.equal(env.metadata.slug, 'updated');
  });

  test('queryPolicies (cursor builder): filter by eventId, sort, paging with next()', async () => {
    need('third');
    const r = await pol().queryPolicies().eq('eventId', s.event._id).ascending('name').limit(2).find();
    assert.deepEqual(r.items.map((p) => p.name), ['Conduct', 'Refund policy']);
    assertDate(r.items[0]._createdDate, 'items[0]._createdDate');
    assert.equal(r.hasNext(), true);
    const body = JSON.parse(lastRequest('/v2/policies/query').body);
    assert.deepEqual(body.query.cursorPaging, { limit: 2 });
    const r2 = await r.next();
    assert.deepEqual(r2.items.map((p) => p.name), ['Transfers']);
    assert.equal(r2.hasNext(), false);
    const byId = await pol().queryPolicies().in('_id', [s.policy._id, s.third._id]).descending('_createdDate').find();
    assert.deepEqual(byId.items.map((p) => p._id), [s.third._id, s.policy._id]);
    const typed = await pol().queryPolicies({ filter: { eventId: s.event._id, name: 'Conduct' }, cursorPaging: { limit: 10 } });
    assert.deepEqual(typed.policies.map((p) => p._id), [s.third._id]);
    await expectWixError(pol().queryPolicies().eq('noSuchField', 1).find(), { status: 400, code: 'FILTER_PARSER_ERROR' });
  });

  test('reorderEventPolicies moves one before/after another and returns the event\'s policies in order', async () => {
    need('third');
    // newest first until reordered: Conduct, Transfers, Refund policy
    const a = await pol().reorderEventPolicies(s.policy._id, s.event._id, { beforePolicyId: s.third._id });
    assert.deepEqual(a.policies.map((p) => p.name), ['Refund policy', 'Conduct', 'Transfers']);
    assertDate(a.policies[0]._createdDate, 'policies[0]._createdDate');
    const b = await pol().reorderEventPolicies(s.policy._id, s.event._id, { afterPolicyId: s.second._id });
    assert.deepEqual(b.policies.map((p) => p.name), ['Conduct', 'Transfers', 'Refund policy']);
    await expectWixError(pol().reorderEventPolicies(s.policy._id, s.event._id, {}), {
      status: 400,
      code: 'INVALID_REORDER_INSTRUCTION',
    });
  });

  test('a visitor reads policies of published events only and cannot write', async () => {
    need('policy');
    const visitor = policiesClient({ apiKey: requireEnv('BOXOFFICE_VISITOR_KEY') }).policies;
    await expectWixError(visitor.getPolicy(s.policy._id), { status: 404 }); // the event is a draft
    const live = await newEvent('live', { draft: false });
    const shown = await pol().createPolicy({ eventId: live._id, name: 'Shown', body: 'Visible to guests.' });
    assert.equal((await visitor.getPolicy(shown._id)).name, 'Shown');
    const q = await visitor.queryPolicies().eq('eventId', live._id).find();
    assert.deepEqual(q.items.map((p) => p._id), [shown._id]);
    await expectWixError(visitor.createPolicy({ eventId: live._id, name: 'N', body: 'B' }), { status: 403 });
    await expectWixError(visitor.deletePolicy(shown._id), { status: 403 });
  });

  test('deletePolicy resolves; the policy is gone', async () => {
    need('policy');
    const r = await pol().deletePolicy(s.policy._id);
    assert.equal(r, undefined);
    assert.equal(lastRequest(`/v2/policies/${s.policy._id}`).method, 'DELETE');
    await expectWixError(pol().getPolicy(s.policy._id), { status: 404, code: 'POLICY_NOT_FOUND' });
    await expectWixError(pol().deletePolicy(s.policy._id), { status: 404 });
    s.deleted = true;
  });

  test('onPolicyDeleted receives the deleted entity', async () => {
    need('ready', 'deleted');
    const env = await waitFor('onPolicyDeleted', (en) => en.metadata?.entityId === s.policy._id);
    assert.equal(env.metadata.slug, 'deleted');
    assert.equal(env.entity?._id, s.policy._id);
    await receiver.settled();
    assert.deepEqual(receiver.errors, [], 'webhooks.process accepted every policy delivery');
  });

  test('the /_api/events-policies path family (SDK with a non-Wix host) serves every method', async () => {
    const alt = policiesClient({ apiBaseUrl: 'boxoffice.invalid' }).policies;
    const e = await newEvent('alt');
    const p = await alt.createPolicy({ eventId: e._id, name: 'Alt', body: 'B' });
    assert.equal(new URL(lastRequest('/v2/policies').url).pathname, '/_api/events-policies/v2/policies');
    const q2 = await alt.createPolicy({ eventId: e._id, name: 'Alt2', body: 'B' });
    assert.equal((await alt.getPolicy(p._id)).name, 'Alt');
    const u = await alt.updatePolicy(p._id, { name: 'Alt1', body: 'B1', eventId: e._id, revision: p.revision });
    assert.equal(u.revision, '2');
    const q = await alt.queryPolicies().eq('eventId', e._id).find();
    assert.equal(q.items.length, 2);
    const r = await alt.reorderEventPolicies(p._id, e._id, { beforePolicyId: q2._id });
    assert.deepEqual(r.policies.map((x) => x._id), [p._id, q2._id]);
    await alt.deletePolicy(p._id);
    await expectWixError(alt.getPolicy(p._id), { status: 404, code: 'POLICY_NOT_FOUND' });
  });

  test("the docs' /events/v2/policies path serves it too", async () => {
    need('third');
    const res = await fetch(`${requireEnv('BOXOFFICE_URL').replace(/\/+$/, '')}/events/v2/policies/${s.third._id}`, {
      headers: { Authorization: requireEnv('BOXOFFICE_API_KEY'), 'wix-site-id': requireEnv('BOXOFFICE_SITE_ID') },
    });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).policy.name, 'Conduct');
  });
});
