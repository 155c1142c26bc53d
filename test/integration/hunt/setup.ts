/** Shared set-up of the hunt tests: embedded ClickHouse, SigNoz's table, the regression corpus, the corpus's rules. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRuleset, type Ruleset } from '../../../src/detect/ruleset.ts';
import type { Detection } from '../../../src/detect/detection.ts';
import { loadLogsourceMapping } from '../../../src/map/logsource-mapping.ts';
import { createRecordMapper } from '../../../src/map/map-records.ts';
import type { LogsourceMapping } from '../../../src/map/types.ts';
import type { LogRecordView } from '../../../src/decode/types.ts';
import { buildDetections } from '../../../src/detect/build-detection.ts';
import { openClickHouse, type ClickHouseHandle } from '../../../src/store/client.ts';
import { migrate } from '../../../src/store/migrations.ts';
import { DetectionWriter, type DetectionWriterOptions } from '../../../src/store/detection-writer.ts';
import { loadManifest, caseRecords, SHARED_SIGMA, type CorpusCase, type Shape } from '../../helpers/corpus.ts';
import { signozRow, type StoredRow } from './signoz-table.ts';

export interface CorpusRow {
  readonly c: CorpusCase;
  readonly shape: Shape;
  readonly record: LogRecordView;
  readonly row: StoredRow;
}

export function openStore(prefix: string): { ch: ClickHouseHandle; cleanup: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const ch = openClickHouse({ dataDir: join(dir, 'chdb') });
  return {
    ch,
    cleanup: async () => {
      await ch.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function detectionsTable(ch: ClickHouseHandle, table: string, over: Partial<DetectionWriterOptions> = {}): Promise<DetectionWriter> {
  await migrate(ch.client, { database: 'otel_sigma', table, ttlDays: 0 });
  return new DetectionWriter({ client: ch.client, insertRows: ch.insertJsonRows, database: 'otel_sigma', table, logDir: mkdtempSync(join(tmpdir(), `otel-sigma-hunt-log-${table}-`)), ...over });
}

/** Every record of every case in every shape it lists, as SigNoz would store it. */
export function corpusRows(shapes: readonly Shape[] = ['signoz', 'map', 'raw']): CorpusRow[] {
  const out: CorpusRow[] = [];
  for (const c of loadManifest()) {
    for (const shape of shapes) {
      if (!c.shapes.includes(shape)) continue;
      for (const record of caseRecords(c, shape)) out.push({ c, shape, record, row: signozRow(record) });
    }
  }
  return out;
}

export function corpusRuleset(mapping: LogsourceMapping = loadLogsourceMapping()): Ruleset {
  const files = [...new Set(loadManifest().map((c) => join(SHARED_SIGMA, c.rule_file)))];
  return loadRuleset({ paths: files, mapping, placeholders: {} });
}

/** The stream's path over the same records, in-process: map + evaluate. */
export function streamDetections(records: readonly LogRecordView[], rs: Ruleset, mapping: LogsourceMapping): Detection[] {
  const mapper = createRecordMapper({ mapping });
  const out: Detection[] = [];
  for (const { event, record } of [...mapper.map(records), ...mapper.flush()]) {
    out.push(...buildDetections(rs.detector.evaluate(event), event, record, 0, 'stream'));
  }
  return out;
}

/** Identity of a detection that does not depend on attribute order: rule, event time, host, body. */
export const detectionKey = (ruleId: string, eventTimeNs: string, host: string, body: string): string => `${ruleId}|${eventTimeNs}|${host}|${body}`;

export function multiset(keys: Iterable<string>): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}
