/**
 * What `serve` reports about refused requests: each is counted once in otel_sigma_errors_total (the
 * worker's decode error was counted by the pipeline and again by the receiver), and every log line is
 * one JSON object with no key twice (a child logger's `stage` plus a call passing `stage` again printed
 * it twice). Runs the paths that log: start-up, a rule problem, refused requests on both transports,
 * shutdown.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { duplicateKeys } from '../../helpers/json-keys.ts';
import { sendGrpcExport, sendHttpExport } from '../../helpers/otlp-clients.ts';
import { startServe, type ServiceProcess } from '../../helpers/service-process.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/** Sum of otel_sigma_errors_total over every stage, for one code. */
async function errorsTotal(http: string, code: string): Promise<number> {
  const text = await (await fetch(`http://${http}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^otel_sigma_errors_total\{([^}]*)\} (\d+)$/gm)) if (m[1]!.includes(`code="${code}"`)) n += Number(m[2]);
  return n;
}

describe('serve: refused requests in the metrics and the log', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-logs-'));
  let svc: ServiceProcess;

  before(async () => {
    const rules = path.join(tmp, 'rules');
    fs.mkdirSync(rules);
    fs.copyFileSync(path.join(ROOT, 'rules/linux/sshd/osg_lnx_sshd_invalid_user.yml'), path.join(rules, 'good.yml'));
    fs.writeFileSync(path.join(rules, 'bad.yml'), 'title: t\nid: 33333333-3333-4333-8333-333333333333\nlogsource: {product: linux, service: sshd}\ndetection:\n  sel:\n    message|contians: x\n  condition: sel\n');
    svc = await startServe(['--rules', rules, '--data-dir', path.join(tmp, 'data'), '--workers', '1']);
  });
  after(async () => {
    await svc?.stop('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('a decode error is counted once in errors_total, on either transport', async () => {
    assert.equal(await errorsTotal(svc.http, 'ERR_DECODE'), 0);
    assert.equal((await sendHttpExport(svc.http, '{"resourceLogs": 5}', { format: 'json' })).status, 400);
    assert.equal(await errorsTotal(svc.http, 'ERR_DECODE'), 1);
    assert.equal((await sendGrpcExport(svc.grpc, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), { gzip: false })).code, status.INVALID_ARGUMENT);
    assert.equal(await errorsTotal(svc.http, 'ERR_DECODE'), 2);
  });

  test('no log line repeats a key', async () => {
    assert.equal(await svc.stop('SIGTERM'), 0);
    const refused = svc.logs.filter((l) => String(l['msg']).startsWith('Export request failed'));
    assert.deepEqual(refused.map((l) => l['transport']).sort(), ['grpc', 'http'], 'the refused requests were logged');
    assert.ok(svc.logs.some((l) => l['stage'] === 'rules' && /contians/.test(String(l['msg']))));
    assert.ok(svc.lines.length >= 8, `${svc.lines.length} lines`);
    for (const line of svc.lines) assert.deepEqual(duplicateKeys(line), [], line);
  });
});
