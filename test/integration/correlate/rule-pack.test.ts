/**
 * The shipped correlation rule pack (rules/*\/correlation) over realistic event streams through `eval`:
 * SSH brute force, root brute force, spraying and failures-then-success from auth.log lines; Windows
 * 4625 brute force, spraying, failures-then-success and the short-lived administrator from Security
 * events; large uploads from proxy records. Then the same stream in order, shuffled within the
 * lateness and split over many requests gives the same correlations.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { exportRequest, failedLogon, MINUTE_NS, proxyRecord, SECOND_NS, securityRecord, sshdRecord, successfulLogon, type HostRecord } from '../../helpers/auth-events.ts';
import { rng } from '../../helpers/rng.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'bin/otel-sigma.js');
const T0 = 1_772_323_200n * SECOND_NS; // 2026-03-01T00:00:00Z

interface EvalLine {
  rule_id: string;
  rule_title: string;
  matched: Record<string, string>;
  host: string;
  correlation?: { type: string; group: Record<string, string>; window_start: string; window_end: string; value: number; contributing: string[] };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-corr-pack-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let n = 0;
async function evalStream(requests: readonly (readonly HostRecord[])[], extra: readonly string[] = []): Promise<EvalLine[]> {
  const files = requests.map((recs) => {
    const f = path.join(tmp, `req-${n++}.json`);
    fs.writeFileSync(f, JSON.stringify(exportRequest(recs)));
    return f;
  });
  const { stdout } = await run(process.execPath, [BIN, 'eval', '--rules', path.join(ROOT, 'rules'), ...extra, ...files], { maxBuffer: 1 << 28 });
  return stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as EvalLine);
}

const correlations = (lines: readonly EvalLine[]) => lines.filter((l) => l.correlation !== undefined);
const byTitle = (lines: readonly EvalLine[], title: string) => correlations(lines).filter((l) => l.rule_title === title);
/** A correlation as the comparison sees it: rule, group, window, value. */
const key = (l: EvalLine) => JSON.stringify([l.rule_id, l.correlation!.group, l.correlation!.window_start, l.correlation!.window_end, l.correlation!.value]);

// ── streams ──
const at = (minutes: number, seconds = 0) => T0 + BigInt(minutes) * MINUTE_NS + BigInt(seconds) * SECOND_NS;

/** 12 failed root passwords from one address against web-1 in two minutes, then an accepted login. */
function sshBruteForce(): HostRecord[] {
  const out: HostRecord[] = [];
  for (let i = 0; i < 12; i++) out.push(sshdRecord('web-1', at(0, i * 10), `Failed password for root from 203.0.113.5 port ${40000 + i} ssh2`));
  out.push(sshdRecord('web-1', at(3), 'Accepted password for root from 203.0.113.5 port 40100 ssh2'));
  return out;
}
/** One address trying six user names that do not exist, across two hosts. */
function sshSpraying(): HostRecord[] {
  return ['admin', 'oracle', 'test', 'ubuntu', 'git', 'postgres'].map((u, i) =>
    sshdRecord(i % 2 === 0 ? 'web-2' : 'web-3', at(10, i * 20), `Invalid user ${u} from 198.51.100.7 port ${50000 + i}`));
}
/** Nine failures: one below every threshold that needs ten. */
function sshBelowThreshold(): HostRecord[] {
  return Array.from({ length: 9 }, (_, i) => sshdRecord('web-4', at(20, i * 5), `Failed password for deploy from 192.0.2.44 port ${41000 + i} ssh2`));
}
/** 12 failed logons of one account from one address on a DC, then a successful one. */
function windowsBruteForce(): HostRecord[] {
  const out = Array.from({ length: 12 }, (_, i) => failedLogon('dc-1.corp.local', at(30, i * 5), '10.0.0.66', 'svc_sql'));
  out.push(successfulLogon('dc-1.corp.local', at(32), '10.0.0.66', 'svc_sql'));
  return out;
}
/** One address failing as 11 different accounts. */
function windowsSpraying(): HostRecord[] {
  return Array.from({ length: 11 }, (_, i) => failedLogon('dc-2.corp.local', at(40, i * 15), '10.0.0.77', `user${i}`));
}
const ADMINS = 'S-1-5-32-544';
/** An account created, made administrator and deleted within the hour; another never deleted. */
function shortLivedAdmin(): HostRecord[] {
  const sid = 'S-1-5-21-1004336348-1177238915-682003330-1337';
  const kept = 'S-1-5-21-1004336348-1177238915-682003330-1338';
  return [
    securityRecord('srv-1', at(50), 4720, { TargetUserName: 'backdoor', TargetDomainName: 'SRV-1', TargetSid: sid, SubjectUserName: 'Administrator' }),
    securityRecord('srv-1', at(52), 4732, { MemberName: '-', MemberSid: sid, TargetUserName: 'Administrators', TargetDomainName: 'Builtin', TargetSid: ADMINS, SubjectUserName: 'Administrator' }),
    securityRecord('srv-1', at(51), 4720, { TargetUserName: 'helpdesk2', TargetDomainName: 'SRV-1', TargetSid: kept, SubjectUserName: 'Administrator' }),
    securityRecord('srv-1', at(53), 4732, { MemberName: '-', MemberSid: kept, TargetUserName: 'Administrators', TargetDomainName: 'Builtin', TargetSid: ADMINS, SubjectUserName: 'Administrator' }),
    securityRecord('srv-1', at(95), 4726, { TargetUserName: 'backdoor', TargetDomainName: 'SRV-1', TargetSid: sid, SubjectUserName: 'Administrator' }),
  ];
}
/** Six 100 MB uploads from one client in 50 minutes (600 MB), and small ones from another. */
function largeUploads(): HostRecord[] {
  const out: HostRecord[] = [];
  for (let i = 0; i < 6; i++) out.push(proxyRecord('proxy-1', at(100 + i * 10), '10.1.1.5', 'PUT', 100_000_000, 'https://files.example.net/u/part' + i));
  for (let i = 0; i < 20; i++) out.push(proxyRecord('proxy-1', at(100, i * 30), '10.1.1.6', 'POST', 20_000, 'https://api.example.com/v1/report'));
  return out;
}

const everything = (): HostRecord[] => [...sshBruteForce(), ...sshSpraying(), ...sshBelowThreshold(), ...windowsBruteForce(), ...windowsSpraying(), ...shortLivedAdmin(), ...largeUploads()];

void describe('correlation rule pack', () => {
  void test('SSH: brute force by address, root brute force by host and address, then the accepted login', async () => {
    const lines = await evalStream([sshBruteForce()]);
    const brute = byTitle(lines, 'SSH Brute Force From One Address');
    assert.equal(brute.length, 1, JSON.stringify(correlations(lines), null, 1));
    assert.deepEqual(brute[0]!.correlation!.group, { src_ip: '203.0.113.5' });
    assert.equal(brute[0]!.correlation!.value, 10);
    assert.equal(brute[0]!.host, 'web-1');
    const root = byTitle(lines, 'SSH Root Brute Force On A Host');
    assert.equal(root.length, 2, 'two windows of five failures each (the last two do not make a third)');
    assert.deepEqual(root[0]!.correlation!.group, { hostname: 'web-1', src_ip: '203.0.113.5' });
    const then = byTitle(lines, 'SSH Login After Brute Force From The Same Address');
    assert.equal(then.length, 1);
    assert.equal(then[0]!.correlation!.group['src_ip'], '203.0.113.5');
    // Failures only feed the correlations; the chain sets generate: true, so the brute force and the login are reported too.
    assert.equal(lines.filter((l) => l.rule_title === 'SSH Authentication Failure').length, 0);
    assert.equal(lines.filter((l) => l.rule_title === 'SSH Login Accepted').length, 1);
    assert.equal(byTitle(lines, 'SSH Password Spraying From One Address').length, 0, 'one user name is not spraying');
  });

  void test('SSH: spraying across hosts fires on distinct users; nine failures fire nothing', async () => {
    const lines = await evalStream([sshSpraying(), sshBelowThreshold()]);
    const spray = byTitle(lines, 'SSH Password Spraying From One Address');
    assert.equal(spray.length, 1, JSON.stringify(correlations(lines), null, 1));
    assert.deepEqual(spray[0]!.correlation!.group, { src_ip: '198.51.100.7' });
    assert.equal(spray[0]!.correlation!.value, 5);
    assert.equal(spray[0]!.host, '', 'the group spans two hosts');
    assert.equal(correlations(lines).filter((l) => l.correlation!.group['src_ip'] === '192.0.2.44').length, 0);
  });

  void test('Windows: 4625 brute force and spraying by IpAddress, then the 4624 success', async () => {
    const lines = await evalStream([windowsBruteForce(), windowsSpraying()]);
    const brute = byTitle(lines, 'Windows Logon Brute Force From One Address');
    assert.deepEqual(brute.map((l) => l.correlation!.group['IpAddress']).sort(), ['10.0.0.66', '10.0.0.77'], JSON.stringify(correlations(lines), null, 1));
    const spray = byTitle(lines, 'Windows Password Spraying From One Address');
    assert.deepEqual(spray.map((l) => l.correlation!.group), [{ IpAddress: '10.0.0.77' }]);
    const then = byTitle(lines, 'Windows Logon After Brute Force From The Same Address');
    assert.deepEqual(then.map((l) => l.correlation!.group), [{ IpAddress: '10.0.0.66' }]);
    assert.equal(then[0]!.rule_id, 'a3f8c6e2-5d14-4b79-8c0a-2e7d9f4b1c56');
  });

  void test('Windows: account created, added to Administrators and deleted within the hour (aliases over the SIDs)', async () => {
    const lines = await evalStream([shortLivedAdmin()]);
    const fired = byTitle(lines, 'Short-Lived Administrator Account');
    assert.equal(fired.length, 1, JSON.stringify(correlations(lines), null, 1));
    assert.deepEqual(fired[0]!.correlation!.group, { account: 'S-1-5-21-1004336348-1177238915-682003330-1337', Computer: 'srv-1' });
  });

  void test('proxy: more than 500 MB uploaded by one client within the hour', async () => {
    const lines = await evalStream([largeUploads()]);
    const fired = byTitle(lines, 'Large Upload Volume From One Client');
    assert.equal(fired.length, 1, JSON.stringify(correlations(lines), null, 1));
    assert.deepEqual(fired[0]!.correlation!.group, { 'c-ip': '10.1.1.5' });
    assert.equal(fired[0]!.correlation!.value, 600_000_000);
  });

  void test('the same stream in order, shuffled within the lateness, and split over many requests: the same correlations', async () => {
    const events = everything().sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
    const inOrder = (await evalStream([events])).filter((l) => l.correlation).map(key).sort();
    assert.ok(inOrder.length >= 10, `the stream fires the pack (${inOrder.length})`);

    // Shuffled: each event moved by up to a minute (the default lateness is two).
    const r = rng(42);
    const shuffled = events.map((e) => ({ e, k: Number(e.ns / SECOND_NS) + r() * 60 })).sort((a, b) => a.k - b.k).map((x) => x.e);
    assert.notDeepEqual(shuffled, events);
    const fromShuffled = (await evalStream([shuffled])).filter((l) => l.correlation).map(key).sort();
    assert.deepEqual(fromShuffled, inOrder);

    // Split: the shuffled stream over requests of 1 to 7 records.
    const requests: HostRecord[][] = [];
    for (let i = 0; i < shuffled.length;) {
      const size = 1 + Math.floor(r() * 7);
      requests.push(shuffled.slice(i, i + size));
      i += size;
    }
    const fromSplit = (await evalStream(requests)).filter((l) => l.correlation).map(key).sort();
    assert.deepEqual(fromSplit, inOrder);
  });

  void test('rules check loads the pack and names a correlation\'s missing rule with file and line; convert lists correlations as such', async () => {
    const check = await run(process.execPath, [BIN, 'rules', 'check', '--json', path.join(ROOT, 'rules')]);
    const summary = JSON.parse(check.stdout.trim().split('\n').at(-1)!) as { loaded: number; rejected: number };
    assert.equal(summary.rejected, 0);
    const broken = path.join(tmp, 'broken.yml');
    fs.writeFileSync(broken, 'title: Orphan\nid: 6c1d2e3f-0000-4000-8000-00000000000a\ncorrelation:\n  type: event_count\n  rules: [no_such_rule]\n  timespan: 5m\n  condition: {gte: 3}\nlevel: high\n');
    const bad = await run(process.execPath, [BIN, 'rules', 'check', '--json', broken]).then(() => undefined, (e: { code: number; stdout: string }) => e);
    assert.ok(bad, 'a correlation over a missing rule is a rejected rule');
    assert.equal(bad.code, 1);
    const problems = (JSON.parse(bad.stdout.trim().split('\n').at(-1)!) as { problems: { file: string; line?: number; reason: string }[] }).problems;
    assert.ok(problems.some((p) => p.file === broken && p.line === 1 && /no_such_rule/.test(p.reason)), JSON.stringify(problems));

    const conv = await run(process.execPath, [BIN, 'convert', '--target', 'clickhouse', '--json', path.join(ROOT, 'rules')]).catch((e: { stdout: string }) => e);
    const entries = conv.stdout.trim().split('\n').map((l) => JSON.parse(l) as { title: string; translation: string; sql: string | null });
    const corr = entries.filter((e) => e.translation === 'correlation');
    assert.equal(corr.length, 9);
    assert.ok(corr.every((e) => e.sql === null));
    assert.ok(corr.some((e) => e.title === 'Short-Lived Administrator Account'));
  });
});
