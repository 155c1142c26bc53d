/**
 * The whole product as an operator runs it: `otel-sigma serve` in its own process on the embedded
 * ClickHouse, regression cases sent by the official OpenTelemetry exporters over gRPC (gzip) and
 * OTLP/HTTP (JSON and protobuf), detections read back with `otel-sigma detections`, alerts checked by
 * the Keep contract server.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { caseRecords, hasCorpus, loadManifest, ruleFilePath, type CorpusCase, type Shape } from '../../helpers/corpus.ts';
import { startKeepServer, type KeepServer } from '../../helpers/keep-server.ts';
import { makeExporter, sendWithSdk, type SdkTransport } from '../../helpers/sdk-export.ts';
import { startServe, type ServiceProcess } from '../../helpers/service-process.ts';
import { sendGrpcExport, sendHttpExport } from '../../helpers/otlp-clients.ts';
import { status } from '@grpc/grpc-js';

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../../../bin/otel-sigma.js');
const API_KEY = 'e2e-key-7f3a';

// Three cases per transport, each in a different collector shape.
const PLAN: { transport: SdkTransport; shape: Shape; count: number }[] = [
  { transport: 'grpc-gzip', shape: 'signoz', count: 3 },
  { transport: 'http-json', shape: 'map', count: 3 },
  { transport: 'http-proto', shape: 'raw', count: 3 },
];

describe('serve end to end' + (hasCorpus ? '' : ' (skipped: ../shared/sigma regression corpus not present)'), { skip: !hasCorpus }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-e2e-'));
  const rulesDir = path.join(tmp, 'rules');
  const dataDir = path.join(tmp, 'data');
  let keep: KeepServer;
  let svc: ServiceProcess;
  const sent: { transport: SdkTransport; shape: Shape; c: CorpusCase }[] = [];

  before(async () => {
    const cases = loadManifest().filter((c) => c.shapes.length === 3);
    let i = 0;
    for (const p of PLAN) for (let k = 0; k < p.count; k++) sent.push({ ...p, c: cases[(i++ * 17) % cases.length]! });
    fs.mkdirSync(rulesDir);
    for (const s of sent) fs.copyFileSync(ruleFilePath(s.c), path.join(rulesDir, path.basename(s.c.rule_file)));
    keep = await startKeepServer({ apiKey: API_KEY });
    svc = await startServe(['--rules', rulesDir, '--rules', 'rules', '--data-dir', dataDir, '--workers', '2', '--max-request-bytes', '1048576',
      '--keep-url', keep.url, '--keep-api-key', API_KEY, '--alert-min-level', 'informational']);
  });

  after(async () => {
    await svc?.stop('SIGKILL');
    await keep?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('bad input gets a clear status and a counter, and the service keeps serving', async () => {
    const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]);
    const g = await sendGrpcExport(svc.grpc, garbage, { gzip: false });
    assert.equal(g.code, status.INVALID_ARGUMENT);
    assert.match(g.details, /malformed ExportLogsServiceRequest/);
    const badGzip = await sendHttpExport(svc.http, Buffer.from('not gzip at all'), { headers: { 'content-encoding': 'gzip', 'content-type': 'application/x-protobuf' } });
    assert.equal(badGzip.status, 400);
    const tooBig = await sendHttpExport(svc.http, Buffer.alloc(2 * 1024 * 1024, 1), { format: 'protobuf' });
    assert.equal(tooBig.status, 413);
    const badJson = await sendHttpExport(svc.http, '{"resourceLogs": 5}', { format: 'json' });
    assert.equal(badJson.status, 400);
    assert.match(badJson.body.toString(), /resourceLogs/);
    const metrics = await (await fetch(`http://${svc.http}/metrics`)).text();
    assert.match(metrics, /otel_sigma_errors_total\{stage="receive",code="ERR_DECODE"\} [1-9]/);
    assert.match(metrics, /otel_sigma_errors_total\{stage="receive",code="ERR_DECOMPRESS"\} [1-9]/);
    assert.match(metrics, /otel_sigma_errors_total\{stage="receive",code="ERR_TOO_LARGE"\} [1-9]/);
    assert.equal((await fetch(`http://${svc.http}/healthz`)).status, 200);
    assert.equal(svc.child.exitCode, null, 'still running');
  });

  test('cases sent by the official exporters become detections in ClickHouse and alerts in Keep', async () => {
    for (const s of sent) await sendWithSdk(caseRecords(s.c, s.shape), () => makeExporter(s.transport, svc.grpc, svc.http));

    const ready = await fetch(`http://${svc.http}/readyz`);
    assert.equal(ready.status, 200, await ready.text());
    const metrics = await (await fetch(`http://${svc.http}/metrics`)).text();
    assert.match(metrics, /otel_sigma_records_received_total [1-9]/);

    // SIGTERM: stop accepting, finish, flush ClickHouse and Keep, exit 0.
    assert.equal(await svc.stop('SIGTERM'), 0);

    const { stdout } = await run(process.execPath, [BIN, 'detections', '--data-dir', dataDir, '--since', '36500d', '--limit', '100000', '--json']);
    const rows = stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const s of sent) {
      const mine = rows.filter((r) => r['rule_id'] === s.c.rule_id);
      assert.ok(mine.length >= (s.c.match_count ?? 1), `${s.c.title} (${s.c.rule_id}) via ${s.transport}/${s.shape}: ${mine.length} rows`);
      const row = mine[0]!;
      assert.equal(row['rule_title'], s.c.title);
      assert.equal(row['product'], 'windows');
      assert.notEqual(row['host'], '');
      assert.equal(row['source'], 'stream');
      assert.ok(Object.keys(row['matched'] as object).length > 0, 'matched field values are stored');
      assert.match(String(row['event_time']), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{9}$/);
    }

    assert.deepEqual(keep.violations, []);
    const alertedRules = new Set(keep.alerts.map((a) => a.labels?.['rule_id']));
    for (const s of sent) assert.ok(alertedRules.has(s.c.rule_id), `no Keep alert for ${s.c.title}`);
    for (const a of keep.alerts) {
      assert.deepEqual(a.source, ['otel-sigma']);
      assert.equal(a.status, 'firing');
      assert.ok(a.fingerprint.length > 0 && a.id === a.fingerprint);
    }
  });
});
