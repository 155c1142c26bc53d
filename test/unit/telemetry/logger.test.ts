/** Log lines never repeat a key: a child logger's bindings and the call's own fields are merged. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { createLogger, safeUrl } from '../../../src/telemetry/logger.ts';
import { duplicateKeys } from '../../helpers/json-keys.ts';

/** createLogger writes to stdout: capture it for the duration of `fn`. */
function captured(fn: () => void): string[] {
  const out: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string | Uint8Array): boolean => {
    out.push(String(chunk));
    return true;
  };
  try {
    fn();
  } finally {
    process.stdout.write = write;
  }
  return out.join('').split('\n').filter((l) => l !== '');
}

describe('logger', () => {
  test('the scanner finds a repeated key (what pino alone prints for child bindings plus the same field)', () => {
    const lines: string[] = [];
    const plain = pino({ base: null }, new Writable({ write: (c: Buffer, _e, cb) => { lines.push(c.toString()); cb(); } }));
    plain.child({ stage: 'store' }).warn({ stage: 'store' }, 'x');
    return new Promise<void>((resolve) => setImmediate(() => {
      assert.deepEqual(duplicateKeys(lines[0]!), ['stage']);
      assert.deepEqual(duplicateKeys('{"a":{"b":1,"c":[{"b":2}]},"b":"\\"a\\":"}'), []);
      resolve();
    }));
  });

  test('a child bound to stage and transport, called with them again, prints each once', () => {
    const lines = captured(() => {
      const log = createLogger('info').child({ stage: 'receive', transport: 'http' });
      log.warn({ stage: 'receive', transport: 'http', code: 'ERR_DECODE' }, 'Export request failed');
      log.error({ stage: 'wal', log: 'detections' }, 'cannot write');
      log.info({ service: 'otel-sigma' }, 'base field repeated');
      log.error(new Error('boom'));
    });
    assert.equal(lines.length, 4);
    for (const l of lines) assert.deepEqual(duplicateKeys(l), [], l);
    const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(first!['code'], 'ERR_DECODE');
    assert.equal(second!['stage'], 'receive');
    assert.equal(second!['stage_detail'], 'wal', 'a differing value is kept, under its own key');
  });

  test('safeUrl leaves out credentials and query', () => {
    assert.equal(safeUrl('https://user:pw@ch.example:8443/?password=x'), 'https://ch.example:8443');
    assert.equal(safeUrl('redis://:secret@127.0.0.1:6379/0'), 'redis://127.0.0.1:6379/0');
    assert.equal(safeUrl('not a url'), '(invalid URL)');
  });
});
