/**
 * `/readyz` tells a load balancer the truth about storage (issue 17 item 4): while ClickHouse refuses every
 * insert (TOO_MANY_PARTS, say) the service is not ready, naming why, although it still acknowledges
 * requests (their detections wait in the durable log); once inserts succeed again it is ready, and what
 * waited is inserted.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { exportRequest, sshdRecord } from '../../helpers/auth-events.ts';
import { fakeClickHouse, freePort } from '../../helpers/fake-clickhouse.ts';
import { sendGrpcExport } from '../../helpers/otlp-clients.ts';
import { otlpJsonToProtobuf } from '../../helpers/otlp-proto.ts';
import { startServe } from '../../helpers/service-process.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const RULE = path.join(ROOT, 'rules/linux/sshd/osg_lnx_sshd_invalid_user.yml');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-readiness-'));
let ch: Server | undefined;
after(async () => {
  if (ch) await new Promise<void>((r) => ch!.close(() => r()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function readyz(http: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://${http}/readyz`);
  return { status: r.status, body: await r.text() };
}

async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    if (await check()) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} within ${ms} ms`);
}

test('not ready while ClickHouse refuses every insert, ready again once it takes them', { timeout: 90_000 }, async () => {
  let refusing = false;
  let inserts = 0;
  ch = fakeClickHouse({ refuseInserts: () => { inserts++; return refusing; } });
  const port = await freePort();
  await new Promise<void>((r) => ch!.listen(port, '127.0.0.1', r));
  const svc = await startServe(['--rules', RULE, '--data-dir', path.join(tmp, 'data'), '--clickhouse-url', `http://127.0.0.1:${port}`]);
  try {
    assert.equal((await readyz(svc.http)).status, 200);
    refusing = true;
    const send = (i: number) => sendGrpcExport(svc.grpc, otlpJsonToProtobuf(exportRequest([sshdRecord('web-1', BigInt(Date.now()) * 1_000_000n + BigInt(i), `Invalid user admin${i} from 203.0.113.7 port 40512`)])));
    const first = await send(0);
    assert.equal(first.code, status.OK, 'acknowledged: the detection is durable in the log');
    const ms = await until('not ready while inserts are refused', 10_000, async () => (await readyz(svc.http)).status === 503);
    const r = await readyz(svc.http);
    assert.match(r.body, /ClickHouse refuses inserts/, r.body);
    // Still refusing a few seconds later (retries with backoff keep failing): not ready the whole time.
    await new Promise((res) => setTimeout(res, 2_000));
    assert.equal((await readyz(svc.http)).status, 503);
    assert.equal((await send(1)).code, status.OK, 'requests are still acknowledged meanwhile');
    const refusedInserts = inserts;
    assert.ok(refusedInserts >= 2, `the writer kept retrying (${refusedInserts} inserts)`);
    refusing = false;
    const back = await until('ready again after ClickHouse takes inserts', 15_000, async () => (await readyz(svc.http)).status === 200);
    assert.ok(inserts > refusedInserts, 'what waited in the log was inserted');
    console.log(`readiness: not ready ${Math.round(ms)} ms after the first refused insert; ready ${Math.round(back)} ms after inserts succeed again`);
  } finally {
    assert.equal(await svc.stop('SIGTERM'), 0);
  }
});
