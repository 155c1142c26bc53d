/**
 * GET /api/v1/coverage in its four formats (report JSON, text table, Navigator layer, SVG), on a real local
 * server; unknown parameters and formats are a 400 naming them, other methods a 405. The route builds the
 * report on each request, so it always shows the counters as they are.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { buildCoverageReport, type CoverageReport } from '../../../src/detect/rule-coverage/report.ts';
import { summarizeRules } from '../../../src/detect/rule-coverage/rule-stats.ts';
import { readShippedAgents } from '../../../src/detect/rule-coverage/agents.ts';
import { loadLogsourceMapping } from '../../../src/map/logsource-mapping.ts';
import { createCoverageRoute } from '../../../src/receive/coverage-route.ts';

const mapping = loadLogsourceMapping();
const rules = summarizeRules([{
  id: 'r1', title: 'r1', level: 'high', status: 'test', tags: ['attack.credential-access', 'attack.t1110'], description: '', references: [], falsepositives: [], author: '', file: 'r1.yml',
  logsource: { product: 'windows', category: '', service: 'security' },
}], mapping);

describe('GET /api/v1/coverage', () => {
  let server: http.Server;
  let base = '';
  let events = 0;
  let reports = 0;
  const report = (): CoverageReport => {
    reports++;
    const at = '2026-12-01T00:00:00.000Z';
    return buildCoverageReport({ rules, mapping, agents: readShippedAgents(), counts: { since: at, updated_at: at, logsources: events > 0 ? { 'windows//security': { events, first_seen: at, last_seen: at } } : {} } });
  };
  before(async () => {
    server = http.createServer(createCoverageRoute(report));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/coverage`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  test('json (default): the report, built per request', async () => {
    const a = await fetch(base);
    assert.equal(a.status, 200);
    assert.match(a.headers.get('content-type')!, /^application\/json/);
    const first = (await a.json()) as CoverageReport;
    assert.equal(first.logsources[0]!.state, 'waiting');
    events = 12;
    const second = (await (await fetch(`${base}?format=json`)).json()) as CoverageReport;
    assert.equal(second.logsources[0]!.state, 'receiving');
    assert.equal(second.logsources[0]!.events, 12);
  });

  test('text, layer and svg', async () => {
    const text = await fetch(`${base}?format=text`);
    assert.match(text.headers.get('content-type')!, /^text\/plain/);
    assert.match(await text.text(), /windows\/\/security/);
    const layer = await fetch(`${base}?format=layer`);
    const l = (await layer.json()) as { versions: { layer: string }; techniques: { techniqueID: string; score: number }[] };
    assert.equal(l.versions.layer, '4.5');
    assert.deepEqual(l.techniques.map((t) => [t.techniqueID, t.score]), [['T1110', 2]]);
    const svg = await fetch(`${base}?format=svg`);
    assert.match(svg.headers.get('content-type')!, /^image\/svg\+xml/);
    assert.match(await svg.text(), /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });

  test('400 for an unknown parameter or format, 405 for other methods; HEAD has no body', async () => {
    const bad = await fetch(`${base}?fromat=svg`);
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /unknown parameter fromat/);
    const badFormat = await fetch(`${base}?format=png`);
    assert.equal(badFormat.status, 400);
    assert.match(await badFormat.text(), /format: got "png"; expected json, text, layer, svg/);
    assert.equal((await fetch(base, { method: 'POST', body: '{}' })).status, 405);
    const before = reports;
    const head = await fetch(base, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    assert.ok(Number(head.headers.get('content-length')) > 0);
    assert.equal(reports, before + 1);
  });
});
