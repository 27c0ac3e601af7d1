// Ticket Definitions v3 conformance, driven through the official SDK
// (@wix/auto_sdk_events_ticket-definitions-v-2 1.0.133 on @wix/sdk 1.21.16).
//
// Run: BOXOFFICE_URL=... BOXOFFICE_API_KEY=... BOXOFFICE_SITE_ID=... BOXOFFICE_VISITOR_KEY=... node --test
// Every test builds its client lazily, so a missing BOXOFFICE_URL makes every test FAIL (never skip).

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
  makeRewritingFetch,
} from './client.mjs';
import { createClient, ApiKeyStrategy } from '@wix/sdk';
import * as ticketDefinitions from '@wix/auto_sdk_events_ticket-definitions-v-2';

let _client;
const client = () => (_client ??= buildClient());
const td = () => client().ticketDefinitions;
const ev = () => client().wixEventsV2;

const createdEventIds = [];
async function newEvent(label, opts) {
  const e = await ev().createEvent(eventInput(`TD ${label} ${RUN_ID}`, opts), { draft: true });
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
  assert.ok(!Number.isNaN(value.getTime()), `${label} must be a valid date, got ${value}`);
}

function assertZeroSales(sd, unsold) {
  assert.ok(sd && typeof sd === 'object', `salesDetails must be present with SALES_DETAILS, got ${JSON.stringify(sd)}`);
  assert.deepEqual(
    { unsoldCount: sd.unsoldCount, soldCount: sd.soldCount, reservedCount: sd.reservedCount, soldOut: sd.soldOut },
    { unsoldCount: unsold, soldCount: 0, reservedCount: 0, soldOut: false },
  );
}

// ---------------------------------------------------------------------------

describe('environment', () => {
  test('BOXOFFICE_URL and keys are configured (the suite fails, never skips, without a server)', () => {
    requireEnv('BOXOFFICE_URL');
    requireEnv('BOXOFFICE_API_KEY');
    requireEnv('BOXOFFICE_SITE_ID');
    requireEnv('BOXOFFICE_VISITOR_KEY');
  });
});

describe('createTicketDefinition / getTicketDefinition', () => {
  test('create returns the full entity: _id, Date fields, normalised money, derived fields, revision "1"', async () => {
    const event = await newEvent('create');
    const start = minuteFromNow(-hours(1));
    const end = minuteFromNow(days(10));
    const created = await td().createTicketDefinition(
      {
        eventId: event._id,
        name: 'Leather Workshop',
        description: 'Hands-on leather craft',
        policyText: 'No refunds',
        hidden: false,
        initialLimit: 3,
        pricingMethod: { fixedPrice: { value: '200', currency: 'USD' } },
        feeType: 'FEE_INCLUDED',
        salePeriod: { startDate: start, endDate: end, displayNotOnSale: false },
      },
      { fields: ['SALES_DETAILS'] },
    );

    assert.ok(isGuid(created._id), `_id must be a GUID, got ${created._id}`);
    assert.equal('id' in created, false, 'REST "id" must have been renamed to _id by the SDK');
    assert.equal(created.eventId, event._id);
    assert.equal(created.revision, '1', 'revision is an int64 string and starts at "1"');
    assertDate(created._createdDate, '_createdDate');
    assertDate(created._updatedDate, '_updatedDate');
    assert.ok(Math.abs(created._createdDate.getTime() - Date.now()) < 5 * 60_000, '_createdDate is about now');
    assert.equal(created.name, 'Leather Workshop');
    assert.equal(created.description, 'Hands-on leather craft');
    assert.equal(created.policyText, 'No refunds');
    assert.equal(created.hidden, false);
    assert.equal(created.limited, true);
    assert.equal(created.initialLimit, 3);
    assert.equal(created.actualLimit, 3);
    assert.deepEqual(created.pricingMethod.fixedPrice, { value: '200.00', currency: 'USD' });
    assert.equal(created.pricingMethod.pricingType, 'STANDARD');
    assert.equal(created.pricingMethod.free, false);
    assert.equal(created.feeType, 'FEE_INCLUDED');
    assertDate(created.salePeriod.startDate, 'salePeriod.startDate');
    assertDate(created.salePeriod.endDate, 'salePeriod.endDate');
    assert.equal(created.salePeriod.startDate.getTime(), start.getTime());
    assert.equal(created.salePeriod.endDate.getTime(), end.getTime());
    assert.equal(created.salePeriod.displayNotOnSale, false);
    assert.equal(created.saleStatus, 'SALE_STARTED');
    assertZeroSales(created.salesDetails, 3);
  });

  test('get: salesDetails / eventDetails only with the SALES_DETAILS / EVENT_DETAILS fieldsets', async () => {
    const event = await newEvent('get');
    const created = await td().createTicketDefinition(tdInput(event._id, 'Get me', { initialLimit: 7 }));

    const plain = await td().getTicketDefinition(created._id);
    assert.equal(plain._id, created._id);
    assert.equal(plain.name, 'Get me');
    assert.equal(plain.revision, '1');
    assertDate(plain._createdDate, '_createdDate');
    assert.equal(plain._createdDate.getTime(), created._createdDate.getTime());
    assert.deepEqual(plain.pricingMethod.fixedPrice, { value: '10.00', currency: 'USD' });
    assert.equal(plain.salesDetails ?? null, null, 'salesDetails must not be returned without SALES_DETAILS');
    assert.equal(plain.eventDetails ?? null, null, 'eventDetails must not be returned without EVENT_DETAILS');

    const full = await td().getTicketDefinition(created._id, { fields: ['SALES_DETAILS', 'EVENT_DETAILS'] });
    assertZeroSales(full.salesDetails, 7);
    assert.ok(full.eventDetails, 'eventDetails must be returned with EVENT_DETAILS');
    assert.equal(full.eventDetails.title, event.title);
    assertDate(full.eventDetails.dateAndTimeSettings?.startDate, 'eventDetails.dateAndTimeSettings.startDate');
    assert.equal(
      full.eventDetails.dateAndTimeSettings.startDate.getTime(),
      event.dateAndTimeSettings.startDate.getTime(),
    );

    const salesOnly = await td().getTicketDefinition(created._id, { fields: ['SALES_DETAILS'] });
    assertZeroSales(salesOnly.salesDetails, 7);
    assert.equal(salesOnly.eventDetails ?? null, null, 'eventDetails must not be returned with SALES_DETAILS only');
  });

  test('pricing: free / guest price (DONATION) / pricing options are derived and normalised', async () => {
    const event = await newEvent('pricing');
    const free = await td().createTicketDefinition(
      tdInput(event._id, 'Free', { pricingMethod: { fixedPrice: { value: '0', currency: 'USD' } } }),
    );
    assert.equal(free.pricingMethod.free, true);
    assert.equal(free.pricingMethod.pricingType, 'STANDARD');
    assert.equal(Number(free.pricingMethod.fixedPrice.value), 0);
    assert.equal(free.pricingMethod.fixedPrice.currency, 'USD');

    const cents = await td().createTicketDefinition(
      tdInput(event._id, 'Cents', { pricingMethod: { fixedPrice: { value: '12.5', currency: 'USD' } } }),
    );
    assert.equal(cents.pricingMethod.fixedPrice.value, '12.50');
    assert.equal(cents.pricingMethod.free, false);

    const guest = await td().createTicketDefinition(
      tdInput(event._id, 'Donation', { pricingMethod: { guestPrice: { value: '5', currency: 'USD' } } }),
    );
    assert.equal(guest.pricingMethod.pricingType, 'DONATION');
    assert.equal(guest.pricingMethod.free, false);
    assert.deepEqual(guest.pricingMethod.guestPrice, { value: '5.00', currency: 'USD' });
    assert.equal(guest.pricingMethod.fixedPrice ?? null, null);

    const options = await td().createTicketDefinition(
      tdInput(event._id, 'Options', {
        pricingMethod: {
          pricingOptions: {
            optionDetails: [
              { name: 'Adult', price: { value: '50', currency: 'USD' } },
              { name: 'Child', price: { value: '25', currency: 'USD' } },
            ],
          },
        },
      }),
    );
    assert.equal(options.pricingMethod.pricingType, 'STANDARD');
    assert.equal(options.pricingMethod.free, false);
    const od = options.pricingMethod.pricingOptions?.optionDetails;
    assert.ok(Array.isArray(od) && od.length === 2, `optionDetails must round-trip, got ${JSON.stringify(od)}`);
    assert.deepEqual(
      od.map((o) => [o.name, o.price.value, o.price.currency]),
      [
        ['Adult', '50.00', 'USD'],
        ['Child', '25.00', 'USD'],
      ],
    );
    for (const o of od) assert.ok(isGuid(o.optionId), `each price option gets an optionId GUID, got ${o.optionId}`);
  });

  test('unlimited definition: limited false, unsoldCount null, soldOut false, limitPerCheckout 50', async () => {
    const event = await newEvent('unlimited');
    const created = await td().createTicketDefinition(tdInput(event._id, 'Unlimited'), { fields: ['SALES_DETAILS'] });
    assert.equal(created.limited, false);
    assert.equal(created.initialLimit ?? null, null);
    assert.equal(created.actualLimit ?? null, null);
    assert.equal(created.limitPerCheckout, 50);
    assert.equal(created.salesDetails.unsoldCount ?? null, null);
    assert.equal(created.salesDetails.soldCount, 0);
    assert.equal(created.salesDetails.reservedCount, 0);
    assert.equal(created.salesDetails.soldOut, false);
  });

  test('saleStatus follows salePeriod: SALE_SCHEDULED / SALE_STARTED / SALE_ENDED', async () => {
    const event = await newEvent('salestatus');
    const scheduled = await td().createTicketDefinition(
      tdInput(event._id, 'Scheduled', {
        salePeriod: { startDate: minuteFromNow(days(2)), endDate: minuteFromNow(days(5)), displayNotOnSale: true },
      }),
    );
    const started = await td().createTicketDefinition(
      tdInput(event._id, 'Started', {
        salePeriod: { startDate: minuteFromNow(-days(1)), endDate: minuteFromNow(days(5)) },
      }),
    );
    const ended = await td().createTicketDefinition(
      tdInput(event._id, 'Ended', {
        salePeriod: { startDate: minuteFromNow(-days(5)), endDate: minuteFromNow(-days(1)) },
      }),
    );
    const noPeriod = await td().createTicketDefinition(tdInput(event._id, 'No period'));

    assert.equal(scheduled.saleStatus, 'SALE_SCHEDULED');
    assert.equal(scheduled.salePeriod.displayNotOnSale, true);
    assert.equal(started.saleStatus, 'SALE_STARTED');
    assert.equal(ended.saleStatus, 'SALE_ENDED');
    assert.equal(noPeriod.saleStatus, 'SALE_STARTED');
    for (const [t, label] of [
      [scheduled, 'scheduled'],
      [started, 'started'],
      [ended, 'ended'],
    ]) {
      assertDate(t.salePeriod.startDate, `${label}.salePeriod.startDate`);
      assertDate(t.salePeriod.endDate, `${label}.salePeriod.endDate`);
    }

    // The same status is visible through get and query.
    assert.equal((await td().getTicketDefinition(ended._id)).saleStatus, 'SALE_ENDED');
    const q = await td().queryTicketDefinitions().eq('eventId', event._id).in('saleStatus', ['SALE_SCHEDULED', 'SALE_ENDED']).find();
    assert.deepEqual(q.items.map((t) => t._id).sort(), [scheduled._id, ended._id].sort());
  });
});

describe('updateTicketDefinition', () => {
  test('PATCH with revision: only sent fields change, revision increments as a string', async () => {
    const event = await newEvent('update');
    const created = await td().createTicketDefinition(
      tdInput(event._id, 'Before', { description: 'kept', initialLimit: 10 }),
      { fields: ['SALES_DETAILS'] },
    );
    await sleep(20);
    const newStart = minuteFromNow(days(3));
    const newEnd = minuteFromNow(days(6));
    const updated = await td().updateTicketDefinition(
      created._id,
      { revision: created.revision, name: 'After', salePeriod: { startDate: newStart, endDate: newEnd } },
      { fields: ['SALES_DETAILS'] },
    );
    assert.equal(updated._id, created._id);
    assert.equal(updated.revision, '2');
    assert.equal(updated.name, 'After');
    assert.equal(updated.description, 'kept', 'a PATCH without mask must not clear fields it does not carry');
    assert.equal(updated.initialLimit, 10);
    assert.deepEqual(updated.pricingMethod.fixedPrice, { value: '10.00', currency: 'USD' });
    assert.equal(updated.eventId, event._id);
    assertDate(updated._createdDate, '_createdDate');
    assertDate(updated._updatedDate, '_updatedDate');
    assert.equal(updated._createdDate.getTime(), created._createdDate.getTime());
    assert.ok(updated._updatedDate.getTime() > created._updatedDate.getTime(), '_updatedDate must advance');
    assert.equal(updated.salePeriod.startDate.getTime(), newStart.getTime());
    assert.equal(updated.salePeriod.endDate.getTime(), newEnd.getTime());
    assert.equal(updated.saleStatus, 'SALE_SCHEDULED');
    assertZeroSales(updated.salesDetails, 10);

    const again = await td().updateTicketDefinition(created._id, { revision: '2', hidden: true });
    assert.equal(again.revision, '3');
    assert.equal(again.hidden, true);
    assert.equal(again.name, 'After');

    const fetched = await td().getTicketDefinition(created._id);
    assert.equal(fetched.revision, '3');
    assert.equal(fetched.name, 'After');
    assert.equal(fetched.hidden, true);
  });

  test('PATCH replaces the pricing oneof and recomputes derived fields; limit change updates actualLimit/unsoldCount', async () => {
    const event = await newEvent('update-pricing');
    const created = await td().createTicketDefinition(tdInput(event._id, 'Switch', { initialLimit: 4 }), { fields: ['SALES_DETAILS'] });
    assert.equal(created.pricingMethod.pricingType, 'STANDARD');

    const donation = await td().updateTicketDefinition(
      created._id,
      { revision: '1', pricingMethod: { guestPrice: { value: '3', currency: 'USD' } } },
      { fields: ['SALES_DETAILS'] },
    );
    assert.equal(donation.pricingMethod.pricingType, 'DONATION');
    assert.deepEqual(donation.pricingMethod.guestPrice, { value: '3.00', currency: 'USD' });
    assert.equal(donation.pricingMethod.fixedPrice ?? null, null, 'pricingMethod is a oneof: fixedPrice must be gone');

    const free = await td().updateTicketDefinition(created._id, {
      revision: '2',
      pricingMethod: { fixedPrice: { value: '0', currency: 'USD' } },
    });
    assert.equal(free.pricingMethod.free, true);
    assert.equal(free.pricingMethod.pricingType, 'STANDARD');
    assert.equal(free.pricingMethod.guestPrice ?? null, null);

    const bigger = await td().updateTicketDefinition(created._id, { revision: '3', initialLimit: 9 }, { fields: ['SALES_DETAILS'] });
    assert.equal(bigger.initialLimit, 9);
    assert.equal(bigger.actualLimit, 9);
    assert.equal(bigger.limited, true);
    assertZeroSales(bigger.salesDetails, 9);
    assert.equal(bigger.revision, '4');
  });

  test('stale revision -> 428 REVISION_MISMATCH (applicationError), entity unchanged', async () => {
    const event = await newEvent('stale');
    const created = await td().createTicketDefinition(tdInput(event._id, 'Original'));
    await td().updateTicketDefinition(created._id, { revision: '1', name: 'First edit' });
    const err = await expectWixError(
      td().updateTicketDefinition(created._id, { revision: '1', name: 'Lost update' }),
      { status: 428, code: 'REVISION_MISMATCH' },
    );
    assert.equal(typeof err.details.applicationError.description, 'string');
    const fetched = await td().getTicketDefinition(created._id);
    assert.equal(fetched.name, 'First edit');
    assert.equal(fetched.revision, '2');
  });

  test('update: invalid sale period -> 428 INVALID_SALE_PERIOD; 31-char name -> 400 validationError; unknown id -> 404', async () => {
    const event = await newEvent('update-errors');
    const created = await td().createTicketDefinition(tdInput(event._id, 'Valid'));
    await expectWixError(
      td().updateTicketDefinition(created._id, {
        revision: '1',
        salePeriod: { startDate: minuteFromNow(days(5)), endDate: minuteFromNow(days(2)) },
      }),
      { status: 428, code: 'INVALID_SALE_PERIOD' },
    );
    await expectWixError(td().updateTicketDefinition(created._id, { revision: '1', name: 'x'.repeat(31) }), {
      status: 400,
      validation: true,
      field: /name/,
    });
    await expectWixError(td().updateTicketDefinition(randomGuid(), { revision: '1', name: 'Ghost' }), {
      status: 404,
      code: 'TICKET_DEFINITION_NOT_FOUND',
    });
    const fetched = await td().getTicketDefinition(created._id);
    assert.equal(fetched.revision, '1', 'refused updates must not bump the revision');
    assert.equal(fetched.name, 'Valid');
  });
});

describe('createTicketDefinition refusals', () => {
  test('31-char name -> 400 validationError with fieldViolations', async () => {
    const event = await newEvent('validation');
    const err = await expectWixError(td().createTicketDefinition(tdInput(event._id, 'N'.repeat(31))), {
      status: 400,
      validation: true,
      field: /name/,
    });
    assert.match(err.message, /INVALID_ARGUMENT/);
    // 30 characters is fine.
    const ok = await td().createTicketDefinition(tdInput(event._id, 'N'.repeat(30)));
    assert.equal(ok.name.length, 30);
  });

  test('missing required fields (name, feeType, pricingMethod) -> 400 validationError naming the field', async () => {
    const event = await newEvent('required');
    const base = tdInput(event._id, 'Required');
    for (const missing of ['name', 'feeType', 'pricingMethod']) {
      const input = { ...base };
      delete input[missing];
      try {
        await expectWixError(td().createTicketDefinition(input), {
          status: 400,
          validation: true,
          field: new RegExp(missing),
        });
      } catch (e) {
        e.message = `without ${missing}: ${e.message}`;
        throw e;
      }
    }
  });

  test('unknown event -> 404 EVENT_NOT_FOUND', async () => {
    const err = await expectWixError(td().createTicketDefinition(tdInput(randomGuid(), 'Orphan')), {
      status: 404,
      code: 'EVENT_NOT_FOUND',
    });
    assert.equal(typeof err.details.applicationError.description, 'string');
  });

  test('sale end before start -> 428 INVALID_SALE_PERIOD', async () => {
    const event = await newEvent('bad-period');
    await expectWixError(
      td().createTicketDefinition(
        tdInput(event._id, 'Backwards', {
          salePeriod: { startDate: minuteFromNow(days(5)), endDate: minuteFromNow(days(1)) },
        }),
      ),
      { status: 428, code: 'INVALID_SALE_PERIOD' },
    );
  });

  test('RSVP event -> 428 INVALID_EVENT_TYPE', async () => {
    const event = await newEvent('rsvp', { initialType: 'RSVP' });
    await expectWixError(td().createTicketDefinition(tdInput(event._id, 'Not allowed')), {
      status: 428,
      code: 'INVALID_EVENT_TYPE',
    });
  });

  test('101st definition on one event -> 428 TICKET_DEFINITIONS_LIMIT_REACHED', async () => {
    const event = await newEvent('limit');
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => td().createTicketDefinition(tdInput(event._id, `L${batch * 10 + i}`))),
      );
    }
    const count = await td().countTicketDefinitions({ filter: { eventId: event._id } });
    assert.equal(count.metadata?.total, 100);
    await expectWixError(td().createTicketDefinition(tdInput(event._id, 'One too many')), {
      status: 428,
      code: 'TICKET_DEFINITIONS_LIMIT_REACHED',
    });
  });
});

describe('deleteTicketDefinition', () => {
  test('delete -> get 404 TICKET_DEFINITION_NOT_FOUND; deleting again -> 404', async () => {
    const event = await newEvent('delete');
    const keep = await td().createTicketDefinition(tdInput(event._id, 'Keep'));
    const gone = await td().createTicketDefinition(tdInput(event._id, 'Gone'));
    const res = await td().deleteTicketDefinition(gone._id);
    assert.equal(res, undefined, 'the SDK resolves deleteTicketDefinition to undefined on HTTP 200 {}');
    await expectWixError(td().getTicketDefinition(gone._id), { status: 404, code: 'TICKET_DEFINITION_NOT_FOUND' });
    await expectWixError(td().deleteTicketDefinition(gone._id), { status: 404, code: 'TICKET_DEFINITION_NOT_FOUND' });
    const left = await td().queryTicketDefinitions().eq('eventId', event._id).find();
    assert.deepEqual(left.items.map((t) => t._id), [keep._id]);
  });

  test('get unknown id -> 404 TICKET_DEFINITION_NOT_FOUND', async () => {
    await expectWixError(td().getTicketDefinition(randomGuid()), { status: 404, code: 'TICKET_DEFINITION_NOT_FOUND' });
  });
});

describe('reorderTicketDefinitions', () => {
  test('before / after succeed with {} and change the order; foreign reference -> 400 INVALID_REORDER_INSTRUCTION', async () => {
    const event = await newEvent('reorder');
    const a = await td().createTicketDefinition(tdInput(event._id, 'A'));
    const b = await td().createTicketDefinition(tdInput(event._id, 'B'));
    const c = await td().createTicketDefinition(tdInput(event._id, 'C'));
    await ev().publishDraftEvent(event._id); // the ticket picker only lists published events
    const names = (r) => r.ticketDefinitions.map((t) => t.name);
    const available = () => td().queryAvailableTicketDefinitions({ filter: { eventId: event._id } });

    // Order shown to buyers (the ticket picker: queryAvailableTicketDefinitions without an explicit sort).
    assert.deepEqual(names(await available()), ['A', 'B', 'C']);

    const r1 = await td().reorderTicketDefinitions(event._id, { ticketDefinitionId: c._id, beforeDefinitionId: a._id });
    assert.deepEqual(r1, {});
    assert.deepEqual(names(await available()), ['C', 'A', 'B']);

    const r2 = await td().reorderTicketDefinitions(event._id, { ticketDefinitionId: c._id, afterDefinitionId: b._id });
    assert.deepEqual(r2, {});
    assert.deepEqual(names(await available()), ['A', 'B', 'C']);

    await td().reorderTicketDefinitions(event._id, { ticketDefinitionId: a._id, afterDefinitionId: c._id });
    assert.deepEqual(names(await available()), ['B', 'C', 'A']);

    const other = await newEvent('reorder-other');
    const foreign = await td().createTicketDefinition(tdInput(other._id, 'Foreign'));
    await expectWixError(
      td().reorderTicketDefinitions(event._id, { ticketDefinitionId: a._id, beforeDefinitionId: foreign._id }),
      { status: 400, code: 'INVALID_REORDER_INSTRUCTION' },
    );
    await expectWixError(
      td().reorderTicketDefinitions(randomGuid(), { ticketDefinitionId: a._id, beforeDefinitionId: b._id }),
      { status: 404, code: 'EVENT_NOT_FOUND' },
    );
  });
});

describe('queryTicketDefinitions', () => {
  async function seed(label) {
    const event = await newEvent(label);
    const made = [];
    const specs = [
      { name: 'Q0', initialLimit: 5 },
      { name: 'Q1', initialLimit: 15, hidden: true },
      { name: 'Q2', pricingMethod: { fixedPrice: { value: '0', currency: 'USD' } } },
      { name: 'Q3', initialLimit: 25 },
      { name: 'Q4', hidden: true },
    ];
    for (const s of specs) {
      made.push(await td().createTicketDefinition(tdInput(event._id, s.name, s)));
      await sleep(5); // distinct createdDate values
    }
    return { event, made };
  }

  test('builder: eq/in/ge/ascending/descending/limit, find(), hasNext()/next() cursor paging across pages', async () => {
    const { event, made } = await seed('query-builder');

    // default order: createdDate ASC
    const all = await td().queryTicketDefinitions().eq('eventId', event._id).find();
    assert.deepEqual(all.items.map((t) => t.name), ['Q0', 'Q1', 'Q2', 'Q3', 'Q4']);
    assert.equal(all.hasNext(), false);
    for (const t of all.items) {
      assert.ok(isGuid(t._id));
      assertDate(t._createdDate, 'items[]._createdDate');
      assert.equal(t.salesDetails ?? null, null, 'no salesDetails without SALES_DETAILS');
    }

    // cursor paging across three pages, sort carried by the cursor, options (fields) re-sent by the SDK
    const seen = [];
    let page = await td()
      .queryTicketDefinitions({ fields: ['SALES_DETAILS'] })
      .eq('eventId', event._id)
      .descending('name')
      .limit(2)
      .find();
    let pages = 1;
    seen.push(...page.items);
    assert.equal(page.items.length, 2);
    assert.equal(page.hasNext(), true, 'first page of 5 with limit 2 must expose cursors.next');
    while (page.hasNext()) {
      page = await page.next();
      pages += 1;
      seen.push(...page.items);
      assert.ok(pages <= 5, 'paging must terminate');
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen.map((t) => t.name), ['Q4', 'Q3', 'Q2', 'Q1', 'Q0']);
    for (const t of seen) assert.ok(t.salesDetails, `salesDetails on every page (item ${t.name})`);
    assert.equal(seen.find((t) => t.name === 'Q0').salesDetails.unsoldCount, 5);

    // in() on _id (renamed to id by the SDK) + ascending
    const some = await td()
      .queryTicketDefinitions()
      .in('_id', [made[3]._id, made[0]._id])
      .ascending('name')
      .find();
    assert.deepEqual(some.items.map((t) => t.name), ['Q0', 'Q3']);

    // ge() on _createdDate (a Date, renamed to createdDate)
    const recent = await td()
      .queryTicketDefinitions()
      .eq('eventId', event._id)
      .ge('_createdDate', made[2]._createdDate)
      .ascending('_createdDate')
      .find();
    assert.deepEqual(recent.items.map((t) => t.name), ['Q2', 'Q3', 'Q4']);

    // other filterable fields
    const hidden = await td().queryTicketDefinitions().eq('eventId', event._id).eq('hidden', true).ascending('name').find();
    assert.deepEqual(hidden.items.map((t) => t.name), ['Q1', 'Q4']);
    const free = await td().queryTicketDefinitions().eq('eventId', event._id).eq('pricingMethod.free', true).find();
    assert.deepEqual(free.items.map((t) => t.name), ['Q2']);
    const big = await td().queryTicketDefinitions().eq('eventId', event._id).ge('initialLimit', 10).ascending('name').find();
    assert.deepEqual(big.items.map((t) => t.name), ['Q1', 'Q3']);
    const multiSort = await td()
      .queryTicketDefinitions()
      .eq('eventId', event._id)
      .ascending('hidden')
      .descending('name')
      .find();
    assert.deepEqual(multiSort.items.map((t) => t.name), ['Q3', 'Q2', 'Q0', 'Q4', 'Q1']);
    const none = await td().queryTicketDefinitions().eq('eventId', event._id).eq('name', 'nope').find();
    assert.deepEqual(none.items, []);
    assert.equal(none.hasNext(), false);
  });

  test('typed form queryTicketDefinitions({filter, sort, cursorPaging}, {fields}) returns {ticketDefinitions, metadata}', async () => {
    const { event } = await seed('query-typed');
    const first = await td().queryTicketDefinitions(
      { filter: { eventId: event._id }, sort: [{ fieldName: 'name', order: 'DESC' }], cursorPaging: { limit: 2 } },
      { fields: ['SALES_DETAILS'] },
    );
    assert.ok(Array.isArray(first.ticketDefinitions), 'typed query returns the raw response with ticketDefinitions[]');
    assert.deepEqual(first.ticketDefinitions.map((t) => t.name), ['Q4', 'Q3']);
    assert.equal(first.metadata?.count, 2);
    assert.equal(typeof first.metadata?.cursors?.next, 'string');
    assert.ok(first.metadata.cursors.next.length > 0);
    assertDate(first.ticketDefinitions[0]._createdDate, 'ticketDefinitions[0]._createdDate');
    assert.ok(first.ticketDefinitions[0].salesDetails);

    const names = first.ticketDefinitions.map((t) => t.name);
    let cursor = first.metadata.cursors.next;
    for (let guard = 0; cursor && guard < 5; guard++) {
      const next = await td().queryTicketDefinitions({ cursorPaging: { cursor, limit: 2 } }, { fields: ['SALES_DETAILS'] });
      names.push(...next.ticketDefinitions.map((t) => t.name));
      cursor = next.metadata?.cursors?.next;
    }
    assert.deepEqual(names, ['Q4', 'Q3', 'Q2', 'Q1', 'Q0']);
  });

  test('paging ends exactly: 4 items with limit 2 -> 2 pages, no trailing empty page', async () => {
    const event = await newEvent('query-exact');
    for (const n of ['E0', 'E1', 'E2', 'E3']) await td().createTicketDefinition(tdInput(event._id, n));
    const p1 = await td().queryTicketDefinitions().eq('eventId', event._id).ascending('name').limit(2).find();
    assert.deepEqual(p1.items.map((t) => t.name), ['E0', 'E1']);
    assert.equal(p1.hasNext(), true);
    const p2 = await p1.next();
    assert.deepEqual(p2.items.map((t) => t.name), ['E2', 'E3']);
    assert.equal(p2.hasNext(), false, 'no cursors.next after the last item');
  });

  test('typed form with offset paging ({filter, paging:{limit, offset}}) returns metadata.total', async () => {
    const { event } = await seed('query-offset');
    const res = await td().queryTicketDefinitions({
      filter: { eventId: event._id },
      sort: [{ fieldName: 'name', order: 'ASC' }],
      paging: { limit: 2, offset: 2 },
    });
    assert.deepEqual(res.ticketDefinitions.map((t) => t.name), ['Q2', 'Q3']);
    assert.equal(res.metadata?.total, 5);
    assert.equal(res.metadata?.offset, 2);
    assert.equal(res.metadata?.count, 2);
  });

  test('count / countAvailable with an unknown filter field -> 400 applicationError FILTER_PARSER_ERROR', async () => {
    // CountTicketDefinitionsApplicationErrors / CountAvailableTicketDefinitionsApplicationErrors in the typings.
    await expectWixError(td().countTicketDefinitions({ filter: { noSuchField: 'x' } }), {
      status: 400,
      code: 'FILTER_PARSER_ERROR',
    });
    await expectWixError(td().countAvailableTicketDefinitions({ filter: { noSuchField: 'x' } }), {
      status: 400,
      code: 'FILTER_PARSER_ERROR',
    });
  });

  test('cursorPaging.limit above 100 -> 400', async () => {
    await expectWixError(td().queryTicketDefinitions().limit(101).find(), { status: 400 });
  });
});

describe('queryAvailableTicketDefinitions / countTicketDefinitions / countAvailableTicketDefinitions', () => {
  test('available excludes hidden; count facets by saleStatus', async () => {
    const event = await newEvent('counts');
    await ev().publishDraftEvent(event._id); // available = what visitors of a published event can see
    const mk = (name, extra) => td().createTicketDefinition(tdInput(event._id, name, extra));
    await mk('Started');
    await mk('Started hidden', { hidden: true });
    await mk('Scheduled', {
      salePeriod: { startDate: minuteFromNow(days(2)), endDate: minuteFromNow(days(4)), displayNotOnSale: true },
    });
    await mk('Ended', {
      salePeriod: { startDate: minuteFromNow(-days(4)), endDate: minuteFromNow(-days(2)), displayNotOnSale: true },
    });

    const avail = await td().queryAvailableTicketDefinitions({ filter: { eventId: event._id } }, { fields: ['SALES_DETAILS'] });
    assert.ok(Array.isArray(avail.ticketDefinitions));
    assert.deepEqual(avail.ticketDefinitions.map((t) => t.name).sort(), ['Ended', 'Scheduled', 'Started']);
    for (const t of avail.ticketDefinitions) {
      assert.equal(t.hidden, false);
      assertDate(t._createdDate, 'available[]._createdDate');
      assert.ok(t.salesDetails, 'app identity gets salesDetails with SALES_DETAILS');
    }
    const availSorted = await td().queryAvailableTicketDefinitions({
      filter: { eventId: event._id },
      sort: [{ fieldName: 'name', order: 'DESC' }],
      cursorPaging: { limit: 2 },
    });
    assert.deepEqual(availSorted.ticketDefinitions.map((t) => t.name), ['Started', 'Scheduled']);
    assert.equal(typeof availSorted.metadata?.cursors?.next, 'string', 'a further page exists');
    const availNext = await td().queryAvailableTicketDefinitions({ cursorPaging: { cursor: availSorted.metadata.cursors.next, limit: 2 } });
    assert.deepEqual(availNext.ticketDefinitions.map((t) => t.name), ['Ended']);

    const count = await td().countTicketDefinitions({ filter: { eventId: event._id }, facet: ['saleStatus'] });
    assert.equal(count.metadata?.total, 4);
    assert.deepEqual(count.facets?.saleStatus?.counts, { SALE_STARTED: 2, SALE_SCHEDULED: 1, SALE_ENDED: 1 });

    const started = await td().countTicketDefinitions({
      filter: { eventId: event._id, saleStatus: { $eq: 'SALE_STARTED' } },
      facet: ['saleStatus'],
    });
    assert.equal(started.metadata?.total, 2);
    assert.deepEqual(started.facets?.saleStatus?.counts, { SALE_STARTED: 2 });

    const countAvail = await td().countAvailableTicketDefinitions({ filter: { eventId: event._id } });
    assert.equal(countAvail.metadata?.total, 3, 'countAvailable excludes hidden definitions');

    // Site visitors may read the available list (permission READ_AVAILABLE_TICKET_DEFINITIONS in the typings).
    const visitorView = await buildVisitorClient().ticketDefinitions.queryAvailableTicketDefinitions({ filter: { eventId: event._id } });
    assert.deepEqual(visitorView.ticketDefinitions.map((t) => t.name).sort(), ['Ended', 'Scheduled', 'Started']);
  });
});

describe('bulkDeleteTicketDefinitionsByFilter', () => {
  test('deletes exactly the definitions matching the filter', async () => {
    const e1 = await newEvent('bulk-1');
    const e2 = await newEvent('bulk-2');
    const a = await td().createTicketDefinition(tdInput(e1._id, 'A'));
    await td().createTicketDefinition(tdInput(e1._id, 'B hidden', { hidden: true }));
    await td().createTicketDefinition(tdInput(e1._id, 'C hidden', { hidden: true }));
    const other = await td().createTicketDefinition(tdInput(e2._id, 'Other', { hidden: true }));

    const r1 = await td().bulkDeleteTicketDefinitionsByFilter({ eventId: e1._id, hidden: true });
    assert.equal(r1, undefined);
    let left = await td().queryTicketDefinitions().eq('eventId', e1._id).find();
    assert.deepEqual(left.items.map((t) => t._id), [a._id]);

    await td().bulkDeleteTicketDefinitionsByFilter({ eventId: e1._id });
    left = await td().queryTicketDefinitions().eq('eventId', e1._id).find();
    assert.deepEqual(left.items, []);
    const stillThere = await td().getTicketDefinition(other._id);
    assert.equal(stillThere._id, other._id);
  });
});

describe('changeCurrency', () => {
  test('changes the currency code of every definition of the event without converting values', async () => {
    const event = await newEvent('currency');
    const other = await newEvent('currency-other');
    const a = await td().createTicketDefinition(tdInput(event._id, 'A', { pricingMethod: { fixedPrice: { value: '10', currency: 'USD' } } }));
    const b = await td().createTicketDefinition(
      tdInput(event._id, 'B', {
        pricingMethod: { pricingOptions: { optionDetails: [{ name: 'Adult', price: { value: '7.5', currency: 'USD' } }] } },
      }),
    );
    const o = await td().createTicketDefinition(tdInput(other._id, 'O'));

    const res = await td().changeCurrency(event._id, { currency: 'EUR' });
    assert.deepEqual(res, {});

    const a2 = await td().getTicketDefinition(a._id);
    assert.deepEqual(a2.pricingMethod.fixedPrice, { value: '10.00', currency: 'EUR' });
    const b2 = await td().getTicketDefinition(b._id);
    assert.deepEqual(b2.pricingMethod.pricingOptions.optionDetails[0].price, { value: '7.50', currency: 'EUR' });
    const o2 = await td().getTicketDefinition(o._id);
    assert.equal(o2.pricingMethod.fixedPrice.currency, 'USD', 'other events are untouched');

    await expectWixError(td().changeCurrency(randomGuid(), { currency: 'EUR' }), { status: 404, code: 'EVENT_NOT_FOUND' });
  });
});

describe('wire variants', () => {
  test('the /_api/events-ticket-definitions path family (SDK with a non-Wix host) works too', async () => {
    const event = await newEvent('alt-host');
    const alt = buildClient({ apiBaseUrl: 'boxoffice.invalid' }).ticketDefinitions;
    const t = await alt.createTicketDefinition(tdInput(event._id, 'Alt'), { fields: ['SALES_DETAILS'] });
    assert.ok(isGuid(t._id));
    assert.equal((await alt.getTicketDefinition(t._id)).name, 'Alt');
    assert.equal((await alt.updateTicketDefinition(t._id, { revision: '1', name: 'Alt2' })).revision, '2');
    const q = await alt.queryTicketDefinitions().eq('eventId', event._id).find();
    assert.deepEqual(q.items.map((x) => x._id), [t._id]);
    assert.equal((await alt.countTicketDefinitions({ filter: { eventId: event._id } })).metadata?.total, 1);
    await alt.changeCurrency(event._id, { currency: 'EUR' });
    await alt.deleteTicketDefinition(t._id);
    await alt.bulkDeleteTicketDefinitionsByFilter({ eventId: event._id });
    await expectWixError(alt.getTicketDefinition(t._id), { status: 404, code: 'TICKET_DEFINITION_NOT_FOUND' });
  });
});

describe('authorization', () => {
  test('visitor key: every management call -> 403', async () => {
    const event = await newEvent('visitor');
    const a = await td().createTicketDefinition(tdInput(event._id, 'A'));
    const b = await td().createTicketDefinition(tdInput(event._id, 'B'));
    const v = buildVisitorClient().ticketDefinitions;
    const calls = {
      createTicketDefinition: () => v.createTicketDefinition(tdInput(event._id, 'Visitor')),
      updateTicketDefinition: () => v.updateTicketDefinition(a._id, { revision: '1', name: 'Visitor' }),
      deleteTicketDefinition: () => v.deleteTicketDefinition(a._id),
      getTicketDefinition: () => v.getTicketDefinition(a._id),
      queryTicketDefinitions: () => v.queryTicketDefinitions().eq('eventId', event._id).find(),
      countTicketDefinitions: () => v.countTicketDefinitions({ filter: { eventId: event._id } }),
      reorderTicketDefinitions: () => v.reorderTicketDefinitions(event._id, { ticketDefinitionId: b._id, beforeDefinitionId: a._id }),
      bulkDeleteTicketDefinitionsByFilter: () => v.bulkDeleteTicketDefinitionsByFilter({ eventId: event._id }),
      changeCurrency: () => v.changeCurrency(event._id, { currency: 'EUR' }),
    };
    for (const [name, call] of Object.entries(calls)) {
      try {
        await expectWixError(call(), { status: 403 });
      } catch (e) {
        e.message = `${name}: ${e.message}`;
        throw e;
      }
    }
    const still = await td().getTicketDefinition(a._id);
    assert.equal(still.name, 'A');
    assert.equal(still.revision, '1');
    assert.equal((await td().countTicketDefinitions({ filter: { eventId: event._id } })).metadata?.total, 2);
  });

  test('unknown API key -> 401', async () => {
    const bad = createClient({
      modules: { ticketDefinitions },
      auth: ApiKeyStrategy({ apiKey: `not-a-key-${RUN_ID}`, siteId: requireEnv('BOXOFFICE_SITE_ID') }),
      fetch: makeRewritingFetch(requireEnv('BOXOFFICE_URL')),
    });
    await expectWixError(bad.ticketDefinitions.getTicketDefinition(randomGuid()), { status: 401 });
  });
});
