/**
 * Where rows ClickHouse refuses as bad data go, so a poisoned batch cannot block the detection log
 * forever and nothing is silently dropped: `<log_dir>/dead-letter/<name>.ndjson` (the rows as JSONEachRow,
 * ready for `INSERT … FORMAT JSONEachRow` once fixed) and `<name>.reasons.txt` (why, one line per row).
 * Writing the same name twice (a crash before the log's ack) replaces the files: no duplicates.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';

export interface DeadRow {
  readonly row: object;
  readonly reason: string;
}

/** Writes and fsyncs the files; returns the rows file's path. */
export async function writeDeadLetter(logDir: string, name: string, dead: readonly DeadRow[]): Promise<string> {
  const dir = path.join(logDir, 'dead-letter');
  await fsp.mkdir(dir, { recursive: true });
  const rowsFile = path.join(dir, `${name}.ndjson`);
  await writeSynced(rowsFile, dead.map((d) => `${JSON.stringify(d.row)}\n`).join(''));
  await writeSynced(path.join(dir, `${name}.reasons.txt`), dead.map((d, i) => `row ${i + 1}: ${d.reason.replaceAll('\n', ' ')}\n`).join(''));
  return rowsFile;
}

async function writeSynced(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await fsp.open(tmp, 'w');
  try {
    await fh.writeFile(text);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, file);
}
