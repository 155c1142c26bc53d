/**
 * The service's per-logsource event counters: how many events reached the rules of each logsource, and
 * when first and last. Workers count per routing key while they evaluate and return the counts with each
 * task's result; the main thread adds them up here. Kept in <data_dir>/coverage.json so "has this logsource
 * ever been received" survives restarts: written every `intervalMs` when something changed and at shutdown,
 * each time to a temporary file that is synced and renamed over the old one (a crash leaves the old file or
 * the new one, never half of one).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { CoverageCounts } from '../detect/rule-coverage/report.ts';
import type { Logger } from './logger.ts';

export const COVERAGE_FILE = 'coverage.json';
export const COVERAGE_SAVE_INTERVAL_MS = 2_000;

const Iso = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO date-time');
const CountsFile = z.object({
  version: z.literal(1),
  since: Iso,
  updated_at: Iso,
  logsources: z.record(z.string(), z.object({ events: z.number().int().nonnegative(), first_seen: Iso, last_seen: Iso })),
});

/** The counters a data directory holds; undefined when there are none yet. Throws, naming the file, when it is not a counters file. */
export function readCoverageCounts(file: string): CoverageCounts | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file}: cannot read: ${(err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = CountsFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: not a coverage counters file (${issue.path.join('.') || 'document'}: ${issue.message})`);
  }
  const { since, updated_at, logsources } = parsed.data;
  return { since, updated_at, logsources };
}

interface Count {
  events: number;
  first: number;
  last: number;
}

export class CoverageCounters {
  readonly file: string;
  readonly #counts = new Map<string, Count>();
  readonly #since: number;
  readonly #logger: Logger | undefined;
  #dirty = false;
  #saving: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  constructor(file: string, initial?: CoverageCounts, logger?: Logger) {
    this.file = file;
    this.#logger = logger;
    this.#since = initial !== undefined ? Date.parse(initial.since) : Date.now();
    for (const [key, c] of Object.entries(initial?.logsources ?? {})) {
      this.#counts.set(key, { events: c.events, first: Date.parse(c.first_seen), last: Date.parse(c.last_seen) });
    }
  }

  /** The counters of `<dataDir>/coverage.json`; a damaged file is set aside (renamed `.damaged`), logged, and counting restarts. */
  static open(dataDir: string, logger?: Logger): CoverageCounters {
    const file = path.join(dataDir, COVERAGE_FILE);
    let initial: CoverageCounts | undefined;
    try {
      initial = readCoverageCounts(file);
    } catch (err) {
      const aside = `${file}.damaged`;
      try {
        fs.renameSync(file, aside);
      } catch {
        // Unreadable and immovable: the next save replaces it.
      }
      logger?.warn({ stage: 'coverage', file, movedTo: aside, err: (err as Error).message }, 'Coverage counters file is damaged; counting starts again.');
    }
    return new CoverageCounters(file, initial, logger);
  }

  /** Adds one task's counts (routing key → events), seen at `nowMs`. */
  add(routed: Readonly<Record<string, number>> | undefined, nowMs: number = Date.now()): void {
    if (routed === undefined) return;
    for (const key in routed) {
      const n = routed[key]!;
      if (!(n > 0)) continue;
      const c = this.#counts.get(key);
      if (c === undefined) this.#counts.set(key, { events: n, first: nowMs, last: nowMs });
      else {
        c.events += n;
        if (nowMs > c.last) c.last = nowMs;
      }
      this.#dirty = true;
    }
  }

  snapshot(nowMs: number = Date.now()): CoverageCounts {
    const logsources: Record<string, { events: number; first_seen: string; last_seen: string }> = {};
    for (const key of [...this.#counts.keys()].sort()) {
      const c = this.#counts.get(key)!;
      logsources[key] = { events: c.events, first_seen: new Date(c.first).toISOString(), last_seen: new Date(c.last).toISOString() };
    }
    return { since: new Date(this.#since).toISOString(), updated_at: new Date(nowMs).toISOString(), logsources };
  }

  /** Writes the file when something changed since the last save (one save at a time). */
  save(): Promise<void> {
    this.#saving = this.#saving.then(async () => {
      if (!this.#dirty) return;
      this.#dirty = false;
      try {
        await writeAtomically(this.file, `${JSON.stringify({ version: 1, ...this.snapshot() }, null, 1)}\n`);
      } catch (err) {
        this.#dirty = true;
        this.#logger?.warn({ stage: 'coverage', file: this.file, err: (err as Error).message }, 'Cannot save the coverage counters; retrying at the next interval.');
      }
    });
    return this.#saving;
  }

  /** Saves every `intervalMs` (the timer does not keep the process alive). */
  startSaving(intervalMs: number = COVERAGE_SAVE_INTERVAL_MS): void {
    if (this.#timer !== undefined) return;
    this.#dirty = true; // the first save records `since`, so a restart keeps it even before any event
    this.#timer = setInterval(() => void this.save(), intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and saves what is left. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.save();
  }
}

async function writeAtomically(file: string, text: string): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fh = await fsp.open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, file);
}
