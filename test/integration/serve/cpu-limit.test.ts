/**
 * Under a container's CPU limit, a default start runs one worker per core the limit allows, not one per CPU
 * of the host: serve run in a real cgroup v1 `cpu` group with a CFS quota of half a core.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { makeCgroup } from '../../helpers/cgroup.ts';
import { startServe, type ServiceProcess } from '../../helpers/service-process.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-cpulimit-'));
const cgroup = makeCgroup('cpu', `otel-sigma-test-${process.pid}`, { 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': '50000' });
let svc: ServiceProcess | undefined;
after(async () => {
  await svc?.stop('SIGKILL');
  cgroup?.remove();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const skip = cgroup === undefined ? 'no cpu cgroup can be made here (not root, or no cgroup v1 cpu controller)'
  : os.availableParallelism() < 2 ? 'one CPU: a default start has one worker either way' : false;

test('a default start under a CPU limit of half a core runs one worker, on a host with more CPUs (needs root, a cgroup v1 cpu controller and 2+ CPUs)', { timeout: 90_000, skip }, async () => {
  svc = await startServe(['--rules', path.join(ROOT, 'rules'), '--data-dir', path.join(tmp, 'data')], { onSpawn: (child) => cgroup!.join(child.pid!) });
  assert.match(fs.readFileSync(`/proc/${svc.child.pid}/cgroup`, 'utf8'), /cpu[^:]*:.*otel-sigma-test-/, 'serve runs in the group');
  const ready = svc.logs.find((l) => typeof l['msg'] === 'string' && l['msg'].startsWith('Detection workers ready'));
  assert.equal(ready?.['threads'], 1, JSON.stringify(ready));
});
