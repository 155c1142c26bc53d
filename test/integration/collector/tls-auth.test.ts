/**
 * TLS, mutual TLS and token auth from the real collector: `bearertokenauth` over TLS to an otel-sigma with
 * a certificate and a token, and with a client certificate to one that requires mTLS. Each good exporter's
 * records become detections; a wrong token (UNAUTHENTICATED) and a missing client certificate (handshake
 * refused) deliver nothing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { makePki } from '../../helpers/certs.ts';
import { freePort, startCollector, until } from '../../helpers/collector.ts';
import { hasCorpus } from '../../helpers/corpus.ts';
import { httpGet, sendGrpcExport } from '../../helpers/otlp-clients.ts';
import { startServe, type ServiceProcess } from '../../helpers/service-process.ts';
import { hitSource, storedDetections, tally } from './records.ts';

const TOKEN = 'tls-token-93be';
const REQUESTS = 10;
const PER_REQUEST = 20;

describe('collector TLS, mTLS and token auth' + (hasCorpus ? '' : ' (skipped: ../shared/sigma regression corpus not present)'), { skip: !hasCorpus }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-coltls-'));
  const pki = makePki();
  const running: { stop(signal?: NodeJS.Signals): Promise<unknown> }[] = [];
  after(async () => {
    for (const p of running) await p.stop('SIGKILL');
    pki.remove();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('bearertokenauth over TLS and over mTLS deliver every record; a wrong token or no client certificate deliver none', { timeout: 120_000 }, async () => {
    const src = hitSource();
    const rules = path.join(tmp, 'rules');
    src.writeRule(rules);
    const tlsArgs = ['--tls-cert-file', pki.files.serverCert, '--tls-key-file', pki.files.serverKey, '--auth-token', TOKEN, '--rules', rules, '--workers', '1'];
    const [tls, mtls] = await Promise.all([
      startServe([...tlsArgs, '--data-dir', path.join(tmp, 'data-tls')]),
      startServe([...tlsArgs, '--tls-client-ca-file', pki.files.caCert, '--data-dir', path.join(tmp, 'data-mtls')]),
    ]);
    running.push(tls, mtls);
    const client = { cert: path.join(pki.dir, 'client.crt'), key: path.join(pki.dir, 'client.key') };
    const collectorGrpc = `127.0.0.1:${await freePort()}`;
    const noRetry = 'retry_on_failure: { enabled: false }';
    const col = await startCollector(tmp, `
extensions:
  bearertokenauth: { token: "\${env:OTEL_SIGMA_TOKEN}" }
  bearertokenauth/wrong: { token: not-the-token }
receivers:
  otlp:
    protocols: { grpc: { endpoint: ${collectorGrpc} } }
exporters:
  otlp/tls:
    endpoint: ${tls.grpc}
    tls: { ca_file: ${pki.files.caCert} }
    auth: { authenticator: bearertokenauth }
  otlp/mtls:
    endpoint: ${mtls.grpc}
    tls: { ca_file: ${pki.files.caCert}, cert_file: ${client.cert}, key_file: ${client.key} }
    auth: { authenticator: bearertokenauth }
  otlp/wrong-token:
    endpoint: ${tls.grpc}
    tls: { ca_file: ${pki.files.caCert} }
    auth: { authenticator: bearertokenauth/wrong }
    ${noRetry}
  otlp/no-client-cert:
    endpoint: ${mtls.grpc}
    tls: { ca_file: ${pki.files.caCert} }
    auth: { authenticator: bearertokenauth }
    ${noRetry}
service:
  extensions: [bearertokenauth, bearertokenauth/wrong]
  pipelines:
    logs: { receivers: [otlp], exporters: [otlp/tls, otlp/mtls, otlp/wrong-token, otlp/no-client-cert] }
`, { env: { OTEL_SIGMA_TOKEN: TOKEN } });
    running.push(col);

    for (let r = 0; r < REQUESTS; r++) {
      const res = await sendGrpcExport(collectorGrpc, src.request(r * PER_REQUEST, PER_REQUEST, 'tls-host'), { gzip: false });
      assert.equal(res.code, status.OK, res.details);
    }
    const total = REQUESTS * PER_REQUEST;
    // mTLS listeners want the client certificate on /metrics too.
    const processed = async (svc: ServiceProcess): Promise<number> => {
      const res = await httpGet(svc.http, '/metrics', { headers: { authorization: `Bearer ${TOKEN}` }, tls: { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey } });
      return Number(/^otel_sigma_records_processed_total (\d+)/m.exec(res.body.toString())?.[1] ?? 0);
    };
    await until('otel-sigma (TLS) to process every record', async () => (await processed(tls)) >= total);
    await until('otel-sigma (mTLS) to process every record', async () => (await processed(mtls)) >= total);
    await col.waitFor(/otlp\/wrong-token.*Dropping data|Dropping data.*otlp\/wrong-token/);
    await col.waitFor(/otlp\/no-client-cert.*Dropping data|Dropping data.*otlp\/no-client-cert/);
    const wrongToken = col.lines.filter((l) => /wrong-token/.test(l) && /Dropping data/.test(l));
    const noCert = col.lines.filter((l) => /no-client-cert/.test(l) && /Dropping data/.test(l));
    assert.ok(wrongToken.every((l) => /Unauthenticated/i.test(l)), wrongToken[0]);
    assert.ok(noCert.every((l) => /Unavailable|certificate|handshake/i.test(l)), noCert[0]);
    assert.equal(col.count(/Exporting failed.*"otelcol\.component\.id": "otlp\/m?tls"/), 0, 'the good exporters never failed');
    assert.equal(await col.stop(), 0);
    assert.equal(await tls.stop(), 0);
    assert.equal(await mtls.stop(), 0);

    const expected = Array.from({ length: total }, (_, i) => src.eventTime(i));
    for (const [name, dir] of [['TLS + bearertokenauth', 'data-tls'], ['mTLS + bearertokenauth', 'data-mtls']] as const) {
      const rows = (await storedDetections(path.join(tmp, dir))).filter((d) => d.rule_id === src.c.rule_id);
      const t = tally(expected, rows.map((d) => d.event_time));
      console.log(`${name}: ${total} records sent, ${rows.length} detections stored, lost ${t.missing.length}, repeated ${t.repeated.length}`);
      assert.deepEqual({ lost: t.missing.length, repeated: t.repeated.length, extra: t.extra }, { lost: 0, repeated: 0, extra: 0 }, name);
    }
    console.log(`refused: wrong token dropped ${wrongToken.length} batches (UNAUTHENTICATED), no client certificate dropped ${noCert.length}`);
  });
});
