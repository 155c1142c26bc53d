/** The command line as operators and scripts use it: exact forms, output shapes, exit codes. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { casePath, hasCorpus, loadManifest, ruleFilePath } from '../../helpers/corpus.ts';
import { otlpJsonToProtobuf } from '../../helpers/otlp-proto.ts';

const exec = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'bin/otel-sigma.js');
const cli = async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> => {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { cwd: ROOT, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-cli-'));

describe('otel-sigma rules check', () => {
  test('the shipped rule pack loads without a problem', async () => {
    const r = await cli(['rules', 'check', '--json', 'rules']);
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { loaded: number; rejected: number; problems: unknown[] };
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(last.loaded >= 5, `loaded ${last.loaded}`);
    assert.equal(last.rejected, 0);
    assert.deepEqual(last.problems, [], 'no errors and no warnings (e.g. unmapped logsource)');
  });

  test('a bad rule file is reported with file and reason, and the rest still loads', async () => {
    const dir = path.join(tmp, 'mixed');
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(ROOT, 'rules/linux/sshd/osg_lnx_sshd_invalid_user.yml'), path.join(dir, 'good.yml'));
    fs.writeFileSync(path.join(dir, 'bad-modifier.yml'), 'title: t\nid: 11111111-1111-4111-8111-111111111111\nlogsource: {product: linux, service: sshd}\ndetection:\n  sel:\n    message|contians: x\n  condition: sel\n');
    fs.writeFileSync(path.join(dir, 'broken.yml'), 'title: [unclosed\n');
    const r = await cli(['rules', 'check', '--json', dir]);
    assert.equal(r.code, 1, 'a rejected rule makes the exit status 1');
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { loaded: number; rejected: number; problems: { file: string; reason: string }[] };
    assert.equal(last.loaded, 1);
    assert.equal(last.rejected, 2);
    const bad = last.problems.find((p) => p.file.endsWith('bad-modifier.yml'));
    assert.match(bad?.reason ?? '', /contians/);
    assert.ok(last.problems.some((p) => p.file.endsWith('broken.yml') && p.reason.length > 0));
    const human = await cli(['rules', 'check', dir]);
    assert.match(human.stdout, /bad-modifier\.yml(:\d+)?: .*contians/);
  });
});

describe('otel-sigma eval' + (hasCorpus ? '' : ' (skipped: ../shared/sigma not present)'), { skip: !hasCorpus }, () => {
  test('prints one JSON detection per line for OTLP/JSON lines and for protobuf files', async () => {
    const c = loadManifest()[0]!;
    const jsonFile = casePath(c, 'signoz');
    const pbFile = path.join(tmp, 'request.pb');
    fs.writeFileSync(pbFile, otlpJsonToProtobuf(JSON.parse(fs.readFileSync(jsonFile, 'utf8').split('\n')[0]!)));
    const r = await cli(['eval', '--rules', ruleFilePath(c), jsonFile, pbFile]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const input of [jsonFile, pbFile]) {
      const d = lines.find((l) => l['input'] === input);
      assert.ok(d, `a detection for ${input}`);
      assert.equal(d['rule_id'], c.rule_id);
      assert.equal(d['rule_title'], c.title);
      assert.equal(typeof d['rule_level'], 'string');
      assert.match(String(d['timestamp']), /^\d{4}-\d{2}-\d{2}T/);
      assert.notEqual(d['host'], '');
      assert.deepEqual(Object.keys(d['logsource'] as object).sort(), ['category', 'product', 'service']);
      assert.ok(Object.keys(d['matched'] as object).length > 0);
    }
  });

  test('an unreadable input is reported and the exit status is 1', async () => {
    const r = await cli(['eval', '--rules', 'rules', path.join(tmp, 'missing.json')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /missing\.json/);
  });
});

describe('otel-sigma serve', () => {
  test('an invalid configuration is refused before listening, with every problem', async () => {
    const r = await cli(['serve', '--grpc-listen', 'nowhere', '--ttl-days', '-1', '--data-dir', path.join(tmp, 'data')]);
    assert.equal(r.code, 2);
    const out = r.stdout + r.stderr;
    assert.match(out, /receiver\.grpc_listen: got \\"nowhere\\"/);
    assert.match(out, /storage\.ttl_days: got -1/);
    assert.doesNotMatch(out, /listening/);
  });

  test('rules that load nothing: every problem the workers found is logged, exit 2 before listening', async () => {
    const dir = path.join(tmp, 'all-bad');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'bad-modifier.yml'), 'title: t\nid: 22222222-2222-4222-8222-222222222222\nlogsource: {product: linux, service: sshd}\ndetection:\n  sel:\n    message|contians: x\n  condition: sel\n');
    const r = await cli(['serve', '--rules', dir, '--grpc-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--data-dir', path.join(tmp, 'data-bad-rules')]);
    const out = r.stdout + r.stderr;
    assert.equal(r.code, 2, out);
    assert.match(out, /bad-modifier\.yml/);
    assert.match(out, /contians/);
    assert.match(out, /"loaded":0,"rejected":1/);
    assert.match(out, /no rules loaded \(1 rejected\)/);
    assert.doesNotMatch(out, /is listening/);
  });
});

describe('fail loudly: lost coverage and typos stop the command', () => {
  const listen = ['--grpc-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0'];

  test('rules check on a missing path exits non-zero and names it', async () => {
    const r = await cli(['rules', 'check', '/no/such/dir']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /rule path "\/no\/such\/dir" does not exist/);
  });

  test('eval with one missing --rules path among good ones exits non-zero and names it', async () => {
    const input = path.join(tmp, 'empty-request.json');
    fs.writeFileSync(input, '{"resourceLogs":[]}\n');
    const r = await cli(['eval', '--rules', 'rules', '--rules', '/no/such', input]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /rule path "\/no\/such" does not exist/);
  });

  test('serve with one missing --rules path exits 2 before listening, naming it', async () => {
    const r = await cli(['serve', '--rules', 'rules', '--rules', '/no/such/rules', ...listen, '--data-dir', path.join(tmp, 'data-missing-rules')]);
    const out = r.stdout + r.stderr;
    assert.equal(r.code, 2, out);
    assert.match(out, /rule path \\"\/no\/such\/rules\\" does not exist/);
    assert.doesNotMatch(out, /is listening/);
  });

  test('serve refuses a typo\'d OTEL_SIGMA_* variable, naming the one meant', async () => {
    const r = await cli(['serve', ...listen, '--data-dir', path.join(tmp, 'data-env-typo')], { OTEL_SIGMA_CLICKHOUSE_URI: 'http://127.0.0.1:1' });
    const out = r.stdout + r.stderr;
    assert.equal(r.code, 2, out);
    assert.match(out, /OTEL_SIGMA_CLICKHOUSE_URI: unknown variable; did you mean OTEL_SIGMA_CLICKHOUSE_URL\?/);
  });

  test('a boolean flag does not swallow the next flag', async () => {
    // Before, `--allow-insecure-non-loopback` took `--rules` as its value; now --rules is read and its missing path refused.
    const r = await cli(['serve', '--allow-insecure-non-loopback', '--rules', '/no/such/pack', ...listen, '--data-dir', path.join(tmp, 'data-bool')]);
    const out = r.stdout + r.stderr;
    assert.equal(r.code, 2, out);
    assert.match(out, /rule path \\"\/no\/such\/pack\\" does not exist/);
    assert.doesNotMatch(out, /expected true or false/);
  });

  test('rules check --profile --events A B DIR profiles A and B, and loads only DIR as rules', async () => {
    const rec = (cmd: string): unknown => ({ resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ scope: {}, logRecords: [{ timeUnixNano: '1700000000000000000', body: { stringValue: cmd } }] }] }] });
    const a = path.join(tmp, 'events-a.json');
    const b = path.join(tmp, 'events-b.json');
    fs.writeFileSync(a, `${JSON.stringify(rec('one'))}\n`);
    fs.writeFileSync(b, `${JSON.stringify(rec('two'))}\n${JSON.stringify(rec('three'))}\n`);
    const r = await cli(['rules', 'check', '--json', '--profile', '--events', a, b, 'rules']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { rejected: number; profile: { events: number } };
    assert.equal(last.profile.events, 3);
    assert.equal(last.rejected, 0, 'the events file is not read as a rule');
  });
});

describe('smaller findings of the first-run review', () => {
  test('otel-sigma --version prints the package version', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await cli([flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), version);
    }
  });

  test('rules check --profile --events A B C PATH profiles A, B and C and loads only PATH as rules', async () => {
    const rec = (cmd: string): string => JSON.stringify({ resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ scope: {}, logRecords: [{ timeUnixNano: '1700000000000000000', body: { stringValue: cmd } }] }] }] });
    const files = ['a', 'b', 'c'].map((n) => path.join(tmp, `profile-${n}.json`));
    files.forEach((f, i) => fs.writeFileSync(f, `${rec(`line ${i}`)}\n`.repeat(i + 1)));
    const r = await cli(['rules', 'check', '--json', '--profile', '--events', ...files, 'rules']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { loaded: number; rejected: number; profile: { events: number } };
    assert.equal(last.profile.events, 1 + 2 + 3, 'the records of all three files');
    assert.equal(last.rejected, 0);
  });

  test('convert: exit 0 when every rule narrows, 3 when one cannot, 1 for an unreadable file; documented in --help', async () => {
    const dir = path.join(tmp, 'convert');
    fs.mkdirSync(dir);
    const exact = path.join(dir, 'exact.yml');
    fs.writeFileSync(exact, 'title: Whoami\nid: 44444444-4444-4444-8444-444444444444\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel:\n    Image|endswith: \\whoami.exe\n  condition: sel\nlevel: low\n');
    const aggregation = path.join(dir, 'aggregation.yml');
    fs.writeFileSync(aggregation, 'title: Many\nid: 55555555-5555-4555-8555-555555555555\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel:\n    Image|endswith: \\whoami.exe\n  condition: sel | count() > 5\nlevel: low\n');
    const broken = path.join(dir, 'broken.yml');
    fs.writeFileSync(broken, 'title: [unclosed\n');

    const ok = await cli(['convert', exact]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /1 rules: 1 exact, 0 prefiltered, 0 unfiltered/);
    const partial = await cli(['convert', exact, aggregation]);
    assert.equal(partial.code, 3, partial.stderr);
    assert.equal(partial.stdout.match(/^SELECT /gm)?.length, 2, 'every query is printed');
    assert.match(partial.stderr, /2 rules: 1 exact, 0 prefiltered, 1 unfiltered/);
    const unreadable = await cli(['convert', exact, broken]);
    assert.equal(unreadable.code, 1, 'an input error, not a limit of the translation');
    assert.match(unreadable.stderr, /1 file\(s\) unreadable or not valid YAML/);
    const help = await cli(['convert', '--help']);
    assert.match(help.stdout, /Exit status:\n {2}0 {2}every rule has a query[\s\S]* {2}1 {2}[\s\S]* {2}3 {2}some rule's query narrows nothing/);
  });

  test('hunt on an embedded store without SigNoz\'s table says so, and how to point at SigNoz\'s ClickHouse', async () => {
    const r = await cli(['hunt', '--data-dir', path.join(tmp, 'data-hunt'), '--rules', 'rules', '--since', '1h']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /no SigNoz logs table exists in the embedded ClickHouse in .*data-hunt: signoz_logs\.logs_v2/);
    assert.match(r.stderr, /--clickhouse-url http:\/\/HOST:8123/);
    assert.doesNotMatch(r.stderr, /Database signoz_logs does not exist/);
  });
});
