/**
 * Correlations in `serve`: base-rule matches from requests (and workers) meet in the correlation stage,
 * a fired window is a row of the detections table and a Keep alert; the state survives SIGKILL in the
 * middle of a window (snapshot + correlation log), a sender's retry of an answered request is not
 * counted twice, and nothing fires twice across restarts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { exportRequest, SECOND_NS, sshdRecord, type HostRecord } from '../../helpers/auth-events.ts';
import { startKeepServer } from '../../helpers/keep-server.ts';
import { sendHttpExport } from '../../helpers/otlp-clients.ts';
import { startServe, type ServiceProcess } from '../../helpers/service-process.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'bin/otel-sigma.js');
const API_KEY = 'corr-key-5e1d';
const T0 = 1_772_323_200n * SECOND_NS;

interface Row {
  rule_title: string;
  fingerprint: string;
  correlation_type: string;
  correlation_group: Record<string, string>;
  correlation_value: number;
  contributing: string[];
  window_start: string;
  window_end: string;
}

const failures = (from: number, count: number): HostRecord[] =>
  Array.from({ length: count }, (_, i) => sshdRecord('web-9', T0 + BigInt(from + i) * 10n * SECOND_NS, `Failed password for root from 203.0.113.9 port ${30000 + from + i} ssh2`));

void describe('correlation in serve', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-corr-serve-'));
  const dataDir = path.join(tmp, 'data');
  const running: ServiceProcess[] = [];
  after(async () => {
    for (const s of running) await s.stop('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  void test('a window open across a SIGKILL fires once after the restart; a retried request is not counted twice', { timeout: 120_000 }, async () => {
    const keep = await startKeepServer({ apiKey: API_KEY });
    try {
      const serve = async (): Promise<ServiceProcess> => {
        // Lateness 0: a window is decided as its matches arrive, so the test need not wait for the clock.
        const s = await startServe(['--rules', path.join(ROOT, 'rules'), '--data-dir', dataDir, '--workers', '1', '--correlation-lateness-ms', '0',
          '--keep-url', keep.url, '--keep-api-key', API_KEY, '--alert-min-level', 'medium']);
        running.push(s);
        return s;
      };
      const send = async (s: ServiceProcess, recs: HostRecord[]): Promise<void> => {
        const r = await sendHttpExport(s.http, JSON.stringify(exportRequest(recs)), { format: 'json' });
        assert.equal(r.status, 200, r.body.toString());
      };

      let svc = await serve();
      await send(svc, failures(0, 3));
      await send(svc, failures(3, 3)); // 6 failures: the 5-failure root window fired, the 10-failure one is open
      assert.equal(await svc.stop('SIGKILL'), null);

      svc = await serve();
      const second = failures(6, 4);
      await send(svc, second); // 10 failures: the address's brute-force window fires now
      await send(svc, second); // the sender retries an answered request: the same matches, not counted again
      await send(svc, failures(10, 1));
      assert.equal(await svc.stop('SIGKILL'), null);

      svc = await serve();
      await send(svc, second);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await svc.stop('SIGTERM'), 0);

      const { stdout } = await run(process.execPath, [BIN, 'detections', '--data-dir', dataDir, '--since', '36500d', '--limit', '1000', '--json']);
      const rows = stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
      const corr = rows.filter((r) => r.correlation_type !== '');
      const brute = corr.filter((r) => r.rule_title === 'SSH Brute Force From One Address');
      assert.equal(brute.length, 1, JSON.stringify(corr, null, 1));
      assert.equal(brute[0]!.correlation_type, 'event_count');
      assert.deepEqual(brute[0]!.correlation_group, { src_ip: '203.0.113.9' });
      assert.equal(brute[0]!.correlation_value, 10);
      assert.equal(brute[0]!.contributing.length, 10);
      assert.equal(new Set(brute[0]!.contributing).size, 10);
      assert.ok(brute[0]!.window_start.startsWith('2026-03-01 00:00:00'), brute[0]!.window_start);
      assert.ok(brute[0]!.window_end.startsWith('2026-03-01 00:01:30'), brute[0]!.window_end);
      const root = corr.filter((r) => r.rule_title === 'SSH Root Brute Force On A Host');
      assert.equal(root.length, 2, 'failures 1-5 and 6-10: two windows, each once');
      assert.equal(new Set(corr.map((r) => r.fingerprint)).size, corr.length, 'no correlation stored twice');
      assert.equal(rows.filter((r) => r.rule_title === 'SSH Authentication Failure').length, 0, 'base rules feed the correlations only');

      // One Keep alert per rule and group; later windows of the root group update it.
      const alerts = await keep.waitForAlerts(2, 10_000);
      assert.deepEqual(keep.violations, []);
      const bruteAlert = alerts.find((a) => a.name === 'SSH Brute Force From One Address');
      assert.ok(bruteAlert, JSON.stringify(alerts.map((a) => a.name)));
      assert.equal(bruteAlert.labels['correlation_type'], 'event_count');
      assert.equal(bruteAlert.labels['group.src_ip'], '203.0.113.9');
      assert.equal(bruteAlert.labels['correlation_value'], '10');
      const fingerprints = new Set(alerts.map((a) => a.fingerprint));
      assert.equal(fingerprints.size, 2, JSON.stringify(alerts.map((a) => [a.name, a.fingerprint])));
    } finally {
      await keep.close();
    }
  });
});
