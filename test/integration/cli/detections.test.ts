/**
 * Reading detections while `serve` runs on its default (embedded, locked) store: `otel-sigma detections`
 * finds the service through <data_dir>/serve.json and asks its GET /api/v1/detections, behind the same
 * token and TLS as the OTLP endpoints. Filters on detection time by default, event time on request.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { makePki, type Pki } from '../../helpers/certs.ts';
import { httpGet, sendHttpExport } from '../../helpers/otlp-clients.ts';
import { startServe, type ServiceProcess } from '../../helpers/service-process.ts';

const exec = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'bin/otel-sigma.js');
const INVALID_USER = path.join(ROOT, 'rules/linux/sshd/osg_lnx_sshd_invalid_user.yml'); // low, attack.t1110.001
const ROOT_LOGIN = path.join(ROOT, 'rules/linux/sshd/osg_lnx_sshd_root_login_accepted.yml'); // medium, attack.t1078.003
const TOKEN = 'read-while-running-3c9e';
const auth = { authorization: `Bearer ${TOKEN}` };

const cli = async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> => {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { cwd: ROOT, maxBuffer: 64 << 20, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};
const jsonLines = (s: string): Record<string, unknown>[] => s.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

/** One auth.log line from `host` as the filelog receiver delivers it, OTLP/JSON. */
const authLine = (host: string, line: string, tNs: bigint): string => JSON.stringify({
  resourceLogs: [{
    resource: { attributes: [{ key: 'host.name', value: { stringValue: host } }] },
    scopeLogs: [{ logRecords: [{ timeUnixNano: String(tNs), body: { stringValue: line }, attributes: [{ key: 'log.file.name', value: { stringValue: 'auth.log' } }] }] }],
  }],
});

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('otel-sigma detections while serve runs on the embedded store', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-detections-'));
  const dataDir = path.join(tmp, 'data');
  const rulesDir = path.join(tmp, 'rules');
  let svc: ServiceProcess;
  const OLD_NS = 978_307_200_000_000_000n; // 2001-01-01: an event recorded long ago, detected now
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const detections = (...args: string[]): ReturnType<typeof cli> => cli(['detections', '--data-dir', dataDir, ...args], { OTEL_SIGMA_AUTH_TOKEN: TOKEN });

  before(async () => {
    fs.mkdirSync(rulesDir);
    fs.copyFileSync(INVALID_USER, path.join(rulesDir, 'invalid-user.yml'));
    fs.copyFileSync(ROOT_LOGIN, path.join(rulesDir, 'root-login.yml'));
    svc = await startServe(['--rules', rulesDir, '--data-dir', dataDir, '--workers', '1'], { env: { OTEL_SIGMA_AUTH_TOKEN: TOKEN } });
    const send = async (body: string): Promise<void> => assert.equal((await sendHttpExport(svc.http, body, { format: 'json', headers: auth })).status, 200);
    await send(authLine('web-1', 'Jan  1 00:00:00 web-1 sshd[4242]: Invalid user admin from 203.0.113.7 port 40512', OLD_NS));
    await send(authLine('web-2', 'Nov 22 03:00:01 web-2 sshd[4243]: Accepted password for root from 203.0.113.8 port 51234 ssh2', nowNs));
    await until('both detections stored', async () => {
      const r = await httpGet(svc.http, '/api/v1/detections?since=all&limit=0', { headers: auth });
      return r.status === 200 && jsonLines(r.body.toString()).length === 2;
    });
  });

  after(async () => {
    await svc?.stop('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('serve advertises its HTTP address in serve.json, without the token', () => {
    const info = JSON.parse(fs.readFileSync(path.join(dataDir, 'serve.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(info['pid'], svc.child.pid);
    assert.equal(info['http'], svc.http);
    assert.equal(info['auth'], true);
    assert.equal(info['tls'], false);
    assert.doesNotMatch(JSON.stringify(info), new RegExp(TOKEN));
  });

  test('the endpoint requires the token and streams JSON lines, or a JSON array', async () => {
    assert.equal((await httpGet(svc.http, '/api/v1/detections')).status, 401);
    assert.equal((await httpGet(svc.http, '/api/v1/detections', { headers: { authorization: 'Bearer wrong' } })).status, 401);
    const lines = await httpGet(svc.http, '/api/v1/detections?host=web-1', { headers: auth });
    assert.equal(lines.status, 200);
    assert.match(String(lines.headers['content-type']), /application\/x-ndjson/);
    assert.deepEqual(jsonLines(lines.body.toString()).map((r) => r['host']), ['web-1']);
    const array = await httpGet(svc.http, '/api/v1/detections?format=json&since=all', { headers: auth });
    assert.equal((JSON.parse(array.body.toString()) as unknown[]).length, 2);
    const bad = await httpGet(svc.http, '/api/v1/detections?sinse=1h', { headers: auth });
    assert.equal(bad.status, 400);
    assert.match(bad.body.toString(), /unknown parameter/);
    assert.equal((await httpGet(svc.http, '/api/v1/detections?level=urgent', { headers: auth })).status, 400);
  });

  test('detections reads through the running serve; --since is on detection time, --event-time on event time', async () => {
    const r = await detections('--json');
    assert.equal(r.code, 0, r.stderr);
    const rows = jsonLines(r.stdout);
    // The 2001 event was detected a moment ago: "--since 24h" (the default) shows it.
    assert.deepEqual(rows.map((x) => x['host']).sort(), ['web-1', 'web-2']);
    assert.match(String(rows.find((x) => x['host'] === 'web-1')!['event_time']), /^2001-01-01 /);

    assert.deepEqual(jsonLines((await detections('--json', '--event-time', '--since', '1h')).stdout).map((x) => x['host']), ['web-2']);
    const longAgo = await detections('--json', '--event-time', '--since', '100y');
    assert.equal(longAgo.code, 0, longAgo.stderr);
    assert.equal(jsonLines(longAgo.stdout).length, 2);
    assert.equal(jsonLines((await detections('--json', '--event-time', '--since', 'all')).stdout).length, 2);
  });

  test('filters: rule, minimum level, host, source, ATT&CK tag (with sub-techniques)', async () => {
    const hosts = async (...args: string[]): Promise<string[]> => {
      const r = await detections('--json', ...args);
      assert.equal(r.code, 0, r.stderr);
      return jsonLines(r.stdout).map((x) => String(x['host'])).sort();
    };
    assert.deepEqual(await hosts('--rule', '812f88a9-5715-4d82-9a76-21f0a6b61f32'), ['web-1']);
    assert.deepEqual(await hosts('--level', 'medium'), ['web-2']);
    assert.deepEqual(await hosts('--level', 'low'), ['web-1', 'web-2']);
    assert.deepEqual(await hosts('--host', 'web-2'), ['web-2']);
    assert.deepEqual(await hosts('--source', 'stream'), ['web-1', 'web-2']);
    assert.deepEqual(await hosts('--source', 'hunt'), []);
    assert.deepEqual(await hosts('--tag', 'attack.t1110'), ['web-1']);
    assert.deepEqual(await hosts('--tag', 'attack.t1078.003'), ['web-2']);
    assert.deepEqual(await hosts('--tag', 'attack.t107'), [], 'a tag is matched whole, not as a text prefix');
    const bad = await detections('--level', 'urgent');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--level: got "urgent"/);
  });

  test('--limit cuts and says so on stderr; --limit 0 is all; table, JSON and CSV output', async () => {
    const one = await detections('--json', '--limit', '1');
    assert.equal(jsonLines(one.stdout).length, 1);
    assert.match(one.stderr, /showing the newest 1 detections; more match/);
    const all = await detections('--json', '--limit', '0');
    assert.equal(jsonLines(all.stdout).length, 2);
    assert.doesNotMatch(all.stderr, /more match/);

    const csv = await detections('--format', 'csv');
    assert.equal(csv.code, 0, csv.stderr);
    const [head, ...rows] = csv.stdout.trim().split('\n');
    assert.match(head!, /^detected_at,event_time,rule_id,rule_title,rule_level,/);
    assert.equal(rows.length, 2);
    assert.ok(rows.some((l) => l.includes('"[""attack.initial-access""')), 'arrays as JSON, quotes doubled');

    const table = await detections();
    assert.match(table.stdout, /^DETECTED AT +EVENT TIME +LEVEL +HOST +SOURCE +RULE +RULE ID/);
    assert.match(table.stdout, /2 detection\(s\) detected in the last 24h \(from the running serve, pid \d+\)/);
    assert.notEqual((await detections('--format', 'xml')).code, 0);
  });

  test('without the token the command says what is missing', async () => {
    const r = await cli(['detections', '--data-dir', dataDir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /requires a token: set receiver\.auth_token/);
  });

  test('a data directory where nothing was stored is named in the answer', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-detections-empty-'));
    try {
      const r = await cli(['detections', '--data-dir', empty]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no detections table otel_sigma\.detections in the embedded store in .*otel-sigma-detections-empty-/);
      assert.match(r.stderr, /Pass the --data-dir serve uses/);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  test('after serve stops, serve.json is gone and detections reads the store itself', async () => {
    assert.equal(await svc.stop('SIGTERM'), 0);
    assert.equal(fs.existsSync(path.join(dataDir, 'serve.json')), false);
    const r = await cli(['detections', '--data-dir', dataDir, '--json', '--since', 'all']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(jsonLines(r.stdout).length, 2);
  });
});

describe('otel-sigma detections through a serve that speaks TLS', () => {
  let pki: Pki;
  let svc: ServiceProcess;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-detections-tls-'));
  const dataDir = path.join(tmp, 'data');

  before(async () => {
    pki = makePki();
    svc = await startServe(['--rules', INVALID_USER, '--data-dir', dataDir, '--workers', '1', '--tls-cert-file', pki.files.serverCert, '--tls-key-file', pki.files.serverKey]);
  });
  after(async () => {
    await svc?.stop('SIGKILL');
    pki?.remove();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('the certificate serve presents is verified against receiver.tls_cert_file', async () => {
    const ok = await cli(['detections', '--data-dir', dataDir, '--tls-cert-file', pki.files.serverCert, '--tls-key-file', pki.files.serverKey, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, '');
    const noCert = await cli(['detections', '--data-dir', dataDir]);
    assert.equal(noCert.code, 1);
    assert.match(noCert.stderr, /speaks TLS: give the certificate it presents/);
    // Another certificate (here the CA's) is not the one serve presents: refused.
    const other = await cli(['detections', '--data-dir', dataDir, '--tls-cert-file', pki.files.caCert, '--tls-key-file', pki.files.serverKey]);
    assert.equal(other.code, 1);
    assert.doesNotMatch(other.stdout, /detection\(s\)/);
  });
});
