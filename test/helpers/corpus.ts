/** The SigmaHQ regression corpus in ../shared/sigma (tests only; the product never reads it). */
import fs from 'node:fs';
import path from 'node:path';
import { decodeJsonRequest } from '../../src/decode/otlp-json.ts';
import type { LogRecordView } from '../../src/decode/types.ts';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const SHARED_SIGMA = path.resolve(REPO_ROOT, '../shared/sigma');
export const hasCorpus = fs.existsSync(path.join(SHARED_SIGMA, 'regression/manifest.json'));
export const ACTIVE_RULE_DIRS = ['rules', 'rules-emerging-threats', 'rules-threat-hunting', 'rules-placeholder'].map((d) => path.join(SHARED_SIGMA, d));

export type Shape = 'signoz' | 'map' | 'raw';
export const SHAPES: readonly Shape[] = ['signoz', 'map', 'raw'];

export interface CorpusCase {
  readonly rule_id: string;
  readonly title: string;
  readonly rule_file: string;
  readonly match_count: number | null;
  readonly case_dir: string;
  readonly otlp: Readonly<Record<Shape, string>>;
  readonly shapes: readonly Shape[];
}

/** The manifest's cases; none when ../shared is absent. */
export function loadManifest(): CorpusCase[] {
  if (!hasCorpus) return [];
  const m = JSON.parse(fs.readFileSync(path.join(SHARED_SIGMA, 'regression/manifest.json'), 'utf8')) as { cases: CorpusCase[] };
  return m.cases;
}

export const casePath = (c: CorpusCase, shape: Shape): string => path.join(SHARED_SIGMA, 'regression', c.otlp[shape]);
export const ruleFilePath = (c: CorpusCase): string => path.join(SHARED_SIGMA, c.rule_file);

/** The case's OTLP/JSON requests (NDJSON: one ExportLogsServiceRequest per line), as raw lines. */
export function requestLines(c: CorpusCase, shape: Shape): string[] {
  return fs.readFileSync(casePath(c, shape), 'utf8').split('\n').filter((l) => l.trim() !== '');
}

export function caseRecords(c: CorpusCase, shape: Shape): LogRecordView[] {
  return requestLines(c, shape).flatMap((l) => decodeJsonRequest(l).records);
}
