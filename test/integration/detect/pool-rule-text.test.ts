/**
 * The rules' text (title, tags, description, references, false positives, author) lives once on the main
 * thread: workers drop it after compiling (worker-compile.ts) and DetectPool fills it into their
 * detections. Every detection must come back with its rule's text, from either worker, whether the pool
 * waited for all workers or started on the first; a rule whose id is missing or shared keeps its own.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ruleTextColumns } from '../../../src/detect/build-detection.ts';
import type { Detection } from '../../../src/detect/detection.ts';
import { DetectPool } from '../../../src/detect/pool.ts';
import { loadRuleset } from '../../../src/detect/ruleset.ts';
import type { DetectResult, WorkerConfig } from '../../../src/detect/task.ts';
import type { RuleInfo } from '../../../src/detect/types.ts';
import { loadLogsourceMapping } from '../../../src/map/logsource-mapping.ts';
import { SIGMA_DIR } from '../../bench/corpus.ts';
import { attackRequests } from '../../bench/lanes.ts';

const present = fs.existsSync(path.join(SIGMA_DIR, 'rules'));
const lane = attackRequests('original', 4);
const task = (i: number) => ({ body: new Uint8Array(lane.stamp(i, 1)), format: 'protobuf' as const, encoding: 'identity' as const, receivedAtMs: Date.now() });

async function detectionsOf(pool: DetectPool): Promise<Detection[]> {
  // Every request at once, so both workers take some.
  const results = await Promise.all(Array.from({ length: lane.count }, (_, i) => pool.run(task(i))));
  return results.flatMap((r: DetectResult) => {
    assert.ok(r.ok, JSON.stringify(r).slice(0, 300));
    return r.detections;
  });
}

function assertText(detections: readonly Detection[], byId: ReadonlyMap<string, RuleInfo>): void {
  assert.ok(detections.length > 100, `${detections.length} detections`);
  for (const d of detections) {
    const rule = byId.get(d.ruleId);
    assert.ok(rule, `detection of an unknown rule ${d.ruleId}`);
    const got = { ruleTitle: d.ruleTitle, ruleTags: d.ruleTags, ruleDescription: d.ruleDescription, ruleReferences: d.ruleReferences, ruleFalsePositives: d.ruleFalsePositives, ruleAuthor: d.ruleAuthor };
    assert.deepEqual(got, ruleTextColumns(rule), `rule ${d.ruleId}`);
  }
  assert.ok(detections.some((d) => d.ruleDescription !== '' && d.ruleReferences.length > 0 && d.ruleTags.length > 0), 'text that is there to lose');
}

describe('detections carry their rule\'s text from a pool whose workers dropped it' + (present ? '' : ' (skipped: ../shared/sigma not present)'), { skip: !present }, () => {
  const rulePaths = ['process_creation', 'builtin/security'].map((d) => path.join(SIGMA_DIR, 'rules/windows', d));
  const mapping = loadLogsourceMapping();
  const worker: WorkerConfig = { rulePaths, mapping, placeholders: {}, select: {}, maxRequestBytes: 64 << 20 };
  const byId = new Map(loadRuleset({ paths: rulePaths, mapping }).rules.map((r) => [r.id, r]));

  test('a pool that waited for every worker', async () => {
    const pool = new DetectPool({ threads: 2, maxQueue: 16, worker, splitMinBytes: Infinity });
    try {
      const summary = await pool.warmUp();
      assert.ok(summary.workerHeapMb !== undefined && summary.workerHeapMb > 0);
      assertText(await detectionsOf(pool), byId);
    } finally {
      await pool.close();
    }
  });

  test('a pool that started on its first worker (a hunt)', async () => {
    const pool = new DetectPool({ threads: 2, maxQueue: 16, worker, splitMinBytes: Infinity });
    try {
      await pool.warmUp({ first: true });
      assertText(await detectionsOf(pool), byId);
    } finally {
      await pool.close();
    }
  });

  describe('rules whose id cannot name them', () => {
    let dir: string;
    let rules: RuleInfo[];
    before(() => {
      // The rule that fires most on the lane, three times: twice with one id, once without an id.
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-rule-text-'));
      const source = fs.readFileSync(path.join(SIGMA_DIR, 'rules/windows/process_creation/proc_creation_win_susp_web_request_cmd_and_cmdlets.yml'), 'utf8');
      const retitle = (title: string, id: string | null) => {
        const lines = source.split('\n').map((l) => (l.startsWith('title:') ? `title: ${title}` : l));
        return (id === null ? lines.filter((l) => !l.startsWith('id:')) : lines.map((l) => (l.startsWith('id:') ? `id: ${id}` : l))).join('\n');
      };
      fs.writeFileSync(path.join(dir, 'a.yml'), retitle('Shared id A', '11111111-1111-4111-8111-111111111111'));
      fs.writeFileSync(path.join(dir, 'b.yml'), retitle('Shared id B', '11111111-1111-4111-8111-111111111111'));
      fs.writeFileSync(path.join(dir, 'c.yml'), retitle('No id', null));
      rules = [...loadRuleset({ paths: [dir], mapping }).rules];
      assert.equal(rules.length, 3);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    test('keep their own text in the worker', async () => {
      const pool = new DetectPool({ threads: 2, maxQueue: 16, worker: { ...worker, rulePaths: [dir] }, splitMinBytes: Infinity });
      try {
        await pool.warmUp();
        const detections = await detectionsOf(pool);
        assert.deepEqual([...new Set(detections.map((d) => d.ruleTitle))].sort(), ['No id', 'Shared id A', 'Shared id B']);
        for (const d of detections) {
          const rule = rules.find((r) => r.title === d.ruleTitle)!;
          assert.equal(d.ruleId, rule.id);
          assert.equal(d.ruleDescription, rule.description);
          assert.deepEqual(d.ruleReferences, rule.references);
        }
      } finally {
        await pool.close();
      }
    });
  });
});
