// Schedule items conformance, driven through the official SDK
// (@wix/auto_sdk_events_schedule 1.0.45 on @wix/sdk): every method of the module.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, ApiKeyStrategy } from '@wix/sdk';
import * as schedule from '@wix/auto_sdk_events_schedule';
import {
  makeRewritingFetch,
  requireEnv,
  wixEventsV2,
  RUN_ID,
  minuteFromNow,
  days,
  hours,
  eventInput,
  expectWixError,
  randomGuid,
} from './client.mjs';

function buildScheduleClient({ apiKey, apiBaseUrl } = {}) {
  const baseUrl = requireEnv('BOXOFFICE_URL');
  return createClient({
    modules: { schedule, wixEventsV2 },
    auth: ApiKeyStrategy({ siteId: requireEnv('BOXOFFICE_SITE_ID'), apiKey: apiKey ?? requireEnv('BOXOFFICE_API_KEY') }),
    ...(apiBaseUrl ? { host: { apiBaseUrl } } : {}),
    fetch: makeRewritingFetch(baseUrl, apiBaseUrl ? { fromOrigin: `https://${apiBaseUrl}` } : {}),
  });
}

let _client;
const client = () => (_client ??= buildScheduleClient());
const sc = () => client().schedule;
const visitor = () => buildScheduleClient({ apiKey: requireEnv('BOXOFFICE_VISITOR_KEY') }).schedule;

const createdEventIds = [];
async function newEvent(label) {
  const e = await client().wixEventsV2.createEvent(eventInput(`SCH ${label} ${RUN_ID}`), { draft: false });
  createdEventIds.push(e._id);
  return e;
}
after(async () => {
  for (const id of createdEventIds) {
    try {
      await client().wixEventsV2.deleteEvent(id);
    } catch {
      /* already gone */
    }
  }
});

const T0 = minuteFromNow(days(20));
const at = (h) => new Date(T0.getTime() + hours(h));
const itemInput = (name, startH = 0, extra = {}) => ({
  name,
  timeSlot: { start: at(startH), end: at(startH + 1), timeZoneId: 'Europe/Vilnius' },
  ...extra,
});

describe('schedule items through the SDK', () => {
  test('addScheduleItem, getScheduleItem(includeDraft), publishDraft, listScheduleItems', async () => {
    const ev = await newEvent('add');
    const { item } = await sc().addScheduleItem(ev._id, { item: itemInput('Keynote', 0, { stageName: 'Main', tags: ['talk'] }) });
    assert.equal(typeof item._id, 'string');
    assert.equal(item.draft, true);
    assert.equal(item.eventId, ev._id);
    assert.equal(item.status, 'SCHEDULED');
    assert.ok(item.timeSlot.start instanceof Date && item.timeSlot.start.getTime() === at(0).getTime());
    assert.ok(item._createdDate instanceof Date);
    const draft = await sc().getScheduleItem(item._id, { eventId: ev._id, includeDraft: true });
    assert.equal(draft._id, item._id);
    assert.equal(draft.draft, true);
    await expectWixError(sc().getScheduleItem(item._id), { status: 404, code: 'SCHEDULE_ITEM_NOT_FOUND' });
    let list = await sc().listScheduleItems({ eventId: [ev._id] });
    assert.deepEqual(list.items, []);
    assert.equal(list.draftNotPublished, true);
    await sc().publishDraft(ev._id);
    list = await sc().listScheduleItems({ eventId: [ev._id], tag: ['talk'], stageName: ['Main'], facet: ['tag'] });
    assert.deepEqual(list.items.map((i) => i._id), [item._id]);
    assert.equal(list.items[0].draft, false);
    assert.equal(list.draftNotPublished, false);
    assert.deepEqual(list.facets, { tag: { counts: { talk: 1 } } });
    assert.equal(list.pagingMetadata.total, 1);
    const published = await sc().getScheduleItem(item._id);
    assert.equal(published.draft, false);
    assert.ok(published.timeSlot.end instanceof Date);
  });

  test('updateScheduleItem (field mask) and discardDraft', async () => {
    const ev = await newEvent('update');
    const { item } = await sc().addScheduleItem(ev._id, { item: itemInput('Before') });
    await sc().publishDraft(ev._id);
    const { item: updated } = await sc().updateScheduleItem(item._id, ev._id, { item: { name: 'After' }, fields: ['name'] });
    assert.equal(updated.name, 'After');
    assert.equal(updated.timeSlot.start.getTime(), at(0).getTime());
    assert.equal((await sc().getScheduleItem(item._id)).name, 'Before');
    const drafts = await sc().listScheduleItems({ eventId: [ev._id], state: ['DRAFT'] });
    assert.deepEqual(drafts.items.map((i) => i.name), ['After']);
    await sc().discardDraft(ev._id);
    assert.equal((await sc().getScheduleItem(item._id, { includeDraft: true })).name, 'Before');
    await expectWixError(
      sc().updateScheduleItem(item._id, ev._id, { item: { name: 'x'.repeat(121) }, fields: ['name'] }),
      { status: 400, validation: true, field: /item\.name/ },
    );
  });

  test('deleteScheduleItem removes items from the draft', async () => {
    const ev = await newEvent('delete');
    const a = (await sc().addScheduleItem(ev._id, { item: itemInput('a') })).item;
    const b = (await sc().addScheduleItem(ev._id, { item: itemInput('b', 1) })).item;
    await sc().publishDraft(ev._id);
    await sc().deleteScheduleItem(ev._id, { itemIds: [a._id] });
    const drafts = await sc().listScheduleItems({ eventId: [ev._id], state: ['DRAFT'] });
    assert.deepEqual(drafts.items.map((i) => i._id), [b._id]);
    await sc().publishDraft(ev._id);
    const list = await sc().listScheduleItems({ eventId: [ev._id] });
    assert.deepEqual(list.items.map((i) => i._id), [b._id]);
    await expectWixError(sc().deleteScheduleItem(ev._id, { itemIds: [randomGuid()] }), { status: 404 });
  });

  test('rescheduleDraft shifts every draft item by a protobuf duration', async () => {
    const ev = await newEvent('reschedule');
    const a = (await sc().addScheduleItem(ev._id, { item: itemInput('a') })).item;
    await sc().rescheduleDraft(ev._id, { timeZoneId: 'America/New_York', timeSlotOffset: { seconds: '3600', nanos: 0 } });
    const moved = await sc().getScheduleItem(a._id, { includeDraft: true });
    assert.equal(moved.timeSlot.start.getTime(), at(1).getTime());
    assert.equal(moved.timeSlot.end.getTime(), at(2).getTime());
    assert.equal(moved.timeSlot.timeZoneId, 'America/New_York');
    await expectWixError(sc().rescheduleDraft(ev._id, { timeZoneId: 'Nowhere/Land' }), { status: 400, validation: true });
  });

  test('queryScheduleItems: builder filters, sort and cursor paging', async () => {
    const ev = await newEvent('query');
    for (const [i, n] of ['c', 'a', 'b'].entries()) {
      await sc().addScheduleItem(ev._id, { item: itemInput(n, i, { stageName: n === 'c' ? 'Side' : 'Main' }) });
    }
    await sc().publishDraft(ev._id);
    const page1 = await sc().queryScheduleItems().eq('eventId', ev._id).ascending('name').limit(2).find();
    assert.deepEqual(page1.items.map((i) => i.name), ['a', 'b']);
    assert.equal(page1.hasNext(), true);
    const page2 = await page1.next();
    assert.deepEqual(page2.items.map((i) => i.name), ['c']);
    assert.equal(page2.hasNext(), false);
    const main = await sc().queryScheduleItems().eq('eventId', ev._id).eq('stageName', 'Main').ne('name', 'a').find();
    assert.deepEqual(main.items.map((i) => i.name), ['b']);
    const newest = await sc().queryScheduleItems().eq('eventId', ev._id).descending('_createdDate').limit(1).find();
    assert.equal(newest.items[0].name, 'b');
    const byId = await sc().queryScheduleItems().eq('_id', page1.items[0]._id).find();
    assert.equal(byId.items.length, 1);
    await expectWixError(sc().queryScheduleItems().eq('name', 'x').limit(101).find(), { status: 400 });
  });

  test('the /_api/wix-events-schedule path family (any other host)', async () => {
    const ev = await newEvent('alt host');
    const alt = buildScheduleClient({ apiBaseUrl: 'boxoffice.example' }).schedule;
    const { item } = await alt.addScheduleItem(ev._id, { item: itemInput('alt') });
    await alt.publishDraft(ev._id);
    assert.equal((await alt.getScheduleItem(item._id)).name, 'alt');
  });

  test('a visitor reads the published schedule and is refused drafts and writes', async () => {
    const ev = await newEvent('visitor');
    const { item } = await sc().addScheduleItem(ev._id, { item: itemInput('public') });
    await sc().addScheduleItem(ev._id, { item: itemInput('hidden', 1, { hidden: true }) });
    await sc().publishDraft(ev._id);
    await sc().addScheduleItem(ev._id, { item: itemInput('unpublished', 2) });
    const list = await visitor().listScheduleItems({ eventId: [ev._id] });
    assert.deepEqual(list.items.map((i) => i.name), ['public']);
    assert.equal((await visitor().getScheduleItem(item._id)).name, 'public');
    const q = await visitor().queryScheduleItems().eq('eventId', ev._id).find();
    assert.deepEqual(q.items.map((i) => i.name), ['public']);
    await expectWixError(visitor().getScheduleItem(item._id, { includeDraft: true }), { status: 403 });
    await expectWixError(visitor().listScheduleItems({ eventId: [ev._id], state: ['DRAFT'] }), { status: 403 });
    await expectWixError(visitor().addScheduleItem(ev._id, { item: itemInput('x') }), { status: 403 });
    await expectWixError(visitor().updateScheduleItem(item._id, ev._id, { item: { name: 'x' }, fields: ['name'] }), { status: 403 });
    await expectWixError(visitor().deleteScheduleItem(ev._id, { itemIds: [item._id] }), { status: 403 });
    await expectWixError(visitor().publishDraft(ev._id), { status: 403 });
    await expectWixError(visitor().discardDraft(ev._id), { status: 403 });
    await expectWixError(visitor().rescheduleDraft(ev._id, { timeZoneId: 'Etc/UTC' }), { status: 403 });
  });
});
