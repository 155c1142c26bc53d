/**
 * The commands as a user runs them: `convert --json`, and `hunt` over an embedded store another
 * process filled (one chdb data directory per process: this test process never opens it).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadManifest, hasCorpus, REPO_ROOT, SHARED_SIGMA } from '../../helpers/corpus.ts';

const run = promisify(execFile);
const BIN = join(REPO_ROOT, 'bin/otel-sigma.js');
const SKIP = hasCorpus ? '' : ' (skipped: ../shared/sigma/regression is absent)';

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, maxBuffer: 64 << 20 });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe(`hunt and convert commands${SKIP}`, { skip: !hasCorpus }, () => {
  const ruleFiles = [...new Set(loadManifest().slice(0, 25).map((c) => join(SHARED_SIGMA, c.rule_file)))];

  test('convert --json: one object per rule with its SQL and translation', async () => {
    const r = await cli(['convert', '--target', 'clickhouse', '--json', ...ruleFiles.slice(0, 5)]);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; sql: string; translation: string });
    assert.equal(out.length, 5);
    for (const o of out) {
      assert.match(o.sql, /FROM signoz_logs\.logs_v2\nWHERE /);
      assert.ok(['exact', 'prefiltered'].includes(o.translation));
    }
    assert.notEqual((await cli(['convert', '--target', 'splunk', ruleFiles[0]!])).code, 0);
  });

  test('hunt --sql, then --resume of the finished hunt: same detections, none twice', async () => {
    const data = join(mkdtempSync(join(tmpdir(), 'otel-sigma-hunt-cli-')), 'data');
    const seeded = await run(process.execPath, [join(import.meta.dirname, 'seed-child.ts'), data]);
    assert.ok(Number(seeded.stdout) > 0);
    // --workers: two, whatever the default on this machine, so pages finish out of order and checkpoints must wait.
    const args = ['hunt', '--data-dir', data, '--from', '2000-01-01T00:00:00Z', '--page-size', '100', '--sql', '--workers', '2', ...ruleFiles.flatMap((f) => ['--rules', f])];
    const first = await cli(args);
    assert.equal(first.code, 0, first.stderr);
    const m = /hunt done: (\d+) records, (\d+) detections/.exec(first.stderr);
    assert.ok(m, first.stderr);
    assert.ok(Number(m[2]) > 0);
    assert.match(first.stderr, /rules loaded, \d+ rejected, 2 workers/);
    // the recorded range is resumed (the default --to, "now", has moved on)
    const again = await cli([...args.filter((a, i) => a !== '--from' && args[i - 1] !== '--from'), '--resume']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`hunt done: ${m[1]!} records, ${m[2]!} detections`));
    const list = await cli(['detections', '--data-dir', data, '--since', '10000d', '--limit', '100000', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const rows = list.stdout.trim().split('\n').filter((l) => l !== '');
    assert.equal(rows.length, Number(m[2]));
  });
});
