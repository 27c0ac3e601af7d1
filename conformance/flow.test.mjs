// The seed's ticketed-event flow (spec 003, "Flow: Ticketed Event Setup"), Steps 1-12 in
// order, through the official SDK packages only: an organiser's app sets the event up, a
// visitor's app buys, the organiser confirms the pay-in-person order, another buyer walks
// away (Step 11), and the staff member's device, logged in with the token of its login link,
// checks the ticket in at the door. Each test is one step and needs the steps before it.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, ApiKeyStrategy } from '@wix/sdk';
import * as forms from '@wix/auto_sdk_events_forms';
import * as policies from '@wix/auto_sdk_events_policies';
import * as schedule from '@wix/auto_sdk_events_schedule';
import * as categories from '@wix/auto_sdk_events_categories';
import * as staffMembers from '@wix/auto_sdk_events_staff-members';
import {
  makeRewritingFetch,
  buildClient,
  buildVisitorClient,
  requireEnv,
  RUN_ID,
  eventInput,
  tdInput,
  expectWixError,
  deleteEventsQuietly,
  tickets,
  ticketReservations,
  orders,
} from './client.mjs';

/** The organiser's client with every module of the flow; `apiKey: null` is a device with no key yet. */
function flowClient({ apiKey } = {}) {
  const key = apiKey === undefined ? requireEnv('BOXOFFICE_API_KEY') : apiKey;
  return createClient({
    modules: { forms, policies, schedule, categories, staffMembers, tickets, ticketReservations, orders },
    ...(key === null ? {} : { auth: ApiKeyStrategy({ siteId: requireEnv('BOXOFFICE_SITE_ID'), apiKey: key }) }),
    fetch: makeRewritingFetch(requireEnv('BOXOFFICE_URL')),
  });
}

let _owner, _setup, _visitor;
const owner = () => (_owner ??= buildClient()); // events v3, ticket definitions, selling
const setup = () => (_setup ??= flowClient()); // form, policies, schedule, categories, staff
const visitor = () => (_visitor ??= buildVisitorClient());

const s = {};
const need = (...keys) => {
  for (const k of keys) if (s[k] === undefined) throw new Error(`an earlier step failed: no ${k}`);
};
const createdEventIds = [];
after(async () => {
  if (_owner) await deleteEventsQuietly(_owner, createdEventIds);
});

const guest = (company) => ({
  form: {
    inputValues: [
      { inputName: 'firstName', value: 'Ada' },
      { inputName: 'lastName', value: 'Lovelace' },
      { inputName: 'email', value: `ada.flow.${RUN_ID}@example.com` },
      ...(company ? [{ inputName: s.companyControl, value: company }] : []),
    ],
  },
});

describe('the ticketed-event flow, Steps 1-12, through the SDK', () => {
  test('Step 1: a draft TICKETING event with registration.tickets settings; Clone Event makes another draft', async () => {
    const input = eventInput(`Flow ${RUN_ID}`);
    input.registration = { initialType: 'TICKETING', tickets: { ticketLimitPerOrder: 10, reservationDurationInMinutes: 20 } };
    const e = await owner().wixEventsV2.createEvent(input, { draft: true, fields: ['REGISTRATION'] });
    createdEventIds.push(e._id);
    assert.equal(e.status, 'DRAFT');
    assert.equal(e.registration.initialType, 'TICKETING');
    assert.equal(e.registration.tickets.ticketLimitPerOrder, 10);
    s.event = e;
    const { event: copy } = await owner().wixEventsV2.cloneEvent(e._id, { event: { title: `Flow copy ${RUN_ID}` } });
    createdEventIds.push(copy._id);
    assert.notEqual(copy._id, e._id);
    assert.notEqual(copy.slug, e.slug);
    assert.equal(copy.status, 'DRAFT');
  });

  test('Step 2: ticket definitions, VIP and General', async () => {
    need('event');
    const td = owner().ticketDefinitions;
    s.general = await td.createTicketDefinition(tdInput(s.event._id, 'General', { initialLimit: 50 }));
    s.vip = await td.createTicketDefinition(
      tdInput(s.event._id, 'VIP', { initialLimit: 5, pricingMethod: { fixedPrice: { value: '80', currency: 'USD' } } }),
    );
    assert.equal(s.vip.pricingMethod.fixedPrice.value, '80.00');
  });

  test('Step 3: the checkout form keeps name and e-mail, and gets a required Company field', async () => {
    need('event');
    const form = await setup().forms.getForm(s.event._id);
    const system = form.controls.filter((c) => c.system).map((c) => c.type);
    assert.ok(system.includes('NAME') && system.length >= 2, `name and e-mail are system controls, got ${system}`);
    const added = await setup().forms.addControl(s.event._id, { text: { label: 'Company', mandatory: true } });
    s.companyControl = added._id;
    assert.ok(added.form.controls.some((c) => c._id === s.companyControl));
  });

  test('Step 4: a policy guests agree to', async () => {
    need('event');
    s.policy = await setup().policies.createPolicy({ eventId: s.event._id, name: 'Refunds', body: '<p>No refunds.</p>' });
    assert.equal(s.policy.revision, '1');
  });

  test('Step 5: agendaSettings.enabled sticks, and the schedule has a published item', async () => {
    need('event');
    const u = await owner().wixEventsV2.updateEvent(s.event._id, { event: { agendaSettings: { enabled: true } }, fields: ['AGENDA'] });
    assert.equal(u.agendaSettings.enabled, true);
    const start = new Date(s.event.dateAndTimeSettings.startDate);
    const { item } = await setup().schedule.addScheduleItem(s.event._id, {
      item: { name: 'Welcome', timeSlot: { start, end: new Date(start.getTime() + 3_600_000), timeZoneId: 'UTC' } },
    });
    await setup().schedule.publishDraft(s.event._id);
    s.scheduleItem = item;
    const again = await owner().wixEventsV2.getEvent(s.event._id, { fields: ['AGENDA'] });
    assert.equal(again.agendaSettings.enabled, true);
  });

  test('Step 6: a category, with the event assigned', async () => {
    need('event');
    const c = await setup().categories.createCategory({ name: `Flow ${RUN_ID}`.slice(0, 30) });
    await setup().categories.assignEvents(c._id, [s.event._id]);
    const e = await owner().wixEventsV2.getEvent(s.event._id, { fields: ['CATEGORIES'] });
    assert.deepEqual(e.categories.categories.map((x) => x._id), [c._id]);
    s.category = c;
  });

  test('Step 7: a staff member for this event; its device logs in with the login link token', async () => {
    need('event');
    const m = await setup().staffMembers.createStaffMember({
      name: `Door ${RUN_ID}`,
      permissions: ['CHECK_IN_GUESTS'],
      specificEvents: { events: [s.event._id] },
    });
    const token = new URLSearchParams(new URL(m.loginLink).hash.slice(1)).get('loginToken');
    const login = await flowClient({ apiKey: null }).staffMembers.loginStaffMember(token);
    assert.equal(typeof login.accessToken, 'string');
    s.door = flowClient({ apiKey: login.accessToken });
  });

  test('Step 8: publish', async () => {
    need('event');
    const res = await owner().wixEventsV2.publishDraftEvent(s.event._id);
    assert.equal(res.event.status, 'UPCOMING');
    // the visitor now sees the event, its form and its published schedule
    const form = await flowClient({ apiKey: requireEnv('BOXOFFICE_VISITOR_KEY') }).forms.getForm(s.event._id);
    assert.ok(form.controls.some((c) => c._id === s.companyControl));
  });

  test('Step 9: the visitor reserves two tickets (PENDING, seats held)', async () => {
    need('event', 'general');
    const r = await visitor().ticketReservations.createTicketReservation({
      tickets: [{ ticketDefinitionId: s.general._id, quantity: 2 }],
    });
    assert.equal(r.status, 'PENDING');
    s.reservation = r;
    const def = await owner().ticketDefinitions.getTicketDefinition(s.general._id, { fields: ['SALES_DETAILS'] });
    assert.equal(def.salesDetails.reservedCount, 2);
  });

  test('Step 10: checkout refuses a guest without the required answer, then pays in person; Confirm Order makes it PAID', async () => {
    need('reservation', 'companyControl');
    await expectWixError(
      visitor().orders.checkout(s.event._id, { reservationId: s.reservation._id, guests: [guest()], options: { payInPerson: true } }),
      { status: 400, validation: true },
    );
    const res = await visitor().orders.checkout(s.event._id, {
      reservationId: s.reservation._id,
      guests: [guest('Analytical Engines'), guest('Analytical Engines')],
      options: { payInPerson: true },
    });
    assert.equal(res.order.status, 'OFFLINE_PENDING');
    const confirmed = await owner().orders.confirmOrder(s.event._id, { orderNumber: [res.order.orderNumber] });
    assert.equal(confirmed.orders[0].status, 'PAID');
    assert.equal((await owner().ticketReservations.getTicketReservation(s.reservation._id)).status, 'CONFIRMED');
    s.order = confirmed.orders[0];
    // the order records the policy the buyer agreed to (Boxoffice's own route, no SDK method)
    const r = await fetch(
      `${requireEnv('BOXOFFICE_URL')}/boxoffice/v1/events/${s.event._id}/orders/${s.order.orderNumber}/policy-agreement`,
      { headers: { Authorization: requireEnv('BOXOFFICE_API_KEY'), 'wix-site-id': requireEnv('BOXOFFICE_SITE_ID') } },
    );
    assert.equal(r.status, 200);
    const agreement = await r.json();
    assert.deepEqual(agreement.policies.map((p) => [p.policyId, p.revision]), [[s.policy._id, '1']]);
  });

  test('Step 11: another buyer walks away; Cancel Ticket Reservation frees the seats at once', async () => {
    need('vip');
    const r = await visitor().ticketReservations.createTicketReservation({ tickets: [{ ticketDefinitionId: s.vip._id, quantity: 2 }] });
    const c = await owner().ticketReservations.cancelTicketReservation(r._id);
    assert.equal(c.ticketReservation.status, 'CANCELED_MANUALLY');
    const def = await owner().ticketDefinitions.getTicketDefinition(s.vip._id, { fields: ['SALES_DETAILS'] });
    assert.equal(def.salesDetails.unsoldCount, 5);
  });

  test('Step 12: the staff member checks a ticket in at the door; the guest list shows it', async () => {
    need('order', 'door');
    const list = await s.door.tickets.listTickets({ eventId: [s.event._id], fieldset: ['TICKET_DETAILS', 'GUEST_DETAILS'] });
    const mine = list.tickets.filter((t) => t.orderNumber === s.order.orderNumber);
    assert.equal(mine.length, 2);
    const res = await s.door.tickets.checkInTickets(s.event._id, { ticketNumber: [mine[0].ticketNumber] });
    assert.ok(res.tickets[0].checkIn?.created instanceof Date, 'the ticket is checked in');
    const again = await owner().tickets.getTicket(mine[0].ticketNumber, { eventId: s.event._id, fieldset: ['TICKET_DETAILS'] });
    assert.ok(again.checkIn?.created, 'the organiser sees the check-in');
    // the staff member manages nothing else
    await expectWixError(s.door.staffMembers.createStaffMember({ name: 'Me too', allEvents: {} }), { status: 403 });
  });
});
