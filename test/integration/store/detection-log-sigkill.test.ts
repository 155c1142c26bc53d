import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { openClickHouse, type ClickHouseHandle } from '../../../src/store/client.ts';
import { DetectionWriter } from '../../../src/store/detection-writer.ts';
import { DurableLog } from '../../../src/wal/durable-log.ts';

const dir = fs.mkdtempSync(path.join(tmpdir(), 'otel-sigma-log-kill-'));
const chdbDir = path.join(dir, 'chdb');
const logDir = path.join(dir, 'detection-log');
const TABLE = 'detections_kill';
const CHILD = path.join(import.meta.dirname, 'fixtures', 'log-child.ts');
let ch: ClickHouseHandle | undefined;
let w: DetectionWriter | undefined;

after(async () => {
  await w?.close();
  await ch?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the child until it has acknowledged `acks` batches (plus a few ms), SIGKILLs it, returns the acked batch numbers. */
async function runAndKill(acks: number): Promise<Set<number>> {
  const child = spawn(process.execPath, [CHILD, chdbDir, logDir, TABLE], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  const acked = new Set<number>();
  let killed = false;
  for await (const line of createInterface({ input: child.stdout })) {
    const m = /^ack (\d+)$/.exec(line);
    if (m) acked.add(Number(m[1]));
    if (acked.size >= acks && !killed) {
      killed = true;
      // A little later than the ack, so the kill lands somewhere inside the next appends.
      setTimeout(() => child.kill('SIGKILL'), 3 + Math.floor(Math.random() * 10));
    }
  }
  const signal = await exited;
  assert.equal(signal, 'SIGKILL', `child ended on its own: ${stderr}`);
  return acked;
}

void test('SIGKILL under load with ClickHouse flapping, then a restart: every acknowledged batch stored exactly once', async (t) => {
  const acked = await runAndKill(200);
  assert.ok(acked.size >= 200);
  // What the dead process left (opening the log also cuts a torn tail, as the writer would).
  const left = new DurableLog({ dir: logDir, name: 'inspect', maxBytes: 1 << 30, whenFull: 'refuse' });
  t.diagnostic(`acked ${acked.size} batches; the log holds ${left.records} of them, ${left.bytes} bytes`);
  await left.close();

  // The child is dead, so its embedded ClickHouse directory is free for this process.
  ch = openClickHouse({ dataDir: chdbDir });
  w = new DetectionWriter({ client: ch.client, table: TABLE, retryBaseMs: 5, retryMaxDelayMs: 100, logDir });
  const t0 = performance.now();
  await w.stored();
  t.diagnostic(`inserted the rest in ${Math.round(performance.now() - t0)} ms`);
  assert.equal(w.backlog, 0);

  const rs = await ch.client.query({ query: `SELECT fingerprint, count() AS n FROM otel_sigma.${TABLE} GROUP BY fingerprint`, format: 'JSONEachRow' });
  const counts = new Map((await rs.json<{ fingerprint: string; n: string | number }>()).map((r) => [r.fingerprint, Number(r.n)]));
  for (const i of acked) {
    for (let j = 0; j < 20; j++) assert.equal(counts.get(`kill-${i}-${j}`), 1, `acked batch ${i} row ${j} stored ${counts.get(`kill-${i}-${j}`) ?? 0} times`);
  }
  const dupes = [...counts].filter(([, n]) => n !== 1);
  assert.deepEqual(dupes, [], 'no fingerprint stored twice');
  // Unacknowledged batches may be present, but only whole.
  const batches = new Map<string, number>();
  for (const fp of counts.keys()) batches.set(fp.split('-')[1]!, (batches.get(fp.split('-')[1]!) ?? 0) + 1);
  for (const [i, n] of batches) assert.equal(n, 20, `batch ${i} stored partially (${n} rows)`);
  t.diagnostic(`stored ${counts.size} rows = ${batches.size} batches (${batches.size - acked.size} unacknowledged ones made it too)`);
});
