/**
 * Is a process alive (for pid locks: the detection and alert logs, the embedded store's status file)?
 * `kill(pid, 0)` also succeeds for a zombie: a process killed with SIGKILL whose parent has not reaped
 * it yet, which is what a supervisor restarting otel-sigma right after `kill -9` finds. Its locks are
 * released already, so on Linux a zombie (state Z or X in /proc/<pid>/stat) counts as dead.
 */
import { readFileSync } from 'node:fs';

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc (not Linux): trust kill()
  }
}
