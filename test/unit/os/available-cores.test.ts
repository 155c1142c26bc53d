import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { availableCores, cpuQuota } from '../../../src/os/available-cores.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-cores-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A made-up / with /proc/self/{cgroup,mountinfo} and cgroup files. */
function root(name: string, files: Record<string, string>): string {
  const dir = path.join(tmp, name);
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

const V1_MOUNTS = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
].join('\n');

test('cgroup v1: the tightest CFS quota on the way up, in cores; -1 is no limit', () => {
  const r = root('v1', {
    'proc/self/cgroup': '4:memory:/pod/c1\n3:cpu,cpuacct:/pod/c1\n0::/\n',
    'proc/self/mountinfo': V1_MOUNTS,
    'sys/fs/cgroup/cpu,cpuacct/pod/c1/cpu.cfs_quota_us': '-1\n',
    'sys/fs/cgroup/cpu,cpuacct/pod/c1/cpu.cfs_period_us': '100000\n',
    'sys/fs/cgroup/cpu,cpuacct/pod/cpu.cfs_quota_us': '50000\n',
    'sys/fs/cgroup/cpu,cpuacct/pod/cpu.cfs_period_us': '100000\n',
    'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '-1\n',
    'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
  });
  assert.equal(cpuQuota(r), 0.5);
  assert.equal(availableCores(r), 1, 'half a core is one worker');
});

test('cgroup v2, a container seeing its own cgroup as the mount root: cpu.max; "max" is no limit', () => {
  const mounts = '41 31 0:38 /kubepods/pod7 /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw';
  const limited = root('v2', {
    'proc/self/cgroup': '0::/kubepods/pod7/ctr\n',
    'proc/self/mountinfo': mounts,
    'sys/fs/cgroup/ctr/cpu.max': 'max 100000\n',
    'sys/fs/cgroup/cpu.max': '150000 100000\n',
  });
  assert.equal(cpuQuota(limited), 1.5);
  assert.equal(availableCores(limited), Math.min(os.availableParallelism(), 2), 'rounded up, never above the CPUs');
  const unlimited = root('v2-max', { 'proc/self/cgroup': '0::/kubepods/pod7/ctr\n', 'proc/self/mountinfo': mounts, 'sys/fs/cgroup/ctr/cpu.max': 'max 100000\n' });
  assert.equal(cpuQuota(unlimited), undefined);
  assert.equal(availableCores(unlimited), os.availableParallelism());
});

test('no cgroup information (not Linux, no /proc): the CPUs', () => {
  const none = root('none', {});
  assert.equal(cpuQuota(none), undefined);
  assert.equal(availableCores(none), os.availableParallelism());
});
