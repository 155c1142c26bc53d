/**
 * A read-only data directory (a read-only mount): `serve` exits before listening with a message that names
 * the real cause, not "a process can use only one embedded data directory at a time".
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../../../bin/otel-sigma.js');
const ROOT = path.resolve(import.meta.dirname, '../../..');
const isRoot = process.getuid?.() === 0;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-rodir-'));
const dir = path.join(tmp, 'data');
let mounted = false;
after(() => {
  if (mounted) execFileSync('umount', [dir]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('serve on a read-only data directory says it is not writable' + (isRoot ? '' : ' (skipped: needs root to mount a read-only tmpfs)'), { skip: !isRoot }, async () => {
  fs.mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir]);
  mounted = true;
  const r = await run(process.execPath, [BIN, 'serve', '--rules', path.join(ROOT, 'rules'), '--data-dir', dir, '--grpc-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0'])
    .then(() => ({ code: 0, out: '' }), (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }));
  assert.notEqual(r.code, 0);
  assert.match(r.out, /is not writable: EROFS/);
  assert.doesNotMatch(r.out, /only one embedded data directory/);
});
