// Categories conformance: all 13 methods of @wix/auto_sdk_events_categories 1.0.58 through the
// official SDK (on @wix/sdk 1.21.16), on both path families the SDK resolves:
// `/events/v1/...` (www.wixapis.com) and `/_api/wix-events-web/v1/...` (any other host).

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, ApiKeyStrategy } from '@wix/sdk';
import * as categories from '@wix/auto_sdk_events_categories';
import * as wixEventsV2 from '@wix/auto_sdk_events_wix-events-v-2';
import {
  makeRewritingFetch,
  requireEnv,
  requestLog,
  RUN_ID,
  randomGuid,
  eventInput,
  expectWixError,
  deleteEventsQuietly,
} from './client.mjs';

function build({ apiKey, apiBaseUrl } = {}) {
  const baseUrl = requireEnv('BOXOFFICE_URL');
  return createClient({
    modules: { categories, wixEventsV2 },
    auth: ApiKeyStrategy({ siteId: requireEnv('BOXOFFICE_SITE_ID'), apiKey: apiKey ?? requireEnv('BOXOFFICE_API_KEY') }),
    ...(apiBaseUrl ? { host: { apiBaseUrl } } : {}),
    fetch: makeRewritingFetch(baseUrl, apiBaseUrl ? { fromOrigin: `https://${apiBaseUrl}` } : {}),
  });
}

let _client, _alias, _visitor;
const client = () => (_client ??= build());
// a non-Wix host: the SDK sends the `/_api/wix-events-web/...` paths
const alias = () => (_alias ??= build({ apiBaseUrl: 'boxoffice.example.com' }));
const visitor = () => (_visitor ??= build({ apiKey: requireEnv('BOXOFFICE_VISITOR_KEY') }));
const cat = () => client().categories;

const eventIds = [];
const categoryIds = [];
async function newEvent(label, createOpts = { draft: true }) {
  const e = await client().wixEventsV2.createEvent(eventInput(`CAT ${label} ${RUN_ID}`), createOpts);
  eventIds.push(e._id);
  return e;
}
let seq = 0;
const uniqueName = (label) => `${label} ${RUN_ID}`.slice(0, 24) + ` ${++seq}`;
async function newCategory(label, extra = {}) {
  const c = await cat().createCategory({ name: uniqueName(label), ...extra });
  categoryIds.push(c._id);
  return c;
}
const lastRequest = () => requestLog.at(-1);
const namesOf = async (eventId, c = client()) => (await c.categories.listEventCategories(eventId)).categories.map((x) => x._id);

after(async () => {
  if (!_client) return;
  for (const id of categoryIds) {
    try {
      await _client.categories.deleteCategory(id);
    } catch {
      /* already gone */
    }
  }
  await deleteEventsQuietly(_client, eventIds);
});

const isGuid = (s) => typeof s === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

describe('environment', () => {
  test('BOXOFFICE_URL and keys are configured', () => {
    requireEnv('BOXOFFICE_URL');
    requireEnv('BOXOFFICE_API_KEY');
    requireEnv('BOXOFFICE_SITE_ID');
    requireEnv('BOXOFFICE_VISITOR_KEY');
  });
});

describe('createCategory / updateCategory / deleteCategory', () => {
  test('createCategory returns _id, name, states and a Date _createdDate', async () => {
    const name = uniqueName('create');
    const c = await cat().createCategory({ name });
    categoryIds.push(c._id);
    assert.ok(isGuid(c._id));
    assert.equal(c.name, name);
    assert.deepEqual(c.states, ['MANUAL']);
    assert.ok(c._createdDate instanceof Date && !Number.isNaN(c._createdDate.getTime()));
    assert.match(lastRequest().url, /\/events\/v1\/categories$/);
  });

  test('updateCategory changes the name and states (PATCH /v1/categories/{id})', async () => {
    const c = await newCategory('update');
    const name = uniqueName('renamed');
    const u = await cat().updateCategory(c._id, { name, states: ['MANUAL', 'HIDDEN'] });
    assert.equal(u._id, c._id);
    assert.equal(u.name, name);
    assert.deepEqual(u.states, ['MANUAL', 'HIDDEN']);
    assert.equal(lastRequest().method, 'PATCH');
    assert.ok(lastRequest().url.endsWith(`/events/v1/categories/${c._id}`));
  });

  test('a duplicate name is 409, a 31-character name 400, an unknown id 404', async () => {
    const c = await newCategory('dup');
    await expectWixError(cat().createCategory({ name: c.name }), { status: 409, code: 'CATEGORY_ALREADY_EXISTS' });
    await expectWixError(cat().createCategory({ name: 'x'.repeat(31) }), { status: 400, validation: true, field: /name/ });
    await expectWixError(cat().updateCategory(randomGuid(), { name: 'nobody' }), { status: 404, code: 'CATEGORY_NOT_FOUND' });
  });

  test('deleteCategory removes it; a second delete is 404', async () => {
    const c = await newCategory('delete');
    await cat().deleteCategory(c._id);
    assert.equal(lastRequest().method, 'DELETE');
    await expectWixError(cat().deleteCategory(c._id), { status: 404, code: 'CATEGORY_NOT_FOUND' });
  });
});

describe('bulkCreateCategory', () => {
  test('creates each item and reports the refused one', async () => {
    const taken = await newCategory('taken');
    const names = [uniqueName('bulk a'), taken.name, uniqueName('bulk b')];
    const res = await cat().bulkCreateCategory(names.map((name) => ({ name })));
    assert.deepEqual(res.bulkActionMetadata, { totalSuccesses: 2, totalFailures: 1, undetailedFailures: 0 });
    assert.deepEqual(res.results.map((r) => r.itemMetadata.success), [true, false, true]);
    assert.deepEqual(res.results.map((r) => r.itemMetadata.originalIndex), [0, 1, 2]);
    assert.equal(res.results[0].item.name, names[0]);
    assert.equal(res.results[0].itemMetadata._id, res.results[0].item._id);
    assert.ok(res.results[0].item._createdDate instanceof Date);
    assert.equal(res.results[1].itemMetadata.error.code, 'CATEGORY_ALREADY_EXISTS');
    for (const r of res.results) if (r.item) categoryIds.push(r.item._id);
    assert.match(lastRequest().url, /\/events\/v1\/bulk\/categories\/create$/);
  });
});

describe('queryCategories', () => {
  test('eq, hasSome, sort, limit/skip and the COUNTS fieldset', async () => {
    const a = await newCategory('query a');
    const b = await newCategory('query b', { states: ['AUTO'] });
    const pub = await newEvent('query pub', { draft: false });
    const draft = await newEvent('query draft');
    await cat().assignEvents(a._id, [pub._id, draft._id]);

    const byName = await cat().queryCategories().eq('name', a.name).find();
    assert.deepEqual(byName.items.map((x) => x._id), [a._id]);
    assert.ok(byName.items[0]._createdDate instanceof Date);
    assert.equal(byName.items[0].counts, undefined, 'counts only with the COUNTS fieldset');
    const body = JSON.parse(lastRequest().body);
    assert.deepEqual(body.query.filter, { name: a.name });

    const both = await cat().queryCategories().eq('_id', b._id).hasSome('states', ['AUTO', 'HIDDEN']).find();
    assert.deepEqual(both.items.map((x) => x._id), [b._id]);
    assert.ok(JSON.parse(lastRequest().body).query.filter.$and, 'the builder wraps several conditions in $and');

    const counted = await cat().queryCategories({ fieldset: ['COUNTS'] }).eq('_id', a._id).find();
    assert.deepEqual(counted.items[0].counts, { assignedEventsCount: 1, assignedDraftEventsCount: 1 });

    const page = await cat().queryCategories().descending('_createdDate').limit(1).find();
    assert.equal(page.items.length, 1);
    assert.ok(page.totalCount >= 2);
    assert.equal(page.hasNext(), true);
    const second = await page.next();
    assert.equal(second.items.length, 1);
    assert.notEqual(second.items[0]._id, page.items[0]._id);
    const skipped = await cat().queryCategories().ascending('name').skip(1).limit(1).find();
    assert.equal(skipped.items.length, 1);
  });

  test('a filter on an unsupported field is 400 FILTER_PARSER_ERROR', async () => {
    await expectWixError(cat().queryCategories().eq('nope', 1).find(), { status: 400, code: 'FILTER_PARSER_ERROR' });
  });
});

describe('assignEvents / unassignEvents / listEventCategories', () => {
  test('an event in several categories; unassign sends eventId as repeated query parameters', async () => {
    const c1 = await newCategory('assign 1');
    const c2 = await newCategory('assign 2');
    const e1 = await newEvent('assign e1');
    const e2 = await newEvent('assign e2');
    await cat().assignEvents(c1._id, [e1._id, e2._id]);
    assert.ok(lastRequest().url.endsWith(`/events/v1/categories/${c1._id}/events`));
    await cat().assignEvents(c2._id, [e1._id]);
    const list = await cat().listEventCategories(e1._id);
    assert.deepEqual(list.categories.map((x) => x._id).sort(), [c1._id, c2._id].sort());
    assert.ok(list.categories[0]._createdDate instanceof Date);
    assert.equal(lastRequest().method, 'GET');
    assert.ok(lastRequest().url.includes(`/events/v1/categories/${e1._id}`));

    await cat().unassignEvents(c1._id, [e1._id, e2._id]);
    const u = new URL(lastRequest().url);
    assert.equal(lastRequest().method, 'DELETE');
    assert.deepEqual(u.searchParams.getAll('eventId'), [e1._id, e2._id]);
    assert.deepEqual(await namesOf(e1._id), [c2._id]);
    assert.deepEqual(await namesOf(e2._id), []);
  });

  test('unknown events and categories are 404', async () => {
    const c = await newCategory('assign 404');
    const e = await newEvent('assign 404');
    await expectWixError(cat().assignEvents(c._id, [randomGuid()]), { status: 404, code: 'EVENT_NOT_FOUND' });
    await expectWixError(cat().assignEvents(randomGuid(), [e._id]), { status: 404, code: 'CATEGORY_NOT_FOUND' });
    await expectWixError(cat().unassignEvents(c._id, [randomGuid()]), { status: 404, code: 'EVENT_NOT_FOUND' });
    await expectWixError(cat().listEventCategories(randomGuid()), { status: 404, code: 'EVENT_NOT_FOUND' });
  });

  test('deleting an event drops its assignments', async () => {
    const c = await newCategory('event deleted');
    const e = await newEvent('event deleted');
    await cat().assignEvents(c._id, [e._id]);
    await client().wixEventsV2.deleteEvent(e._id);
    const counted = await cat().queryCategories({ fieldset: ['COUNTS'] }).eq('_id', c._id).find();
    assert.deepEqual(counted.items[0].counts, { assignedEventsCount: 0, assignedDraftEventsCount: 0 });
  });
});

describe('bulkAssignEvents / bulkUnassignEvents', () => {
  test('one event into several categories, per-category results; then out again', async () => {
    const c1 = await newCategory('bulk assign 1');
    const c2 = await newCategory('bulk assign 2');
    const e = await newEvent('bulk assign');
    const missing = randomGuid();
    const res = await cat().bulkAssignEvents([c1._id, missing, c2._id], { eventId: [e._id] });
    assert.deepEqual(res.bulkActionMetadata, { totalSuccesses: 2, totalFailures: 1, undetailedFailures: 0 });
    assert.deepEqual(res.results.map((r) => r.itemMetadata._id), [c1._id, missing, c2._id]);
    assert.equal(res.results[0].item._id, c1._id);
    assert.equal(res.results[1].itemMetadata.error.code, 'CATEGORY_NOT_FOUND');
    assert.deepEqual((await namesOf(e._id)).sort(), [c1._id, c2._id].sort());

    const out = await cat().bulkUnassignEvents([c1._id, c2._id], { eventId: [e._id] });
    const u = new URL(lastRequest().url);
    assert.equal(lastRequest().method, 'DELETE');
    assert.deepEqual(u.searchParams.getAll('categoryId'), [c1._id, c2._id]);
    assert.equal(out.bulkActionMetadata.totalSuccesses, 2);
    assert.deepEqual(await namesOf(e._id), []);
  });

  test('bulkUnassignEvents without eventId empties the categories', async () => {
    const c = await newCategory('bulk unassign all');
    const e1 = await newEvent('bulk unassign all 1');
    const e2 = await newEvent('bulk unassign all 2');
    await cat().assignEvents(c._id, [e1._id, e2._id]);
    await cat().bulkUnassignEvents([c._id]);
    assert.deepEqual(await namesOf(e1._id), []);
    assert.deepEqual(await namesOf(e2._id), []);
  });

  test('more than one event is a 400', async () => {
    const c = await newCategory('bulk 400');
    const e1 = await newEvent('bulk 400 1');
    const e2 = await newEvent('bulk 400 2');
    await expectWixError(cat().bulkAssignEvents([c._id], { eventId: [e1._id, e2._id] }), { status: 400 });
  });
});

describe('bulkAssignEventsAsync / bulkUnassignEventsAsync', () => {
  test('events matching an Events v3 filter go in and out (done by the time the call returns)', async () => {
    const c1 = await newCategory('async 1');
    const c2 = await newCategory('async 2');
    const e1 = await newEvent('async e1');
    const e2 = await newEvent('async e2');
    const r = await cat().bulkAssignEventsAsync([c1._id, c2._id], { filter: { _id: { $in: [e1._id, e2._id] } } });
    assert.ok(r === undefined || (typeof r === 'object' && Object.keys(r).length === 0));
    assert.deepEqual(JSON.parse(lastRequest().body).filter, { id: { $in: [e1._id, e2._id] } }, '_id goes on the wire as id');
    assert.match(lastRequest().url, /\/events\/v1\/bulk-async\/categories\/assign-events-by-filter$/);
    assert.deepEqual((await namesOf(e1._id)).sort(), [c1._id, c2._id].sort());
    assert.deepEqual((await namesOf(e2._id)).sort(), [c1._id, c2._id].sort());

    await cat().bulkUnassignEventsAsync([c1._id], { filter: { title: e1.title } });
    assert.match(lastRequest().url, /\/events\/v1\/bulk-async\/categories\/unassign-events-by-filter$/);
    assert.deepEqual(await namesOf(e1._id), [c2._id]);
    assert.deepEqual((await namesOf(e2._id)).sort(), [c1._id, c2._id].sort());
  });

  test('an unknown category is 404, a bad filter 400', async () => {
    const c = await newCategory('async errors');
    await expectWixError(cat().bulkAssignEventsAsync([randomGuid()], { filter: {} }), { status: 404, code: 'CATEGORY_NOT_FOUND' });
    await expectWixError(cat().bulkUnassignEventsAsync([c._id], { filter: { nope: 1 } }), { status: 400, code: 'FILTER_PARSER_ERROR' });
  });
});

describe('reorderCategoryEvents', () => {
  test('moves an event before/after another; a bad reference is INVALID_REORDER_INSTRUCTION', async () => {
    const c = await newCategory('reorder');
    const e1 = await newEvent('reorder 1');
    const e2 = await newEvent('reorder 2');
    const outsider = await newEvent('reorder outsider');
    await cat().assignEvents(c._id, [e1._id, e2._id]);
    await cat().reorderCategoryEvents(c._id, { eventId: e2._id, beforeEventId: e1._id });
    assert.ok(lastRequest().url.endsWith(`/events/v1/categories/${c._id}/reorder`));
    assert.deepEqual(JSON.parse(lastRequest().body), { categoryId: c._id, eventId: e2._id, beforeEventId: e1._id });
    await cat().reorderCategoryEvents(c._id, { eventId: e2._id, afterEventId: e1._id });
    await expectWixError(cat().reorderCategoryEvents(c._id, { eventId: e1._id, afterEventId: outsider._id }), {
      status: 400,
      code: 'INVALID_REORDER_INSTRUCTION',
    });
    await expectWixError(cat().reorderCategoryEvents(c._id, { eventId: outsider._id, afterEventId: e1._id }), {
      status: 404,
      code: 'EVENT_NOT_FOUND',
    });
  });
});

describe('listEventsByCategory (Events v3)', () => {
  test("lists the category's events in the order Reorder Category Events set, with paging", async () => {
    const c = await newCategory('list by category');
    const e1 = await newEvent('list 1', { draft: false });
    const e2 = await newEvent('list 2', { draft: false });
    const e3 = await newEvent('list 3', { draft: false });
    await cat().assignEvents(c._id, [e1._id, e2._id, e3._id]);
    await cat().reorderCategoryEvents(c._id, { eventId: e3._id, beforeEventId: e1._id });
    const res = await client().wixEventsV2.listEventsByCategory(c._id, { fields: ['REGISTRATION'] });
    assert.ok(new URL(lastRequest().url).pathname.endsWith(`/events/v3/events/category/${c._id}`));
    assert.deepEqual(res.events.map((e) => e._id), [e3._id, e1._id, e2._id]);
    assert.equal(res.events[0].registration.initialType, 'TICKETING');
    assert.ok(res.events[0]._createdDate instanceof Date);
    assert.equal(res.pagingMetadata.total, 3);
    const page = await client().wixEventsV2.listEventsByCategory(c._id, { paging: { limit: 1, offset: 2 } });
    assert.deepEqual(page.events.map((e) => e._id), [e2._id]);
    await cat().reorderCategoryEvents(c._id, { eventId: e2._id, afterEventId: e3._id });
    const again = await visitor().wixEventsV2.listEventsByCategory(c._id);
    assert.deepEqual(again.events.map((e) => e._id), [e3._id, e2._id, e1._id]);
    await expectWixError(client().wixEventsV2.listEventsByCategory(randomGuid()), { status: 404, code: 'CATEGORY_NOT_FOUND' });
  });
});

describe('the /_api/wix-events-web path family', () => {
  test('every method answers on the alias paths too', async () => {
    const a = alias().categories;
    const c = await a.createCategory({ name: uniqueName('alias') });
    categoryIds.push(c._id);
    assert.ok(new URL(lastRequest().url).pathname.startsWith('/_api/wix-events-web/v1/categories'));
    const bulk = await a.bulkCreateCategory([{ name: uniqueName('alias bulk') }]);
    categoryIds.push(bulk.results[0].item._id);
    await a.updateCategory(c._id, { name: uniqueName('alias renamed') });
    const e1 = await newEvent('alias 1');
    const e2 = await newEvent('alias 2');
    await a.assignEvents(c._id, [e1._id, e2._id]);
    await a.reorderCategoryEvents(c._id, { eventId: e2._id, beforeEventId: e1._id });
    assert.deepEqual((await a.listEventCategories(e1._id)).categories.map((x) => x._id), [c._id]);
    assert.deepEqual((await a.queryCategories().eq('_id', c._id).find()).items.map((x) => x._id), [c._id]);
    await a.unassignEvents(c._id, [e1._id]);
    await a.bulkAssignEvents([c._id], { eventId: [e1._id] });
    await a.bulkUnassignEvents([c._id], { eventId: [e1._id] });
    await a.bulkAssignEventsAsync([c._id], { filter: { _id: e1._id } });
    await a.bulkUnassignEventsAsync([c._id], { filter: { _id: e1._id } });
    assert.ok(new URL(lastRequest().url).pathname.startsWith('/_api/wix-events-web/v1/bulk-async/categories'));
    await a.deleteCategory(bulk.results[0].item._id);
    assert.deepEqual(await namesOf(e2._id), [c._id]);
  });
});

describe('visitors', () => {
  test('a visitor reads categories (not HIDDEN ones, no draft counts) and may not write', async () => {
    const shown = await newCategory('visitor shown');
    const hidden = await newCategory('visitor hidden', { states: ['HIDDEN'] });
    const pub = await newEvent('visitor pub', { draft: false });
    const draft = await newEvent('visitor draft');
    await cat().assignEvents(shown._id, [pub._id, draft._id]);
    await cat().assignEvents(hidden._id, [pub._id]);
    const v = visitor().categories;
    const q = await v.queryCategories({ fieldset: ['COUNTS'] }).eq('_id', shown._id).find();
    assert.deepEqual(q.items[0].counts, { assignedEventsCount: 1 });
    assert.equal((await v.queryCategories().eq('_id', hidden._id).find()).items.length, 0);
    assert.deepEqual((await v.listEventCategories(pub._id)).categories.map((x) => x._id), [shown._id]);
    await expectWixError(v.listEventCategories(draft._id), { status: 404, code: 'EVENT_NOT_FOUND' });
    await expectWixError(v.createCategory({ name: uniqueName('visitor') }), { status: 403 });
    await expectWixError(v.assignEvents(shown._id, [pub._id]), { status: 403 });
    await expectWixError(v.unassignEvents(shown._id, [pub._id]), { status: 403 });
    await expectWixError(v.reorderCategoryEvents(shown._id, { eventId: pub._id, afterEventId: draft._id }), { status: 403 });
    await expectWixError(v.deleteCategory(shown._id), { status: 403 });
  });
});
