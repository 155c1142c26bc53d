/**
 * Outbound TLS with a private CA: the ClickHouse client (`storage.clickhouse_ca_file`) and the Keep client
 * (`alerts.keep_ca_file`) verify the server against the configured CA, refuse it without, and send their
 * credentials only over the verified connection. No ClickHouse server can run here (chdb has no HTTP
 * interface), so an HTTPS endpoint answers the two ClickHouse HTTP calls the client makes; Keep is the
 * contract stand-in from test/helpers behind a TLS terminator.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { postAlerts } from '../../../src/alert/keep-client.ts';
import { toAlertDto } from '../../../src/alert/keep-payload.ts';
import { openClickHouse } from '../../../src/store/client.ts';
import { makePki, type Pki } from '../../helpers/certs.ts';
import { startKeepServer, type KeepServer } from '../../helpers/keep-server.ts';
import { makeDetection } from '../../unit/alert/detection-fixture.ts';

async function listen(server: https.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
const closeServer = (s: https.Server): Promise<void> => new Promise((resolve) => {
  s.closeAllConnections();
  s.close(() => resolve());
});

void describe('outbound TLS with a private CA', () => {
  let pki: Pki;
  before(() => { pki = makePki(); });
  after(() => pki.remove());

  void describe('ClickHouse client', () => {
    let server: https.Server;
    let url: string;
    const seen: { path: string; user: unknown; key: unknown }[] = [];
    before(async () => {
      server = https.createServer({ cert: pki.serverCert, key: pki.serverKey }, (req, res) => {
        seen.push({ path: (req.url ?? '').split('?')[0]!, user: req.headers['x-clickhouse-user'], key: req.headers['x-clickhouse-key'] });
        req.resume();
        req.on('end', () => {
          if (req.url === '/ping') res.end('Ok.\n');
          else res.writeHead(200, { 'content-type': 'application/x-ndjson', 'x-clickhouse-format': 'JSONEachRow' }).end('{"one":1}\n');
        });
      });
      url = await listen(server);
    });
    after(() => closeServer(server));

    void test('with the CA: ping and a query succeed, the password travels (only) inside TLS', async () => {
      const ch = openClickHouse({ url, username: 'otel', password: 'ch-secret-pw', dataDir: '/nonexistent', caCert: pki.caCert, requestTimeoutMs: 5_000 });
      try {
        assert.equal(await ch.ping(), true);
        const rows = await (await ch.client.query({ query: 'SELECT 1 AS one', format: 'JSONEachRow' })).json();
        assert.deepEqual(rows, [{ one: 1 }]);
        const q = seen.find((s) => s.path === '/');
        assert.ok(q, 'query reached the server');
        // With a custom CA the client sends the credentials as X-ClickHouse-User / X-ClickHouse-Key.
        assert.deepEqual([q.user, q.key], ['otel', 'ch-secret-pw']);
      } finally {
        await ch.close();
      }
    });

    void test('without the CA the server certificate is refused and nothing reaches it', async () => {
      const before = seen.length;
      const ch = openClickHouse({ url, username: 'otel', password: 'ch-secret-pw', dataDir: '/nonexistent', requestTimeoutMs: 5_000 });
      try {
        assert.equal(await ch.ping(), false);
        await assert.rejects(ch.client.query({ query: 'SELECT 1', format: 'JSONEachRow' }), /self-signed|unable to verify|certificate/i);
        assert.equal(seen.length, before);
      } finally {
        await ch.close();
      }
    });
  });

  void describe('Keep client', () => {
    let keep: KeepServer;
    let terminator: https.Server;
    let url: string;
    const keys: (string | undefined)[] = [];
    before(async () => {
      keep = await startKeepServer({ apiKey: 'keep-secret-key' });
      const target = new URL(keep.url);
      // TLS in front of the contract server: the client under test only ever talks HTTPS.
      terminator = https.createServer({ cert: pki.serverCert, key: pki.serverKey }, (req, res) => {
        keys.push(req.headers['x-api-key'] as string | undefined);
        const up = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        });
        up.on('error', () => res.writeHead(502).end());
        req.pipe(up);
      });
      url = await listen(terminator);
    });
    after(async () => {
      await closeServer(terminator);
      await keep.close();
    });

    const opts = { keepUrl: '', apiKey: 'keep-secret-key', timeoutMs: 5_000, maxRetryAfterMs: 60_000 };
    const alert = toAlertDto(makeDetection());

    void test('with the CA the alert is delivered, with the API key, and meets the Keep contract', async () => {
      const r = await postAlerts({ ...opts, keepUrl: url, ca: pki.caCert }, [alert], new AbortController().signal);
      assert.deepEqual(r, { kind: 'ok', status: 202 });
      assert.equal(keep.alerts.length, 1);
      assert.deepEqual(keep.violations, []);
      assert.equal(keys.at(-1), 'keep-secret-key');
      // a second call reuses the same agent and still verifies
      assert.equal((await postAlerts({ ...opts, keepUrl: url, ca: pki.caCert }, [alert, alert], new AbortController().signal)).kind, 'ok');
      assert.equal(keep.alerts.length, 3);
    });

    void test('without the CA (or with another CA) delivery fails as retryable and nothing is sent', async () => {
      const before = keys.length;
      const plain = await postAlerts({ ...opts, keepUrl: url }, [alert], new AbortController().signal);
      assert.equal(plain.kind, 'retry');
      const other = makePki();
      try {
        const wrong = await postAlerts({ ...opts, keepUrl: url, ca: other.caCert }, [alert], new AbortController().signal);
        assert.equal(wrong.kind, 'retry');
        assert.match(wrong.kind === 'retry' ? wrong.reason : '', /CERT|SIGNATURE|certificate/i);
      } finally {
        other.remove();
      }
      assert.equal(keys.length, before);
    });

    void test('a Keep error status still comes back as the verdict over the CA path', async () => {
      const r = await postAlerts({ ...opts, keepUrl: url, apiKey: 'wrong-key', ca: pki.caCert }, [alert], new AbortController().signal);
      assert.equal(r.kind, 'permanent');
      assert.equal(r.kind === 'permanent' ? r.status : 0, 401);
    });
  });
});
