/**
 * Loads a Sigma ruleset: files → YAML documents → rules (selected, compiled), filters applied to
 * the rules they name, correlations parsed and resolved against the loaded rules (by id or name),
 * every problem collected with file and line. The result's Detector routes each event to the rules
 * of its logsource; the correlations run in the process's correlation stage over the matches.
 *
 * Synchronous, and never throws for bad rule files: a bad document is reported and the rest loads.
 */
import type { LogsourceMapping, LogsourceVariant } from '../map/types.ts';
import { FALLBACK_KEY, logsourceKey } from './rule-coverage/rule-stats.ts';
import { compileDetection, RuleError, RuleFields, scalarText } from './rules/compile.ts';
import { SigmaDetector, variantsFor, type CompiledRule, type RuleCost } from './rules/detector.ts';
import { documentKind, logsourceCovers, readFilter, readRuleInfo, type FilterDefinition } from './rules/documents.ts';
import { findRuleFiles, readDocuments, type RuleDocument } from './rules/load.ts';
import { ruleSelector, type RuleSelection } from './rules/selection.ts';
import { andAll, type CostedTest, type KeywordProbe } from './rules/combine.ts';
import type { Detector, RuleInfo, RuleProblem } from './types.ts';
import { parseCorrelation, resolveCorrelations } from './correlation/parse.ts';
import type { CorrelationRule } from './correlation/types.ts';

export type { RuleSelection } from './rules/selection.ts';
export type { RuleCost } from './rules/detector.ts';

export interface RulesetOptions {
  /** Files or directories (recursive, *.yml / *.yaml). Filter documents found here are applied too. */
  readonly paths: readonly string[];
  readonly mapping: LogsourceMapping;
  /** %name% → values for |expand (several values are OR-ed). */
  readonly placeholders?: Readonly<Record<string, readonly string[]>>;
  readonly select?: RuleSelection;
  /** Extra files or directories holding Sigma filter documents (rules found there load too). */
  readonly filterPaths?: readonly string[];
  /** Candidate index on (default). false evaluates every routed rule: same results, slower (for verification). */
  readonly prefilter?: boolean;
  /** Time each rule's test (see SigmaDetector.ruleCosts); for `rules check --profile`, not for serving. */
  readonly profile?: boolean;
  /** Count the events routed to each logsource (SigmaDetector.takeRouted; default on). false: the bench's baseline. */
  readonly countRoutes?: boolean;
}

export interface Ruleset {
  readonly detector: Detector & { ruleCosts(): RuleCost[]; takeRouted(): Record<string, number> | undefined };
  /** Detection rules that loaded and are active. */
  readonly rules: readonly RuleInfo[];
  /** Correlation rules that loaded, resolved (references are rule ids) and in dependency order. */
  readonly correlations: readonly CorrelationRule[];
  /** Every problem: file, line, reason, severity. */
  readonly problems: readonly RuleProblem[];
  /** Rule documents loaded (= rules.length + correlations.length). */
  readonly loaded: number;
  /** Documents refused (bad rules, bad YAML, bad correlations, bad filters); each has an error problem. */
  readonly rejected: number;
  /** Rules the selection excluded (counted in neither loaded nor rejected). */
  readonly skipped: number;
  /** Filter documents that loaded. */
  readonly filters: number;
}

interface PendingRule {
  readonly info: RuleInfo;
  readonly name: string;
  readonly fields: RuleFields;
  test: CostedTest;
  readonly probes: KeywordProbe[];
}

export function loadRuleset(opts: RulesetOptions): Ruleset {
  const problems: RuleProblem[] = [];
  const placeholders = opts.placeholders ?? {};
  const selected = ruleSelector(opts.select);
  let rejected = 0;
  let skipped = 0;
  const reject = (d: RuleDocument, e: RuleError, ruleId?: string) => {
    problems.push({ file: d.file, line: e.line ?? d.line, ...(ruleId ? { ruleId } : {}), reason: e.message, severity: 'error' });
    rejected++;
  };

  const files = findRuleFiles([...opts.paths, ...(opts.filterPaths ?? [])], problems);
  const rules: PendingRule[] = [];
  const filters: FilterDefinition[] = [];
  const correlations: { rule: CorrelationRule; doc: RuleDocument }[] = [];
  for (const file of files) {
    const read = readDocuments(file, problems);
    rejected += read.rejected;
    for (const d of read.docs) {
      const kind = documentKind(d);
      if (kind instanceof RuleError) {
        reject(d, kind);
        continue;
      }
      const docId = scalarText(d.root.get('id', true)) || undefined;
      try {
        if (kind === 'correlation') {
          const rule = parseCorrelation(d, problems);
          if (selected(rule.info)) correlations.push({ rule, doc: d });
          else skipped++;
        } else if (kind === 'filter') {
          const f = readFilter(d);
          compileDetection(f.src, f.detection, { placeholders, fields: new RuleFields() }, ['rules']); // validate once
          filters.push(f);
        } else {
          const { name, ...info } = readRuleInfo(d, problems);
          if (!selected(info)) {
            skipped++;
            continue;
          }
          const fields = new RuleFields();
          const det = compileDetection(d.src, d.root.get('detection', true), { placeholders, fields });
          rules.push({ info, name, fields, test: det.test, probes: [...det.probes] });
        }
      } catch (e) {
        // A RuleError is the rule's fault; anything else is ours, but still only costs this document.
        reject(d, e instanceof RuleError ? e : new RuleError(`internal error while compiling: ${(e as Error).message}`, d.line), docId);
      }
    }
  }

  applyFilters(filters, rules, placeholders, problems);
  warnDuplicateIds(rules, problems);
  const before = problems.length;
  const resolved = resolveCorrelations(correlations.map((c) => c.rule), rules.map((r) => ({ id: r.info.id, name: r.name })), problems);
  rejected += problems.slice(before).filter((p) => p.severity === 'error').length;

  const placed = rules.map((r) => {
    const { product, category, service } = r.info.logsource;
    let variants = variantsFor(opts.mapping, product, category, service);
    if (!variants) {
      variants = [opts.mapping.fallback];
      problems.push({
        file: r.info.file,
        ...(r.info.id ? { ruleId: r.info.id } : {}),
        reason: `logsource product=${product}/category=${category}/service=${service} has no mapping; the rule only sees generic events`,
        severity: 'warning',
      });
    }
    const rule: CompiledRule = { info: r.info, fields: r.fields.names, test: r.test.test, probes: r.probes, witness: r.test.witness };
    return { rule, variants };
  });
  // Routing keys for the coverage counters: a variant counts for its logsource, the fallback for the unmapped rules.
  const labels = new Map<LogsourceVariant, string>(opts.mapping.entries.flatMap((e) => e.variants.map((v) => [v, logsourceKey(e)] as const)));
  labels.set(opts.mapping.fallback, FALLBACK_KEY);
  return {
    detector: new SigmaDetector(placed, { prefilter: opts.prefilter ?? true, profile: opts.profile ?? false, ...(opts.countRoutes !== false && { routeLabel: (v: LogsourceVariant) => labels.get(v) }) }),
    rules: rules.map((r) => r.info),
    correlations: resolved,
    problems,
    loaded: rules.length + resolved.length,
    rejected,
    skipped,
    filters: filters.length,
  };
}

/**
 * Sigma filters (spec "Sigma Filters"): a rule the filter names (by id or name, or every rule of
 * the filter's logsource when `rules` is empty or `any`) runs as `(rule condition) and (filter
 * condition)`. The filter's detection is compiled in its own scope (its identifiers cannot clash
 * with the rule's) against the rule's field numbering.
 */
function applyFilters(filters: readonly FilterDefinition[], rules: PendingRule[], placeholders: Readonly<Record<string, readonly string[]>>, problems: RuleProblem[]): void {
  for (const f of filters) {
    let applied = 0;
    for (const r of rules) {
      if (!logsourceCovers(f.logsource, r.info.logsource)) continue;
      if (f.rules && !f.rules.includes(r.info.id) && !(r.name && f.rules.includes(r.name))) continue;
      const det = compileDetection(f.src, f.detection, { placeholders, fields: r.fields }, ['rules']);
      r.test = andAll([r.test, det.test]);
      r.probes.push(...det.probes);
      applied++;
    }
    if (applied === 0) {
      problems.push({
        file: f.file,
        line: f.line,
        reason: `filter '${f.title || f.id}' applies to no loaded rule (rules: ${f.rules ? f.rules.join(', ') : 'any'}; logsource ${f.logsource.product}/${f.logsource.category}/${f.logsource.service})`,
        severity: 'warning',
      });
    }
  }
}

function warnDuplicateIds(rules: readonly PendingRule[], problems: RuleProblem[]): void {
  const seen = new Map<string, string>();
  for (const r of rules) {
    if (!r.info.id) continue;
    const first = seen.get(r.info.id);
    if (first !== undefined) {
      problems.push({ file: r.info.file, ruleId: r.info.id, reason: `rule id ${r.info.id} is also used by ${first}; their detections cannot be told apart`, severity: 'warning' });
    } else seen.set(r.info.id, r.info.file);
  }
}
