// Registration form conformance, driven through the official SDK
// (@wix/auto_sdk_events_forms 1.0.108 on @wix/sdk 1.21.16): all seven methods (getForm,
// addControl, updateControl, deleteControl, updateMessages, publishDraft, discardDraft) on both
// path families (`www.wixapis.com` -> /events/v1/events/{id}/form..., any other host ->
// /_api/wix-events-web/v1/events/{id}/form...), the package's webhook (onFormEventUpdated,
// the legacy wix.events.events.EventUpdated) verified by the SDK's own receiver, and a checkout
// (@wix/auto_sdk_events_orders) whose guests must answer an extra required control.
//
// Why the fetch below rewrites `/form/controls/undefined`: in forms 1.0.108, updateControl and
// deleteControl build their request from `identifiers.eventId` only and never put the control id
// into the payload, so the URL template `/v1/events/{eventId}/form/controls/{id}` is filled with
// `undefined` (build/cjs/index.js: updateControl2/deleteControl2 -> resolveUrl; wire notes §8).
// The server serves the documented `/form/controls/{controlId}`; these tests put the id back into
// that one path segment (and nothing else) before the request leaves, and one test shows what the
// unpatched call gets: 404 CONTROL_NOT_FOUND.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, ApiKeyStrategy, AppStrategy } from '@wix/sdk';
import * as forms from '@wix/auto_sdk_events_forms';
import {
  makeRewritingFetch,
  buildClient,
  requireEnv,
  RUN_ID,
  randomGuid,
  eventInput,
  tdInput,
  expectWixError,
  admin,
  startWebhookReceiver,
  deleteEventsQuietly,
  requestLog,
  testEnvironment,
} from './client.mjs';

const WEBHOOK_TYPE = 'wix.events.events.EventUpdated';

/** The control id the next updateControl/deleteControl call is about (see the header). */
const pathFix = { controlId: null };

/** Puts `pathFix.controlId` into `/form/controls/undefined`; every other request passes untouched. */
function restoringControlId(inner) {
  return (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (pathFix.controlId !== null && url.includes('/form/controls/undefined')) {
      return inner(url.replace('/form/controls/undefined', `/form/controls/${encodeURIComponent(pathFix.controlId)}`), init);
    }
    return inner(input, init);
  };
}

/** Run one SDK call with the control id restored into its path. */
async function withControlId(controlId, call) {
  pathFix.controlId = controlId;
  try {
    return await call();
  } finally {
    pathFix.controlId = null;
  }
}

/** A client with the forms module (client.mjs's buildClient does not carry it). */
function formsClient({ apiKey, apiBaseUrl } = {}) {
  const baseUrl = requireEnv('BOXOFFICE_URL');
  return createClient({
    modules: { forms },
    auth: ApiKeyStrategy({ siteId: requireEnv('BOXOFFICE_SITE_ID'), apiKey: apiKey ?? requireEnv('BOXOFFICE_API_KEY') }),
    // a non-Wix host makes the SDK resolve the `_` mapping: /_api/wix-events-web/v1/events/...
    ...(apiBaseUrl ? { host: { apiBaseUrl } } : {}),
    fetch: restoringControlId(makeRewritingFetch(baseUrl, apiBaseUrl ? { fromOrigin: `https://${apiBaseUrl}` } : {})),
  });
}

let _client;
const client = () => (_client ??= buildClient());
let _fm;
const fm = () => (_fm ??= formsClient()).forms;

const createdEventIds = [];
async function newEvent(label, { draft = true } = {}) {
  const e = await client().wixEventsV2.createEvent(eventInput(`FORM ${label} ${RUN_ID}`), { draft });
  createdEventIds.push(e._id);
  return e;
}

function lastRequest(pathPart) {
  return [...requestLog].reverse().find((r) => r.url.includes(pathPart));
}

function assertDate(value, label) {
  assert.ok(value instanceof Date, `${label} must be a JS Date (the SDK converts ISO strings), got ${typeof value}: ${value}`);
  assert.ok(!Number.isNaN(value.getTime()), `${label} must be a valid date`);
}

const byId = (form, id) => form.controls.find((c) => c._id === id);
const ids = (form) => form.controls.map((c) => c._id);

// --- the webhook receiver ----------------------------------------------------------------

const dispatched = [];
let receiver;
let subscriptionId;
let wh;

const waitFor = (match, timeoutMs) => receiver.waitFor(() => dispatched.find((d) => match(d)), 'onFormEventUpdated', timeoutMs);

before(async () => {
  receiver = await startWebhookReceiver((body) => wh.webhooks.process(body));
});

after(async () => {
  if (_client) await deleteEventsQuietly(_client, createdEventIds);
  if (subscriptionId) await admin('DELETE', `/boxoffice/v1/webhooks/${subscriptionId}`).catch(() => {});
  if (receiver) {
    await receiver.settled();
    await receiver.close();
  }
});

testEnvironment();

describe('registration forms through the SDK', () => {
  const s = {};
  const need = (...keys) => {
    for (const k of keys) if (s[k] === undefined) throw new Error(`an earlier step failed: no ${k}`);
  };

  test('the receiver subscribes to the form webhook (AppStrategy with the server key)', async () => {
    assert.equal(forms.onFormEventUpdated.type, WEBHOOK_TYPE, 'the package declares exactly this event type');
    const sub = await admin('POST', '/boxoffice/v1/webhooks', { url: `${receiver.url}/forms`, eventTypes: [WEBHOOK_TYPE] });
    assert.equal(sub.status, 200, sub.text);
    subscriptionId = sub.json.webhook.id;
    const list = await admin('GET', '/boxoffice/v1/webhooks');
    wh = createClient({ auth: AppStrategy({ appId: 'boxoffice-conformance', publicKey: list.json.publicKey }), modules: { forms } });
    wh.forms.onFormEventUpdated((envelope) => dispatched.push(envelope));
    s.ready = true;
  });

  test('getForm: every event has the default form (name and e-mail, pinned, required) on /events/v1/events/{id}/form', async () => {
    const e = await newEvent('default');
    s.event = e;
    const f = await fm().getForm(e._id);
    assert.deepEqual(ids(f), ['name', 'email']);
    const [name, email] = f.controls;
    assert.equal(name.type, 'NAME');
    assert.equal(name.system, true);
    assert.equal(name.orderIndex, 0);
    assert.deepEqual(name.inputs.map((i) => i.name), ['firstName', 'lastName']);
    assert.ok(name.inputs.every((i) => i.mandatory === true && i.type === 'TEXT'));
    assert.equal(email.type, 'INPUT');
    assert.equal(email.inputs[0].name, 'email');
    assert.equal('id' in name, false, 'REST "id" is renamed to _id');
    for (const path of [['checkout', 'title'], ['rsvp', 'positiveMessages', 'confirmation', 'title'], ['registrationClosed', 'message']]) {
      assert.equal(typeof path.reduce((o, k) => o?.[k], f.messages), 'string', `messages.${path.join('.')}`);
    }
    const req = lastRequest(`/events/${e._id}/form`);
    assert.equal(new URL(req.url).pathname, `/events/v1/events/${e._id}/form`);
    assert.equal(req.method, 'GET');
  });

  test('addControl adds each kind of control last and answers {_id, form}', async () => {
    need('event');
    const e = s.event;
    const phone = await fm().addControl(e._id, { phone: { label: 'Work phone', mandatory: true } });
    assert.match(phone._id, /^phone-[0-9a-f]{16}$/);
    const p = byId(phone.form, phone._id);
    assert.equal(p.type, 'INPUT');
    assert.equal(p.orderIndex, 2);
    assert.equal(p.inputs[0].name, phone._id);
    assert.equal(p.inputs[0].mandatory, true);
    assert.equal(p.inputs[0].label, 'Work phone');
    const req = lastRequest('/form/control');
    assert.equal(new URL(req.url).pathname, `/events/v1/events/${e._id}/form/control`);
    assert.equal(req.method, 'POST');
    const dd = await fm().addControl(e._id, { dropdown: { label: 'Size', options: ['S', 'M', 'L'], mandatory: true } });
    assert.equal(byId(dd.form, dd._id).type, 'DROPDOWN');
    assert.deepEqual(byId(dd.form, dd._id).inputs[0].options, ['S', 'M', 'L']);
    const cb = await fm().addControl(e._id, { checkbox: { label: 'Diet', options: ['Vegan', 'Halal'] } });
    assert.equal(byId(cb.form, cb._id).inputs[0].type, 'TEXT_ARRAY');
    const tx = await fm().addControl(e._id, { text: { label: 'Notes', multiLine: true, maxLength: 200 } });
    assert.equal(byId(tx.form, tx._id).type, 'TEXTAREA');
    const ad = await fm().addControl(e._id, { address: { full: true } });
    assert.equal(byId(ad.form, ad._id).type, 'ADDRESS_FULL');
    const dt = await fm().addControl(e._id, { date: { label: 'Birthday' } });
    assert.equal(byId(dt.form, dt._id).type, 'DATE');
    const rb = await fm().addControl(e._id, { radioButton: { label: 'Meal', options: ['Fish', 'Meat'] } });
    assert.equal(byId(rb.form, rb._id).type, 'RADIO');
    assert.deepEqual(ids(rb.form), ['name', 'email', phone._id, dd._id, cb._id, tx._id, ad._id, dt._id, rb._id]);
    assert.deepEqual((await fm().getForm(e._id)).controls, rb.form.controls, 'every change is live at once');
    Object.assign(s, { phone: phone._id, dropdown: dd._id, checkbox: cb._id, text: tx._id });
  });

  test('onFormEventUpdated receives EventUpdated for the event', async () => {
    need('ready', 'phone');
    const env = await waitFor((d) => d.data?.eventId === s.event._id);
    assert.equal(env.data.title, s.event.title);
    assertDate(env.data.timestamp, 'data.timestamp');
    assertDate(env.data.scheduleConfig.startDate, 'data.scheduleConfig.startDate');
    assert.equal(env.metadata.instanceId, requireEnv('BOXOFFICE_SITE_ID'));
    assert.equal(env.metadata.identity?.identityType, 'APP');
  });

  test('addControl refusals: no control (400), too few options (400), unknown event (404), additional guests on a ticketed event (428)', async () => {
    need('event');
    await expectWixError(fm().addControl(s.event._id, {}), { status: 400, validation: true, field: /control/ });
    await expectWixError(fm().addControl(s.event._id, { dropdown: { label: 'One', options: ['A'] } }), {
      status: 400,
      validation: true,
      field: /dropdown\.options/,
    });
    await expectWixError(fm().addControl(randomGuid(), { phone: {} }), { status: 404, code: 'EVENT_NOT_FOUND' });
    await expectWixError(fm().addControl(s.event._id, { additionalGuests: { maxGuests: 2 } }), {
      status: 428,
      code: 'INVALID_EVENT_CONFIGURATION',
    });
  });

  test('updateControl as the 1.0.108 SDK sends it (/form/controls/undefined) finds no control: 404 CONTROL_NOT_FOUND', async () => {
    need('phone');
    await expectWixError(fm().updateControl({ eventId: s.event._id, controlId: s.phone }, { phone: { label: 'X' } }), {
      status: 404,
      code: 'CONTROL_NOT_FOUND',
    });
    assert.equal(new URL(lastRequest('/form/controls/').url).pathname, `/events/v1/events/${s.event._id}/form/controls/undefined`);
  });

  test('updateControl (id restored in the path) replaces a control\'s settings and moves it; PUT /form/controls/{id}', async () => {
    need('phone', 'text');
    const r = await withControlId(s.phone, () =>
      fm().updateControl({ eventId: s.event._id }, { phone: { label: 'Mobile', mandatory: false }, orderIndex: 5 }),
    );
    const p = byId(r.form, s.phone);
    assert.equal(p.label, 'Mobile');
    assert.equal(p.inputs[0].mandatory, false);
    assert.equal(p.orderIndex, 5);
    const req = lastRequest(`/form/controls/${s.phone}`);
    assert.equal(req.method, 'PUT');
    assert.equal(new URL(req.url).pathname, `/events/v1/events/${s.event._id}/form/controls/${s.phone}`);
    const n = await withControlId('name', () =>
      fm().updateControl({ eventId: s.event._id }, { name: { labels: { firstName: 'Given name', lastName: 'Family name' } } }),
    );
    assert.equal(byId(n.form, 'name').label, 'Given name, Family name');
    // the system controls take only their labels; a control keeps its kind
    await expectWixError(withControlId('email', () => fm().updateControl({ eventId: s.event._id }, { phone: { label: 'P' } })), {
      status: 428,
      code: 'INVALID_EVENT_CONFIGURATION',
    });
    await expectWixError(withControlId(s.text, () => fm().updateControl({ eventId: s.event._id }, { dropdown: { options: ['a', 'b'] } })), {
      status: 428,
      code: 'INVALID_EVENT_CONFIGURATION',
    });
    await expectWixError(withControlId('text-0000000000000000', () => fm().updateControl({ eventId: s.event._id }, { text: {} })), {
      status: 404,
      code: 'CONTROL_NOT_FOUND',
    });
  });

  test('deleteControl (id restored in the path) removes a custom control; name and e-mail stay (428)', async () => {
    need('checkbox');
    const r = await withControlId(s.checkbox, () => fm().deleteControl({ eventId: s.event._id }));
    assert.equal(byId(r.form, s.checkbox), undefined);
    const req = lastRequest(`/form/controls/${s.checkbox}`);
    assert.equal(req.method, 'DELETE');
    assert.equal(new URL(req.url).pathname, `/events/v1/events/${s.event._id}/form/controls/${s.checkbox}`);
    for (const system of ['name', 'email']) {
      await expectWixError(withControlId(system, () => fm().deleteControl({ eventId: s.event._id })), {
        status: 428,
        code: 'INVALID_EVENT_CONFIGURATION',
      });
    }
    await expectWixError(withControlId(s.checkbox, () => fm().deleteControl({ eventId: s.event._id })), {
      status: 404,
      code: 'CONTROL_NOT_FOUND',
    });
  });

  test('updateMessages: a field mask changes only its paths; PATCH /form/messages', async () => {
    need('event');
    const before = (await fm().getForm(s.event._id)).messages;
    const r = await fm().updateMessages(s.event._id, {
      fields: ['checkout.title', 'registrationClosed.message'],
      messages: { checkout: { title: 'Your details', submitActionLabel: 'not in the mask' }, registrationClosed: { message: 'Full' } },
    });
    assert.equal(r.form.messages.checkout.title, 'Your details');
    assert.equal(r.form.messages.checkout.submitActionLabel, before.checkout.submitActionLabel);
    assert.equal(r.form.messages.registrationClosed.message, 'Full');
    assert.deepEqual(r.form.messages.rsvp, before.rsvp);
    const req = lastRequest('/form/messages');
    assert.equal(req.method, 'PATCH');
    assert.equal(JSON.parse(req.body).fields, 'checkout.title,registrationClosed.message');
    await expectWixError(fm().updateMessages(s.event._id, { fields: ['checkout.nope'], messages: {} }), { status: 400, validation: true });
  });

  test('publishDraft and discardDraft (deprecated) answer what the SDK expects and change nothing', async () => {
    need('event');
    const current = await fm().getForm(s.event._id);
    const p = await fm().publishDraft(s.event._id);
    assert.deepEqual(p.form, current);
    assert.equal(lastRequest('/form/publish').method, 'POST');
    const d = await fm().discardDraft(s.event._id);
    assert.equal(d, undefined);
    const req = lastRequest(`/events/${s.event._id}/form`);
    assert.equal(req.method, 'DELETE');
    assert.deepEqual(await fm().getForm(s.event._id), current, 'nothing was discarded');
  });

  test('a visitor reads the forms of published events only and cannot change them', async () => {
    need('event');
    const visitor = formsClient({ apiKey: requireEnv('BOXOFFICE_VISITOR_KEY') }).forms;
    await expectWixError(visitor.getForm(s.event._id), { status: 404 }); // a draft
    const live = await newEvent('live', { draft: false });
    const added = await fm().addControl(live._id, { phone: {} });
    assert.deepEqual(ids(await visitor.getForm(live._id)), ['name', 'email', added._id]);
    await expectWixError(visitor.addControl(live._id, { phone: {} }), { status: 403 });
    await expectWixError(visitor.updateMessages(live._id, { messages: {} }), { status: 403 });
    await expectWixError(visitor.publishDraft(live._id), { status: 403 });
  });

  test('the /_api/wix-events-web path family (SDK with a non-Wix host) serves all seven methods', async () => {
    const alt = formsClient({ apiBaseUrl: 'boxoffice.invalid' }).forms;
    const e = await newEvent('alt');
    const f = await alt.getForm(e._id);
    assert.equal(new URL(lastRequest(`/events/${e._id}/form`).url).pathname, `/_api/wix-events-web/v1/events/${e._id}/form`);
    assert.deepEqual(ids(f), ['name', 'email']);
    const a = await alt.addControl(e._id, { text: { label: 'Alt' } });
    assert.equal(new URL(lastRequest('/form/control').url).pathname, `/_api/wix-events-web/v1/events/${e._id}/form/control`);
    const u = await withControlId(a._id, () => alt.updateControl({ eventId: e._id }, { text: { label: 'Alt2' } }));
    assert.equal(byId(u.form, a._id).label, 'Alt2');
    assert.equal(new URL(lastRequest(`/form/controls/${a._id}`).url).pathname, `/_api/wix-events-web/v1/events/${e._id}/form/controls/${a._id}`);
    const m = await alt.updateMessages(e._id, { fields: ['checkout.title'], messages: { checkout: { title: 'Alt' } } });
    assert.equal(m.form.messages.checkout.title, 'Alt');
    assert.equal((await alt.publishDraft(e._id)).form.messages.checkout.title, 'Alt');
    assert.equal(await alt.discardDraft(e._id), undefined);
    const d = await withControlId(a._id, () => alt.deleteControl({ eventId: e._id }));
    assert.deepEqual(ids(d.form), ['name', 'email']);
    assert.equal(new URL(lastRequest(`/form/controls/${a._id}`).url).pathname, `/_api/wix-events-web/v1/events/${e._id}/form/controls/${a._id}`);
    await receiver.settled();
    assert.deepEqual(receiver.errors, [], 'webhooks.process accepted every form delivery');
  });
});

describe('checkout checks guests\' answers against the form', () => {
  test('an extra required control: no answer -> 400 naming it; answered -> the order\'s checkoutForm carries it', async () => {
    const e = await newEvent('checkout');
    const td = await client().ticketDefinitions.createTicketDefinition(
      tdInput(e._id, 'Free', { initialLimit: 5, pricingMethod: { fixedPrice: { value: '0', currency: 'USD' } } }),
    );
    await client().wixEventsV2.publishDraftEvent(e._id);
    const { _id: company } = await fm().addControl(e._id, { text: { label: 'Company', mandatory: true } });
    const guest = (...extra) => ({
      form: {
        inputValues: [
          { inputName: 'firstName', value: 'Ada' },
          { inputName: 'lastName', value: 'Lovelace' },
          { inputName: 'email', value: `ada.${RUN_ID}@example.com` },
          ...extra,
        ],
      },
    });
    const r = await client().ticketReservations.createTicketReservation({ tickets: [{ ticketDefinitionId: td._id, quantity: 1 }] });
    const err = await expectWixError(client().orders.checkout(e._id, { reservationId: r._id, guests: [guest()] }), {
      status: 400,
      validation: true,
      // the SDK names the field by the argument that carried it: options.guests[0]...
      field: new RegExp(`^(options\\.)?guests\\[0\\]\\.form\\.inputValues\\.${company}$`),
    });
    assert.match(err.details.validationError.fieldViolations[0].description, /Company/);
    await expectWixError(
      client().orders.checkout(e._id, { reservationId: r._id, guests: [guest({ inputName: company, value: 'x'.repeat(1001) })] }),
      { status: 400, validation: true, field: new RegExp(company) },
    );
    await expectWixError(
      client().orders.checkout(e._id, { reservationId: r._id, guests: [guest({ inputName: company, value: 'ACME' }, { inputName: 'nope', value: '1' })] }),
      { status: 400, validation: true, field: /inputValues\.nope/ },
    );
    const res = await client().orders.checkout(e._id, { reservationId: r._id, guests: [guest({ inputName: company, value: 'Analytical Engines' })] });
    assert.equal(res.order.status, 'FREE');
    assert.deepEqual(
      res.order.checkoutForm.inputValues.find((v) => v.inputName === company),
      { inputName: company, value: 'Analytical Engines' },
    );
    const g = await client().orders.getOrder({ eventId: e._id, orderNumber: res.order.orderNumber }, { fieldset: ['FORM', 'TICKETS'] });
    assert.equal(g.checkoutForm.inputValues.find((v) => v.inputName === company).value, 'Analytical Engines');
  });
});
