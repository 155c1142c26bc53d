/** Receiver accounting: one requests_total per request, errors_total per failure, warnings rate-limited. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { ErrorCode, PipelineError } from '../../../src/errors.ts';
import { createAccounting, retryAfterSeconds } from '../../../src/receive/accounting.ts';
import { metrics } from '../../../src/telemetry/metrics.ts';

async function value(c: typeof metrics.requestsTotal | typeof metrics.errors, labels: Record<string, string>): Promise<number> {
  const { values } = await c.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x)).reduce((s, v) => s + v.value, 0);
}

function capture(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  let text = '';
  const stream = new Writable({ write(chunk: Buffer, _e, cb) { text += chunk.toString(); cb(); } });
  return { logger: pino({ level: 'info' }, stream), lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

void describe('receiver accounting', () => {
  void test('outcomes: accepted, partial, refused, retry; errors by stable code', async () => {
    const { logger } = capture();
    const acc = createAccounting('http', logger);
    const before = {
      accepted: await value(metrics.requestsTotal, { transport: 'http', outcome: 'accepted' }),
      partial: await value(metrics.requestsTotal, { transport: 'http', outcome: 'partial' }),
      refused: await value(metrics.requestsTotal, { transport: 'http', outcome: 'refused' }),
      retry: await value(metrics.requestsTotal, { transport: 'http', outcome: 'retry' }),
      internal: await value(metrics.errors, { stage: 'receive', code: ErrorCode.INTERNAL }),
    };
    acc.success({ rejectedLogRecords: 0, errorMessage: 'only a warning' });
    acc.success({ rejectedLogRecords: 1, errorMessage: 'x' });
    assert.equal(acc.failure(new PipelineError(ErrorCode.DECODE, 'bad', false)), ErrorCode.DECODE);
    assert.equal(acc.failure(new PipelineError(ErrorCode.BACKPRESSURE, 'full', true)), ErrorCode.BACKPRESSURE);
    assert.equal(acc.failure(new Error('plain')), ErrorCode.INTERNAL);
    assert.equal(await value(metrics.requestsTotal, { transport: 'http', outcome: 'accepted' }), before.accepted + 1);
    assert.equal(await value(metrics.requestsTotal, { transport: 'http', outcome: 'partial' }), before.partial + 1);
    assert.equal(await value(metrics.requestsTotal, { transport: 'http', outcome: 'refused' }), before.refused + 2);
    assert.equal(await value(metrics.requestsTotal, { transport: 'http', outcome: 'retry' }), before.retry + 1);
    assert.equal(await value(metrics.errors, { stage: 'receive', code: ErrorCode.INTERNAL }), before.internal + 1);
  });

  void test('failures are logged at most once per interval, with the suppressed count', async () => {
    const { logger, lines } = capture();
    const acc = createAccounting('grpc', logger, 50);
    for (let i = 0; i < 100; i++) acc.failure(new PipelineError(ErrorCode.DECODE, `bad ${i}`, false));
    assert.equal(lines().length, 1);
    assert.equal(lines()[0]!['code'], ErrorCode.DECODE);
    assert.equal(lines()[0]!['suppressed'], 0);
    await new Promise((r) => setTimeout(r, 60));
    acc.failure(new PipelineError(ErrorCode.DECODE, 'again', false));
    assert.equal(lines().length, 2);
    assert.equal(lines()[1]!['suppressed'], 99);
    assert.equal(lines()[1]!['level'], 40);
  });

  void test('retryAfterSeconds rounds up and defaults to 1', () => {
    assert.equal(retryAfterSeconds(new PipelineError(ErrorCode.BACKPRESSURE, 'x', true, { retryAfterSeconds: 2.1 })), 3);
    assert.equal(retryAfterSeconds(new PipelineError(ErrorCode.BACKPRESSURE, 'x', true)), 1);
    assert.equal(retryAfterSeconds(new PipelineError(ErrorCode.BACKPRESSURE, 'x', true, { retryAfterSeconds: 0 })), 1);
    assert.equal(retryAfterSeconds(new Error('x')), 1);
  });
});
