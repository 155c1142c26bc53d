import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import type { Detection } from '../../../src/detect/detection.ts';
import { openClickHouse } from '../../../src/store/client.ts';
import { DetectionWriter } from '../../../src/store/detection-writer.ts';
import { migrate } from '../../../src/store/migrations.ts';
import { makeDetections } from './make-detection.ts';
import { OutageConnection } from './outage-connection.ts';

const dir = fs.mkdtempSync(path.join(tmpdir(), 'otel-sigma-outage60-'));
const chdbDir = path.join(dir, 'chdb');
const ch = openClickHouse({ dataDir: chdbDir });
const conn = new OutageConnection(createChdbConnection({ path: chdbDir }));
const client = createClient({ connection: conn.asInjected(), log: { level: ClickHouseLogLevel.OFF } });
const TABLE = 'detections_outage';
const OUTAGE_MS = 60_000;

after(async () => {
  await client.close();
  await ch.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

void test('a 60 s ClickHouse outage under steady load: no write fails, every detection stored exactly once, in order', { timeout: 150_000 }, async (t) => {
  await migrate(ch.client, { database: 'otel_sigma', table: TABLE, ttlDays: 0 });
  // Service defaults for batching, backoff and the in-memory budget before spooling.
  const w = new DetectionWriter({ client, table: TABLE, spoolDir: path.join(dir, 'spool'), batchRows: 500 });
  const all: Detection[] = [];
  const writes: Promise<void>[] = [];
  let maxAckMs = 0;
  let maxSpooled = 0;
  const t0 = performance.now();
  conn.down(OUTAGE_MS);
  // 10 detections every 50 ms during the outage and 5 s after it.
  while (performance.now() - t0 < OUTAGE_MS + 5000) {
    const ds = makeDetections(10);
    all.push(...ds);
    const tw = performance.now();
    writes.push(w.write(ds).then(() => void (maxAckMs = Math.max(maxAckMs, performance.now() - tw))));
    maxSpooled = Math.max(maxSpooled, w.spooledBatches);
    await new Promise((r) => setTimeout(r, 50));
  }
  const results = await Promise.allSettled(writes);
  const failed = results.filter((r) => r.status === 'rejected');
  assert.deepEqual(failed, [], 'every write was acknowledged');
  const tDone = performance.now();
  await w.spoolDrained();
  await w.flush();
  const drainedAfterOutageMs = performance.now() - t0 - OUTAGE_MS;

  const rs = await ch.client.query({ query: `SELECT count() AS rows, uniqExact(fingerprint) AS fps FROM otel_sigma.${TABLE}`, format: 'JSONEachRow' });
  const [row] = await rs.json<{ rows: string | number; fps: string | number }>();
  assert.equal(Number(row?.rows), all.length);
  assert.equal(Number(row?.fps), all.length);
  const seen = new Set<string>();
  const order: string[] = [];
  for (const fp of conn.landed.flat()) if (!seen.has(fp) && seen.add(fp)) order.push(fp);
  assert.deepEqual(order, all.map((d) => d.fingerprint), 'ClickHouse received the rows in write() order');
  assert.equal(w.spooledBatches, 0);
  t.diagnostic(
    `${writes.length} writes / ${all.length} rows over ${Math.round((tDone - t0) / 1000)} s; failed inserts ${conn.insertFailures}; ` +
      `longest acknowledgement ${Math.round(maxAckMs)} ms; most batches spooled at once ${maxSpooled}; spool drained ${Math.round(drainedAfterOutageMs)} ms after ClickHouse came back`,
  );
  await w.close();
});
