/** Rows as ClickHouse stores them (issue 17 item 4): an implausible event time is stored as sent and flagged. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openClickHouse, type ClickHouseHandle } from '../../../src/store/client.ts';
import { formatEpochNs } from '../../../src/store/detection-row.ts';
import { DetectionWriter } from '../../../src/store/detection-writer.ts';
import { migrate } from '../../../src/store/migrations.ts';
import { makeDetection } from './make-detection.ts';

const dir = mkdtempSync(join(tmpdir(), 'otel-sigma-rows-'));
let ch: ClickHouseHandle;
before(() => {
  ch = openClickHouse({ dataDir: join(dir, 'chdb') });
});
after(async () => {
  await ch.close();
  rmSync(dir, { recursive: true, force: true });
});

void test('records dated 1975, now and 2200 are all stored with their own times; 1975 and 2200 are flagged', async () => {
  await migrate(ch.client, { database: 'otel_sigma', table: 'detections', ttlDays: 0 });
  const now = Date.now();
  const at = (ms: number): string => `${BigInt(ms) * 1_000_000n}`;
  const times = { past: at(Date.UTC(1975, 0, 1)), now: at(now - 1000), future: at(Date.UTC(2200, 0, 1)) };
  const w = new DetectionWriter({ client: ch.client, database: 'otel_sigma', table: 'detections', logDir: join(dir, 'log') });
  await w.write(Object.entries(times).map(([host, eventTimeNs]) => makeDetection({ host, eventTimeNs, detectedAtMs: now })));
  await w.stored();
  await w.close();
  const rs = await ch.client.query({ query: 'SELECT host, event_time, event_time_implausible FROM otel_sigma.detections ORDER BY host', format: 'JSONEachRow' });
  assert.deepEqual(await rs.json(), [
    { host: 'future', event_time: '2200-01-01 00:00:00.000000000', event_time_implausible: 1 },
    { host: 'now', event_time: formatEpochNs(times.now), event_time_implausible: 0 },
    { host: 'past', event_time: '1975-01-01 00:00:00.000000000', event_time_implausible: 1 },
  ]);
});
