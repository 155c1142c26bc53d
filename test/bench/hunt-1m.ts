/**
 * A hunt over a million stored rows, as a user runs it (not in CI: ~10 minutes on 2 cores):
 *   node test/bench/hunt-1m.ts [copies=1856]
 * The regression corpus (539 records) is stored `copies` times in SigNoz's logs_v2 (embedded ClickHouse,
 * every other copy in the body_v2 layout; hunt-seed.ts, a child process), then `otel-sigma hunt` runs over
 * the whole range with the whole active SigmaHQ ruleset under /usr/bin/time. Prints the hunt's wall-clock
 * rate (start-up included), its peak RSS, and the single-thread engine rate on the same records.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadRuleset } from '../../src/detect/ruleset.ts';
import { loadLogsourceMapping } from '../../src/map/logsource-mapping.ts';
import { REPO_ROOT, SHARED_SIGMA } from '../helpers/corpus.ts';
import { corpusRows, streamDetections } from '../integration/hunt/setup.ts';

const run = promisify(execFile);
const copies = Number(process.argv[2] ?? 1856);
const RULE_DIRS = ['rules', 'rules-emerging-threats', 'rules-threat-hunting', 'rules-compliance', 'rules-placeholder'].map((d) => join(SHARED_SIGMA, d));
const T0_MS = 1_790_000_000_000;

const dir = mkdtempSync(join(tmpdir(), 'otel-sigma-hunt-1m-'));
try {
  let t = performance.now();
  const seeded = await run(process.execPath, [join(import.meta.dirname, 'hunt-seed.ts'), join(dir, 'data'), String(copies)], { cwd: REPO_ROOT });
  const rows = Number(seeded.stdout.trim());
  console.log(`stored ${rows} rows in ${Math.round((performance.now() - t) / 1000)} s`);

  const from = new Date(T0_MS - 1).toISOString();
  const to = new Date(T0_MS + rows + 1000).toISOString();
  t = performance.now();
  const hunt = await run('/usr/bin/time', ['-f', 'peak_rss_kb=%M cpu_s=%U+%S', process.execPath, join(REPO_ROOT, 'bin/otel-sigma.js'), 'hunt', '--data-dir', join(dir, 'data'),
    '--from', from, '--to', to, ...RULE_DIRS.flatMap((d) => ['--rules', d])], { cwd: REPO_ROOT, maxBuffer: 64 << 20 });
  const wallMs = performance.now() - t;
  const done = /hunt done: (\d+) records, (\d+) detections, (\d+) rules matched/.exec(hunt.stderr);
  const rss = /peak_rss_kb=(\d+)/.exec(hunt.stderr);
  const cpu = /cpu_s=([\d.]+)\+([\d.]+)/.exec(hunt.stderr);
  if (!done || !rss) throw new Error(`unexpected hunt output:\n${hunt.stderr}`);
  for (const line of hunt.stderr.split('\n')) if (/^(rules as SQL|SQL filter|\d+ rules loaded)/.test(line)) console.log(`hunt: ${line}`);

  // The engine on the same records, one thread, in-process (map + evaluate; no read, no store).
  const mapping = loadLogsourceMapping();
  const rs = loadRuleset({ paths: RULE_DIRS, mapping, placeholders: {} });
  const base = corpusRows().map((r) => r.record);
  const records = Array.from({ length: 20 }, () => base).flat();
  t = performance.now();
  streamDetections(records, rs, mapping);
  const engine = Math.round((records.length / (performance.now() - t)) * 1000);

  console.log(`hunt over ${done[1]} rows: ${Math.round(wallMs / 1000)} s wall (start-up included), ${Math.round((Number(done[1]) / wallMs) * 1000)} records/s, ` +
    `${done[2]} detections, ${done[3]} rules matched, peak RSS ${Math.round(Number(rss[1]) / 1024)} MiB, ` +
    `CPU ${cpu ? Math.round(Number(cpu[1]) + Number(cpu[2])) : '?'} s (user + system)`);
  console.log(`engine, one thread, in-process, same records: ${engine} records/s`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
