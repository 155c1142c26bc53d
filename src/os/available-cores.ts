/**
 * How many cores the process may use: the CPUs it may run on (os.availableParallelism), fewer when its
 * cgroup caps its CPU time, as a container's CPU limit does (cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us` over
 * `cpu.cfs_period_us`; the tightest on the way up the hierarchy), rounded up. Node counts CPUs only: a pod
 * limited to 2 CPUs on a 64-core node would start 64 detection workers (~45 MB each) sharing 2 cores' time.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** `fsRoot` stands in for `/` (tests read a made-up /proc and /sys). */
export function availableCores(fsRoot = '/'): number {
  const cpus = os.availableParallelism();
  const quota = cpuQuota(fsRoot);
  return Math.max(1, Math.min(cpus, quota === undefined ? cpus : Math.ceil(quota)));
}

/** The CPU time the process's cgroups allow, in cores; undefined when unlimited or unknown (no cgroups, not Linux). */
export function cpuQuota(fsRoot = '/'): number | undefined {
  let cgroups: string;
  let mountinfo: string;
  try {
    cgroups = readFileSync(path.join(fsRoot, 'proc/self/cgroup'), 'utf8');
    mountinfo = readFileSync(path.join(fsRoot, 'proc/self/mountinfo'), 'utf8');
  } catch {
    return undefined;
  }
  let tightest: number | undefined;
  for (const line of cgroups.split('\n')) {
    // hierarchy-id:controllers:path; cgroup v2 is "0::path"
    const m = /^(\d+):([^:]*):(.+)$/.exec(line);
    if (m === null) continue;
    const v2 = m[1] === '0' && m[2] === '';
    if (!v2 && !m[2]!.split(',').includes('cpu')) continue;
    const mount = cgroupMount(mountinfo, v2);
    if (mount === undefined) continue;
    for (const dir of upToMount(mount, m[3]!)) {
      const q = v2 ? v2Quota(path.join(fsRoot, dir)) : v1Quota(path.join(fsRoot, dir));
      if (q !== undefined) tightest = Math.min(tightest ?? Infinity, q);
    }
  }
  return tightest;
}

interface Mount {
  /** The hierarchy's path mounted there (a container sees its own cgroup as "/"). */
  readonly root: string;
  readonly point: string;
}

/** /proc/self/mountinfo: "id parent major:minor root point options [optional…] - fstype source superoptions". */
function cgroupMount(mountinfo: string, v2: boolean): Mount | undefined {
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (pre === undefined || post === undefined) continue;
    const f = pre.split(' ');
    const [fstype, , superOptions = ''] = post.split(' ');
    const isIt = v2 ? fstype === 'cgroup2' : fstype === 'cgroup' && superOptions.split(',').includes('cpu');
    if (isIt && f[3] !== undefined && f[4] !== undefined) return { root: unescapeMount(f[3]), point: unescapeMount(f[4]) };
  }
  return undefined;
}

/** mountinfo writes space, tab, newline and backslash as octal escapes. */
const unescapeMount = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The cgroup's directory and each parent's, up to the mount point. */
function upToMount(mount: Mount, cgroupPath: string): string[] {
  const rel = mount.root !== '/' && cgroupPath.startsWith(mount.root) ? cgroupPath.slice(mount.root.length) : cgroupPath;
  const dirs: string[] = [];
  for (let dir = path.join(mount.point, rel); ; dir = path.dirname(dir)) {
    dirs.push(dir);
    if (dir === mount.point || !dir.startsWith(mount.point)) break;
  }
  return dirs;
}

/** `cpu.max`: "max 100000" (no limit) or "<quota> <period>" in µs. */
function v2Quota(dir: string): number | undefined {
  const text = readOr(path.join(dir, 'cpu.max'));
  if (text === undefined) return undefined;
  const [quota, period] = text.trim().split(/\s+/).map(Number);
  return quota !== undefined && period !== undefined && quota > 0 && period > 0 ? quota / period : undefined;
}

/** `cpu.cfs_quota_us` is -1 without a limit. */
function v1Quota(dir: string): number | undefined {
  const quota = Number(readOr(path.join(dir, 'cpu.cfs_quota_us')));
  const period = Number(readOr(path.join(dir, 'cpu.cfs_period_us')));
  return quota > 0 && period > 0 ? quota / period : undefined;
}

function readOr(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
