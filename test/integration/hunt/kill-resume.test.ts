/**
 * A hunt process killed with SIGKILL mid-way (pages in flight, detections durable in its log but not all
 * inserted, the checkpoint behind them), then `hunt --resume`: the detections table ends up with exactly
 * the detections of an uninterrupted hunt over a copy of the same data (no fingerprint twice, none
 * missing). Each hunt is a child process (one embedded data directory per process).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { loadManifest, hasCorpus, REPO_ROOT, SHARED_SIGMA } from '../../helpers/corpus.ts';

const run = promisify(execFile);
const BIN = join(REPO_ROOT, 'bin/otel-sigma.js');
const SKIP = hasCorpus ? '' : ' (skipped: ../shared/sigma/regression is absent)';

async function fingerprints(data: string): Promise<string[]> {
  const r = await run(process.execPath, [BIN, 'detections', '--data-dir', data, '--since', '100000d', '--source', 'hunt', '--limit', '1000000', '--json'], { cwd: REPO_ROOT, maxBuffer: 256 << 20 });
  return r.stdout.trim().split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { fingerprint: string }).fingerprint);
}

const counts = (xs: readonly string[]): Map<string, number> => {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
};

describe(`hunt killed (SIGKILL) mid-way, then --resume${SKIP}`, { skip: !hasCorpus }, () => {
  test('stores exactly what an uninterrupted hunt stores: no duplicate, no gap', async () => {
    const root = mkdtempSync(join(tmpdir(), 'otel-sigma-hunt-kill-'));
    const killed = join(root, 'killed');
    const whole = join(root, 'whole');
    await run(process.execPath, [join(import.meta.dirname, 'seed-child.ts'), killed]);
    cpSync(killed, whole, { recursive: true });
    const rules = [...new Set(loadManifest().map((c) => join(SHARED_SIGMA, c.rule_file)))].flatMap((f) => ['--rules', f]);
    // Small pages: many pages in flight and checkpoints, so the kill lands between them. Two workers (the
    // default on 2 cores is one): pages finish out of order, so a checkpoint must wait for the ones before it.
    const args = (data: string): string[] => [BIN, 'hunt', '--data-dir', data, '--from', '2000-01-01T00:00:00Z', '--to', '2100-01-01T00:00:00Z', '--page-size', '10', '--no-sql', '--workers', '2', ...rules];

    const reference = await run(process.execPath, args(whole), { cwd: REPO_ROOT, maxBuffer: 64 << 20 });
    const done = /hunt done: (\d+) records, (\d+) detections/.exec(reference.stderr);
    assert.ok(done, reference.stderr);
    const want = await fingerprints(whole);
    assert.equal(new Set(want).size, want.length, 'the uninterrupted hunt stores each detection once');
    assert.ok(want.length > 100, 'enough detections to be cut');

    const child = spawn(process.execPath, args(killed), { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const ckpt = join(killed, 'hunt-checkpoint.json');
    let at: { rows: number; detections: number; done: boolean } | undefined;
    for (let i = 0; i < 3000 && child.exitCode === null; i++) {
      if (existsSync(ckpt)) {
        try {
          const c = JSON.parse(readFileSync(ckpt, 'utf8')) as { rows: number; detections: number; done: boolean };
          if (c.rows >= 100 && c.detections > 0 && !c.done) {
            at = c;
            break;
          }
        } catch { /* being replaced: read it again */ }
      }
      await sleep(5);
    }
    assert.ok(at !== undefined, `the hunt ended before it could be killed mid-way: ${stderr}`);
    child.kill('SIGKILL');
    await exited;
    assert.equal(child.signalCode, 'SIGKILL');
    assert.ok(at.rows < Number(done[1]), 'killed before the last page');

    const resumed = await run(process.execPath, [BIN, 'hunt', '--data-dir', killed, '--resume', '--page-size', '10', '--no-sql', '--workers', '2', ...rules], { cwd: REPO_ROOT, maxBuffer: 64 << 20 });
    assert.match(resumed.stderr, new RegExp(`hunt done: ${done[1]!} records`), resumed.stderr);
    const got = await fingerprints(killed);
    assert.deepEqual(counts(got), counts(want), 'a detection stored twice or missing after the kill');
  });
});
