import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError } from '../../../src/config/load.ts';
import { assertRulePaths } from '../../../src/config/rule-paths.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-rule-paths-'));

describe('rule paths', () => {
  test('every missing path is named, together, as a configuration error', () => {
    fs.writeFileSync(path.join(tmp, 'one.yml'), 'title: x\n');
    try {
      assertRulePaths([tmp, path.join(tmp, 'one.yml'), '/no/such/dir', '/no/other.yml']);
      assert.fail('expected a refusal');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.code, 'ERR_CONFIG');
      assert.deepEqual(err.problems, ['rules.paths: rule path "/no/such/dir" does not exist', 'rules.paths: rule path "/no/other.yml" does not exist']);
    }
  });

  test('existing files and directories pass; no path at all is refused', () => {
    assertRulePaths([tmp]);
    assert.throws(() => assertRulePaths([], 'rules check PATH'), /rules check PATH: no rule path given/);
  });
});
