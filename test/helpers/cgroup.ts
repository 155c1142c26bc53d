/**
 * A cgroup v1 group of one controller (the hierarchy this machine mounts under /sys/fs/cgroup), with its
 * settings written, for running a real process under a container's limits. Undefined where none can be made
 * (not root, no such controller).
 */
import fs from 'node:fs';
import path from 'node:path';

export interface Cgroup {
  /** Moves a process (all its threads) into the group. */
  join(pid: number): void;
  /** Removes the group once no process is left in it. */
  remove(): void;
}

export function makeCgroup(controller: 'cpu' | 'memory', name: string, settings: Readonly<Record<string, string>>): Cgroup | undefined {
  const dir = path.join('/sys/fs/cgroup', controller, name);
  try {
    fs.mkdirSync(dir);
    for (const [file, value] of Object.entries(settings)) fs.writeFileSync(path.join(dir, file), value);
  } catch {
    try {
      fs.rmdirSync(dir);
    } catch {
      // never made
    }
    return undefined;
  }
  return {
    join: (pid) => fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid)),
    remove: () => {
      try {
        fs.rmdirSync(dir);
      } catch {
        // a process is still in it
      }
    },
  };
}
