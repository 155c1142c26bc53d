/**
 * Cost of the regex guard (src/detect/rules/regex.ts) on SigmaHQ's `re` values: per-test time on
 * ordinary command lines with plain Irregexp (a fresh process, no V8 flags), with the guard
 * (rewritten pattern + linear-engine fallback), and on the linear engine alone; then the time
 * of pathological pattern/input pairs. Run: node test/unit/detect/bench-regex.ts. Needs ../shared/sigma.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const SIGMA = path.resolve(import.meta.dirname, '../../../../shared/sigma');
const mode = process.argv[2] ?? 'all';

function sigmaRegexes(): { pattern: string; flags: ('i' | 'm' | 's')[] }[] {
  const out: { pattern: string; flags: ('i' | 'm' | 's')[] }[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(e.name)) visit((parse(fs.readFileSync(p, 'utf8')) as { detection?: unknown }).detection, '');
    }
  };
  const visit = (o: unknown, key: string): void => {
    if (Array.isArray(o)) for (const x of o) visit(x, key);
    else if (o && typeof o === 'object') for (const [k, v] of Object.entries(o)) visit(v, k);
    else if (/\|re\b/.test(key) && typeof o === 'string') {
      const m = /^\(\?([ims]+)\)/.exec(o);
      const flags = new Set<'i' | 'm' | 's'>(m ? ([...m[1]!] as ('i' | 'm' | 's')[]) : []);
      if (/\|i\b/.test(key)) flags.add('i');
      out.push({ pattern: m ? o.slice(m[0].length) : o, flags: [...flags] });
    }
  };
  for (const d of ['rules', 'rules-emerging-threats', 'rules-threat-hunting', 'rules-placeholder']) walk(path.join(SIGMA, d));
  return out;
}

const INPUTS = [
  'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe -NoProfile -ExecutionPolicy Bypass -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA',
  '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --type=renderer --field-trial-handle=1234,5678 --lang=en-US --disable-gpu-compositing',
  'cmd.exe /c echo hello > C:\\Users\\Public\\x.txt',
  'C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule',
  'https://0127.0000.0000.0001/a ping -n 1 127.0.0.1 echo EEEE > x',
];

function perTest(tests: { re: RegExp; lower: boolean }[]): number {
  const lowered = INPUTS.map((s) => s.toLowerCase());
  const run = () => {
    for (const t of tests) for (const s of t.lower ? lowered : INPUTS) t.re.test(s);
  };
  for (let i = 0; i < 200; i++) run();
  const t0 = performance.now();
  for (let i = 0; i < 500; i++) run();
  return ((performance.now() - t0) * 1000) / (500 * tests.length * INPUTS.length);
}

const regexes = sigmaRegexes();
if (mode === 'plain') {
  // No V8 flags in this process: Irregexp as Node ships it.
  console.log(perTest(regexes.map((r) => ({ re: new RegExp(r.pattern, r.flags.join('')), lower: false }))).toFixed(3));
} else {
  const plain = execFileSync(process.execPath, [import.meta.filename, 'plain'], { encoding: 'utf8' }).trim();
  const { compileSafeRegex } = await import('../../../src/detect/rules/regex.ts');
  const compiled = regexes.map((r) => {
    const c = compileSafeRegex(r.pattern, new Set(r.flags));
    if (!c.ok) throw new Error(c.reason);
    return c;
  });
  const guarded = perTest(compiled.map((c) => ({ re: c.regex, lower: c.lowercaseInput })));
  const linear = perTest(compiled.map((c) => ({ re: new RegExp(c.source, `${c.regex.flags}l`), lower: c.lowercaseInput })));
  console.log(`${regexes.length} SigmaHQ regexes x ${INPUTS.length} command lines, µs per test: plain Irregexp ${plain}, guarded ${guarded.toFixed(3)}, linear engine only ${linear.toFixed(3)}`);
  const evil: [string, string, string][] = [
    ['(a+)+$', `${'a'.repeat(30)}!`, 'over a minute: 4.3 s at 26 a, doubling with each a'],
    ['(x+x+)+y', 'x'.repeat(5000), ''],
    ['[^/]{100,}$', `${'a'.repeat(32_000)}/x`, 'about 1 s'],
    ['.{1000,}', `${'a'.repeat(999)}\n`.repeat(32), 'about 40 ms'],
  ];
  for (const [p, s, unguarded] of evil) {
    const c = compileSafeRegex(p, new Set());
    if (!c.ok) throw new Error(c.reason);
    const t0 = performance.now();
    c.regex.test(s);
    console.log(`/${p}/ on ${s.length} chars: ${(performance.now() - t0).toFixed(1)} ms guarded${unguarded ? ` (plain Irregexp: ${unguarded})` : ''}`);
  }
}
