/**
 * Rule reload in a running `serve`: a new rule file is picked up without a restart, SIGHUP reloads, a reload
 * that fails keeps the previous ruleset, and requests keep being answered throughout.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { sendGrpcExport } from '../../helpers/otlp-clients.ts';
import { otlpJsonToProtobuf } from '../../helpers/otlp-proto.ts';
import { startServe } from '../../helpers/service-process.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'bin/otel-sigma.js');
const INVALID_USER = path.join(ROOT, 'rules/linux/sshd/osg_lnx_sshd_invalid_user.yml');
const ROOT_LOGIN = path.join(ROOT, 'rules/linux/sshd/osg_lnx_sshd_root_login_accepted.yml');

/** One auth.log line as the filelog receiver delivers it (raw body, file name attribute). */
const authLine = (line: string, tNs: bigint): Uint8Array => otlpJsonToProtobuf({
  resourceLogs: [{
    resource: { attributes: [{ key: 'host.name', value: { stringValue: 'web-1' } }] },
    scopeLogs: [{ logRecords: [{ timeUnixNano: String(tNs), body: { stringValue: line }, attributes: [{ key: 'log.file.name', value: { stringValue: 'auth.log' } }] }] }],
  }],
});

async function rulesLoaded(http: string): Promise<number> {
  const text = await (await fetch(`http://${http}/metrics`)).text();
  return Number(/^otel_sigma_rules_loaded (\d+)/m.exec(text)?.[1] ?? -1);
}

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('rule reload', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-reload-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('file changes and SIGHUP reload the rules; a failed reload keeps the previous ruleset', async () => {
    const rulesDir = path.join(tmp, 'rules');
    fs.mkdirSync(rulesDir);
    fs.copyFileSync(INVALID_USER, path.join(rulesDir, 'a.yml'));
    const dataDir = path.join(tmp, 'data');
    const svc = await startServe(['--rules', rulesDir, '--data-dir', dataDir, '--workers', '1']);
    const t0 = 1_800_000_000_000_000_000n;
    const rootLogin = 'Nov 22 03:00:01 web-1 sshd[4242]: Accepted password for root from 203.0.113.7 port 51234 ssh2';
    try {
      assert.equal(await rulesLoaded(svc.http), 1);
      // Requests keep flowing while rules are reloaded underneath them.
      let stopTraffic = false;
      const codes: status[] = [];
      const traffic = (async () => {
        for (let i = 0; !stopTraffic; i++) codes.push((await sendGrpcExport(svc.grpc, authLine('Nov 22 03:00:00 web-1 sshd[1]: Connection closed by 198.51.100.1', t0 + BigInt(i)))).code);
      })();

      // 1. A new rule file is picked up by the watcher.
      fs.copyFileSync(ROOT_LOGIN, path.join(rulesDir, 'b.yml'));
      await until('the watcher to load the second rule', async () => (await rulesLoaded(svc.http)) === 2);
      assert.equal((await sendGrpcExport(svc.grpc, authLine(rootLogin, t0 + 1_000_000n))).code, status.OK);

      // 2. A change that leaves no loadable rule fails the reload: the previous two rules stay active.
      fs.writeFileSync(path.join(rulesDir, 'a.yml'), 'title: [broken\n');
      fs.writeFileSync(path.join(rulesDir, 'b.yml'), 'title: also broken\ndetection: {}\n');
      await until('the failed reload to be logged', () => Promise.resolve(svc.logs.some((l) => String(l['msg']).startsWith('Reload failed'))));
      assert.equal(await rulesLoaded(svc.http), 2);
      assert.equal((await sendGrpcExport(svc.grpc, authLine(rootLogin, t0 + 2_000_000n))).code, status.OK);

      // 3. SIGHUP reloads on demand.
      fs.rmSync(path.join(rulesDir, 'a.yml'));
      fs.copyFileSync(ROOT_LOGIN, path.join(rulesDir, 'b.yml'));
      await until('the watcher to settle', async () => (await rulesLoaded(svc.http)) === 1);
      const reloadsBefore = svc.logs.filter((l) => l['msg'] === 'Ruleset reloaded.').length;
      svc.child.kill('SIGHUP');
      await until('SIGHUP to reload', () => Promise.resolve(svc.logs.filter((l) => l['msg'] === 'Ruleset reloaded.').length > reloadsBefore));

      stopTraffic = true;
      await traffic;
      assert.ok(codes.length > 0 && codes.every((c) => c === status.OK), `every request during reloads was answered OK (${codes.length})`);
    } finally {
      assert.equal(await svc.stop(), 0);
    }
    const { stdout } = await run(process.execPath, [BIN, 'detections', '--data-dir', dataDir, '--since', '36500d', '--json']);
    const rows = stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { rule_title: string; host: string });
    assert.equal(rows.filter((r) => r.rule_title === 'Successful SSH Login As Root').length, 2, 'the reloaded rule fired, and the kept ruleset after the failed reload too');
    assert.ok(rows.every((r) => r.host === 'web-1'));
  });

  test('a reload whose logsource mapping file has become invalid is refused, naming the file; the previous ruleset stays', async () => {
    const mappingFile = path.join(tmp, 'mapping.yaml');
    fs.writeFileSync(mappingFile, 'entries: []\n');
    const svc = await startServe(['--rules', ROOT_LOGIN, '--mapping-file', mappingFile, '--data-dir', path.join(tmp, 'data-mapping'), '--workers', '1']);
    try {
      assert.equal(await rulesLoaded(svc.http), 1);
      // The mapping is read on the main thread now (the workers get it validated): a bad file must fail the reload, not the service.
      fs.writeFileSync(mappingFile, 'entries:\n  - product: windows\n    bogus: 1\n');
      svc.child.kill('SIGHUP');
      await until('the refused reload to be logged', () => Promise.resolve(svc.logs.some((l) => String(l['msg']).startsWith('Reload failed'))));
      const refused = svc.logs.find((l) => String(l['msg']).startsWith('Reload failed'))!;
      assert.match(String(refused['msg']), /logsource mapping .*mapping\.yaml/);
      assert.equal(await rulesLoaded(svc.http), 1);
      assert.equal((await sendGrpcExport(svc.grpc, authLine('Nov 22 03:00:01 web-1 sshd[4242]: Accepted password for root from 203.0.113.7 port 51234 ssh2', 1_800_000_000_000_000_000n))).code, status.OK);
    } finally {
      assert.equal(await svc.stop(), 0);
    }
  });
});
