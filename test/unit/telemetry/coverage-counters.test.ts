/**
 * The persisted coverage counters: added up per logsource with first/last seen, saved to
 * <data_dir>/coverage.json by write + rename (no temporary file left), read back after a restart, a
 * damaged file set aside instead of stopping the service, and nothing written when nothing changed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { COVERAGE_FILE, CoverageCounters, readCoverageCounts } from '../../../src/telemetry/coverage-counters.ts';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-coverage-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const T0 = Date.parse('2026-12-01T10:00:00.000Z');

describe('coverage counters', () => {
  test('add: events per key, first and last seen; zero and missing counts change nothing', () => {
    const c = new CoverageCounters(path.join(tempDir(), COVERAGE_FILE));
    c.add({ 'windows//security': 3, 'linux//sshd': 0 }, T0);
    c.add(undefined, T0 + 500);
    c.add({ 'windows//security': 2 }, T0 + 1_000);
    const snap = c.snapshot(T0 + 2_000);
    assert.deepEqual(snap.logsources, {
      'windows//security': { events: 5, first_seen: '2026-12-01T10:00:00.000Z', last_seen: '2026-12-01T10:00:01.000Z' },
    });
    assert.equal(snap.updated_at, '2026-12-01T10:00:02.000Z');
  });

  test('saved atomically into the data directory and read back by a new process (a restart)', async () => {
    const dir = path.join(tempDir(), 'not-yet-created');
    const c = CoverageCounters.open(dir);
    c.add({ 'windows//security': 4 }, T0);
    await c.close();
    await c.close(); // twice is fine
    const file = path.join(dir, COVERAGE_FILE);
    assert.deepEqual(fs.readdirSync(dir), [COVERAGE_FILE], 'no temporary file left beside it');
    const onDisk = readCoverageCounts(file)!;
    assert.equal(onDisk.logsources['windows//security']!.events, 4);

    const again = CoverageCounters.open(dir);
    again.add({ 'windows//security': 1, 'linux//sshd': 2 }, T0 + 60_000);
    const snap = again.snapshot();
    assert.equal(snap.since, onDisk.since, 'counting since the first start, not this one');
    assert.deepEqual(snap.logsources['windows//security'], { events: 5, first_seen: '2026-12-01T10:00:00.000Z', last_seen: '2026-12-01T10:01:00.000Z' });
    assert.equal(snap.logsources['linux//sshd']!.events, 2);
    await again.close();
  });

  test('nothing changed: nothing written', async () => {
    const dir = tempDir();
    const c = CoverageCounters.open(dir);
    await c.save();
    assert.equal(fs.existsSync(path.join(dir, COVERAGE_FILE)), false);
    c.add({ a: 1 }, T0);
    await c.save();
    const first = fs.statSync(path.join(dir, COVERAGE_FILE)).mtimeMs;
    fs.utimesSync(path.join(dir, COVERAGE_FILE), new Date(0), new Date(0));
    await c.save();
    assert.equal(fs.statSync(path.join(dir, COVERAGE_FILE)).mtimeMs, 0, 'not rewritten');
    assert.ok(first > 0);
  });

  test('periodic saves: startSaving writes on its interval (and records `since` before any event)', async () => {
    const dir = tempDir();
    const c = CoverageCounters.open(dir);
    c.startSaving(20);
    await new Promise((r) => setTimeout(r, 80));
    const saved = readCoverageCounts(path.join(dir, COVERAGE_FILE));
    assert.ok(saved !== undefined);
    assert.deepEqual(saved.logsources, {});
    c.add({ 'windows//system': 1 });
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(readCoverageCounts(path.join(dir, COVERAGE_FILE))!.logsources['windows//system']!.events, 1);
    await c.close();
  });

  test('a damaged file is set aside and counting starts again; readCoverageCounts names the file', () => {
    const dir = tempDir();
    const file = path.join(dir, COVERAGE_FILE);
    fs.writeFileSync(file, '{"version":1,"since":"yesterday"');
    assert.throws(() => readCoverageCounts(file), new RegExp(`${COVERAGE_FILE}: not JSON`));
    fs.writeFileSync(file, JSON.stringify({ version: 1, since: '2026-12-01T00:00:00Z', updated_at: '2026-12-01T00:00:00Z', logsources: { x: { events: -1, first_seen: '2026-12-01T00:00:00Z', last_seen: '2026-12-01T00:00:00Z' } } }));
    assert.throws(() => readCoverageCounts(file), /not a coverage counters file \(logsources\.x\.events/);
    const warnings: unknown[] = [];
    const logger = { warn: (o: unknown) => warnings.push(o) } as unknown as Parameters<typeof CoverageCounters.open>[1];
    const c = CoverageCounters.open(dir, logger);
    assert.deepEqual(c.snapshot().logsources, {});
    assert.equal(warnings.length, 1);
    assert.ok(fs.existsSync(`${file}.damaged`));
    assert.equal(readCoverageCounts(path.join(dir, 'absent.json')), undefined);
  });
});
