// The official SDK over TLS, the way its docs show: `host.apiBaseUrl`, no custom fetch.
// The SDK forces https://; the server is `boxoffice serve --tls-self-signed`, whose CA
// Node trusts through NODE_EXTRA_CA_CERTS. Run by tests/test_tls.py (`node --test
// over_tls.mjs`; not named *.test.mjs, so run.sh's plain-HTTP suite leaves it out), which
// sets BOXOFFICE_TLS_API_BASE (host:port), BOXOFFICE_API_KEY and BOXOFFICE_SITE_ID.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, ApiKeyStrategy } from '@wix/sdk';
import * as wixEventsV2 from '@wix/auto_sdk_events_wix-events-v-2';
import * as ticketDefinitions from '@wix/auto_sdk_events_ticket-definitions-v-2';
import { eventInput, tdInput, RUN_ID } from './client.mjs';

test('create an event and a ticket definition over HTTPS through apiBaseUrl', async () => {
  const client = createClient({
    modules: { wixEventsV2, ticketDefinitions },
    auth: ApiKeyStrategy({ apiKey: process.env.BOXOFFICE_API_KEY, siteId: process.env.BOXOFFICE_SITE_ID }),
    host: { apiBaseUrl: process.env.BOXOFFICE_TLS_API_BASE },
  });
  const e = await client.wixEventsV2.createEvent(eventInput(`TLS ${RUN_ID}`), { draft: true });
  assert.ok(e._id);
  const td = await client.ticketDefinitions.createTicketDefinition(tdInput(e._id, 'Seat'));
  assert.equal(td.eventId, e._id);
  const found = await client.ticketDefinitions.queryTicketDefinitions().eq('eventId', e._id).find();
  assert.deepEqual(found.items.map((x) => x._id), [td._id]);
});
