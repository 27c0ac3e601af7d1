// Staff members conformance, driven through the official SDK
// (@wix/auto_sdk_events_staff-members 1.0.56 on @wix/sdk 1.21.16): all 8 methods on both path
// families (`www.wixapis.com` -> /events/v1/staff-members..., any other host ->
// /_api/events-staff-members/v1/staff-members...), and the Check-in flow: the owner creates a
// staff member, the staff member's device logs in with the token from the login link (no key),
// and checks a ticket in through @wix/auto_sdk_events_tickets with ApiKeyStrategy and the
// access token Login gave; only for its events, and not after it is deleted.
// The three staff-member webhooks are verified in webhooks.test.mjs.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, ApiKeyStrategy } from '@wix/sdk';
import * as staffMembers from '@wix/auto_sdk_events_staff-members';
import {
  makeRewritingFetch,
  buildClient,
  requireEnv,
  RUN_ID,
  randomGuid,
  eventInput,
  tdInput,
  expectWixError,
  deleteEventsQuietly,
  requestLog,
  tickets,
  wixEventsV2,
} from './client.mjs';

const isGuid = (s) => typeof s === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

/**
 * A client with the staff-members, tickets and events modules. `apiKey: null` builds the
 * staff member's device before it has logged in: no auth strategy, no key.
 */
function staffClient({ apiKey, apiBaseUrl } = {}) {
  const baseUrl = requireEnv('BOXOFFICE_URL');
  const key = apiKey === undefined ? requireEnv('BOXOFFICE_API_KEY') : apiKey;
  return createClient({
    modules: { staffMembers, tickets, wixEventsV2 },
    ...(key === null ? {} : { auth: ApiKeyStrategy({ siteId: requireEnv('BOXOFFICE_SITE_ID'), apiKey: key }) }),
    // a non-Wix host makes the SDK resolve the `_` mapping: /_api/events-staff-members/...
    ...(apiBaseUrl ? { host: { apiBaseUrl } } : {}),
    fetch: makeRewritingFetch(baseUrl, apiBaseUrl ? { fromOrigin: `https://${apiBaseUrl}` } : {}),
  });
}

let _owner;
const owner = () => (_owner ??= buildClient());
let _sm;
const sm = () => (_sm ??= staffClient()).staffMembers;

const createdEventIds = [];
async function newEvent(label) {
  const e = await owner().wixEventsV2.createEvent(eventInput(`STAFF ${label} ${RUN_ID}`), { draft: false });
  createdEventIds.push(e._id);
  return e;
}

/** A published event with one paid, confirmed order of `n` tickets: their numbers. */
async function soldTickets(e, n = 2) {
  const td = await owner().ticketDefinitions.createTicketDefinition(tdInput(e._id, 'Door', { initialLimit: 10 }));
  const r = await owner().ticketReservations.createTicketReservation({ tickets: [{ ticketDefinitionId: td._id, quantity: n }] });
  const guest = {
    form: {
      inputValues: [
        { inputName: 'firstName', value: 'Gina' },
        { inputName: 'lastName', value: 'Guest' },
        { inputName: 'email', value: `gina.${RUN_ID}@example.com` },
      ],
    },
  };
  const co = await owner().orders.checkout(e._id, { reservationId: r._id, guests: [guest] });
  const conf = await owner().orders.confirmOrder(e._id, { orderNumber: [co.order.orderNumber] });
  assert.equal(conf.orders[0].status, 'PAID');
  return conf.orders[0].tickets.map((t) => t.ticketNumber);
}

function assertDate(value, label) {
  assert.ok(value instanceof Date, `${label} must be a JS Date (the SDK converts ISO strings), got ${typeof value}: ${value}`);
  assert.ok(!Number.isNaN(value.getTime()), `${label} must be a valid date`);
}

function lastRequest(pathPart) {
  return [...requestLog].reverse().find((r) => r.url.includes(pathPart));
}

const tokenOf = (link) => new URLSearchParams(new URL(link).hash.slice(1)).get('loginToken');

after(async () => {
  if (_owner) await deleteEventsQuietly(_owner, createdEventIds);
});

describe('environment', () => {
  test('BOXOFFICE_URL and keys are configured (the suite fails, never skips, without a server)', () => {
    requireEnv('BOXOFFICE_URL');
    requireEnv('BOXOFFICE_API_KEY');
    requireEnv('BOXOFFICE_SITE_ID');
    requireEnv('BOXOFFICE_VISITOR_KEY');
  });
});

describe('staff members through the SDK', () => {
  const s = {};
  const need = (...keys) => {
    for (const k of keys) if (s[k] === undefined) throw new Error(`an earlier step failed: no ${k}`);
  };

  test('createStaffMember returns the staff member (GUID _id, PENDING, Dates, loginLink) on /events/v1/staff-members', async () => {
    s.event = await newEvent('mine');
    s.other = await newEvent('other');
    const m = await sm().createStaffMember({
      name: `Door ${RUN_ID}`,
      permissions: ['CHECK_IN_GUESTS'],
      specificEvents: { events: [s.event._id] },
    });
    assert.ok(isGuid(m._id), `_id must be a GUID, got ${m._id}`);
    assert.equal('id' in m, false, 'REST "id" is renamed to _id');
    assert.equal(m.name, `Door ${RUN_ID}`);
    assert.equal(m.status, 'PENDING');
    assert.deepEqual(m.permissions, ['CHECK_IN_GUESTS']);
    assert.deepEqual(m.specificEvents, { events: [s.event._id] });
    assert.equal(m.revision, '1');
    assertDate(m._createdDate, '_createdDate');
    assertDate(m._updatedDate, '_updatedDate');
    assert.ok(tokenOf(m.loginLink), `loginLink carries a loginToken, got ${m.loginLink}`);
    const req = lastRequest('/v1/staff-members');
    assert.equal(new URL(req.url).pathname, '/events/v1/staff-members');
    assert.equal(req.method, 'POST');
    s.member = m;
  });

  test('createStaffMember refusals: neither allEvents nor specificEvents (400), an unknown event (404)', async () => {
    await expectWixError(sm().createStaffMember({ name: 'Nobody' }), { status: 400, validation: true, field: /allEvents/ });
    await expectWixError(sm().createStaffMember({ name: 'N', specificEvents: { events: [randomGuid()] } }), {
      status: 404,
      code: 'EVENT_NOT_FOUND',
    });
  });

  test('getStaffMember returns it; the loginLink only with the LOGIN_LINK fieldset', async () => {
    need('member');
    const g = await sm().getStaffMember(s.member._id);
    const { loginLink, ...plain } = s.member;
    assert.deepEqual(g, plain);
    assert.equal(lastRequest(`/v1/staff-members/${s.member._id}`).method, 'GET');
    const withLink = await sm().getStaffMember(s.member._id, { fieldsets: ['LOGIN_LINK'] });
    assert.equal(withLink.loginLink, loginLink);
    await expectWixError(sm().getStaffMember(randomGuid()), { status: 404, code: 'STAFF_MEMBER_NOT_FOUND' });
  });

  test('updateStaffMember with the current revision changes it; a stale revision is 428 REVISION_MISMATCH', async () => {
    need('member');
    const u = await sm().updateStaffMember(s.member._id, {
      revision: s.member.revision,
      name: `Door Dana ${RUN_ID}`,
      permissions: ['CHECK_IN_GUESTS', 'READ_GUEST_FORM'],
    });
    assert.equal(u._id, s.member._id);
    assert.equal(u.name, `Door Dana ${RUN_ID}`);
    assert.deepEqual(u.permissions, ['CHECK_IN_GUESTS', 'READ_GUEST_FORM']);
    assert.deepEqual(u.specificEvents, { events: [s.event._id] }, 'what the PATCH does not carry stays');
    assert.equal(u.revision, '2');
    assertDate(u._updatedDate, '_updatedDate');
    assert.equal(lastRequest(`/v1/staff-members/${s.member._id}`).method, 'PATCH');
    await expectWixError(sm().updateStaffMember(s.member._id, { revision: '1', name: 'Again' }), {
      status: 428,
      code: 'REVISION_MISMATCH',
    });
    s.updated = u;
  });

  test('queryStaffMembers (cursor builder): filter by _id, sort, paging with next(); the typed form; LOGIN_LINK', async () => {
    need('member');
    const second = await sm().createStaffMember({ name: `Bar ${RUN_ID}`, allEvents: {} });
    s.second = second;
    const ids = [s.member._id, second._id];
    const r = await sm().queryStaffMembers().in('_id', ids).descending('_createdDate').limit(1).find();
    assert.deepEqual(r.items.map((m) => m._id), [second._id]);
    assertDate(r.items[0]._createdDate, 'items[0]._createdDate');
    assert.deepEqual(r.items[0].allEvents, {});
    assert.equal(r.hasNext(), true);
    const body = JSON.parse(lastRequest('/v1/staff-members/query').body);
    assert.deepEqual(body.query.cursorPaging, { limit: 1 });
    const r2 = await r.next();
    assert.deepEqual(r2.items.map((m) => m._id), [s.member._id]);
    assert.equal(r2.hasNext(), false);
    const eq = await sm().queryStaffMembers({ fieldsets: ['LOGIN_LINK'] }).eq('_id', s.member._id).find();
    assert.equal(eq.items.length, 1);
    assert.equal(eq.items[0].loginLink, s.member.loginLink);
    const typed = await sm().queryStaffMembers({ filter: { _id: { $in: ids } }, cursorPaging: { limit: 10 } });
    assert.deepEqual(typed.staffMembers.map((m) => m._id).sort(), [...ids].sort());
    await expectWixError(sm().queryStaffMembers().eq('noSuchField', 1).find(), { status: 400, code: 'FILTER_PARSER_ERROR' });
  });

  test('a visitor key can neither read nor write staff members (403)', async () => {
    need('member');
    const visitor = staffClient({ apiKey: requireEnv('BOXOFFICE_VISITOR_KEY') }).staffMembers;
    await expectWixError(visitor.getStaffMember(s.member._id), { status: 403 });
    await expectWixError(visitor.queryStaffMembers().find(), { status: 403 });
    await expectWixError(visitor.createStaffMember({ name: 'N', allEvents: {} }), { status: 403 });
    await expectWixError(visitor.deleteStaffMember(s.member._id), { status: 403 });
  });

  test("loginStaffMember: the device (no key) exchanges the link's token for an access token; the staff member HAS_ACCESS", async () => {
    need('updated');
    const device = staffClient({ apiKey: null }).staffMembers;
    const res = await device.loginStaffMember(tokenOf(s.member.loginLink));
    assert.equal(typeof res.accessToken, 'string');
    assert.ok(res.accessToken.length > 20);
    assert.ok(isGuid(res.deviceId), `deviceId, got ${res.deviceId}`);
    assert.equal(res.staffMember._id, s.member._id);
    assert.equal(res.staffMember.status, 'HAS_ACCESS');
    assertDate(res.staffMember._updatedDate, 'staffMember._updatedDate');
    assert.equal(new URL(lastRequest('/v1/staff-members/login').url).pathname, '/events/v1/staff-members/login');
    await expectWixError(device.loginStaffMember(`${s.member._id}.forged`), { status: 401 });
    s.accessToken = res.accessToken;
  });

  test('joinStaffMember (deprecated) takes the same token; accessStaffMember tells whose access token it is', async () => {
    need('accessToken');
    const device = staffClient({ apiKey: null }).staffMembers;
    const j = await device.joinStaffMember(tokenOf(s.member.loginLink));
    assert.equal(j.staffMember._id, s.member._id);
    assert.notEqual(j.accessToken, s.accessToken, 'each login is a device of its own');
    const a = await device.accessStaffMember(s.accessToken);
    assert.equal(a.staffMember._id, s.member._id);
    assert.equal(a.staffMember.status, 'HAS_ACCESS');
    await expectWixError(device.accessStaffMember('bo_not-a-token'), { status: 401 });
  });

  test('with ApiKeyStrategy and the access token, the staff member checks a ticket in through the tickets package', async () => {
    need('accessToken');
    s.numbers = await soldTickets(s.event);
    s.otherNumbers = await soldTickets(s.other, 1);
    const door = staffClient({ apiKey: s.accessToken });
    const res = await door.tickets.checkInTickets(s.event._id, { ticketNumber: [s.numbers[0]] });
    assert.equal(res.tickets.length, 1);
    assert.equal(res.tickets[0].ticketNumber, s.numbers[0]);
    assertDate(res.tickets[0].checkIn?.created, 'tickets[0].checkIn.created');
    const req = lastRequest('/v1/tickets/check-in');
    assert.equal(req.headers.Authorization ?? req.headers.authorization, s.accessToken, 'ApiKeyStrategy sends the access token');
    const list = await door.tickets.listTickets({ eventId: [s.event._id], fieldset: ['TICKET_DETAILS'] });
    assert.deepEqual(list.tickets.map((t) => t.ticketNumber).sort(), [...s.numbers].sort());
    const undo = await door.tickets.deleteTicketCheckIns(s.event._id, { ticketNumber: [s.numbers[0]] });
    assert.equal(undo.tickets[0].checkIn, undefined);
  });

  test('the staff credential is refused elsewhere: another event (403), managing events (403)', async () => {
    need('accessToken', 'otherNumbers');
    const door = staffClient({ apiKey: s.accessToken });
    await expectWixError(door.tickets.checkInTickets(s.other._id, { ticketNumber: [s.otherNumbers[0]] }), {
      status: 403,
      code: 'EVENT_NOT_ASSIGNED',
    });
    await expectWixError(door.tickets.listTickets({ eventId: [s.other._id] }), { status: 403 });
    await expectWixError(door.wixEventsV2.createEvent(eventInput(`STAFF forbidden ${RUN_ID}`), { draft: true }), { status: 403 });
    await expectWixError(door.staffMembers.getStaffMember(s.member._id), { status: 403 });
  });

  test('deleteStaffMember resolves; the staff member is gone and its access token stops working at once', async () => {
    need('accessToken', 'numbers');
    const r = await sm().deleteStaffMember(s.member._id);
    assert.equal(r, undefined);
    assert.equal(lastRequest(`/v1/staff-members/${s.member._id}`).method, 'DELETE');
    await expectWixError(sm().getStaffMember(s.member._id), { status: 404, code: 'STAFF_MEMBER_NOT_FOUND' });
    await expectWixError(sm().deleteStaffMember(s.member._id), { status: 404 });
    const door = staffClient({ apiKey: s.accessToken });
    await expectWixError(door.tickets.checkInTickets(s.event._id, { ticketNumber: [s.numbers[1]] }), { status: 401 });
    await expectWixError(staffClient({ apiKey: null }).staffMembers.accessStaffMember(s.accessToken), { status: 401 });
    await sm().deleteStaffMember(s.second._id);
  });

  test('the /_api/events-staff-members path family (SDK with a non-Wix host) serves every method', async () => {
    const alt = staffClient({ apiBaseUrl: 'boxoffice.invalid' }).staffMembers;
    const m = await alt.createStaffMember({ name: `Alt ${RUN_ID}`, allEvents: {}, permissions: ['CHECK_IN_GUESTS'] });
    assert.equal(new URL(lastRequest('/v1/staff-members').url).pathname, '/_api/events-staff-members/v1/staff-members');
    assert.equal((await alt.getStaffMember(m._id)).name, `Alt ${RUN_ID}`);
    const u = await alt.updateStaffMember(m._id, { revision: m.revision, name: `Alt1 ${RUN_ID}` });
    assert.equal(u.revision, '2');
    const q = await alt.queryStaffMembers().eq('_id', m._id).find();
    assert.equal(q.items.length, 1);
    const device = staffClient({ apiKey: null, apiBaseUrl: 'boxoffice.invalid' }).staffMembers;
    const login = await device.loginStaffMember(tokenOf(m.loginLink));
    assert.equal(new URL(lastRequest('/v1/staff-members/login').url).pathname, '/_api/events-staff-members/v1/staff-members/login');
    assert.equal((await device.accessStaffMember(login.accessToken)).staffMember._id, m._id);
    assert.equal((await device.joinStaffMember(tokenOf(m.loginLink))).staffMember._id, m._id);
    await alt.deleteStaffMember(m._id);
    await expectWixError(alt.getStaffMember(m._id), { status: 404, code: 'STAFF_MEMBER_NOT_FOUND' });
  });
});
