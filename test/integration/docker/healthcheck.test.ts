/**
 * The image's HEALTHCHECK (bin/healthcheck.js, run as the Dockerfile runs it) against a real `serve`, with and
 * without TLS, and what the Dockerfile sets: no plaintext opt-in by default, the probe that follows TLS.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { makePki } from '../../helpers/certs.ts';
import { REPO_ROOT } from '../../helpers/corpus.ts';
import { startServe } from '../../helpers/service-process.ts';

const probe = (httpListen: string): Promise<number> => new Promise((resolve) => {
  execFile(process.execPath, [path.join(REPO_ROOT, 'bin/healthcheck.js')], { env: { ...process.env, OTEL_SIGMA_HTTP_LISTEN: httpListen } }, (err) => {
    resolve(err === null ? 0 : typeof err.code === 'number' ? err.code : -1);
  });
});

describe('container healthcheck', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-health-'));
  const pki = makePki();
  after(() => { pki.remove(); fs.rmSync(tmp, { recursive: true, force: true }); });

  test('Dockerfile: no plaintext public listener by default, HEALTHCHECK runs bin/healthcheck.js', () => {
    const df = fs.readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
    assert.doesNotMatch(df, /^\s*OTEL_SIGMA_ALLOW_INSECURE_NON_LOOPBACK=true/m);
    assert.doesNotMatch(df.replace(/^#.*$/gm, ''), /ALLOW_INSECURE_NON_LOOPBACK/);
    assert.match(df, /HEALTHCHECK[^\n]*\\\n\s*CMD \["node", "bin\/healthcheck\.js"\]/);
  });

  for (const tls of [false, true]) {
    test(`healthy while serving ${tls ? 'HTTPS (TLS and a token on)' : 'plain HTTP'}, unhealthy once stopped`, async () => {
      const args = ['--rules', 'rules', '--workers', '1', '--data-dir', path.join(tmp, tls ? 'tls' : 'plain')];
      if (tls) args.push('--tls-cert-file', pki.files.serverCert, '--tls-key-file', pki.files.serverKey, '--auth-token', 'health-token');
      const svc = await startServe(args);
      assert.equal(await probe(svc.http), 0);
      assert.equal(await svc.stop(), 0);
      assert.equal(await probe(svc.http), 1);
    });
  }
});
