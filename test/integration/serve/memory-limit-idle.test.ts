/**
 * A memory limit below what the service holds at idle would refuse all but one request at a time, forever
 * (a 16-core default start answered 429 to 15 of 16 requests doing nothing): start-up raises it to idle
 * + a quarter + 512 MiB, says so, and says what the ruleset costs per worker.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { exportRequest, SECOND_NS, sshdRecord } from '../../helpers/auth-events.ts';
import { sendHttpExport } from '../../helpers/otlp-clients.ts';
import { startServe, type ServiceProcess } from '../../helpers/service-process.ts';
import { effectiveMemoryLimitMib } from '../../../src/pipeline.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-memlimit-'));
let svc: ServiceProcess | undefined;
after(async () => {
  await svc?.stop('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('effective limit: 0 stays off; a limit with room stays; one below idle is raised', () => {
  assert.equal(effectiveMemoryLimitMib(0, 3000), 0);
  assert.equal(effectiveMemoryLimitMib(4096, 1000), 4096);
  assert.equal(effectiveMemoryLimitMib(2048, 2900), 4137);
});

test('a limit below idle RSS is raised at start-up (logged), and concurrent requests at idle are all admitted', { timeout: 60_000 }, async () => {
  svc = await startServe(['--rules', path.join(ROOT, 'rules'), '--data-dir', path.join(tmp, 'data'), '--workers', '2', '--memory-limit-mib', '64']);
  const ready = svc.logs.find((l) => typeof l['msg'] === 'string' && l['msg'].startsWith('Detection workers ready'));
  assert.ok(ready && Number(ready['heapPerWorkerMib']) > 0 && Number(ready['rssMib']) > 64, JSON.stringify(ready));
  const raised = svc.logs.find((l) => l['configuredMib'] === 64);
  assert.ok(raised, 'the raise is logged');
  assert.equal(raised['effectiveMib'], effectiveMemoryLimitMib(64, Number(ready['rssMib'])));
  const body = JSON.stringify(exportRequest([sshdRecord('web-1', 1_772_323_200n * SECOND_NS, 'Accepted publickey for alice from 198.51.100.9 port 50022 ssh2')]));
  const answers = await Promise.all(Array.from({ length: 8 }, () => sendHttpExport(svc!.http, body, { format: 'json' })));
  assert.deepEqual(answers.map((a) => a.status), Array(8).fill(200));
});
