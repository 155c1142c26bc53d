/**
 * The Keep contract server must fail on anything outside the documented contract, or sender
 * tests that pass against it prove nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { toAlertDto } from '../../../src/alert/keep-payload.ts';
import { startKeepServer, waitForAlerts, type KeepServer } from '../../helpers/keep-server.ts';
import { makeDetection } from '../../unit/alert/detection-fixture.ts';

const KEY = 'test-key-123';
const valid = toAlertDto(makeDetection(), { environment: 'test', urlTemplate: 'https://s.example/{host}' });

async function post(s: KeepServer, body: unknown, init: { path?: string; method?: string; key?: string | null; ctype?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': init.ctype ?? 'application/json' };
  if (init.key !== null) headers['x-api-key'] = init.key ?? KEY;
  const res = await fetch(`${s.url}${init.path ?? '/alerts/event'}`, {
    method: init.method ?? 'POST',
    headers,
    ...(init.method === 'GET' ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

void describe('Keep contract server', () => {
  let s: KeepServer;
  before(async () => {
    s = await startKeepServer({ apiKey: KEY });
  });
  after(() => s.close());

  void test('accepts one AlertDto or a list with 202 and a task name, and records them', async () => {
    const one = await post(s, valid, { path: `/alerts/event?fingerprint=${encodeURIComponent(valid.fingerprint)}` });
    assert.equal(one.status, 202);
    assert.equal(typeof one.body['task_name'], 'string');
    const two = await post(s, [valid, { ...valid, id: 'x', fingerprint: 'y' }], { path: '/alerts/event?provider_id=otel-sigma' });
    assert.equal(two.status, 202);
    assert.equal((await waitForAlerts(s, 3, 1000)).length, 3);
    assert.deepEqual(s.violations, []);
    assert.deepEqual(s.requests.map((r) => r.alertCount), [1, 2]);
  });

  const bad: [string, unknown, { path?: string; method?: string; key?: string | null; ctype?: string }, number][] = [
    ['other route', valid, { path: '/alerts/event/grafana' }, 404],
    ['root', valid, { path: '/' }, 404],
    ['GET', undefined, { method: 'GET' }, 405],
    ['PUT', valid, { method: 'PUT' }, 405],
    ['unknown query', valid, { path: '/alerts/event?api_key=x' }, 400],
    ['no key', valid, { key: null }, 401],
    ['wrong key', valid, { key: 'nope' }, 401],
    ['text/plain', valid, { ctype: 'text/plain' }, 400],
    ['not JSON', '{"name":', {}, 400],
    ['empty list', [], {}, 400],
    ['scalar body', 42, {}, 400],
  ];
  for (const [what, body, init, status] of bad) {
    void test(`rejects ${what} with ${status}`, async () => {
      const before = { v: s.violations.length, a: s.alerts.length };
      assert.equal((await post(s, body, init)).status, status);
      assert.equal(s.violations.length, before.v + 1);
      assert.equal(s.alerts.length, before.a);
    });
  }

  const badFields: [string, Record<string, unknown>][] = [
    ['missing name', { name: undefined }],
    ['blank name', { name: '  ' }],
    ['status', { status: 'open' }],
    ['severity', { severity: 'medium' }],
    ['numeric severity', { severity: 3 }],
    ['lastReceived', { lastReceived: 'yesterday' }],
    ['lastReceived as epoch number', { lastReceived: 1755684930 }],
    ['missing id', { id: undefined }],
    ['fingerprint too long', { fingerprint: 'f'.repeat(256) }],
    ['source empty', { source: [] }],
    ['source not list', { source: 'otel-sigma' }],
    ['label not string', { labels: { count: 3 } }],
    ['labels array', { labels: ['a'] }],
    ['description', { description: 5 }],
    ['message', { message: null }],
    ['service', { service: ['a'] }],
    ['environment', { environment: false }],
    ['description_format', { description_format: 'text' }],
    ['relative url', { url: '/logs' }],
    ['ftp url', { url: 'ftp://x.example/' }],
    ['firingStartTime', { firingStartTime: '2026-13-45T99:00:00Z' }],
  ];
  for (const [what, patch] of badFields) {
    void test(`rejects an AlertDto with bad ${what}`, async () => {
      const dto: Record<string, unknown> = { ...valid, ...patch };
      for (const k of Object.keys(patch)) if (patch[k] === undefined) delete dto[k];
      const before = s.violations.length;
      assert.equal((await post(s, dto)).status, 400);
      assert.equal((await post(s, [valid, dto])).status, 400, 'one bad alert fails the whole list');
      assert.equal(s.violations.length, before + 2);
      assert.match(s.violations.at(-1)!, /alert\[1\]\./);
    });
  }
});

void describe('Keep contract server outages', () => {
  void test('failFirst answers N valid requests with the configured status and Retry-After', async (t) => {
    const s = await startKeepServer({ apiKey: KEY, failFirst: 2, status: 429, retryAfter: '1' });
    t.after(() => s.close());
    const r1 = await fetch(`${s.url}/alerts/event`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body: JSON.stringify(valid) });
    assert.equal(r1.status, 429);
    assert.equal(r1.headers.get('retry-after'), '1');
    assert.equal((await post(s, valid)).status, 429);
    assert.equal((await post(s, valid)).status, 202);
    assert.equal(s.alerts.length, 1);
    assert.deepEqual(s.violations, []);
  });

  void test('setDown answers 503 until brought back', async (t) => {
    const s = await startKeepServer({ apiKey: KEY });
    t.after(() => s.close());
    s.setDown(true);
    assert.equal((await post(s, valid)).status, 503);
    s.setDown(false);
    assert.equal((await post(s, valid)).status, 202);
    assert.deepEqual(s.requests.map((r) => r.status), [503, 202]);
  });

  void test('waitForAlerts times out naming what it got', async (t) => {
    const s = await startKeepServer({ apiKey: KEY });
    t.after(() => s.close());
    await assert.rejects(waitForAlerts(s, 1, 50), /waited 50 ms for 1 alerts, got 0/);
  });
});
