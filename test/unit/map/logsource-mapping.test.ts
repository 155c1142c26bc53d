import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadLogsourceMapping, SHIPPED_LOGSOURCE_DIR } from '../../../src/map/logsource-mapping.ts';
import type { LogsourceEntry, LogsourceMapping } from '../../../src/map/types.ts';
import { isPipelineError } from '../../../src/errors.ts';
import { hasCorpus, SHARED_SIGMA } from '../../helpers/corpus.ts';

const SKIP_NOTE = hasCorpus ? '' : ' (skipped: ../shared/sigma is absent)';
let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'otel-sigma-logsource-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function find(m: LogsourceMapping, product: string, category: string, service: string): LogsourceEntry | undefined {
  return m.entries.find((e) => (e.product ?? '') === product && (e.category ?? '') === category && (e.service ?? '') === service);
}

function loadError(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (err) {
    assert.ok(isPipelineError(err), String(err));
    assert.equal(err.code, 'ERR_CONFIG');
    return err;
  }
  assert.fail('expected an error');
}

describe('loadLogsourceMapping: shipped data', () => {
  const m = loadLogsourceMapping();

  test('Windows categories follow thor.yml: Sysmon EIDs, Security 4688 with renames, registry EventType', () => {
    const pc = find(m, 'windows', 'process_creation', '')!;
    assert.deepEqual(pc.variants[0]!.when['EventID'], [1]);
    assert.deepEqual(pc.variants[0]!.when['Channel'], ['Microsoft-Windows-Sysmon/Operational']);
    assert.deepEqual(pc.variants[1]!.when['EventID'], [4688]);
    assert.deepEqual(pc.variants[1]!.rename, { Image: 'NewProcessName', ParentImage: 'ParentProcessName' });
    assert.deepEqual(find(m, 'windows', 'registry_add', '')!.variants[0]!.when['EventType'], ['CreateKey']);
    assert.deepEqual(find(m, 'windows', 'registry_delete', '')!.variants[0]!.when['EventType'], ['DeleteKey', 'DeleteValue']);
    assert.deepEqual(find(m, 'windows', 'ps_script', '')!.variants[0]!.when['Channel'], ['Microsoft-Windows-PowerShell/Operational', 'PowerShellCore/Operational']);
    assert.deepEqual(find(m, '', 'antivirus', '')!.variants[0]!.rename, { Signature: 'ThreatName', Filename: 'Path' });
    assert.deepEqual(find(m, 'windows', '', '')!.variants[0]!.when, { '@product': ['windows'] });
    assert.deepEqual(m.fallback.when, { '@source': ['generic'] });
  });

  test(`every thor.yml Windows logsource has an entry with the same channel and EventIDs${SKIP_NOTE}`, { skip: !hasCorpus }, () => {
    const thor = parse(readFileSync(join(SHARED_SIGMA, 'tests/thor.yml'), 'utf8')) as {
      logsources: Record<string, { product?: string; category?: string; service?: string; conditions?: Record<string, unknown>; sources?: string[] }>;
    };
    for (const [name, ls] of Object.entries(thor.logsources)) {
      if (ls.product !== 'windows' && ls.category !== 'antivirus') continue;
      const e = find(m, ls.product ?? '', ls.category ?? '', ls.service ?? '');
      assert.ok(e, `thor ${name}`);
      const when = e.variants.map((v) => v.when);
      if (ls.sources) {
        const channels = ls.sources.map((s) => s.replace(/^WinEventLog:/, ''));
        for (const ch of channels) assert.ok(when.some((w) => w['Channel']?.includes(ch)), `${name}: ${ch}`);
      }
      const eid = ls.conditions?.['EventID'];
      if (eid !== undefined) {
        const ids = Array.isArray(eid) ? eid : [eid];
        for (const id of ids) assert.ok(when.some((w) => w['EventID']?.includes(id as number)), `${name}: EventID ${String(id)}`);
      }
    }
  });

  test(`every logsource SigmaHQ rules use has an entry, except Linux/macOS (linux.yaml) and ETW-only file_access/file_rename${SKIP_NOTE}`, { skip: !hasCorpus }, () => {
    const missing = new Set<string>();
    let rules = 0;
    for (const tree of ['rules', 'rules-emerging-threats', 'rules-threat-hunting', 'rules-placeholder']) {
      for (const f of readdirSync(join(SHARED_SIGMA, tree), { recursive: true, encoding: 'utf8' })) {
        if (!f.endsWith('.yml')) continue;
        const ls = logsourceOf(readFileSync(join(SHARED_SIGMA, tree, f), 'utf8'));
        rules++;
        if (ls.product === 'linux' || ls.product === 'macos') continue;
        if (ls.product === 'windows' && (ls.category === 'file_access' || ls.category === 'file_rename')) continue;
        if (!find(m, ls.product, ls.category, ls.service)) missing.add(`${ls.product}/${ls.category}/${ls.service}`);
      }
    }
    assert.ok(rules > 3000, `${rules} rules`);
    assert.deepEqual([...missing], []);
  });
});

describe('loadLogsourceMapping: overrides and validation', () => {
  test('an override entry replaces the shipped entry with the same key and may add new ones', () => {
    const o = file(
      'override.yaml',
      `entries:
  - product: windows
    category: process_creation
    variants:
      - when: { Channel: [My-EDR/Operational], EventID: [100] }
        rename: { Image: process_path }
  - product: acme
    service: firewall
    variants:
      - when: { '@source': [generic], vendor: [acme] }
fallback:
  when: { '@source': [generic, syslog] }
`,
    );
    const base = loadLogsourceMapping();
    const m = loadLogsourceMapping({ overrideFiles: [o] });
    assert.equal(m.entries.length, base.entries.length + 1);
    assert.deepEqual(find(m, 'windows', 'process_creation', '')!.variants, [{ when: { Channel: ['My-EDR/Operational'], EventID: [100] }, rename: { Image: 'process_path' } }]);
    assert.deepEqual(find(m, 'acme', '', 'firewall')!.variants[0]!.when, { '@source': ['generic'], vendor: ['acme'] });
    assert.deepEqual(m.fallback.when, { '@source': ['generic', 'syslog'] });
    assert.deepEqual(find(m, 'windows', 'image_load', ''), find(base, 'windows', 'image_load', ''));
  });

  test('shipped files with the same key are merged (variants joined); two shipped fallbacks are an error', () => {
    const shipped = mkdtempSync(join(dir, 'shipped-'));
    writeFileSync(join(shipped, 'a.yaml'), `fallback: { when: { '@source': [generic] } }\nentries:\n  - category: webserver\n    variants: [{ when: { '@source': [generic] } }]\n`);
    writeFileSync(join(shipped, 'b.yaml'), `entries:\n  - category: webserver\n    variants: [{ when: { '@source': [nginx] } }]\n`);
    writeFileSync(join(shipped, 'notes.txt'), 'not yaml');
    const m = loadLogsourceMapping({ shippedDir: shipped });
    assert.equal(m.entries.length, 1);
    assert.deepEqual(
      m.entries[0]!.variants.map((v) => v.when['@source']),
      [['generic'], ['nginx']],
    );
    writeFileSync(join(shipped, 'c.yaml'), `fallback: { when: { '@source': [x] } }\n`);
    const err = loadError(() => loadLogsourceMapping({ shippedDir: shipped }));
    assert.match(err.message, /c\.yaml.*fallback.*already set by .*a\.yaml/);
  });

  const bad: readonly [string, string, RegExp][] = [
    ['unknown key', `entries:\n  - product: x\n    variants: [{ when: { a: [1] } }]\n    colour: red\n`, /bad-0\.yaml at entries\[0\] \(product=x\).*colour/],
    ['when value not a list', `entries:\n  - product: x\n    category: y\n    variants:\n      - when: { EventID: 1 }\n`, /bad-1\.yaml at entries\[0\] \(product=x, category=y\)\.variants\[0\]\.when\.EventID/],
    ['no variants', `entries:\n  - service: s\n    variants: []\n`, /bad-2\.yaml at entries\[0\] \(service=s\)\.variants: needs at least one variant/],
    ['no key', `entries:\n  - variants: [{ when: { a: [b] } }]\n`, /bad-3\.yaml at entries\[0\].*needs product, category or service/],
    ['duplicate key in one file', `entries:\n  - product: x\n    variants: [{ when: { a: [b] } }]\n  - product: x\n    variants: [{ when: { a: [c] } }]\n`, /bad-4\.yaml at entries\[1\] \(product=x\): same key as entries\[0\]/],
    ['YAML syntax', `entries: [\n`, /bad-5\.yaml/],
    ['rename to empty', `entries:\n  - product: x\n    variants: [{ when: { a: [b] }, rename: { Image: '' } }]\n`, /bad-6\.yaml at entries\[0\] \(product=x\)\.variants\[0\]\.rename\.Image/],
    ['top level not a map', `- a\n- b\n`, /bad-7\.yaml/],
  ];
  bad.forEach(([what, text, re], i) => {
    test(`bad override file (${what}) → ERR_CONFIG naming the file and the key`, () => {
      const p = file(`bad-${i}.yaml`, text);
      assert.match(loadError(() => loadLogsourceMapping({ overrideFiles: [p] })).message, re);
    });
  });

  test('a missing override file is an ERR_CONFIG naming it', () => {
    assert.match(loadError(() => loadLogsourceMapping({ overrideFiles: [join(dir, 'nope.yaml')] })).message, /nope\.yaml: cannot read/);
  });

  test('the shipped directory sits next to the module', () => {
    assert.match(SHIPPED_LOGSOURCE_DIR, /src[/\\]map[/\\]logsources$/);
  });
});

/** The logsource block of a rule file (top-level `logsource:` with indented product/category/service). */
function logsourceOf(text: string): { product: string; category: string; service: string } {
  const out = { product: '', category: '', service: '' };
  const block = /^logsource:\s*\n((?:[ \t]+.*\n?)*)/m.exec(text)?.[1] ?? '';
  for (const line of block.split('\n')) {
    const kv = /^\s+(product|category|service):\s*['"]?([^'"#\s]+)/.exec(line);
    if (kv) out[kv[1] as 'product' | 'category' | 'service'] = kv[2]!;
  }
  return out;
}
