/**
 * Start-up against a ClickHouse server that is not up yet: waitUntilReachable retries refused and
 * unanswered pings with backoff until the deadline, logging each attempt with the URL (never its
 * credentials), and its final error names the URL and what timed out. Local servers stand in for
 * ClickHouse: one that starts listening late, one that never answers.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { isPipelineError } from '../../../src/errors.ts';
import { openClickHouse, waitUntilReachable } from '../../../src/store/client.ts';
import { fakeClickHouse, freePort } from '../../helpers/fake-clickhouse.ts';

function captureLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) }) };
}

const servers: Server[] = [];
after(async () => {
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
});

describe('waitUntilReachable', () => {
  test('a server that starts listening late is waited for, one log line per failed attempt with the URL', async () => {
    const port = await freePort();
    const url = `http://otel:s3cret@127.0.0.1:${port}`;
    const ch = openClickHouse({ url, dataDir: '/nonexistent' });
    const late = fakeClickHouse();
    servers.push(late);
    const timer = setTimeout(() => late.listen(port, '127.0.0.1'), 1_500);
    const { logger, lines } = captureLogger();
    const t0 = performance.now();
    try {
      await waitUntilReachable(ch, { timeoutMs: 20_000, logger, initialDelayMs: 200 });
    } finally {
      clearTimeout(timer);
      await ch.close();
    }
    assert.ok(performance.now() - t0 >= 1_400, 'it waited for the server');
    const attempts = lines.filter((l) => /not reachable yet/.test(String(l['msg'])));
    assert.ok(attempts.length >= 2, `${attempts.length} attempt lines`);
    for (const a of attempts) {
      assert.equal(a['url'], `http://127.0.0.1:${port}`);
      assert.match(String(a['msg']), new RegExp(`ClickHouse at http://127\\.0\\.0\\.1:${port} is not reachable yet \\(.*ECONNREFUSED`));
    }
    assert.deepEqual(attempts.map((a) => a['attempt']), attempts.map((_, i) => i + 1));
    assert.ok(lines.some((l) => /is reachable/.test(String(l['msg']))));
    assert.doesNotMatch(JSON.stringify(lines), /s3cret/);
  });

  test('never reachable: rejects at the deadline, naming the URL and the setting', async () => {
    const port = await freePort();
    const ch = openClickHouse({ url: `http://127.0.0.1:${port}`, dataDir: '/nonexistent' });
    const { logger, lines } = captureLogger();
    const t0 = performance.now();
    await assert.rejects(waitUntilReachable(ch, { timeoutMs: 2_000, logger, initialDelayMs: 200 }), (e: unknown) =>
      isPipelineError(e) && e.code === 'ERR_STORE' && e.retryable &&
      e.message.includes(`ClickHouse at http://127.0.0.1:${port} was not reachable within 2 s (storage.connect_timeout_s)`) && /ECONNREFUSED/.test(e.message));
    const elapsed = performance.now() - t0;
    await ch.close();
    assert.ok(elapsed >= 1_900 && elapsed < 6_000, `gave up after ${Math.round(elapsed)} ms`);
    assert.ok(lines.length >= 3, `${lines.length} attempt lines`);
  });

  test('a server that accepts connections but does not answer: the attempt times out, and says so with the URL', async () => {
    const sockets: Socket[] = [];
    const silent = createTcpServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as AddressInfo;
    const ch = openClickHouse({ url: `http://127.0.0.1:${port}`, dataDir: '/nonexistent' });
    const { logger } = captureLogger();
    try {
      await assert.rejects(waitUntilReachable(ch, { timeoutMs: 1_500, logger, attemptTimeoutMs: 500, initialDelayMs: 100 }),
        new RegExp(`ClickHouse at http://127\\.0\\.0\\.1:${port} was not reachable within 1\\.5 s \\(storage\\.connect_timeout_s\\): no answer within \\d+ ms`));
    } finally {
      await ch.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  test('the embedded engine is not waited for', async () => {
    const ch = { embedded: true } as Parameters<typeof waitUntilReachable>[0];
    await waitUntilReachable(ch, { timeoutMs: 0 });
  });
});
