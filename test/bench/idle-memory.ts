/**
 * What the ruleset costs at rest (issue 12): `serve` with the whole active SigmaHQ ruleset on its embedded
 * ClickHouse, started with 1, 2 and 3 detection workers; resident memory once it listens and has settled,
 * and what each worker beyond the first adds. The service logs its own figure at start-up too.
 *
 * `node test/bench/idle-memory.ts [--json]`, or as part of `npm run bench`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { startServe } from '../helpers/service-process.ts';
import { RULE_TREES } from './corpus.ts';
import { rssMb } from './grpc-load.ts';

export interface IdleMemory {
  readonly workers: number;
  readonly rssMb: number;
  readonly heapPerWorkerMib: number | undefined;
}

export async function runIdleMemory(say: (s: string) => void, counts: readonly number[] = [1, 2, 3]): Promise<IdleMemory[]> {
  const out: IdleMemory[] = [];
  for (const workers of counts) {
    const dataDir = mkdtempSync(join(os.tmpdir(), 'otel-sigma-idle-'));
    const svc = await startServe([...RULE_TREES.flatMap((t) => ['--rules', t]), '--data-dir', dataDir], { timeoutMs: 240_000, env: { OTEL_SIGMA_WORKERS: String(workers) } });
    try {
      await new Promise((r) => setTimeout(r, 5_000)); // settled: start-up's timers and first scrapes done
      const ready = svc.logs.find((l) => typeof l['msg'] === 'string' && l['msg'].startsWith('Detection workers ready'));
      const heap = ready?.['heapPerWorkerMib'];
      const r: IdleMemory = { workers, rssMb: rssMb(svc.child.pid!), heapPerWorkerMib: typeof heap === 'number' ? heap : undefined };
      out.push(r);
      const prev = out.at(-2);
      say(`idle serve, ${workers} worker${workers > 1 ? 's' : ''}: RSS ${r.rssMb.toFixed(0)} MB${prev ? ` (+${(r.rssMb - prev.rssMb).toFixed(0)} MB for one more worker)` : ''}; ruleset ${r.heapPerWorkerMib ?? '?'} MiB per worker`);
    } finally {
      await svc.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return out;
}

if (import.meta.main) {
  const res = await runIdleMemory((s) => process.stdout.write(`${s}\n`));
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(res)}\n`);
}
