/**
 * Transport-security configuration: the cross-key rules (non-loopback listeners need TLS or an explicit
 * opt-out, cert and key together, mTLS needs TLS, one source per secret) and securityFromConfig, which
 * reads every file once and reports unreadable ones by key and path, never by content.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError, loadConfig, redactConfig } from '../../../src/config/load.ts';
import { isLoopbackHost } from '../../../src/config/schema.ts';
import { securityFromConfig, tokenLines } from '../../../src/config/tls.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-tls-config-'));
const file = (name: string, content: string): string => {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, content);
  return p;
};
const problemsOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_CONFIG');
    return err.problems.join('\n');
  }
  assert.fail('expected the configuration to be refused');
};

void describe('transport security config', () => {
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  void test('loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '[::1]', '::1', '[0:0:0:0:0:0:0:1]', '[::ffff:127.0.0.1]']) assert.ok(isLoopbackHost(h), h);
    for (const h of ['0.0.0.0', '', '[::]', '10.0.0.1', '128.0.0.1', 'otel-sigma', '[::2]', '127.0.0.1.example.com', 'localhost.example.com', 'x.localhost']) assert.ok(!isLoopbackHost(h), h);
  });

  void test('a non-loopback listener without TLS is refused, naming the key and both fixes', () => {
    const text = problemsOf(() => loadConfig({ flags: { 'grpc-listen': '0.0.0.0:4319', 'http-listen': '[::]:4320' } }));
    assert.match(text, /receiver\.grpc_listen: got "0\.0\.0\.0:4319"; .*tls_cert_file.*allow_insecure_non_loopback: true/);
    assert.match(text, /receiver\.http_listen: got "\[::\]:4320"/);
    assert.match(problemsOf(() => loadConfig({ env: { OTEL_SIGMA_HTTP_LISTEN: ':4320' } })), /receiver\.http_listen/);
  });

  void test('...unless TLS is configured or the opt-out is set (YAML boolean, env or flag text)', () => {
    const tlsOn = loadConfig({ flags: { 'grpc-listen': '0.0.0.0:4319', 'tls-cert-file': '/c.pem', 'tls-key-file': '/k.pem' } });
    assert.equal(tlsOn.receiver.tls_cert_file, '/c.pem');
    const f = file('insecure.yaml', 'receiver:\n  grpc_listen: 0.0.0.0:4319\n  allow_insecure_non_loopback: true\n');
    assert.equal(loadConfig({ file: f }).receiver.allow_insecure_non_loopback, true);
    assert.equal(loadConfig({ env: { OTEL_SIGMA_ALLOW_INSECURE_NON_LOOPBACK: 'true', OTEL_SIGMA_GRPC_LISTEN: '10.1.2.3:4319' } }).receiver.allow_insecure_non_loopback, true);
    assert.equal(loadConfig({ flags: { 'allow-insecure-non-loopback': 'false' } }).receiver.allow_insecure_non_loopback, false);
    assert.match(problemsOf(() => loadConfig({ flags: { 'allow-insecure-non-loopback': 'false', 'grpc-listen': '0.0.0.0:1' } })), /receiver\.grpc_listen/);
    assert.match(problemsOf(() => loadConfig({ flags: { 'allow-insecure-non-loopback': 'maybe' } })), /allow_insecure_non_loopback: got "maybe"; expected true or false/);
    assert.equal(loadConfig({}).receiver.allow_insecure_non_loopback, false);
  });

  void test('certificate without key (and vice versa), mTLS without TLS, two sources for one secret, CA for http://', () => {
    assert.match(problemsOf(() => loadConfig({ flags: { 'tls-cert-file': '/c.pem' } })), /receiver\.tls_cert_file: .*set receiver\.tls_key_file too/);
    assert.match(problemsOf(() => loadConfig({ flags: { 'tls-key-file': '/k.pem' } })), /receiver\.tls_key_file: .*set receiver\.tls_cert_file too/);
    assert.match(problemsOf(() => loadConfig({ flags: { 'tls-client-ca-file': '/ca.pem' } })), /receiver\.tls_client_ca_file: .*need TLS/);
    assert.match(problemsOf(() => loadConfig({ flags: { 'clickhouse-password': 'x', 'clickhouse-password-file': '/p' } })), /storage\.clickhouse_password_file: .*not both/);
    assert.match(problemsOf(() => loadConfig({ flags: { 'keep-api-key': 'x', 'keep-api-key-file': '/p' } })), /alerts\.keep_api_key_file: .*not both/);
    assert.match(problemsOf(() => loadConfig({ flags: { 'clickhouse-url': 'http://ch:8123', 'clickhouse-ca-file': '/ca' } })), /storage\.clickhouse_ca_file: .*https:\/\//);
    assert.match(problemsOf(() => loadConfig({ flags: { 'keep-ca-file': '/ca' } })), /alerts\.keep_ca_file: .*https:\/\//);
  });

  void test('securityFromConfig reads certificates, tokens and secrets once; trailing newlines trimmed', () => {
    const cfg = loadConfig({
      flags: {
        'tls-cert-file': file('cert.pem', 'CERT'), 'tls-key-file': file('key.pem', 'KEY'), 'tls-client-ca-file': file('ca.pem', 'CA'),
        'auth-token': 'tA, tB', 'auth-tokens-file': file('tokens', '# rotation set\n tC \r\n\n# old: tX\ntD\n'),
        'clickhouse-url': 'https://ch:8443', 'clickhouse-password-file': file('chpw', 'pw with spaces \n'), 'clickhouse-ca-file': file('chca', 'CHCA'),
        'keep-url': 'https://keep', 'keep-api-key-file': file('keepkey', 'kk-1\r\n'), 'keep-ca-file': file('keepca', 'KCA'),
      },
    });
    const sec = securityFromConfig(cfg);
    assert.equal(sec.receiver.tls?.cert.toString(), 'CERT');
    assert.equal(sec.receiver.tls?.key.toString(), 'KEY');
    assert.equal(sec.receiver.tls?.clientCa?.toString(), 'CA');
    assert.deepEqual(sec.receiver.auth?.tokens, ['tA', 'tB', 'tC', 'tD']);
    assert.equal(sec.clickhouse.password, 'pw with spaces ');
    assert.equal(sec.clickhouse.caCert?.toString(), 'CHCA');
    assert.equal(sec.keep.apiKey, 'kk-1');
    assert.equal(sec.keep.ca?.toString(), 'KCA');
    // the secrets files are config paths, not secrets: the redacted config shows paths, never contents
    assert.doesNotMatch(JSON.stringify(redactConfig(cfg)), /pw with spaces|kk-1|tA|tC/);
  });

  void test('nothing configured → no TLS, no auth, the plain password and key', () => {
    const sec = securityFromConfig(loadConfig({ flags: { 'clickhouse-password': 'plain', 'keep-api-key': 'k' } }));
    assert.deepEqual(sec.receiver, {});
    assert.deepEqual(sec.clickhouse, { password: 'plain' });
    assert.deepEqual(sec.keep, { apiKey: 'k' });
  });

  void test('unreadable or empty files are config errors naming key and path, never content', () => {
    const secretFile = file('empty-ish', '\n');
    const missing = path.join(tmp, 'no-such.pem');
    const text = problemsOf(() => securityFromConfig(loadConfig({
      flags: { 'tls-cert-file': missing, 'tls-key-file': tmp /* a directory */, 'keep-api-key-file': secretFile, 'auth-tokens-file': file('only-comments', '# none\n') },
    })));
    assert.match(text, new RegExp(`receiver\\.tls_cert_file: cannot read "${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" \\(ENOENT\\)`));
    assert.match(text, /receiver\.tls_key_file: cannot read ".*" \(EISDIR\)/);
    assert.match(text, /alerts\.keep_api_key_file: ".*empty-ish" is empty/);
    assert.match(text, /receiver\.auth_tokens_file: ".*only-comments" holds no token/);
  });

  const root = process.getuid?.() === 0;
  void test(`a file without read permission is refused by key and path${root ? ' (skipped: running as root, which reads any file)' : ''}`, { skip: root }, () => {
    const pwFile = file('pw', 'super-secret-pw\n');
    fs.chmodSync(pwFile, 0o000);
    const t = problemsOf(() => securityFromConfig(loadConfig({ flags: { 'clickhouse-password-file': pwFile } })));
    assert.match(t, /storage\.clickhouse_password_file: cannot read ".*pw" \(EACCES\)/);
    assert.doesNotMatch(t, /super-secret-pw/);
  });

  void test('token lines: comments, blanks and CRLF', () => {
    assert.deepEqual(tokenLines('a\r\n  b  \n#c\n\n'), ['a', 'b']);
  });
});
