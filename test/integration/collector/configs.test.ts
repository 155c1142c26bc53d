/**
 * The shipped collector configs (collector-config/*.yaml) against the real collector: each passes
 * `otelcol validate` of the pinned test build, the agents use the version-safe exporter type and keep
 * their offsets and queues in file_storage, and the Windows agent collects every channel a SigmaHQ
 * Windows rule watches (or its header says which it does not and why).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { validateCollectorConfig } from '../../helpers/collector.ts';
import { ACTIVE_RULE_DIRS, hasCorpus, REPO_ROOT } from '../../helpers/corpus.ts';

const DIR = path.join(REPO_ROOT, 'collector-config');
const FILES = fs.readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
type Cfg = Record<string, Record<string, unknown> | undefined> & { service: { extensions?: string[]; pipelines: Record<string, { receivers: string[]; exporters: string[] }> } };
const load = (f: string): Cfg => parse(fs.readFileSync(path.join(DIR, f), 'utf8')) as Cfg;

// SigNoz's own components are not in the test build: validate the fan-out file with stand-ins of the
// same kind (exporter for exporter, connector for connector) under the same pipeline positions.
const SIGNOZ_STANDINS: Record<string, { section: string; as: string; config: unknown }> = {
  clickhouselogsexporter: { section: 'exporters', as: 'otlp_http/clickhouselogsexporter', config: { endpoint: 'http://127.0.0.1:1' } },
  signozclickhousemeter: { section: 'exporters', as: 'otlp_http/signozclickhousemeter', config: { endpoint: 'http://127.0.0.1:1' } },
  signozmeter: { section: 'connectors', as: 'count/signozmeter', config: {} },
};

function withStandins(cfg: Cfg): Cfg {
  const out = structuredClone(cfg);
  for (const [name, s] of Object.entries(SIGNOZ_STANDINS)) {
    const section = out[s.section];
    if (section === undefined || !(name in section)) continue;
    delete section[name];
    section[s.as] = s.config;
    for (const p of Object.values(out.service.pipelines)) {
      p.receivers = p.receivers.map((r) => (r === name ? s.as : r));
      p.exporters = p.exporters.map((e) => (e === name ? s.as : e));
    }
  }
  return out;
}

describe('shipped collector configs', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-colcfg-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const f of FILES) {
    test(`${f} passes otelcol validate`, async () => {
      const cfg = load(f);
      const file = path.join(tmp, f);
      fs.writeFileSync(file, stringify(withStandins(cfg)));
      const r = await validateCollectorConfig(file);
      assert.equal(r.code, 0, r.output);
    });
  }

  test('validate is strict: a mistyped key or a Windows receiver without a channel fails', async () => {
    const linux = load('linux-agent.yaml');
    (linux['receivers']!['file_log/audit'] as Record<string, unknown>)['start_from'] = 'end';
    fs.writeFileSync(path.join(tmp, 'bad-linux.yaml'), stringify(linux));
    const a = await validateCollectorConfig(path.join(tmp, 'bad-linux.yaml'));
    assert.notEqual(a.code, 0);
    assert.match(a.output, /start_from/);
    const win = load('windows-agent.yaml');
    delete (win['receivers']!['windows_event_log/security'] as Record<string, unknown>)['channel'];
    fs.writeFileSync(path.join(tmp, 'bad-windows.yaml'), stringify(win));
    const b = await validateCollectorConfig(path.join(tmp, 'bad-windows.yaml'));
    assert.notEqual(b.code, 0);
    assert.match(b.output, /`channel`, `query` or `path` must be set/);
  });

  test('agents: exporter type otlp (every version), file_storage for receiver offsets and the exporter queue', () => {
    for (const f of ['linux-agent.yaml', 'windows-agent.yaml']) {
      const cfg = load(f);
      const exporters = Object.keys(cfg['exporters']!);
      assert.deepEqual(exporters.filter((e) => e.split('/')[0] !== 'otlp'), [], `${f}: ${exporters.join(', ')}`);
      assert.ok(cfg.service.extensions?.includes('file_storage'), `${f}: file_storage extension enabled`);
      for (const [name, r] of Object.entries(cfg['receivers']!)) assert.equal((r as { storage?: string }).storage, 'file_storage', `${f}: ${name} keeps its offset`);
      for (const [name, e] of Object.entries(cfg['exporters']!)) assert.equal((e as { sending_queue?: { storage?: string } }).sending_queue?.storage, 'file_storage', `${f}: ${name} queue on disk`);
    }
  });

  test('linux agent: one source per log (journald without its audit copy, audit.log as a file, no auth.log beside journald)', () => {
    const cfg = load('linux-agent.yaml');
    const receivers = cfg['receivers']!;
    const files = Object.values(receivers).flatMap((r) => (r as { include?: string[] }).include ?? []);
    assert.ok('journald' in receivers);
    assert.deepEqual(files, ['/var/log/audit/audit.log']);
    const transports = ((receivers['journald'] as { matches: Record<string, string>[] }).matches).map((m) => m['_TRANSPORT']);
    assert.ok(!transports.includes('audit') && transports.length > 0);
  });

  test('SigNoz fan-out: the otel-sigma exporter beside clickhouselogsexporter and the signozmeter connector, after batch', () => {
    const cfg = load('signoz-collector-fanout.yaml') as Cfg & { service: { pipelines: Record<string, { processors: string[] }> } };
    const logs = cfg.service.pipelines['logs']!;
    assert.deepEqual(logs.processors, ['batch']);
    assert.deepEqual(logs.exporters, ['clickhouselogsexporter', 'signozmeter', 'otlp/sigma']);
    assert.ok('signozmeter' in cfg['connectors']!);
    const sigma = cfg['exporters']!['otlp/sigma'] as { tls: { insecure: boolean }; headers?: Record<string, string>; auth?: unknown };
    assert.equal(sigma.tls.insecure, true);
    assert.equal(sigma.auth, undefined, 'bearertokenauth needs TLS on gRPC: plaintext loopback sends the token in headers');
    assert.match(sigma.headers?.['authorization'] ?? '', /^Bearer \$\{env:/);
  });

  test('README: its SigNoz snippet is the shipped fan-out exporter and pipeline', () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Add otel-sigma to a SigNoz collector'));
    const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(block !== undefined, 'the section has a YAML block');
    const snippet = parse(block) as Cfg;
    const shipped = load('signoz-collector-fanout.yaml');
    assert.deepEqual(snippet['exporters']!['otlp/sigma'], shipped['exporters']!['otlp/sigma']);
    assert.deepEqual(snippet.service.pipelines['logs']!.exporters, shipped.service.pipelines['logs']!.exporters);
  });

  test('windows agent: every channel a SigmaHQ Windows rule watches is collected, or named as not collected' + (hasCorpus ? '' : ' (skipped: ../shared/sigma not present)'), { skip: !hasCorpus }, () => {
    const mapping = parse(fs.readFileSync(path.join(REPO_ROOT, 'src/map/logsources/windows.yaml'), 'utf8')) as { entries: { product?: string; category?: string; service?: string; variants: { when: Record<string, unknown[]> }[] }[] };
    const channelsOf = new Map<string, string[]>();
    for (const e of mapping.entries) channelsOf.set(`${e.category ?? ''}|${e.service ?? ''}`, [...new Set(e.variants.flatMap((v) => (v.when['Channel'] ?? []) as string[]))]);
    const watched = new Map<string, number>();
    const walk = (d: string): void => {
      if (!fs.existsSync(d)) return;
      for (const ent of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, ent.name);
        if (ent.isDirectory()) walk(p);
        else if (/\.ya?ml$/.test(ent.name)) {
          for (const doc of parseAllDocuments(fs.readFileSync(p, 'utf8'))) {
            const ls = (doc.toJS() as { logsource?: { product?: string; category?: string; service?: string } } | null)?.logsource;
            if (ls?.product !== 'windows') continue;
            for (const ch of channelsOf.get(`${ls.category ?? ''}|${ls.service ?? ''}`) ?? []) watched.set(ch, (watched.get(ch) ?? 0) + 1);
          }
        }
      }
    };
    for (const d of ACTIVE_RULE_DIRS) walk(d);
    const text = fs.readFileSync(path.join(DIR, 'windows-agent.yaml'), 'utf8');
    const cfg = parse(text) as Cfg;
    const collected = new Set(Object.values(cfg['receivers']!).map((r) => (r as { channel: string }).channel));
    const notCollected = /# Not collected[^\n]*\n((?:#[^\n]*\n)*?)#\s*\n/.exec(text)?.[0] ?? '';
    const missing = [...watched.keys()].filter((ch) => !collected.has(ch) && !notCollected.includes(ch));
    assert.ok(watched.size > 20, `${watched.size} channels found in the ruleset`);
    assert.deepEqual(missing, [], `channels SigmaHQ rules watch that windows-agent.yaml neither collects nor names: ${missing.map((m) => `${m} (${watched.get(m)} rules)`).join(', ')}`);
    const pipeline = new Set(cfg.service.pipelines['logs']!.receivers);
    for (const name of Object.keys(cfg['receivers']!)) assert.ok(pipeline.has(name), `${name} is in the logs pipeline`);
  });
});
