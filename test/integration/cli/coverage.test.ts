/**
 * Coverage you can see, end to end: `serve` on a temporary data directory with four SigmaHQ rules (Windows
 * Security, Linux sshd, a Windows channel the shipped agent does not collect, macOS without mapping) logs
 * one line per logsource family, counts the events each logsource receives, answers GET /api/v1/coverage
 * (behind its token) in JSON, Navigator layer and SVG, keeps the counters across a restart
 * (<data_dir>/coverage.json), and `otel-sigma rules coverage` reads the same picture offline.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { CoverageReport } from '../../../src/detect/rule-coverage/report.ts';
import { exportRequest, failedLogon, sshdRecord } from '../../helpers/auth-events.ts';
import { hasCorpus, SHARED_SIGMA } from '../../helpers/corpus.ts';
import { httpGet, sendHttpExport } from '../../helpers/otlp-clients.ts';
import { startServe, type ServiceProcess } from '../../helpers/service-process.ts';

const exec = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'bin/otel-sigma.js');
const TOKEN = 'coverage-token-7f2a';
const auth = { authorization: `Bearer ${TOKEN}` };
const RULES = {
  'security.yml': 'rules/windows/builtin/security/win_security_susp_failed_logon_reasons.yml', // windows//security, T1078
  'sshd.yml': 'rules/linux/builtin/sshd/lnx_sshd_susp_ssh.yml', // linux//sshd, T1190
  'ldap.yml': 'rules/windows/builtin/ldap/win_ldap_recon.yml', // windows//ldap: LDAP-Client/Debug, not collected
  'macos.yml': 'rules/macos/process_creation/proc_creation_macos_remote_system_discovery.yml', // no mapping
};

const cli = async (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { cwd: ROOT, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

describe('coverage: serve counts what each logsource receives; rules coverage reads it' + (hasCorpus ? '' : ' (skipped: ../shared/sigma not present)'), { skip: !hasCorpus }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-coverage-'));
  const dataDir = path.join(tmp, 'data');
  const rulesDir = path.join(tmp, 'rules');
  let svc: ServiceProcess | undefined;
  const start = (): Promise<ServiceProcess> => startServe(['--rules', rulesDir, '--data-dir', dataDir, '--workers', '1'], { env: { OTEL_SIGMA_AUTH_TOKEN: TOKEN } });
  const coverage = async (s: ServiceProcess): Promise<CoverageReport> => {
    const r = await httpGet(s.http, '/api/v1/coverage', { headers: auth });
    assert.equal(r.status, 200, r.body.toString());
    return JSON.parse(r.body.toString()) as CoverageReport;
  };
  const state = (r: CoverageReport): Record<string, [string, number]> => Object.fromEntries(r.logsources.map((l) => [l.key, [l.state, l.events]]));
  const ns = BigInt(Date.now()) * 1_000_000n;

  before(async () => {
    fs.mkdirSync(rulesDir);
    for (const [name, rel] of Object.entries(RULES)) fs.copyFileSync(path.join(SHARED_SIGMA, rel), path.join(rulesDir, name));
    svc = await start();
  });

  after(async () => {
    await svc?.stop('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('start-up logs one line per logsource family', () => {
    const lines = svc!.logs.filter((l) => l['stage'] === 'coverage');
    assert.deepEqual(lines.map((l) => l['family']), ['windows', 'linux', 'generic']);
    assert.match(String(lines[0]!['msg']), /^windows: 2 rules over 2 channels; 1 channel not collected by the shipped agent \(Microsoft-Windows-LDAP-Client\/Debug\): 1 rule cannot fire; 0 rules receiving data\.$/);
    assert.match(String(lines[1]!['msg']), /^linux: 1 rule over 1 logsource from journald, syslog; the shipped agent collects a source of every one/);
    assert.match(String(lines[2]!['msg']), /1 rule with no logsource mapping cannot fire as written/);
  });

  test('the endpoint needs the token; before any event nothing is received', async () => {
    assert.equal((await httpGet(svc!.http, '/api/v1/coverage')).status, 401);
    assert.deepEqual(state(await coverage(svc!)), {
      'linux//sshd': ['waiting', 0],
      'macos/process_creation/': ['unmapped', 0],
      'windows//ldap': ['not_collected', 0],
      'windows//security': ['waiting', 0],
    });
  });

  test('Windows Security events received: that logsource is receiving, the others are not; layer and SVG follow', async () => {
    const body = JSON.stringify(exportRequest([failedLogon('dc-1', ns, '203.0.113.9', 'bob'), failedLogon('dc-1', ns + 1n, '203.0.113.9', 'eve')]));
    assert.equal((await sendHttpExport(svc!.http, body, { format: 'json', headers: auth })).status, 200);
    const r = await coverage(svc!);
    assert.deepEqual(state(r), {
      'linux//sshd': ['waiting', 0],
      'macos/process_creation/': ['unmapped', 0],
      'windows//ldap': ['not_collected', 0],
      'windows//security': ['receiving', 2],
    });
    assert.equal(r.rules_receiving, 1);
    assert.deepEqual(r.cannot_fire, { not_collected: { rules: 1, logsources: ['windows//ldap'] }, unmapped: { rules: 1, logsources: ['macos/process_creation/'] } });

    const layer = JSON.parse((await httpGet(svc!.http, '/api/v1/coverage?format=layer', { headers: auth })).body.toString()) as { versions: { layer: string }; techniques: { techniqueID: string; score: number }[] };
    assert.equal(layer.versions.layer, '4.5');
    const score = Object.fromEntries(layer.techniques.map((t) => [t.techniqueID, t.score]));
    assert.equal(score['T1078'], 2, 'the Security rule receives data');
    assert.equal(score['T1190'], 1, 'the sshd rule is only loaded');
    const svg = await httpGet(svc!.http, '/api/v1/coverage?format=svg', { headers: auth });
    assert.match(String(svg.headers['content-type']), /image\/svg\+xml/);
    assert.match(svg.body.toString(), /<svg [\s\S]*>T1078<[\s\S]*<\/svg>\n$/);
  });

  test('the received state survives a restart; new events add to it', async () => {
    assert.equal(await svc!.stop('SIGTERM'), 0);
    const saved = JSON.parse(fs.readFileSync(path.join(dataDir, 'coverage.json'), 'utf8')) as { logsources: Record<string, { events: number }> };
    assert.equal(saved.logsources['windows//security']?.events, 2);

    svc = await start();
    assert.deepEqual(state(await coverage(svc)), {
      'linux//sshd': ['waiting', 0],
      'macos/process_creation/': ['unmapped', 0],
      'windows//ldap': ['not_collected', 0],
      'windows//security': ['receiving', 2],
    });
    assert.match(String(svc.logs.find((l) => l['family'] === 'windows')?.['msg']), /1 rule receiving data/, 'start-up already counts what was received before');
    const sshd = JSON.stringify(exportRequest([sshdRecord('web-1', ns, 'Accepted publickey for alice from 203.0.113.5 port 50022 ssh2')]));
    assert.equal((await sendHttpExport(svc.http, sshd, { format: 'json', headers: auth })).status, 200);
    const r = await coverage(svc);
    assert.deepEqual(state(r)['linux//sshd'], ['receiving', 1]);
    assert.deepEqual(state(r)['windows//security'], ['receiving', 2]);
    assert.equal(await svc.stop('SIGTERM'), 0);
    svc = undefined;
  });

  test('rules coverage --json works offline from the same rules and data directory; --layer and --svg write files', async () => {
    const layerFile = path.join(tmp, 'layer.json');
    const svgFile = path.join(tmp, 'coverage.svg');
    const r = await cli(['rules', 'coverage', '--rules', rulesDir, '--data-dir', dataDir, '--json', '--layer', layerFile, '--svg', svgFile]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as CoverageReport;
    assert.deepEqual(state(report), {
      'linux//sshd': ['receiving', 1],
      'macos/process_creation/': ['unmapped', 0],
      'windows//ldap': ['not_collected', 0],
      'windows//security': ['receiving', 2],
    });
    assert.equal((JSON.parse(fs.readFileSync(layerFile, 'utf8')) as { domain: string }).domain, 'enterprise-attack');
    assert.match(fs.readFileSync(svgFile, 'utf8'), /^<svg /);

    const text = await cli(['rules', 'coverage', '--rules', rulesDir, '--data-dir', path.join(tmp, 'elsewhere')]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stderr, /No event counters in .*elsewhere.*coverage\.json/);
    assert.match(text.stdout, /^not_collected\s+1\s+0\s+-\s+windows\/\/ldap\s+Microsoft-Windows-LDAP-Client\/Debug \(not collected by the shipped agent\)$/m);
    const missing = await cli(['rules', 'coverage', '--rules', path.join(tmp, 'no-such-dir')]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no-such-dir/);
  });
});
