/**
 * Correlation shared by two replicas through Redis (`correlation.redis_url`): one address brute-forcing
 * hosts whose logs reach different replicas fires once, as one process would fire it; when the replica
 * that runs the shared stage is killed, the other takes over the open window and nothing fires twice.
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
import { startRedisServer } from '../../helpers/redis-server.ts';
import { startServe, type ServiceProcess } from '../../helpers/service-process.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'bin/otel-sigma.js');
const API_KEY = 'shared-key-9d4e';
const T0 = 1_772_323_200n * SECOND_NS;
const TITLE = 'SSH Brute Force From One Address';

const failure = (host: string, i: number): HostRecord =>
  sshdRecord(host, T0 + BigInt(i) * 5n * SECOND_NS, `Failed password for admin${i % 3} from 198.51.100.20 port ${30000 + i} ssh2`);

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('correlation shared through Redis', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-corr-shared-'));
  const running: { stop(signal?: NodeJS.Signals): Promise<unknown> }[] = [];
  after(async () => {
    for (const p of running) await p.stop('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('one address against hosts on two replicas fires once; the survivor of a killed leader continues the window, nothing twice', { timeout: 120_000 }, async () => {
    const redis = await startRedisServer();
    running.push(redis);
    const keep = await startKeepServer({ apiKey: API_KEY });
    try {
      const start = (n: string) => startServe(['--rules', path.join(ROOT, 'rules'), '--workers', '1', '--data-dir', path.join(tmp, `data-${n}`),
        '--correlation-lateness-ms', '0', '--correlation-redis-url', redis.url, '--correlation-leader-lease-ms', '1500',
        '--keep-url', keep.url, '--keep-api-key', API_KEY, '--alert-min-level', 'medium']);
      const replicas = new Map<string, ServiceProcess>();
      for (const n of ['a', 'b']) {
        const s = await start(n);
        running.push(s);
        replicas.set(n, s);
      }
      const send = async (s: ServiceProcess, recs: HostRecord[]) => {
        const r = await sendHttpExport(s.http, JSON.stringify(exportRequest(recs)), { format: 'json' });
        assert.equal(r.status, 200, r.body.toString());
      };
      const leaderOf = () => [...replicas].find(([, s]) => s.logs.some((l) => l['msg'] === 'This replica now runs the shared correlation stage.'))?.[0];
      await until('a leader', () => leaderOf() !== undefined);

      // 12 failures from one address: odd ones on replica a's host, even ones on replica b's.
      for (let i = 0; i < 12; i++) await send(replicas.get(i % 2 ? 'a' : 'b')!, [failure(i % 2 ? 'web-a' : 'web-b', i)]);
      await until('the brute-force alert', () => keep.alerts.some((a) => a.name === TITLE)).catch((e: unknown) => {
        throw new Error(`${(e as Error).message}; alerts ${JSON.stringify(keep.alerts.map((a) => a.name))}; logs ${JSON.stringify([...replicas.values()].flatMap((r) => r.logs.filter((l) => Number(l['level']) >= 40 || String(l['stage']) === 'correlate')))}`);
      });

      // Kill the leader in the middle of the next window; the survivor takes the lease, replays, continues.
      const leader = leaderOf()!;
      const survivor = leader === 'a' ? 'b' : 'a';
      await send(replicas.get(leader)!, [failure(`web-${leader}`, 12), failure(`web-${leader}`, 13)]);
      assert.equal(await replicas.get(leader)!.stop('SIGKILL'), null);
      for (let i = 14; i < 22; i++) await send(replicas.get(survivor)!, [failure(`web-${survivor}`, i)]);
      await until('the survivor to lead', () => replicas.get(survivor)!.logs.some((l) => l['msg'] === 'This replica now runs the shared correlation stage.'));
      // Lateness 0: the replayed stream decides the window at once; give the store a moment to take it.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(await replicas.get(survivor)!.stop('SIGTERM'), 0);

      async function rows(): Promise<{ rule_title: string; correlation_value: number; window_start: string; fingerprint: string }[]> {
        const all = [];
        for (const n of ['a', 'b']) {
          const { stdout } = await run(process.execPath, [BIN, 'detections', '--data-dir', path.join(tmp, `data-${n}`), '--since', '36500d', '--limit', '1000', '--json']);
          all.push(...stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { rule_title: string; correlation_value: number; window_start: string; fingerprint: string }));
        }
        return all.filter((r) => r.rule_title === TITLE);
      }
      const stored = await rows();
      console.log(`shared correlation: leader ${leader} killed, survivor ${survivor}; ${stored.length} brute-force windows stored: ${stored.map((r) => `${r.window_start} (${r.correlation_value})`).join(', ')}`);
      assert.equal(stored.length, 2, 'failures 0-9 and 10-19: two windows, each stored once across both replicas');
      assert.equal(new Set(stored.map((r) => r.fingerprint)).size, 2);
      assert.deepEqual(stored.map((r) => r.correlation_value), [10, 10]);
      const alerts = keep.alerts.filter((a) => a.name === TITLE);
      assert.equal(new Set(alerts.map((a) => a.fingerprint)).size, 1, 'one alert for the address, updated by the second window');
      assert.deepEqual(keep.violations, []);
    } finally {
      await keep.close();
    }
  });
});
