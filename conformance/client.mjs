// Builds an official Wix JavaScript SDK client that talks to a Boxoffice server.
//
// The SDK is used unchanged. @wix/sdk's createClient() accepts a `fetch`
// option (build/wixClient.js: `const getFetchFn = () => config.fetch ?? fetch;`)
// which every REST module call goes through (boundFetch -> build/rest-modules.js
// `boundFetch(url, requestOptionsInit)`). The SDK always builds
// `https://www.wixapis.com/<path>?<query>` (build/rest-modules.js,
// DEFAULT_API_URL in build/common.js); our fetch rewrites that origin to
// BOXOFFICE_URL and keeps path + query, method, headers and body untouched.

import http from 'node:http';
import { describe, test } from 'node:test';
import { createClient, ApiKeyStrategy } from '@wix/sdk';
import * as ticketDefinitions from '@wix/auto_sdk_events_ticket-definitions-v-2';
import * as wixEventsV2 from '@wix/auto_sdk_events_wix-events-v-2';
import * as ticketReservations from '@wix/auto_sdk_events_ticket-reservations';
import * as orders from '@wix/auto_sdk_events_orders';
import * as tickets from '@wix/auto_sdk_events_tickets';

export const WIX_API_ORIGIN = 'https://www.wixapis.com';

/** Read a required environment variable; throw (so the test FAILS) if absent. */
export function requireEnv(name) {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(
      `${name} is not set. The conformance suite needs a running Boxoffice server: ` +
        'set BOXOFFICE_URL, BOXOFFICE_API_KEY, BOXOFFICE_SITE_ID and BOXOFFICE_VISITOR_KEY.',
    );
  }
  return value;
}

/** Every request the SDK sent through a client built here (most recent last). */
export const requestLog = [];

/**
 * A fetch that sends `https://www.wixapis.com/...` to `${baseUrl}/...`,
 * keeping path and query. Anything else is refused, so a test can never
 * reach the real Wix servers by accident.
 */
export function makeRewritingFetch(baseUrl, { log = requestLog, fromOrigin = WIX_API_ORIGIN } = {}) {
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  return async function rewritingFetch(input, init = {}) {
    const original =
      typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const url = new URL(original);
    if (url.origin !== fromOrigin) {
      throw new Error(`conformance client: refusing to fetch non-Wix-API URL ${original}`);
    }
    const target = `${base.origin}${basePath}${url.pathname}${url.search}`;
    const entry = {
      method: (init.method ?? (typeof input === 'object' && input.method) ?? 'GET').toUpperCase(),
      originalUrl: original,
      url: target,
      headers: { ...(init.headers ?? {}) },
      body: typeof init.body === 'string' ? init.body : undefined,
    };
    log.push(entry);
    if (log.length > 500) log.splice(0, log.length - 500);
    let response;
    if (typeof input === 'string' || input instanceof URL) {
      response = await fetch(target, init);
    } else {
      response = await fetch(new Request(target, input), init);
    }
    entry.status = response.status;
    return response;
  };
}

/**
 * createClient({ modules: { ticketDefinitions, wixEventsV2, ticketReservations, orders, tickets }, auth: ApiKeyStrategy(...), fetch })
 * Defaults come from BOXOFFICE_URL / BOXOFFICE_API_KEY / BOXOFFICE_SITE_ID.
 */
export function buildClient({ baseUrl, apiKey, siteId, apiBaseUrl } = {}) {
  baseUrl ??= requireEnv('BOXOFFICE_URL');
  apiKey ??= requireEnv('BOXOFFICE_API_KEY');
  siteId ??= requireEnv('BOXOFFICE_SITE_ID');
  return createClient({
    modules: { ticketDefinitions, wixEventsV2, ticketReservations, orders, tickets },
    auth: ApiKeyStrategy({ apiKey, siteId }),
    // With a non-Wix host (`host.apiBaseUrl`) the SDK's URL resolver picks the `_` mapping,
    // i.e. the `/_api/...` path family (@wix/sdk-runtime rest-modules.js resolveUrl).
    ...(apiBaseUrl ? { host: { apiBaseUrl } } : {}),
    fetch: makeRewritingFetch(baseUrl, apiBaseUrl ? { fromOrigin: `https://${apiBaseUrl}` } : {}),
  });
}

/** A client authenticated with the visitor key (management calls must be refused). */
export function buildVisitorClient() {
  return buildClient({ apiKey: requireEnv('BOXOFFICE_VISITOR_KEY') });
}

export { ticketDefinitions, wixEventsV2, ticketReservations, orders, tickets };

// ---------------------------------------------------------------------------
// Shared test helpers
// ---------------------------------------------------------------------------

/** A tag unique to this run, so the suite can run against a non-empty database. */
export const RUN_ID = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** now + offsetMs, rounded down to the whole minute (sale periods are minute-rounded). */
export function minuteFromNow(offsetMs = 0) {
  return new Date(Math.floor((Date.now() + offsetMs) / MINUTE) * MINUTE);
}
export const days = (n) => n * DAY;
export const hours = (n) => n * 60 * MINUTE;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A random RFC 4122 v4 GUID that no server object has. */
export const randomGuid = () => crypto.randomUUID();

/** Minimal valid Events v3 createEvent() input (SDK shape). */
export function eventInput(title, { initialType = 'TICKETING', startInDays = 30 } = {}) {
  const startDate = minuteFromNow(days(startInDays));
  const endDate = new Date(startDate.getTime() + hours(3));
  return {
    title,
    dateAndTimeSettings: { startDate, endDate, timeZoneId: 'UTC' },
    location: { type: 'VENUE', name: 'Main Hall', address: { formatted: '1 Main St, Springfield' } },
    registration: { initialType },
  };
}

/** Minimal valid createTicketDefinition() input. */
export function tdInput(eventId, name, extra = {}) {
  return {
    eventId,
    name,
    feeType: 'FEE_INCLUDED',
    pricingMethod: { fixedPrice: { value: '10', currency: 'USD' } },
    ...extra,
  };
}

function describeErr(err) {
  const last = requestLog.at(-1);
  return JSON.stringify(
    {
      message: err?.message,
      status: err?.status,
      details: err?.details,
      rawResponse: err?.response?.data,
      lastRequest: last && { method: last.method, url: last.url, body: last.body, status: last.status },
    },
    null,
    2,
  );
}

/**
 * Await `promise`, expect it to reject with an SDK error, and check what the
 * SDK exposes (see @wix/sdk build/rest-modules.js errorBuilder and
 * @wix/sdk-runtime build/transform-error.js):
 *   err.status                                   HTTP status
 *   err.details.applicationError.{code,description,data}
 *   err.details.validationError.fieldViolations[] {field, description, violatedRule, ...}
 * Returns the error for further assertions.
 */
export async function expectWixError(promise, { status, code, validation = false, field } = {}) {
  let result;
  try {
    result = await promise;
  } catch (err) {
    const info = () => describeErr(err);
    if (!err || typeof err !== 'object' || !('details' in err || 'status' in err)) {
      throw new Error(`expected an SDK HTTP error, got a non-HTTP error: ${err?.stack ?? err}`);
    }
    if (status !== undefined) {
      const ok = Array.isArray(status) ? status.includes(err.status) : err.status === status;
      if (!ok) throw new Error(`expected HTTP status ${status}, got ${err.status}\n${info()}`);
    }
    if (validation) {
      const fv = err.details?.validationError?.fieldViolations;
      if (!Array.isArray(fv) || fv.length === 0) {
        throw new Error(`expected details.validationError.fieldViolations[]\n${info()}`);
      }
      if (field && !fv.some((v) => typeof v.field === 'string' && field.test(v.field))) {
        throw new Error(`expected a field violation whose field matches ${field}\n${info()}`);
      }
      for (const v of fv) {
        if (typeof v.description !== 'string') {
          throw new Error(`fieldViolation without a string description\n${info()}`);
        }
      }
    }
    if (code !== undefined) {
      const got = err.details?.applicationError?.code;
      const ok = Array.isArray(code) ? code.includes(got) : got === code;
      if (!ok) throw new Error(`expected details.applicationError.code ${code}, got ${got}\n${info()}`);
    }
    return err;
  }
  throw new Error(`expected the call to fail, but it succeeded with ${JSON.stringify(result)}`);
}

/** Best-effort cleanup used by after() hooks. */
export async function deleteEventsQuietly(client, ids) {
  for (const id of ids) {
    try {
      await client.wixEventsV2.deleteEvent(id);
    } catch {
      /* already gone */
    }
  }
}

/** Boxoffice's own admin API (webhook subscriptions) with the site owner's key. */
export async function admin(method, path, body) {
  const res = await fetch(`${requireEnv('BOXOFFICE_URL').replace(/\/+$/, '')}${path}`, {
    method,
    headers: {
      Authorization: requireEnv('BOXOFFICE_OWNER_KEY'),
      'wix-site-id': requireEnv('BOXOFFICE_SITE_ID'),
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, text };
}

/**
 * A webhook receiver on 127.0.0.1: answers 200 at once and hands each body to
 * `onBody` one at a time, in arrival order. `settled()` waits for the bodies received
 * so far; `errors` collects what `onBody` threw (e.g. webhooks.process refusing a JWT).
 */
export async function startWebhookReceiver(onBody) {
  let processing = Promise.resolve();
  const errors = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      processing = processing.then(async () => {
        try {
          await onBody(body);
        } catch (e) {
          errors.push(String(e?.message ?? e));
        }
      });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    errors,
    settled: () => processing,
    close: () => new Promise((r) => server.close(r)),
    /** Poll `find()` until it answers something; after `timeoutMs`, fail naming `what`
     * and the receiver's last errors (what the SDK's `webhooks.process` threw). */
    async waitFor(find, what, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = find();
        if (hit) return hit;
        if (Date.now() > deadline) {
          throw new Error(`no ${what} within ${timeoutMs} ms; receiver errors: ${JSON.stringify(errors.slice(-5))}`);
        }
        await sleep(50);
      }
    },
  };
}

/** The first test of a file that needs a server: it fails, never skips, without one. */
export function testEnvironment() {
  describe('environment', () => {
    test('BOXOFFICE_URL and keys are configured (the suite fails, never skips, without a server)', () => {
      for (const name of ['BOXOFFICE_URL', 'BOXOFFICE_API_KEY', 'BOXOFFICE_SITE_ID', 'BOXOFFICE_VISITOR_KEY', 'BOXOFFICE_OWNER_KEY']) {
        requireEnv(name);
      }
    });
  });
}
