/** Access to the SigmaHQ regression corpus in ../shared (tests only; absent on a user's install). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJsonRequest } from '../../../src/decode/otlp-json.ts';
import type { LogRecordView } from '../../../src/decode/types.ts';

export const REPO_ROOT = join(import.meta.dirname, '../../..');
export const SIGMA_DIR = join(REPO_ROOT, '../shared/sigma');
export const REGRESSION_DIR = join(SIGMA_DIR, 'regression');
export const HAVE_CORPUS = existsSync(join(REGRESSION_DIR, 'manifest.json'));

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

export function corpusCases(): CorpusCase[] {
  if (!HAVE_CORPUS) return [];
  return (JSON.parse(readFileSync(join(REGRESSION_DIR, 'manifest.json'), 'utf8')) as { cases: CorpusCase[] }).cases;
}

/** Every record of one case file (NDJSON: one ExportLogsServiceRequest per line). */
export function corpusRecords(c: CorpusCase, shape: Shape): LogRecordView[] {
  return readFileSync(join(REGRESSION_DIR, c.otlp[shape]), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => decodeJsonRequest(l).records);
}
