// Events v3 conformance (the subset Boxoffice implements), driven through the official SDK
// (@wix/auto_sdk_events_wix-events-v-2 1.0.112 on @wix/sdk 1.21.16).

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildClient,
  buildVisitorClient,
  requireEnv,
  RUN_ID,
  minuteFromNow,
  days,
  hours,
  sleep,
  randomGuid,
  eventInput,
  tdInput,
  expectWixError,
  deleteEventsQuietly,
} from './client.mjs';

let _client;
const client = () => (_client ??= buildClient());
const ev = () => client().wixEventsV2;
const td = () => client().ticketDefinitions;

const createdEventIds = [];
async function newEvent(label, opts, createOpts = { draft: true }) {
  const e = await ev().createEvent(eventInput(`EV ${label} ${RUN_ID}`, opts), createOpts);
  assert.equal(typeof e?._id, 'string', 'createEvent must return an event with _id');
  createdEventIds.push(e._id);
  return e;
}

after(async () => {
  if (_client) await deleteEventsQuietly(_client, createdEventIds);
});

const isGuid = (s) => typeof s === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
function assertDate(value, label) {
  assert.ok(value instanceof Date, `${label} must be a JS Date (the SDK converts ISO strings), got ${typeof value}: ${value}`);
  assert.ok(!Number.isNaN(value.getTime()), `${label} must be a valid date`);
}

describe('environment', () => {
  test('BOXOFFICE_URL and keys are configured (the suite fails, never skips, without a server)', () => {
    requireEnv('BOXOFFICE_URL');
    requireEnv('BOXOFFICE_API_KEY');
    requireEnv('BOXOFFICE_SITE_ID');
    requireEnv('BOXOFFICE_VISITOR_KEY');
  });
});

describe('createEvent / getEvent', () => {
  test('createEvent(draft, initialType TICKETING) returns a DRAFT event with _id, Dates and the SDK address shape', async () => {
    const input = eventInput(`EV create ${RUN_ID}`);
    // Snapshot first: the SDK rewrites the caller's input object in place (Dates -> ISO strings,
    // address.formatted -> formattedAddress) while serialising the request.
    const expectedStart = input.dateAndTimeSettings.startDate.getTime();
    const expectedEnd = input.dateAndTimeSettings.endDate.getTime();
    const e = await ev().createEvent(input, { draft: true, fields: ['REGISTRATION', 'DETAILS'] });
    createdEventIds.push(e._id);

    assert.ok(isGuid(e._id), `_id must be a GUID, got ${e._id}`);
    assert.equal('id' in e, false, 'REST "id" is renamed to _id');
    assert.equal(e.title, input.title);
    assert.equal(e.status, 'DRAFT');
    assert.equal(typeof e.slug, 'string');
    assert.ok(e.slug.length > 0, 'slug is generated');
    assertDate(e._createdDate, '_createdDate');
    assertDate(e._updatedDate, '_updatedDate');
    assertDate(e.dateAndTimeSettings.startDate, 'dateAndTimeSettings.startDate');
    assertDate(e.dateAndTimeSettings.endDate, 'dateAndTimeSettings.endDate');
    assert.equal(e.dateAndTimeSettings.startDate.getTime(), expectedStart);
    assert.equal(e.dateAndTimeSettings.endDate.getTime(), expectedEnd);
    assert.equal(e.dateAndTimeSettings.timeZoneId, 'UTC');
    assert.equal(e.location.type, 'VENUE');
    assert.equal(e.location.name, 'Main Hall');
    // REST formattedAddress comes back to SDK users as `formatted` (@wix/sdk-runtime transformations/address.js)
    assert.equal(e.location.address?.formatted, '1 Main St, Springfield');
    assert.equal(e.registration?.initialType, 'TICKETING');
    assert.equal(e.publishedDate ?? null, null, 'a draft has no publishedDate');
  });

  test('getEvent returns the event; registration only with the REGISTRATION fieldset', async () => {
    const e = await newEvent('get');
    const withReg = await ev().getEvent(e._id, { fields: ['REGISTRATION'] });
    assert.equal(withReg._id, e._id);
    assert.equal(withReg.title, e.title);
    assert.equal(withReg.status, 'DRAFT');
    assertDate(withReg._createdDate, '_createdDate');
    assert.equal(withReg._createdDate.getTime(), e._createdDate.getTime());
    assertDate(withReg.dateAndTimeSettings.startDate, 'dateAndTimeSettings.startDate');
    assert.equal(withReg.registration?.initialType, 'TICKETING');

    const plain = await ev().getEvent(e._id);
    assert.equal(plain._id, e._id);
    assert.equal(plain.registration ?? null, null, 'registration is returned only with the REGISTRATION fieldset');
  });

  test('getEvent unknown id -> 404 EVENT_NOT_FOUND', async () => {
    const err = await expectWixError(ev().getEvent(randomGuid()), { status: 404, code: 'EVENT_NOT_FOUND' });
    assert.equal(typeof err.details.applicationError.description, 'string');
  });

  test('createEvent with a 121-char title -> 400 validationError', async () => {
    await expectWixError(ev().createEvent(eventInput('T'.repeat(121)), { draft: true }), {
      status: 400,
      validation: true,
      field: /title/,
    });
  });
});

describe('updateEvent', () => {
  test('PATCH changes only the fields sent', async () => {
    const e = await newEvent('update');
    await sleep(20);
    const newTitle = `EV updated ${RUN_ID}`;
    const u = await ev().updateEvent(e._id, { event: { title: newTitle }, fields: ['REGISTRATION'] });
    assert.equal(u._id, e._id);
    assert.equal(u.title, newTitle);
    assert.equal(u.status, 'DRAFT');
    assert.equal(u.location.address?.formatted, '1 Main St, Springfield', 'location must be untouched');
    assert.equal(u.dateAndTimeSettings.startDate.getTime(), e.dateAndTimeSettings.startDate.getTime());
    assert.equal(u.registration?.initialType, 'TICKETING');
    assertDate(u._updatedDate, '_updatedDate');
    assert.ok(u._updatedDate.getTime() > e._updatedDate.getTime(), '_updatedDate must advance');
    assert.equal(u._createdDate.getTime(), e._createdDate.getTime());

    const newStart = minuteFromNow(days(40));
    const u2 = await ev().updateEvent(e._id, {
      event: { dateAndTimeSettings: { startDate: newStart, endDate: new Date(newStart.getTime() + hours(2)), timeZoneId: 'UTC' } },
    });
    assert.equal(u2.title, newTitle);
    assert.equal(u2.dateAndTimeSettings.startDate.getTime(), newStart.getTime());

    const g = await ev().getEvent(e._id);
    assert.equal(g.title, newTitle);
  });

  test('updateEvent unknown id -> 404 EVENT_NOT_FOUND', async () => {
    await expectWixError(ev().updateEvent(randomGuid(), { event: { title: 'nope' } }), {
      status: 404,
      code: 'EVENT_NOT_FOUND',
    });
  });
});

describe('publishDraftEvent', () => {
  test('publishes a draft: {event} with status UPCOMING and publishedDate; publishing again is refused', async () => {
    const e = await newEvent('publish');
    const res = await ev().publishDraftEvent(e._id, { fields: ['REGISTRATION'] });
    assert.ok(res && typeof res === 'object' && res.event, 'publishDraftEvent resolves to the whole response {event}');
    assert.equal(res.event._id, e._id);
    assert.equal(res.event.status, 'UPCOMING');
    assertDate(res.event.publishedDate, 'event.publishedDate');
    assert.equal(res.event.registration?.initialType, 'TICKETING');
    const g = await ev().getEvent(e._id);
    assert.equal(g.status, 'UPCOMING');

    const err = await expectWixError(ev().publishDraftEvent(e._id), {
      code: ['EVENT_ALREADY_PUBLISHED', 'INVALID_EVENT_STATUS_TRANSITION'],
    });
    assert.ok(err.status >= 400 && err.status < 500, `publishing twice is a client error, got ${err.status}`);
  });

  test('createEvent with draft:false publishes immediately', async () => {
    const e = await newEvent('nodraft', {}, { draft: false });
    assert.equal(e.status, 'UPCOMING');
    assertDate(e.publishedDate, 'publishedDate');
  });

  test('publishDraftEvent unknown id -> 404 EVENT_NOT_FOUND', async () => {
    await expectWixError(ev().publishDraftEvent(randomGuid()), { status: 404, code: 'EVENT_NOT_FOUND' });
  });
});

describe('queryEvents', () => {
  test('builder with offset paging: includeDrafts, limit, hasNext() from total, next(), filters', async () => {
    const a = await newEvent('query-a');
    const b = await newEvent('query-b');
    const c = await newEvent('query-c');
    await ev().publishDraftEvent(c._id);
    const ids = [a._id, b._id, c._id];
    const q = () => ev().queryEvents({ includeDrafts: true });

    const page1 = await q().in('_id', ids).limit(2).find();
    assert.equal(page1.items.length, 2);
    assert.equal(page1.totalCount, 3, 'pagingMetadata.total must be returned for offset paging');
    assert.equal(page1.hasNext(), true);
    for (const e of page1.items) {
      assert.ok(ids.includes(e._id));
      assertDate(e._createdDate, 'items[]._createdDate');
      assertDate(e.dateAndTimeSettings.startDate, 'items[].dateAndTimeSettings.startDate');
    }
    const page2 = await page1.next();
    assert.equal(page2.items.length, 1);
    assert.equal(page2.hasNext(), false);
    assert.equal(page2.hasPrev(), true);
    assert.deepEqual([...page1.items, ...page2.items].map((e) => e._id).sort(), [...ids].sort());

    // Drafts are returned only with includeDrafts (QueryEventsOptions.includeDrafts in the SDK typings).
    const published = await ev().queryEvents().in('_id', ids).find();
    assert.deepEqual(published.items.map((e) => e._id), [c._id]);
    assert.equal(published.totalCount, 1);

    const drafts = await q().in('_id', ids).eq('status', 'DRAFT').find();
    assert.deepEqual(drafts.items.map((e) => e._id).sort(), [a._id, b._id].sort());
    assert.equal(drafts.hasNext(), false);

    const one = await q().eq('_id', b._id).find();
    assert.deepEqual(one.items.map((e) => e._id), [b._id]);

    const byTitle = await q().in('_id', ids).descending('title').find();
    assert.deepEqual(byTitle.items.map((e) => e._id), [c._id, b._id, a._id]);

    const withReg = await ev().queryEvents({ includeDrafts: true, fields: ['REGISTRATION'] }).eq('_id', a._id).find();
    assert.equal(withReg.items[0]?.registration?.initialType, 'TICKETING');

    const skipped = await q().in('_id', ids).limit(2).skip(2).find();
    assert.equal(skipped.items.length, 1);
    assert.equal(skipped.hasNext(), false);
  });
});

describe('queryEvents errors', () => {
  test('unknown filter field -> 400 applicationError FILTER_PARSER_ERROR', async () => {
    // QueryEventsApplicationErrors in the typings.
    await expectWixError(ev().queryEvents().eq('noSuchField', 'x').find(), { status: 400, code: 'FILTER_PARSER_ERROR' });
  });
});

describe('deleteEvent', () => {
  test('delete -> {eventId}; event and its ticket definitions are gone', async () => {
    const e = await newEvent('delete');
    const t1 = await td().createTicketDefinition(tdInput(e._id, 'T1'));
    const t2 = await td().createTicketDefinition(tdInput(e._id, 'T2'));
    const res = await ev().deleteEvent(e._id);
    assert.deepEqual(res, { eventId: e._id });

    await expectWixError(ev().getEvent(e._id), { status: 404, code: 'EVENT_NOT_FOUND' });
    await expectWixError(td().getTicketDefinition(t1._id), { status: 404, code: 'TICKET_DEFINITION_NOT_FOUND' });
    await expectWixError(td().getTicketDefinition(t2._id), { status: 404, code: 'TICKET_DEFINITION_NOT_FOUND' });
    const left = await td().queryTicketDefinitions().eq('eventId', e._id).find();
    assert.deepEqual(left.items, []);
    const gone = await ev().queryEvents({ includeDrafts: true }).eq('_id', e._id).find();
    assert.deepEqual(gone.items, []);
    await expectWixError(td().createTicketDefinition(tdInput(e._id, 'Late')), { status: 404, code: 'EVENT_NOT_FOUND' });
  });

  test('deleteEvent unknown id -> 404 EVENT_NOT_FOUND', async () => {
    await expectWixError(ev().deleteEvent(randomGuid()), { status: 404, code: 'EVENT_NOT_FOUND' });
  });
});

describe('wire variants', () => {
  test('full address round-trips in the SDK shape (formatted/addressLine1/location <-> formattedAddress/addressLine/geocode)', async () => {
    const input = eventInput(`EV address ${RUN_ID}`);
    input.location.address = {
      formatted: '5 Elm St, Springfield, 12345, US',
      addressLine1: '5 Elm St',
      city: 'Springfield',
      postalCode: '12345',
      country: 'US',
      location: { latitude: 40.5, longitude: -73.25 },
    };
    const e = await ev().createEvent(input, { draft: true });
    createdEventIds.push(e._id);
    const g = await ev().getEvent(e._id);
    for (const got of [e, g]) {
      assert.deepEqual(
        {
          formatted: got.location.address?.formatted,
          addressLine1: got.location.address?.addressLine1,
          city: got.location.address?.city,
          postalCode: got.location.address?.postalCode,
          country: got.location.address?.country,
          location: got.location.address?.location,
        },
        {
          formatted: '5 Elm St, Springfield, 12345, US',
          addressLine1: '5 Elm St',
          city: 'Springfield',
          postalCode: '12345',
          country: 'US',
          location: { latitude: 40.5, longitude: -73.25 },
        },
      );
    }
  });

  test('the /_api/events-events-v3-adapter path family (SDK with a non-Wix host) works too', async () => {
    const alt = buildClient({ apiBaseUrl: 'boxoffice.invalid' }).wixEventsV2;
    const e = await alt.createEvent(eventInput(`EV alt ${RUN_ID}`), { draft: true });
    createdEventIds.push(e._id);
    assert.ok(isGuid(e._id));
    const g = await alt.getEvent(e._id);
    assert.equal(g.title, e.title);
    const u = await alt.updateEvent(e._id, { event: { title: `EV alt2 ${RUN_ID}` } });
    assert.equal(u.title, `EV alt2 ${RUN_ID}`);
    const p = await alt.publishDraftEvent(e._id);
    assert.equal(p.event.status, 'UPCOMING');
    const q = await alt.queryEvents().eq('_id', e._id).find();
    assert.deepEqual(q.items.map((x) => x._id), [e._id]);
    await alt.deleteEvent(e._id);
    await expectWixError(alt.getEvent(e._id), { status: 404, code: 'EVENT_NOT_FOUND' });
  });
});

describe('authorization', () => {
  test('visitor key: event management calls -> 403', async () => {
    const e = await newEvent('visitor');
    const v = buildVisitorClient().wixEventsV2;
    const calls = {
      createEvent: () => v.createEvent(eventInput(`EV visitor ${RUN_ID}`), { draft: true }),
      updateEvent: () => v.updateEvent(e._id, { event: { title: 'hijacked' } }),
      publishDraftEvent: () => v.publishDraftEvent(e._id),
      deleteEvent: () => v.deleteEvent(e._id),
    };
    for (const [name, call] of Object.entries(calls)) {
      try {
        await expectWixError(call(), { status: 403 });
      } catch (err) {
        err.message = `${name}: ${err.message}`;
        throw err;
      }
    }
    const g = await ev().getEvent(e._id);
    assert.equal(g.title, e.title);
    assert.equal(g.status, 'DRAFT');
  });
});

describe('getEventBySlug / countEventsByStatus / cancelEvent / bulk by filter', () => {
  test('getEventBySlug finds a published event by its slug; a visitor does not see a draft', async () => {
    const e = await newEvent('slug', undefined, { draft: false });
    const got = await ev().getEventBySlug(e.slug); // the SDK answers {event} here, as typed
    assert.equal(got.event._id, e._id);
    const draft = await newEvent('slug-draft');
    await expectWixError(buildVisitorClient().wixEventsV2.getEventBySlug(draft.slug), { status: 404, code: 'EVENT_NOT_FOUND' });
  });

  test('cancelEvent: CANCELED, tickets stop selling with EVENT_CANCELED, a second cancel is refused', async () => {
    const e = await newEvent('cancel', undefined, { draft: false });
    const def = await td().createTicketDefinition(tdInput(e._id, 'Cancel me'));
    const canceled = await ev().cancelEvent(e._id); // {event}, as typed
    assert.equal(canceled.event.status, 'CANCELED');
    const r = client().ticketReservations;
    await expectWixError(
      r.createTicketReservation({ tickets: [{ ticketDefinitionId: def._id, quantity: 1 }] }),
      { status: 428, code: 'EVENT_CANCELED' },
    );
    await expectWixError(ev().cancelEvent(e._id), { status: 428, code: 'EVENT_ALREADY_CANCELED' });
  });

  test('countEventsByStatus counts by status over a filter', async () => {
    const up = await newEvent('count-up', undefined, { draft: false });
    const gone = await newEvent('count-canceled', undefined, { draft: false });
    await ev().cancelEvent(gone._id);
    const res = await ev().countEventsByStatus({ filter: { _id: { $in: [up._id, gone._id] } } });
    assert.deepEqual(res.facets.status.counts, { UPCOMING: 1, CANCELED: 1 });
  });

  test('bulkCancelEventsByFilter and bulkDeleteEventsByFilter act on what the filter selects', async () => {
    const a = await newEvent('bulk-a', undefined, { draft: false });
    const b = await newEvent('bulk-b', undefined, { draft: false });
    await ev().bulkCancelEventsByFilter({ filter: { _id: { $in: [a._id, b._id] } } });
    assert.equal((await ev().getEvent(a._id)).status, 'CANCELED');
    assert.equal((await ev().getEvent(b._id)).status, 'CANCELED');
    await ev().bulkDeleteEventsByFilter({ filter: { _id: { $in: [a._id, b._id] } } });
    await expectWixError(ev().getEvent(a._id), { status: 404, code: 'EVENT_NOT_FOUND' });
    await expectWixError(ev().getEvent(b._id), { status: 404, code: 'EVENT_NOT_FOUND' });
  });
});

describe('cloneEvent', () => {
  test('clones a draft with its own id and slug, the changes asked, and the ticket definitions', async () => {
    const e = await newEvent('clone-src');
    await td().createTicketDefinition(tdInput(e._id, 'Clone TD'));
    const res = await ev().cloneEvent(e._id, { event: { title: `EV clone-copy ${RUN_ID}` } });
    const copy = res.event; // {event}, as typed
    createdEventIds.push(copy._id);
    assert.notEqual(copy._id, e._id);
    assert.notEqual(copy.slug, e.slug);
    assert.equal(copy.status, 'DRAFT');
    assert.equal(copy.title, `EV clone-copy ${RUN_ID}`);
    const defs = await td().queryTicketDefinitions().eq('eventId', copy._id).find();
    assert.deepEqual(defs.items.map((d) => d.name), ['Clone TD']);
  });
});

describe('the whole Event object', () => {
  const IMAGE = 'wix:image://v1/abc123.jpg/gloves.jpg#originWidth=800&originHeight=600';
  const RICH = {
    nodes: [{ type: 'PARAGRAPH', id: 'p1', nodes: [{ type: 'TEXT', id: '', nodes: [], textData: { text: 'Bring gloves', decorations: [] } }] }],
    metadata: { version: 1, id: 'doc-1' },
  };
  const ALL = ['DETAILS', 'TEXTS', 'REGISTRATION', 'URLS', 'SEO_SETTINGS', 'AGENDA', 'CATEGORIES'];
  const settings = () => ({
    shortDescription: 'Hands-on leather work',
    mainImage: IMAGE,
    description: RICH,
    guestListSettings: { displayedPublicly: true },
    onlineConferencing: { enabled: true, type: 'WEBINAR' },
    seoSettings: { slug: `seo-${RUN_ID}`.toLowerCase(), advancedSeoData: { settings: { preventAutoRedirect: true, keywords: [{ term: 'leather', isMain: true }] } } },
    agendaSettings: { enabled: false },
    eventDisplaySettings: { hideEventDetailsButton: true },
  });

  test('createEvent / getEvent round-trip every field an organiser sets, each fieldset returning what it names', async () => {
    const input = { ...eventInput(`EV whole ${RUN_ID}`), ...settings() };
    input.location.address = { formatted: '1 Main St, Springfield', city: 'Springfield', country: 'US', subdivision: 'NY' };
    input.registration = {
      initialType: 'TICKETING',
      tickets: { guestsAssignedSeparately: true, ticketLimitPerOrder: 10, taxSettings: { type: 'ADDED_AT_CHECKOUT', name: 'VAT', rate: '21.5' } },
      external: { url: 'https://tickets.example.com/e/1' },
      allowedGuestTypes: 'MEMBER',
      registrationPaused: false,
    };
    const e = await ev().createEvent(input, { draft: true, fields: ALL });
    createdEventIds.push(e._id);
    const g = await ev().getEvent(e._id, { fields: ALL });
    for (const got of [e, g]) {
      assert.equal(got.mainImage, IMAGE, 'mainImage comes back as the SDK image string');
      assert.deepEqual(got.description, RICH);
      assert.equal(got.shortDescription, 'Hands-on leather work');
      assert.deepEqual(got.guestListSettings, { displayedPublicly: true });
      assert.deepEqual(got.onlineConferencing, { enabled: true, type: 'WEBINAR' });
      assert.equal(got.seoSettings.advancedSeoData.settings.keywords[0].term, 'leather');
      assert.equal(got.agendaSettings.enabled, false);
      assert.equal(typeof got.agendaSettings.pageUrl, 'string', 'agendaSettings.pageUrl is a page URL (the SDK joins base and path)');
      assert.deepEqual(got.eventDisplaySettings, { hideEventDetailsButton: true });
      assert.equal(got.location.address.subdivisionFullname, 'New York');
      assert.deepEqual(got.registration.tickets.taxSettings, { type: 'ADDED_AT_CHECKOUT', name: 'VAT', rate: '21.5' });
      assert.equal(got.registration.tickets.ticketLimitPerOrder, 10);
      assert.equal(got.registration.external.url, 'https://tickets.example.com/e/1');
      assert.equal(got.registration.allowedGuestTypes, 'MEMBER');
      assert.equal(got.registration.tickets.soldOut, false);
      assert.ok(got.calendarUrls.google.startsWith('https://calendar.google.com/calendar/render?action=TEMPLATE'), got.calendarUrls.google);
      assert.ok(got.eventPageUrl.endsWith(`/event-details/${got.slug}`), `eventPageUrl: ${got.eventPageUrl}`);
      assert.deepEqual(got.categories, { categories: [] });
      assert.equal(got.dateAndTimeSettings.formatted.startDate.length > 0, true);
    }
    const plain = await ev().getEvent(e._id);
    for (const k of ['shortDescription', 'mainImage', 'description', 'registration', 'seoSettings', 'agendaSettings', 'calendarUrls', 'eventPageUrl']) {
      assert.equal(plain[k] ?? null, null, `${k} only with its fieldset`);
    }
    assert.deepEqual(plain.guestListSettings, { displayedPublicly: true }, 'guestListSettings is a base field');
  });

  test('updateEvent({agendaSettings: {enabled: true}}) sticks and leaves every other setting as it was', async () => {
    const e = await ev().createEvent({ ...eventInput(`EV agenda ${RUN_ID}`), ...settings() }, { draft: true, fields: ALL });
    createdEventIds.push(e._id);
    const u = await ev().updateEvent(e._id, { event: { agendaSettings: { enabled: true } }, fields: ALL });
    assert.equal(u.agendaSettings.enabled, true);
    const g = await ev().getEvent(e._id, { fields: ALL });
    assert.equal(g.agendaSettings.enabled, true, 'agendaSettings.enabled sticks');
    for (const k of ['mainImage', 'description', 'guestListSettings', 'onlineConferencing', 'seoSettings', 'eventDisplaySettings', 'shortDescription', 'location']) {
      assert.deepEqual(g[k], e[k], `${k} untouched`);
    }
    const copy = (await ev().cloneEvent(e._id, { fields: ALL })).event;
    createdEventIds.push(copy._id);
    assert.equal(copy.agendaSettings.enabled, true, 'Clone Event copies the settings');
    assert.deepEqual(copy.description, RICH);
  });

  test('calendarUrls.ics is an ICS file a calendar app opens without credentials', async () => {
    const e = await ev().createEvent(eventInput(`EV ics ${RUN_ID}`), { draft: false, fields: ['DETAILS'] });
    createdEventIds.push(e._id);
    const res = await fetch(e.calendarUrls.ics);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/calendar/);
    const body = await res.text();
    assert.match(body, /BEGIN:VEVENT/);
    assert.ok(body.includes(`UID:${e._id}@boxoffice`));
  });

  test('a 6th SEO keyword or a 50,001-character detailedDescription -> 400', async () => {
    await expectWixError(
      ev().createEvent({ ...eventInput('x'), seoSettings: { advancedSeoData: { settings: { keywords: Array(6).fill({ term: 'k' }) } } } }, { draft: true }),
      { status: 400, validation: true, field: /keywords/ },
    );
    await expectWixError(ev().createEvent({ ...eventInput('x'), detailedDescription: 'x'.repeat(50_001) }, { draft: true }), {
      status: 400,
      validation: true,
      field: /detailedDescription/,
    });
  });
});
