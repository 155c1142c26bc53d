import assert from 'node:assert/strict';
import { test } from 'node:test';
import { workerConfigFrom } from '../../../src/config/from-config.ts';
import { loadConfig } from '../../../src/config/load.ts';

test('workers are told whether the body is stored: without it, it never leaves them (storage.store_body)', () => {
  assert.equal(workerConfigFrom(loadConfig({})).keepBody, true, 'stored by default');
  assert.equal(workerConfigFrom(loadConfig({ env: { OTEL_SIGMA_STORE_BODY: 'false' } })).keepBody, false);
});
