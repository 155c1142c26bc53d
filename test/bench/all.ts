/**
 * `npm run bench [-- --quick] [-- --json]`: every benchmark in turn, each given the same flags (npm hands
 * `--` arguments to the last command of a chain only, where they reached hunt.ts alone). Stops at the
 * first that fails. With --json each prints its figures as one JSON line at its end.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const flags = process.argv.slice(2);
for (const script of ['bench.ts', 'throughput.ts', 'idle-memory.ts', 'hunt.ts']) {
  const r = spawnSync(process.execPath, [join(import.meta.dirname, script), ...flags], { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`bench: ${script} ${r.signal !== null ? `was killed by ${r.signal}` : `exited ${String(r.status)}`}\n`);
    process.exit(r.status ?? 1);
  }
}
