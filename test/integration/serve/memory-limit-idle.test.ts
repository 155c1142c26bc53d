/**
 * A memory limit below what the service holds at idle would refuse all but one request at a time, forever
 * (a 16-core default start answered 429 to 15 of 16 requests doing nothing): start-up raises it to idle
 * + a quarter + 512 MiB, says so, and says what the ruleset costs per worker. One above what its container
 * (cgroup) allows would never push back before the kernel's OOM killer: start-up holds it at 90 % of that.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { exportRequest, SECOND_NS, sshdRecord } from '../../helpers/auth-events.ts';
import { sendHttpExport } from '../../helpers/otlp-clients.ts';
import { makeCgroup } from '../../helpers/cgroup.ts';
import { startServe, type ServiceProcess } from '../../helpers/service-process.ts';
import { containerMemoryMib, effectiveMemoryLimitMib, idleFloorMib } from '../../../src/pipeline.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-memlimit-'));
let svc: ServiceProcess | undefined;
const MIB = 2 ** 20;
const cgroup = makeCgroup('memory', `otel-sigma-test-${process.pid}`, { 'memory.limit_in_bytes': String(1024 * MIB) });
after(async () => {
  await svc?.stop('SIGKILL');
  cgroup?.remove();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('effective limit: 0 stays off; a limit with room stays; one below idle is raised; none passes the container', () => {
  assert.equal(effectiveMemoryLimitMib(0, 3000), 0);
  assert.equal(effectiveMemoryLimitMib(4096, 1000), 4096);
  assert.equal(effectiveMemoryLimitMib(2048, 2900), 4137);
  assert.equal(idleFloorMib(2900), 4137);
  assert.equal(effectiveMemoryLimitMib(2048, 500, 921), 921);
  assert.equal(effectiveMemoryLimitMib(2048, 900, 921), 921, 'the container wins over the raise above idle');
  assert.equal(effectiveMemoryLimitMib(0, 500, 921), 0, '0 (no limit) is the operator\'s choice');
  assert.equal(containerMemoryMib(0), Infinity, 'Node: no constraint known');
  assert.equal(containerMemoryMib(2 ** 64), Infinity, "cgroup v2's max");
  assert.equal(containerMemoryMib(1024 * MIB), 921);
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

test('in a container (memory cgroup) smaller than the limit, the limit in effect is 90 % of the container, logged; idle requests are admitted (needs root and a cgroup v1 memory controller)',
  { timeout: 60_000, skip: cgroup === undefined ? 'no memory cgroup can be made here (not root, or no cgroup v1 memory controller)' : false }, async () => {
    await svc?.stop('SIGKILL');
    svc = await startServe(['--rules', path.join(ROOT, 'rules'), '--data-dir', path.join(tmp, 'data-cgroup'), '--workers', '2'], { onSpawn: (child) => cgroup!.join(child.pid!) });
    assert.match(fs.readFileSync(`/proc/${svc.child.pid}/cgroup`, 'utf8'), /memory:.*otel-sigma-test-/, 'serve runs in the group');
    const capped = svc.logs.find((l) => l['containerMib'] !== undefined);
    assert.ok(capped, 'the cap is logged');
    assert.equal(capped['configuredMib'], 2048);
    assert.equal(capped['containerMib'], 921);
    assert.equal(capped['effectiveMib'], 921);
    const body = JSON.stringify(exportRequest([sshdRecord('web-1', 1_772_323_200n * SECOND_NS, 'Accepted publickey for alice from 198.51.100.9 port 50022 ssh2')]));
    const answers = await Promise.all(Array.from({ length: 8 }, () => sendHttpExport(svc!.http, body, { format: 'json' })));
    assert.deepEqual(answers.map((a) => a.status), Array(8).fill(200));
  });
