import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Delivery } from '../../../src/alert/delivery.ts';
import type { AlertQueue } from '../../../src/alert/alert-queue.ts';
import { DEFAULT_RETRY } from '../../../src/alert/retry-policy.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';

/** A queue whose count is ahead of what it can read (an append still being written, or one that never lands). */
function countAheadOfLog(): AlertQueue & { peeks: number } {
  return {
    peeks: 0,
    length: 3,
    append: () => Promise.resolve(),
    peek() {
      this.peeks++;
      return Promise.resolve(undefined);
    },
    ack: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

const delivery = (queue: AlertQueue, signal: AbortSignal): Delivery =>
  new Delivery({ queue, client: undefined, retry: DEFAULT_RETRY, maxBatch: 100, logger: silentLogger, signal, count: () => undefined });

void test('a drain that finds the log empty ends, whatever the count says (it looped at full CPU)', async () => {
  const queue = countAheadOfLog();
  const abort = new AbortController();
  delivery(queue, abort.signal).kick();
  await new Promise((r) => setTimeout(r, 200));
  abort.abort(); // stops a loop, so the check below fails instead of hanging
  assert.equal(queue.peeks, 1, 'one read of the empty log, not a loop re-reading it');
});

void test('a kick during a drain runs it once more; more kicks meanwhile still once', async () => {
  const queue = countAheadOfLog();
  const abort = new AbortController();
  const d = delivery(queue, abort.signal);
  d.kick();
  d.kick();
  d.kick();
  await d.idle();
  await new Promise((r) => setTimeout(r, 50));
  await d.idle();
  abort.abort();
  assert.equal(queue.peeks, 2);
});
