import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { CONFIG_KEYS } from '../../../src/config/keys.ts';
import { ConfigError, loadConfig, redactConfig } from '../../../src/config/load.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-config-'));
const file = (name: string, text: string): string => {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  return p;
};
const problemsOf = (fn: () => unknown): readonly string[] => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_CONFIG');
    return err.problems;
  }
  assert.fail('expected the configuration to be refused');
};

describe('config', () => {
  test('defaults: sidecar ports that do not collide with the SigNoz collector (4317/4318), embedded storage', () => {
    const c = loadConfig({});
    assert.equal(c.receiver.grpc_listen, '127.0.0.1:4319');
    assert.equal(c.receiver.http_listen, '127.0.0.1:4320');
    assert.equal(c.receiver.max_request_bytes, 64 * 1024 * 1024);
    assert.equal(c.storage.clickhouse_url, '');
    assert.equal(c.storage.data_dir, './data');
    assert.equal(`${c.storage.database}.${c.storage.table}`, 'otel_sigma.detections');
    assert.deepEqual(c.rules.paths, ['rules']);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.storage));
  });

  test('precedence: defaults < file < environment < flags', () => {
    const f = file('prec.yaml', 'storage:\n  ttl_days: 10\n  database: fromfile\nreceiver:\n  grpc_listen: 0.0.0.0:1111\n');
    const c = loadConfig({ file: f, env: { OTEL_SIGMA_TTL_DAYS: '20', OTEL_SIGMA_GRPC_LISTEN: '127.0.0.1:2222' }, flags: { 'grpc-listen': '127.0.0.1:3333' } });
    assert.equal(c.storage.database, 'fromfile');
    assert.equal(c.storage.ttl_days, 20);
    assert.equal(c.receiver.grpc_listen, '127.0.0.1:3333');
  });

  test('repeatable list flags and placeholder values', () => {
    const c = loadConfig({ flags: { rules: ['a', 'b,c'], placeholder: ['Admins=alice,bob', 'Servers=srv1'] } });
    assert.deepEqual(c.rules.paths, ['a', 'b', 'c']);
    assert.deepEqual(c.rules.placeholders, { Admins: ['alice', 'bob'], Servers: ['srv1'] });
  });

  test('every problem is reported at once, naming key, value and what is allowed', () => {
    const f = file('bad.yaml', 'receiver:\n  grpc_listn: 1\nstorage:\n  ttl_days: -1\n  table: "drop table"\nalerts:\n  min_level: urgent\n');
    const problems = problemsOf(() => loadConfig({ file: f, flags: { workers: 'many' } }));
    const text = problems.join('\n');
    assert.match(text, /receiver\.grpc_listn: unknown key; allowed here: grpc_listen, http_listen, max_request_bytes/);
    assert.match(text, /storage\.ttl_days: got -1; .*>=0/);
    assert.match(text, /storage\.table: got "drop table"; expected a ClickHouse identifier/);
    assert.match(text, /alerts\.min_level: got "urgent"/);
    assert.match(text, /workers\.threads \(flag --workers\): got "many"; expected an integer/);
    assert.ok(problems.length >= 5);
  });

  test('listen addresses are validated', () => {
    assert.match(problemsOf(() => loadConfig({ flags: { 'http-listen': 'localhost' } })).join(), /receiver\.http_listen: got "localhost"; expected HOST:PORT/);
    assert.match(problemsOf(() => loadConfig({ flags: { 'http-listen': '127.0.0.1:70000' } })).join(), /port from 0 to 65535/);
    assert.equal(loadConfig({ flags: { 'grpc-listen': '[::1]:0' } }).receiver.grpc_listen, '[::1]:0');
  });

  test('an unreadable or non-mapping file is refused with its name', () => {
    assert.match(problemsOf(() => loadConfig({ file: path.join(tmp, 'nope.yaml') })).join(), /nope\.yaml": cannot read it \(ENOENT\)/);
    assert.match(problemsOf(() => loadConfig({ file: file('list.yaml', '- a\n- b\n') })).join(), /expected a mapping/);
    assert.match(problemsOf(() => loadConfig({ file: file('syntax.yaml', 'a: [\n') })).join(), /syntax\.yaml/);
  });

  test('secrets are never echoed: not in errors, not in the redacted config', () => {
    const problems = problemsOf(() => loadConfig({ env: { OTEL_SIGMA_KEEP_API_KEY: 'sekret-123' }, flags: { 'keep-url': 'ftp://x' } }));
    assert.doesNotMatch(problems.join(), /sekret-123/);
    const c = loadConfig({ env: { OTEL_SIGMA_KEEP_API_KEY: 'sekret-123', OTEL_SIGMA_CLICKHOUSE_PASSWORD: 'pw-456' } });
    assert.equal(c.alerts.keep_api_key, 'sekret-123');
    const shown = JSON.stringify(redactConfig(c));
    assert.doesNotMatch(shown, /sekret-123|pw-456/);
    assert.match(shown, /\[redacted\]/);
  });

  test('every key has a unique flag and environment variable, and docs/configuration.md documents each', () => {
    const flags = new Set(CONFIG_KEYS.map((k) => k.flag));
    const envs = new Set(CONFIG_KEYS.map((k) => k.env));
    assert.equal(flags.size, CONFIG_KEYS.length);
    assert.equal(envs.size, CONFIG_KEYS.length);
    const readme = fs.readFileSync(path.resolve(import.meta.dirname, '../../../docs/configuration.md'), 'utf8');
    for (const k of CONFIG_KEYS) {
      assert.ok(readme.includes(`\`${k.path}\``), `docs/configuration.md lacks config key ${k.path}`);
      assert.ok(readme.includes(`--${k.flag}`), `docs/configuration.md lacks flag --${k.flag}`);
      assert.ok(readme.includes(k.env), `docs/configuration.md lacks env ${k.env}`);
    }
  });
  test('an unknown OTEL_SIGMA_* variable is refused like an unknown key, with the closest known name', () => {
    const problems = problemsOf(() => loadConfig({ env: { OTEL_SIGMA_GRPC_LISTN: '127.0.0.1:1', OTEL_SIGMA_WHATEVER_ELSE: 'x', OTHER_VAR: 'ignored' } }));
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems[0]!, /^environment OTEL_SIGMA_GRPC_LISTN: unknown variable; did you mean OTEL_SIGMA_GRPC_LISTEN\?/);
    assert.match(problems[1]!, /^environment OTEL_SIGMA_WHATEVER_ELSE: unknown variable \(/);
    const f = file('empty.yaml', '');
    assert.equal(loadConfig({ env: { OTEL_SIGMA_CONFIG: f, OTEL_SIGMA_TTL_DAYS: '3' } }).storage.ttl_days, 3, 'OTEL_SIGMA_CONFIG and key variables are known');
  });
});
