/**
 * The writer against ClickHouse's HTTP interface as the real @clickhouse/client speaks it, served by
 * a local HTTP server that answers the way a ClickHouse server does (error body `Code: N. …` plus
 * the X-ClickHouse-Exception-Code header). Checks what crosses the wire: the INSERT statement, the
 * JSONEachRow body (sent as the detection log holds it), the deduplication token on every attempt,
 * and the retry classification.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { openClickHouse } from '../../../src/store/client.ts';
import { DetectionWriter } from '../../../src/store/detection-writer.ts';
import { makeDetections } from './make-detection.ts';

interface Seen {
  readonly query: string | null;
  readonly token: string | null;
  readonly rows: number;
}

/** Fails the first `failures.length` requests with the given ClickHouse errors, then accepts. */
async function fakeClickHouse(failures: { status: number; code: number; type: string }[]) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push({ query: url.searchParams.get('query'), token: url.searchParams.get('insert_deduplication_token'), rows: body.split('\n').filter(Boolean).length });
      const f = failures[seen.length - 1];
      if (f) {
        res.writeHead(f.status, { 'X-ClickHouse-Exception-Code': String(f.code) });
        res.end(`Code: ${f.code}. DB::Exception: injected failure. (${f.type}) (version 25.5.6.1 (official build))\n`);
        return;
      }
      res.writeHead(200, { 'X-ClickHouse-Summary': '{"written_rows":"0"}' });
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  after(() => server.close());
  const { port } = server.address() as AddressInfo;
  const ch = openClickHouse({ url: `http://127.0.0.1:${port}`, dataDir: '/nonexistent/unused', requestTimeoutMs: 5000 });
  after(() => ch.close());
  return { seen, client: ch.client };
}

const logDir = (): string => mkdtempSync(join(tmpdir(), 'otel-sigma-http-log-'));

void describe('DetectionWriter over HTTP', () => {
  void test('TOO_MANY_PARTS and MEMORY_LIMIT_EXCEEDED are retried with the same deduplication token until they succeed', async () => {
    const { seen, client } = await fakeClickHouse([
      { status: 500, code: 252, type: 'TOO_MANY_PARTS' },
      { status: 503, code: 241, type: 'MEMORY_LIMIT_EXCEEDED' },
    ]);
    const w = new DetectionWriter({ client, logDir: logDir(), retryBaseMs: 5, retryMaxDelayMs: 20 });
    await w.write(makeDetections(12));
    await w.stored();
    await w.close();
    assert.equal(seen.length, 4, 'three attempts of the events insert, then the detections insert');
    assert.ok(seen.slice(0, 3).every((s) => /^INSERT INTO otel_sigma\.detections_events FORMAT JSONEachRow/.test(s.query ?? '')));
    assert.match(seen[3]!.query ?? '', /^INSERT INTO otel_sigma\.detections FORMAT JSONEachRow/);
    assert.ok(seen.every((s) => s.rows === 12), 'twelve detections of twelve records');
    assert.match(seen[0]!.token ?? '', /^[0-9a-f]{16}:\d+:\d+-\d+:e$/);
    assert.ok(seen.slice(0, 3).every((s) => s.token === seen[0]!.token), 'every attempt carries the same token');
    assert.equal(seen[3]!.token, seen[0]!.token!.replace(/:e$/, ':d'));
  });

  void test('TYPE_MISMATCH (53) is permanent: not retried as a batch, each request tried alone once', async () => {
    const { seen, client } = await fakeClickHouse([{ status: 400, code: 53, type: 'TYPE_MISMATCH' }]);
    const w = new DetectionWriter({ client, logDir: logDir(), retryBaseMs: 5 });
    await w.write(makeDetections(3)); // durable: the answer does not wait for ClickHouse
    await w.stored();
    await w.close();
    assert.equal(seen.length, 3, 'the refused batch, then the request alone (events, detections)');
    assert.match(seen[1]!.token ?? '', /:0:e$/);
  });

  void test('different batches carry different tokens', async () => {
    const { seen, client } = await fakeClickHouse([]);
    const w = new DetectionWriter({ client, logDir: logDir() });
    await w.write(makeDetections(2));
    await w.stored();
    await w.write(makeDetections(2));
    await w.stored();
    await w.close();
    assert.equal(seen.length, 4);
    assert.notEqual(seen[0]!.token, seen[2]!.token);
  });
});
