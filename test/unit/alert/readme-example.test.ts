import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { validateAlertDto } from '../../helpers/keep-server.ts';

void test('the example payload in src/alert/README.md ("Alerts in Keep") is a contract-valid AlertDto', () => {
  const md = fs.readFileSync(path.resolve(import.meta.dirname, '../../../src/alert/README.md'), 'utf8');
  const block = /## Alerts in Keep[\s\S]*?```json\n([\s\S]*?)\n```/.exec(md)?.[1];
  assert.ok(block, 'no json example under "Alerts in Keep"');
  const a = JSON.parse(block) as Record<string, unknown>;
  assert.deepEqual(validateAlertDto(a), []);
  for (const k of ['id', 'name', 'status', 'severity', 'lastReceived', 'firingStartTime', 'fingerprint', 'source', 'service', 'environment', 'description', 'url', 'labels']) {
    assert.ok(k in a, `example lacks ${k}`);
  }
});
