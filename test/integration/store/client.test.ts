import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isPipelineError } from '../../../src/errors.ts';
import { openClickHouse } from '../../../src/store/client.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'otel-sigma-client-'));
after(() => rmSync(dir, { recursive: true, force: true }));

void describe('openClickHouse (embedded)', () => {
  const dataDir = join(dir, 'nested', 'chdb');
  const ch = openClickHouse({ dataDir });
  after(() => ch.close());

  void test('creates the data directory and answers queries through @clickhouse/client', async () => {
    assert.equal(ch.embedded, true);
    assert.ok(existsSync(dataDir));
    assert.equal(await ch.ping(), true);
    const rs = await ch.client.query({ query: 'SELECT {a:UInt32} + 1 AS n', query_params: { a: 41 }, format: 'JSONEachRow' });
    assert.deepEqual(await rs.json(), [{ n: 42 }]);
  });

  void test('insertJsonRows: JSONEachRow bytes stored as sent, a repeated dedup token stored once, errors carry the ClickHouse code', async () => {
    await ch.client.command({ query: 'CREATE TABLE IF NOT EXISTS default.raw_rows (k UInt32, s String) ENGINE = MergeTree ORDER BY k SETTINGS non_replicated_deduplication_window = 100' });
    const chunks = [Buffer.from('{"k":1,"s":"é \\u00e9 ✓"}\n{"k":2,"s":"b"}\n'), Buffer.from('{"k":3,"s":"c"}\n')];
    await ch.insertJsonRows('default.raw_rows', chunks, { insert_deduplication_token: 't1' });
    await ch.insertJsonRows('default.raw_rows', chunks, { insert_deduplication_token: 't1' });
    const rows = await (await ch.client.query({ query: 'SELECT k, s FROM default.raw_rows ORDER BY k', format: 'JSONEachRow' })).json<{ k: number; s: string }>();
    assert.deepEqual(rows, [{ k: 1, s: 'é é ✓' }, { k: 2, s: 'b' }, { k: 3, s: 'c' }]);
    await assert.rejects(ch.insertJsonRows('default.no_such_table', chunks, {}), (e: unknown) => (e as { code?: string }).code === '60');
    await assert.rejects(ch.insertJsonRows('default.raw_rows', [Buffer.from('{"k":"x"}\n')], {}), (e: unknown) => /^\d+$/.test((e as { code?: string }).code ?? ''));
  });

  void test('a second process opening the same directory gets ERR_STORE naming the directory', async () => {
    const clientTs = new URL('../../../src/store/client.ts', import.meta.url).href;
    const script = `
      import { openClickHouse } from ${JSON.stringify(clientTs)};
      try { const h = openClickHouse({ dataDir: ${JSON.stringify(dataDir)} }); await h.close(); console.log(JSON.stringify({ opened: true })); }
      catch (e) { console.log(JSON.stringify({ code: e.code, retryable: e.retryable, message: e.message })); }`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000 });
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!);
    assert.equal(out.code, 'ERR_STORE');
    assert.equal(out.retryable, false);
    assert.ok(out.message.includes(dataDir), out.message);
    assert.match(out.message, /another otel-sigma process/);
    assert.match(out.message, /serve/);
  });

  void test('a second directory in the same process is refused with ERR_STORE and leaves the first usable', async () => {
    assert.throws(() => openClickHouse({ dataDir: join(dir, 'other') }), (e: unknown) => isPipelineError(e) && e.code === 'ERR_STORE' && e.message.includes(join(dir, 'other')));
    assert.equal(await ch.ping(), true);
  });

  void test('close is idempotent and ping reports false afterwards', async () => {
    const other = openClickHouse({ dataDir }); // same directory, same process: allowed by libchdb
    assert.equal(await other.ping(), true);
    await other.close();
    await other.close();
    assert.equal(await other.ping(), false);
    assert.equal(await ch.ping(), true, 'closing one handle leaves the other usable');
  });
});

void describe('openClickHouse (HTTP)', () => {
  void test('talks HTTP to the configured URL with the configured credentials', async () => {
    const seen: { url: string | undefined; headers: IncomingHttpHeaders }[] = [];
    const server = createServer((req, res) => {
      seen.push({ url: req.url, headers: req.headers });
      res.end('Ok.\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    after(() => server.close());
    const { port } = server.address() as AddressInfo;
    const ch = openClickHouse({ url: `http://127.0.0.1:${port}`, username: 'alice', password: 's3cret', dataDir: join(dir, 'unused') });
    assert.equal(ch.embedded, false);
    assert.equal(await ch.ping(), true);
    await ch.close();
    await ch.close();
    assert.equal(existsSync(join(dir, 'unused')), false, 'no embedded directory in HTTP mode');
    assert.equal(seen[0]?.url?.startsWith('/ping'), true);
    assert.equal(seen[0]?.headers.authorization, `Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
  });

  void test('ping is false, not an exception, when nothing listens', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((r) => server.close(() => r()));
    const ch = openClickHouse({ url: `http://127.0.0.1:${port}`, dataDir: join(dir, 'unused'), requestTimeoutMs: 2000 });
    assert.equal(await ch.ping(), false);
    await ch.close();
  });
});
