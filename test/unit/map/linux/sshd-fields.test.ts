/** sshd's authentication lines → user, src_ip, src_port, auth_method, auth_outcome (what correlation rules group on). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sshdFields } from '../../../../src/map/linux/syslog/service.ts';

const parse = (m: string): Record<string, string> => {
  const out: Record<string, string> = {};
  sshdFields(m, out);
  return out;
};

void test('failed and accepted logins, invalid users, preauth disconnects', () => {
  assert.deepEqual(parse('Failed password for root from 203.0.113.5 port 22 ssh2'),
    { auth_outcome: 'failure', auth_method: 'password', user: 'root', src_ip: '203.0.113.5', src_port: '22' });
  assert.deepEqual(parse('Failed password for invalid user bob from 2001:db8::7 port 4242 ssh2'),
    { auth_outcome: 'failure', auth_method: 'password', invalid_user: 'true', user: 'bob', src_ip: '2001:db8::7', src_port: '4242' });
  assert.deepEqual(parse('Accepted publickey for alice from 198.51.100.9 port 50022 ssh2: ED25519 SHA256:abc'),
    { auth_outcome: 'success', auth_method: 'publickey', user: 'alice', src_ip: '198.51.100.9', src_port: '50022' });
  assert.deepEqual(parse('Invalid user admin from 203.0.113.5 port 40000'),
    { auth_outcome: 'failure', invalid_user: 'true', user: 'admin', src_ip: '203.0.113.5', src_port: '40000' });
  assert.deepEqual(parse('Connection closed by authenticating user root 203.0.113.5 port 22 [preauth]'),
    { user: 'root', src_ip: '203.0.113.5', src_port: '22' });
  assert.deepEqual(parse('Failed password for user with spaces from 203.0.113.5 port 1 ssh2').user, 'user with spaces');
});

void test('other sshd lines carry no extra fields', () => {
  for (const m of ['Server listening on 0.0.0.0 port 22.', 'pam_unix(sshd:session): session opened for user root(uid=0) by (uid=0)', 'Received disconnect from 203.0.113.5 port 22:11: Bye Bye [preauth]', '']) {
    assert.deepEqual(parse(m), {}, m);
  }
});
