/**
 * The markdown an analyst reads in Keep: what the rule looks for, what matched, the ATT&CK
 * context with links, references and known false positives. Matched values come from the
 * monitored host and may be hostile, so they only ever appear inside code spans.
 */
import type { Detection } from '../detect/detection.ts';

const ATTACK = 'https://attack.mitre.org';
/** Sigma tactic tags → ATT&CK tactic ids (attack.mitre.org links tactics by id, not by name). */
const TACTICS: Readonly<Record<string, string>> = {
  reconnaissance: 'TA0043',
  resource_development: 'TA0042',
  initial_access: 'TA0001',
  execution: 'TA0002',
  persistence: 'TA0003',
  privilege_escalation: 'TA0004',
  defense_evasion: 'TA0005',
  credential_access: 'TA0006',
  discovery: 'TA0007',
  lateral_movement: 'TA0008',
  collection: 'TA0009',
  command_and_control: 'TA0011',
  exfiltration: 'TA0010',
  impact: 'TA0040',
};
const MAX_VALUE = 512;

/** Link for an `attack.*` tag, or undefined for tags that are not ATT&CK (cve.*, detection.*, …). */
export function attackLink(tag: string): { label: string; url: string } | undefined {
  const m = /^attack\.(.+)$/i.exec(tag);
  if (!m?.[1]) return undefined;
  const rest = m[1].toLowerCase();
  const tech = /^t(\d{4})(?:\.(\d{3}))?$/.exec(rest);
  if (tech?.[1]) {
    const id = `T${tech[1]}${tech[2] ? `.${tech[2]}` : ''}`;
    return { label: id, url: `${ATTACK}/techniques/T${tech[1]}/${tech[2] ? `${tech[2]}/` : ''}` };
  }
  const other = /^([gs])(\d{4})$/.exec(rest);
  if (other?.[1] && other[2]) {
    const id = `${other[1].toUpperCase()}${other[2]}`;
    return { label: id, url: `${ATTACK}/${other[1] === 'g' ? 'groups' : 'software'}/${id}/` };
  }
  const tactic = TACTICS[rest.replaceAll('-', '_')];
  if (tactic) return { label: `${titleCase(rest)} (${tactic})`, url: `${ATTACK}/tactics/${tactic}/` };
  return undefined;
}

export function describeDetection(d: Detection, occurrences: number): string {
  const out: string[] = [];
  out.push(`**Sigma rule** ${code(d.ruleTitle)} (${code(d.ruleId)}), level **${d.ruleLevel}**${d.ruleStatus ? `, status ${d.ruleStatus}` : ''}`);
  if (d.ruleDescription) out.push('', oneParagraph(d.ruleDescription));
  out.push('', `**Host** ${code(d.host || 'unknown')} · **Log source** ${code(logsource(d) || 'unknown')} · **Detections** ${occurrences}`);

  if (d.correlation) {
    const c = d.correlation;
    out.push('', `**Correlation** ${code(c.type)}: value **${c.value}** in the window ${code(nsText(c.windowStartNs))} – ${code(nsText(c.windowEndNs))} (event time), ${c.contributing.length} contributing detections listed in the detections table (\`contributing\`).`);
  }
  const matched = Object.entries(d.matched);
  if (matched.length > 0) {
    out.push('', '**Matched fields**', '', '| Field | Value |', '|---|---|');
    for (const [k, v] of matched) out.push(`| ${cell(code(k))} | ${cell(code(v))} |`);
  }

  const attack: string[] = [];
  const otherTags: string[] = [];
  for (const t of d.ruleTags) {
    const link = attackLink(t);
    if (link) attack.push(`- [${link.label}](${link.url}) ${code(t)}`);
    else otherTags.push(code(t));
  }
  if (attack.length > 0) out.push('', '**MITRE ATT&CK**', '', ...attack);
  if (otherTags.length > 0) out.push('', `**Other tags** ${otherTags.join(', ')}`);

  const refs = d.ruleReferences.filter(isHttpUrl);
  if (refs.length > 0) out.push('', '**References**', '', ...refs.map((r) => `- <${r}>`));
  if (d.ruleFalsePositives.length > 0) out.push('', '**Known false positives**', '', ...d.ruleFalsePositives.map((f) => `- ${oneParagraph(f)}`));
  if (d.ruleAuthor) out.push('', `Rule author: ${oneParagraph(d.ruleAuthor)}`);
  return out.join('\n');
}

/** Epoch nanoseconds (decimal string) → ISO 8601; the input itself when it is not a plausible time. */
export function nsText(ns: string): string {
  const ms = /^\d{1,20}$/.test(ns) ? Number(BigInt(ns) / 1_000_000n) : NaN;
  return Number.isFinite(ms) && ms < 8.64e15 ? new Date(ms).toISOString() : ns;
}

export function logsource(d: Detection): string {
  return [d.product, d.category, d.service].filter((s) => s !== '').join('/');
}

/** A code span that cannot be broken out of: the fence is longer than any backtick run inside. */
export function code(value: string): string {
  const v = truncate(value.replace(/[\r\n\t]+/g, ' '), MAX_VALUE);
  if (v.trim() === '') return '*(empty)*';
  let longest = 0;
  for (const run of v.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  const fence = '`'.repeat(longest + 1);
  const pad = v.startsWith('`') || v.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${v}${pad}${fence}`;
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** GFM splits table cells on `|` even inside code spans. */
const cell = (s: string): string => s.replaceAll('|', '\\|');
const oneParagraph = (s: string): string => s.trim().replace(/\s*\n\s*/g, ' ');
const isHttpUrl = (s: string): boolean => /^https?:\/\/\S+$/i.test(s) && !/[<>]/.test(s);
const titleCase = (s: string): string => s.split(/[-_]/).map((w) => (w ? w[0]!.toUpperCase() + w.slice(1) : w)).join(' ');
