/**
 * The Linux corpus (test/fixtures/linux/cases.json: real auditd, rsyslog and journald output recorded
 * on Debian 12, plus a few derived lines, each with its origin) wrapped the way each collector
 * receiver delivers it, mapped by the Linux mapper, routed through the shipped linux.yaml to the
 * SigmaHQ rules each case expects and, once the detection engine exists, evaluated with the whole
 * SigmaHQ Linux ruleset.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import type { AnyValue, LogRecordView } from '../../src/decode/types.ts';
import { loadRuleset } from '../../src/detect/ruleset.ts';
import { createLinuxMapper } from '../../src/map/linux/index.ts';
import { loadLogsourceMapping } from '../../src/map/logsource-mapping.ts';
import type { LogsourceEntry, LogsourceVariant, MappedEvent, SigmaEvent } from '../../src/map/types.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SHARED = resolve(ROOT, '../shared');
const SIGMA = join(SHARED, 'sigma');

interface Case {
  name: string;
  kind: 'auditd' | 'syslog' | 'journald';
  origin: string;
  file?: string;
  lines?: string[];
  traditional?: string;
  rfc3339?: string;
  rfc5424?: string;
  rfc3164?: string;
  entries?: Record<string, AnyValue>[];
  rules: string[];
  fields: Record<string, string | number>[];
  benign?: boolean;
  service?: string;
  source?: string;
}

const corpus = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/linux/cases.json'), 'utf8')) as { cases: Case[] };

function view(body: AnyValue, attributes: Record<string, AnyValue>, resource: Record<string, AnyValue> = { 'host.name': 'vm' }): LogRecordView {
  return {
    timeUnixNano: '0', observedTimeUnixNano: '0', severityNumber: 0, severityText: '', body, attributes,
    traceId: '', spanId: '', flags: 0, eventName: '', resource: { attributes: resource }, scope: { name: '', version: '' },
  };
}

// What the collector would do, written independently of the mapper's hand-written parser: the regex
// wire-formats.md suggests for filelog (regex_parser), and go-syslog's field split for the receiver.
const FILE_RE = /^(?<timestamp>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\S+) (?<hostname>\S+) (?<appname>[^[:]+)(?:\[(?<proc_id>\d+)\])?: (?<message>.*)$/s;
const RFC5424_RE = /^<(?<pri>\d{1,3})>1 (?<ts>\S+) (?<hostname>\S+) (?<appname>\S+) (?<procid>\S+) (?<msgid>\S+) (?:-|\[.*?\]) ?(?<message>.*)$/s;
const RFC3164_RE = /^<(?<pri>\d{1,3})>(?<ts>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (?<hostname>\S+) (?<appname>[^[:]+)(?:\[(?<proc_id>\d+)\])?: (?<message>.*)$/s;

function parserAttributes(line: string, file: string): Record<string, AnyValue> | undefined {
  const g = FILE_RE.exec(line)?.groups;
  if (g === undefined) return undefined;
  const attrs: Record<string, AnyValue> = { 'log.file.name': file, hostname: g.hostname!, appname: g.appname!, message: g.message! };
  if (g.proc_id !== undefined) attrs.proc_id = g.proc_id;
  return attrs;
}

function receiverAttributes(line: string): Record<string, AnyValue> | undefined {
  const g5 = RFC5424_RE.exec(line)?.groups;
  if (g5 !== undefined) {
    const pri = Number(g5.pri);
    const attrs: Record<string, AnyValue> = { priority: pri, facility: pri >> 3, version: 1, hostname: g5.hostname!, appname: g5.appname!, message: g5.message! };
    if (g5.procid !== '-') attrs.proc_id = g5.procid!;
    if (g5.msgid !== '-') attrs.msg_id = g5.msgid!;
    return attrs;
  }
  const g3 = RFC3164_RE.exec(line)?.groups;
  if (g3 === undefined) return undefined;
  const pri = Number(g3.pri);
  const attrs: Record<string, AnyValue> = { priority: pri, facility: pri >> 3, hostname: g3.hostname!, appname: g3.appname!, message: g3.message! };
  if (g3.proc_id !== undefined) attrs.proc_id = g3.proc_id;
  return attrs;
}

/** The journald receiver's opt-in semantic-conventions shape (wire-formats.md §B), built from an entry. */
function semconv(entry: Record<string, AnyValue>): LogRecordView {
  const attrs: Record<string, AnyValue> = {};
  const res: Record<string, AnyValue> = {};
  const toResource: Record<string, string> = { _PID: 'process.pid', _COMM: 'process.command', _EXE: 'process.executable.path', _CMDLINE: 'process.command_line', _HOSTNAME: 'host.name' };
  for (const [k, v] of Object.entries(entry)) {
    if (k === 'MESSAGE' || k.startsWith('__')) continue;
    if (k === 'SYSLOG_FACILITY') attrs['syslog.facility.code'] = Number(v);
    else if (k === 'SYSLOG_PID') attrs['syslog.pid'] = Number(v);
    else if (k === 'MESSAGE_ID') attrs['syslog.msg.id'] = v;
    else if (k in toResource) res[toResource[k]!] = k === '_PID' ? Number(v) : v;
    else attrs[`journald.${k}`] = v;
  }
  return view(entry.MESSAGE ?? null, attrs, res);
}

/** Each way a case reaches otel-sigma: shape name → OTLP records. */
function shapes(c: Case): [string, LogRecordView[]][] {
  const file = c.file ?? 'syslog';
  if (c.kind === 'auditd') {
    return [
      ['filelog raw', c.lines!.map((l) => view(l, { 'log.file.name': file }))],
      ['filelog raw, no host.name', c.lines!.map((l) => view(l, { 'log.file.path': `/var/log/audit/${file}` }, {}))],
    ];
  }
  if (c.kind === 'journald') {
    return [
      ['journald map body', c.entries!.map((e) => view(e, {}, {}))],
      ['journald convert_to_semantic_conventions', c.entries!.map(semconv)],
    ];
  }
  const out: [string, LogRecordView[]][] = [];
  for (const key of ['traditional', 'rfc3339'] as const) {
    const line = c[key];
    if (line === undefined) continue;
    out.push([`filelog raw (${key})`, [view(line, { 'log.file.name': file })]]);
    const attrs = parserAttributes(line, file);
    assert.ok(attrs, `${c.name}: the collector regex must parse ${line}`);
    out.push([`filelog + syslog/regex parser (${key})`, [view(line, attrs)]]);
  }
  for (const key of ['rfc5424', 'rfc3164'] as const) {
    const line = c[key];
    if (line === undefined) continue;
    const attrs = receiverAttributes(line);
    assert.ok(attrs, `${c.name}: the receiver split must parse ${line}`);
    out.push([`syslog receiver (${key})`, [view(line, attrs, {})]]);
  }
  return out;
}

function mapAll(records: LogRecordView[]): { events: MappedEvent[]; unhandled: number } {
  const mapper = createLinuxMapper();
  const out = mapper.mapBatch(records);
  const events = [...out.events, ...mapper.flush()];
  assert.equal(mapper.pendingRecords, 0);
  return { events, unhandled: out.unhandled.length };
}

function hasFields(event: SigmaEvent, want: Record<string, string | number>): boolean {
  return Object.entries(want).every(([k, v]) => {
    const got = event.fields[k];
    return (typeof got === 'string' || typeof got === 'number' || typeof got === 'boolean') && String(got) === String(v);
  });
}

// ---- routing: a rule's logsource → linux.yaml entry → does some variant accept the event?
const mapping = loadLogsourceMapping();

function ruleFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) ruleFiles(path, out);
    else if (name.endsWith('.yml')) out.push(path);
  }
  return out;
}

interface RuleHead {
  id: string;
  logsource: { product?: string; category?: string; service?: string };
}

const linuxRules = new Map<string, RuleHead>();
if (existsSync(SIGMA)) {
  for (const tree of readdirSync(SIGMA).filter((d) => d.startsWith('rules'))) {
    for (const file of ruleFiles(join(SIGMA, tree))) {
      const text = readFileSync(file, 'utf8');
      if (!text.includes('product: linux')) continue;
      const doc = parse(text.split(/^---$/m)[0]!) as RuleHead;
      if (doc.logsource?.product === 'linux') linuxRules.set(doc.id, doc);
    }
  }
}

function entryFor(ls: RuleHead['logsource']): LogsourceEntry | undefined {
  return mapping.entries.find((e) => (e.product ?? '') === (ls.product ?? '') && (e.category ?? '') === (ls.category ?? '') && (e.service ?? '') === (ls.service ?? ''));
}

function variantAccepts(v: LogsourceVariant, event: SigmaEvent): boolean {
  return Object.entries(v.when).every(([key, values]) => {
    const actual = key === '@source' ? event.meta.source : key === '@product' ? event.meta.product : key === '@service' ? event.meta.service : event.fields[key];
    if (actual === undefined || actual === null || typeof actual === 'object') return false;
    const text = String(actual).toLowerCase();
    return values.some((w) => String(w).toLowerCase() === text);
  });
}

const sharedMissing = existsSync(SIGMA) ? '' : ' (skipped: ../shared/sigma is absent)';

describe('Linux corpus', () => {
  test('covers at least 30 SigmaHQ Linux rules and every case names its origin', () => {
    const ids = new Set(corpus.cases.flatMap((c) => c.rules));
    assert.ok(ids.size >= 30, `only ${ids.size} rules`);
    for (const c of corpus.cases) assert.ok(c.origin.length > 20, c.name);
    assert.ok(corpus.cases.some((c) => c.benign === true));
  });

  test(`every (product: linux) logsource SigmaHQ uses that a Linux collector can deliver has an entry${sharedMissing}`, { skip: sharedMissing !== '' }, () => {
    const missing = new Set<string>();
    for (const rule of linuxRules.values()) {
      if (entryFor(rule.logsource) === undefined) missing.add(`${rule.logsource.category ?? ''}/${rule.logsource.service ?? ''}`);
    }
    assert.deepEqual([...missing], []);
  });

  for (const c of corpus.cases) {
    describe(c.name, () => {
      for (const [shape, records] of shapes(c)) {
        test(shape, () => {
          const { events, unhandled } = mapAll(records);
          assert.equal(unhandled, 0, 'every record is recognised');
          assert.ok(events.length > 0);
          for (const want of c.fields) {
            assert.ok(events.some((e) => hasFields(e.event, want)), `no event with ${JSON.stringify(want)} in\n${JSON.stringify(events.map((e) => e.event), null, 1).slice(0, 4000)}`);
          }
          if (c.service !== undefined) assert.ok(events.every((e) => e.event.meta.service === c.service), `service ${c.service}`);
          if (c.source !== undefined) assert.ok(events.every((e) => e.event.meta.source === c.source), `source ${c.source}`);
          for (const e of events) assert.equal(e.event.meta.product, 'linux');
          for (const e of events) assert.equal(e.event.meta.host, shape === 'filelog raw, no host.name' ? '' : 'vm', 'host.name, else the syslog/journald host name');
          if (sharedMissing !== '') return;
          for (const id of c.rules) {
            const rule = linuxRules.get(id);
            assert.ok(rule, `rule ${id} is a SigmaHQ Linux rule`);
            const entry = entryFor(rule.logsource);
            assert.ok(entry, `linux.yaml has an entry for ${JSON.stringify(rule.logsource)}`);
            assert.ok(
              events.some((e) => entry.variants.some((v) => variantAccepts(v, e.event))),
              `no event of ${c.name} reaches rule ${id} (${JSON.stringify(rule.logsource)})`,
            );
          }
        });
      }
    });
  }
});

describe(`Linux corpus through the whole SigmaHQ Linux ruleset${sharedMissing}`, { skip: sharedMissing !== '' }, () => {
  const trees = existsSync(SIGMA) ? readdirSync(SIGMA).filter((d) => d.startsWith('rules')).map((d) => join(SIGMA, d)) : [];
  const ruleset = sharedMissing === '' ? loadRuleset({ paths: trees, mapping, select: { logsources: ['linux/*/*'] } }) : undefined;

  test('every expected rule loads', () => {
    const loaded = new Set(ruleset!.rules.map((r) => r.id));
    assert.ok(ruleset!.loaded >= 200, `${ruleset!.loaded} Linux rules loaded`);
    for (const id of new Set(corpus.cases.flatMap((c) => c.rules))) assert.ok(loaded.has(id), `rule ${id} loaded`);
  });

  for (const c of corpus.cases) {
    test(c.benign === true ? `${c.name}: no Linux rule fires` : `${c.name}: fires ${c.rules.length} expected rule(s)`, () => {
      for (const [shape, records] of shapes(c)) {
        const fired = new Map<string, string>();
        for (const e of mapAll(records).events) for (const m of ruleset!.detector.evaluate(e.event)) fired.set(m.rule.id, m.rule.title);
        if (c.benign === true) assert.deepEqual([...fired.values()], [], `${shape}: benign input fired`);
        for (const id of c.rules) assert.ok(fired.has(id), `${shape}: rule ${id} (${linuxRules.get(id)?.logsource ? JSON.stringify(linuxRules.get(id)!.logsource) : ''}) did not fire; fired: ${[...fired.values()].join(', ')}`);
      }
    });
  }
});
