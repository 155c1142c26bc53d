/** `otel-sigma rules check --profile --events FILE`: per-rule cost over a sample of events, human and JSON. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'bin/otel-sigma.js');
const cli = async (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-profile-'));
const rules = path.join(tmp, 'rules');
fs.mkdirSync(rules);
const rule = (id: string, title: string, needle: string) =>
  `title: ${title}\nid: ${id}\nstatus: test\nlevel: high\nlogsource: {product: bench_app}\ndetection:\n  sel:\n    cmd|contains: ${needle}\n  condition: sel\n`;
fs.writeFileSync(path.join(rules, 'evil.yml'), rule('11111111-1111-4111-8111-111111111111', 'Evil command', 'evil'));
fs.writeFileSync(path.join(rules, 'never.yml'), rule('22222222-2222-4222-8222-222222222222', 'Never seen', 'zzzqqq'));
const record = (cmd: string) => ({ timeUnixNano: '1700000000000000000', body: { stringValue: 'x' }, attributes: [{ key: 'cmd', value: { stringValue: cmd } }] });
const events = path.join(tmp, 'events.json');
fs.writeFileSync(events, `${JSON.stringify({ resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ scope: {}, logRecords: [record('run evil now'), record('ls -l'), record('EVIL twice')] }] }] })}\n`);

void describe('otel-sigma rules check --profile', () => {
  void test('lists the rules whose tests ran, with tests, matches and time; rules never tested are left out', async () => {
    const r = await cli(['rules', 'check', '--json', '--profile', '--events', events, rules]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { loaded: number; profile: { events: number; rule_tests: number; top: { rule_id: string; tests: number; matches: number; ms: number }[] } };
    assert.equal(last.loaded, 2);
    assert.equal(last.profile.events, 3);
    const evil = last.profile.top.find((t) => t.rule_id === '11111111-1111-4111-8111-111111111111');
    assert.ok(evil, JSON.stringify(last.profile));
    assert.equal(evil.tests, 2, 'the candidate index skips the record without the needle');
    assert.equal(evil.matches, 2);
    assert.ok(evil.ms >= 0);
    assert.ok(!last.profile.top.some((t) => t.rule_id === '22222222-2222-4222-8222-222222222222'));
    const human = await cli(['rules', 'check', '--profile', '--top', '1', '--events', events, rules]);
    assert.match(human.stdout, /profile: 3 events .* top 1 rules by time/);
    assert.match(human.stdout, /2 tests +2 matches .*Evil command/);
  });

  void test('--profile without --events is refused with a reason', async () => {
    const r = await cli(['rules', 'check', '--profile', rules]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--profile needs at least one --events FILE/);
  });
});
