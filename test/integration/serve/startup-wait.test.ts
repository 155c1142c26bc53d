/**
 * `serve` started beside dependencies that are not up yet (a supervisor starting everything at once):
 * it waits for ClickHouse and Redis up to storage.connect_timeout_s, one log line per attempt naming
 * the URL, instead of exiting at the first refused connection; past the deadline it exits 1 naming the
 * URL and what timed out.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { SharedState } from '../../../src/alert/shared-state.ts';
import { fakeClickHouse, freePort } from '../../helpers/fake-clickhouse.ts';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.ts';
import { startServe } from '../../helpers/service-process.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'bin/otel-sigma.js');
const RULE = path.join(ROOT, 'rules/linux/sshd/osg_lnx_sshd_invalid_user.yml');
const msgs = (logs: Record<string, unknown>[]): string[] => logs.map((l) => String(l['msg']));

/** Runs serve to its exit; its log lines, parsed. */
async function serveToExit(args: string[]): Promise<{ code: number | null; logs: Record<string, unknown>[]; ms: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, 'serve', '--grpc-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const logs: Record<string, unknown>[] = [];
  readline.createInterface({ input: child.stdout }).on('line', (l) => logs.push(JSON.parse(l) as Record<string, unknown>));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, logs, ms: performance.now() - t0 };
}

describe('start-up waits for its dependencies', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-startup-'));
  const servers: Server[] = [];
  const redis: RedisServer[] = [];
  after(async () => {
    for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
    for (const r of redis) await r.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('ClickHouse that never comes up: attempts logged with the URL, exit 1 at the deadline naming it', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const r = await serveToExit(['--rules', RULE, '--data-dir', path.join(tmp, 'never'), '--clickhouse-url', url, '--connect-timeout-s', '3']);
    assert.equal(r.code, 1, msgs(r.logs).join('\n'));
    assert.ok(r.ms >= 3_000, `exited after ${Math.round(r.ms)} ms, before the 3 s deadline`);
    const attempts = r.logs.filter((l) => /not reachable yet/.test(String(l['msg'])));
    assert.ok(attempts.length >= 2, `${attempts.length} attempt lines`);
    for (const a of attempts) assert.equal(a['url'], url);
    const fatal = r.logs.find((l) => l['level'] === 60);
    assert.match(String(fatal?.['msg']), new RegExp(`Cannot start: ClickHouse at http://127\\.0\\.0\\.1:${port} was not reachable within 3 s \\(storage\\.connect_timeout_s\\)`));
    assert.ok(!msgs(r.logs).includes('otel-sigma is listening.'));
  });

  test('ClickHouse that comes up after a while: serve waits, then listens and is ready', async () => {
    const port = await freePort();
    const late = fakeClickHouse();
    servers.push(late);
    // It comes up once serve has logged an attempt (a fixed delay would race a loaded machine's start-up).
    const svc = await startServe(['--rules', RULE, '--data-dir', path.join(tmp, 'late'), '--clickhouse-url', `http://127.0.0.1:${port}`, '--connect-timeout-s', '60'], {
      onLog: (rec) => {
        if (String(rec['msg']).startsWith(`ClickHouse at http://127.0.0.1:${port} is not reachable yet`) && !late.listening) late.listen(port, '127.0.0.1');
      },
    });
    try {
      const all = msgs(svc.logs);
      const attempts = all.filter((m) => m.startsWith(`ClickHouse at http://127.0.0.1:${port} is not reachable yet`));
      assert.ok(attempts.length >= 1, all.join('\n'));
      assert.ok(all.indexOf(`ClickHouse at http://127.0.0.1:${port} is reachable.`) < all.indexOf('otel-sigma is listening.'));
      const ready = await fetch(`http://${svc.http}/readyz`);
      assert.equal(ready.status, 200, await ready.text());
    } finally {
      assert.equal(await svc.stop('SIGTERM'), 0);
    }
  });

  test('Redis that comes up after a while is waited for too, its URL in every attempt line', async () => {
    const port = await freePort();
    // Redis starts once serve has logged two attempts (not after a fixed delay: a loaded machine reaches the wait later).
    let attemptsSeen = 0;
    let starting: Promise<void> | undefined;
    const svc = await startServe(['--rules', RULE, '--data-dir', path.join(tmp, 'redis'), '--alert-redis-url', `redis://127.0.0.1:${port}`, '--connect-timeout-s', '60'], {
      onLog: (rec) => {
        if (!String(rec['msg']).startsWith(`Redis at redis://127.0.0.1:${port} is not reachable yet`) || ++attemptsSeen !== 2) return;
        starting = startRedisServer({ port }).then((r) => { redis.push(r); });
      },
    });
    await starting;
    try {
      const all = msgs(svc.logs);
      const attempts = svc.logs.filter((l) => String(l['msg']).startsWith(`Redis at redis://127.0.0.1:${port} is not reachable yet`));
      assert.ok(attempts.length >= 2, all.join('\n'));
      assert.deepEqual(attempts.map((a) => a['attempt']), attempts.map((_, i) => i + 1));
      const reachable = all.indexOf(`Redis at redis://127.0.0.1:${port} is reachable.`);
      assert.ok(reachable >= 0 && reachable < all.indexOf('otel-sigma is listening.'), all.join('\n'));
    } finally {
      assert.equal(await svc.stop('SIGTERM'), 0);
    }
  });

  test('Redis that stays down: start-up goes on after the deadline on local alert state, saying so with the URL', async () => {
    const port = await freePort();
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
    const t0 = performance.now();
    const shared = new SharedState(`redis://127.0.0.1:${port}`, logger, 250, 1_500);
    await shared.ready();
    const ms = performance.now() - t0;
    await shared.close();
    assert.ok(ms >= 1_400 && ms < 5_000, `ready after ${Math.round(ms)} ms`);
    assert.ok(lines.filter((l) => String(l['msg']).startsWith(`Redis at redis://127.0.0.1:${port} is not reachable yet`)).length >= 2);
    const gaveUp = lines.find((l) => l['level'] === 50);
    assert.match(String(gaveUp?.['msg']), new RegExp(`Redis at redis://127\\.0\\.0\\.1:${port} was not reachable within 1\\.5 s \\(storage\\.connect_timeout_s\\); alert dedup and throttling use local state`));
  });
});
