/**
 * Coverage as `serve` keeps it: the rules the workers reported (per logsource, from their ruleset summary),
 * the logsource mapping and shipped agent configs (read here, cheaply: the main thread compiles no rules),
 * and the event counters the workers' results carry. Builds the report GET /api/v1/coverage answers and
 * logs one line per logsource family at start-up and after a reload.
 */
import { readShippedAgents, type ShippedAgents } from '../detect/rule-coverage/agents.ts';
import { buildCoverageReport, familyLines, type CoverageReport } from '../detect/rule-coverage/report.ts';
import type { RuleCoverage } from '../detect/rule-coverage/rule-stats.ts';
import { loadLogsourceMapping } from '../map/logsource-mapping.ts';
import type { LogsourceMapping } from '../map/types.ts';
import { CoverageCounters } from './coverage-counters.ts';
import type { Logger } from './logger.ts';

export interface CoverageOptions {
  readonly dataDir: string;
  readonly mappingFiles: readonly string[];
  readonly logger: Logger;
  /** How often the counters are saved (default COVERAGE_SAVE_INTERVAL_MS). */
  readonly saveIntervalMs?: number;
}

export class ServiceCoverage {
  readonly counters: CoverageCounters;
  readonly #opts: CoverageOptions;
  readonly #agents: ShippedAgents;
  #rules: RuleCoverage;
  #mapping: LogsourceMapping;

  constructor(opts: CoverageOptions, rules: RuleCoverage) {
    this.#opts = opts;
    this.#rules = rules;
    this.#mapping = loadLogsourceMapping({ overrideFiles: opts.mappingFiles });
    this.#agents = readShippedAgents();
    this.counters = CoverageCounters.open(opts.dataDir, opts.logger);
    this.counters.startSaving(opts.saveIntervalMs);
  }

  /** A reloaded ruleset: its rules, and the mapping files as they are now (the workers just read them). */
  setRules(rules: RuleCoverage): void {
    this.#rules = rules;
    try {
      this.#mapping = loadLogsourceMapping({ overrideFiles: this.#opts.mappingFiles });
    } catch {
      // The workers loaded these files a moment ago; keep the previous mapping if they changed since.
    }
  }

  report(): CoverageReport {
    return buildCoverageReport({ rules: this.#rules, mapping: this.#mapping, agents: this.#agents, counts: this.counters.snapshot() });
  }

  /** One info line per logsource family (windows, linux, generic/cloud). */
  logFamilies(log: Logger = this.#opts.logger): void {
    for (const f of familyLines(this.report())) log.info({ stage: 'coverage', ...f.fields }, f.line);
  }

  close(): Promise<void> {
    return this.counters.close();
  }
}
