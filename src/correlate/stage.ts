/**
 * The process's one correlation stage: base-rule matches from every worker meet here, in the main
 * thread, and the correlation rules run over them in event time (src/detect/correlation).
 *
 * Durability, so that a restart neither loses an open window nor fires twice:
 *   push(inputs) ─▶ fired correlations ─▶ (caller stores them) ─▶ commit(): the inputs and the fired
 *   fingerprints are appended to the correlation log (src/wal, group commit) before the request is
 *   acknowledged.
 * Every `snapshot_interval_s` the correlator's state is written to `state.json` (write, fsync,
 * rename) and the log records it covers are consumed. At start-up the snapshot is restored and the
 * log replayed: correlations that fire again during the replay and were recorded as fired are not
 * emitted twice. Stored before logged: a crash between the two leaves the request unacknowledged,
 * so the sender retries it; input fingerprints already seen are ignored, so a retried request is
 * not counted twice.
 */
import fs from 'node:fs';
import path from 'node:path';
import { correlationDetection } from '../detect/correlation-detection.ts';
import { Correlator, type CorrelatorOptions } from '../detect/correlation/engine.ts';
import type { CorrelationInput, CorrelationOutput, CorrelationRule } from '../detect/correlation/types.ts';
import type { Detection, DetectionSource } from '../detect/detection.ts';
import { RecentSet } from '../store/recent-set.ts';
import type { Logger } from '../telemetry/logger.ts';
import { metrics } from '../telemetry/metrics.ts';
import { DurableLog } from '../wal/durable-log.ts';

export interface CorrelationStageOptions extends CorrelatorOptions {
  readonly rules: readonly CorrelationRule[];
  /** State directory (snapshot + log); undefined = in memory only (eval, tests). */
  readonly dir?: string;
  readonly snapshotIntervalMs?: number;
  readonly logMaxBytes?: number;
  /** Input fingerprints remembered to ignore a retried request's matches. Default 100,000. */
  readonly recentInputs?: number;
  readonly source?: DetectionSource;
  readonly logger?: Logger;
}

/** One correlation log record: what was pushed (or a tick), at which wall time, and what fired. */
interface LogEntry {
  readonly t: number;
  readonly inputs?: readonly CorrelationInput[];
  readonly tick?: true;
  readonly fired: readonly string[];
}

interface Snapshot {
  readonly version: 1;
  readonly correlator: unknown;
  readonly recent: readonly string[];
}

const SNAPSHOT_FILE = 'state.json';

export class CorrelationStage {
  readonly #correlator: Correlator;
  readonly #opts: CorrelationStageOptions;
  readonly #log: DurableLog | undefined;
  readonly #recent: RecentSet;
  readonly #source: DetectionSource;
  #snapshotting: Promise<void> | undefined;
  /** Inner correlations that only feed `generate: false` correlations: they fire into the outer one, not out. */
  readonly #suppressed: ReadonlySet<string>;

  private constructor(opts: CorrelationStageOptions, log: DurableLog | undefined) {
    this.#opts = opts;
    this.#correlator = new Correlator(opts.rules, opts);
    this.#suppressed = this.#correlator.suppressedCorrelations();
    this.#log = log;
    this.#recent = new RecentSet(opts.recentInputs ?? 100_000);
    this.#source = opts.source ?? 'stream';
  }

  /**
   * Opens the stage: restores the snapshot and replays the log. Returns the stage and the
   * correlations the replay fired that had not been recorded as fired (the caller stores them).
   */
  static open(opts: CorrelationStageOptions): { stage: CorrelationStage; replayed: Detection[] } {
    let log: DurableLog | undefined;
    if (opts.dir !== undefined) {
      fs.mkdirSync(opts.dir, { recursive: true });
      log = new DurableLog({ dir: path.join(opts.dir, 'log'), name: 'correlation', maxBytes: opts.logMaxBytes ?? 256 * 1024 * 1024, whenFull: 'refuse', ...(opts.logger ? { logger: opts.logger } : {}) });
    }
    const stage = new CorrelationStage(opts, log);
    const replayed = stage.#recover();
    return { stage, replayed };
  }

  get stats(): Correlator['stats'] {
    return this.#correlator.stats;
  }

  /** Feeds base-rule matches (any order, any batching); returns the correlations that fired. Synchronous. */
  push(inputs: readonly CorrelationInput[], nowMs: number): Detection[] {
    const fresh = this.#dedup(inputs);
    if (fresh.length === 0) return [];
    return this.#detections(this.#correlator.push(fresh, nowMs), nowMs);
  }

  /** Wall-clock finalization of idle groups (call about once a second); also refreshes the gauges. */
  tick(nowMs: number): Detection[] {
    const fired = this.#detections(this.#correlator.tick(nowMs), nowMs);
    this.#gauges();
    return fired;
  }

  /** End of input (eval, hunt): every pending window is decided. */
  flush(nowMs: number): Detection[] {
    return this.#detections(this.#correlator.flush(), nowMs);
  }

  /**
   * Makes a push (or a tick) durable: resolves once its inputs and fired fingerprints are in the
   * correlation log. Call after the fired detections are stored. Rejects with a retryable
   * ERR_BACKPRESSURE when the log is full.
   */
  async commit(inputs: readonly CorrelationInput[], fired: readonly Detection[], nowMs: number, tick = false): Promise<void> {
    if (this.#log === undefined || (inputs.length === 0 && fired.length === 0)) return;
    const entry: LogEntry = { t: nowMs, ...(tick ? { tick: true as const } : { inputs }), fired: fired.map((d) => d.fingerprint) };
    await this.#log.append(Buffer.from(JSON.stringify(entry)));
  }

  /** Writes the state and consumes the log records it covers. One at a time; a call while one runs joins it. */
  snapshot(): Promise<void> {
    if (this.#log === undefined || this.#opts.dir === undefined) return Promise.resolve();
    this.#snapshotting ??= this.#writeSnapshot().finally(() => { this.#snapshotting = undefined; });
    return this.#snapshotting;
  }

  async close(): Promise<void> {
    await this.snapshot();
    await this.#log?.close();
  }

  /** The whole state as a JSON value (what `state.json` holds; the shared mode keeps it in Redis). */
  state(): unknown {
    const snap: Snapshot = { version: 1, correlator: this.#correlator.snapshot(), recent: this.#recent.keys() };
    return snap;
  }

  /** Restores what state() returned (state of rules no longer loaded is dropped); false when it is not a state. */
  restoreState(state: unknown): boolean {
    const snap = state as Partial<Snapshot> | null;
    if (typeof snap !== 'object' || snap === null || snap.version !== 1) return false;
    this.#correlator.restore(snap.correlator);
    for (const f of Array.isArray(snap.recent) ? snap.recent : []) if (typeof f === 'string') this.#recent.add(f);
    return true;
  }

  async #writeSnapshot(): Promise<void> {
    const log = this.#log!;
    // Every record in the log now was pushed before this line: the state below covers them.
    const covered = log.records;
    const snap = this.state();
    const file = path.join(this.#opts.dir!, SNAPSHOT_FILE);
    const tmp = `${file}.tmp`;
    const started = performance.now();
    const fh = await fs.promises.open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(snap));
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, file);
    let left = covered;
    while (left > 0) {
      const batch = await log.peek(left, Number.MAX_SAFE_INTEGER);
      if (batch === undefined) break;
      await log.ack(batch);
      left -= batch.payloads.length;
    }
    metrics.correlationSnapshotSeconds.observe((performance.now() - started) / 1000);
  }

  #reported = { lateAccepted: 0, lateDropped: 0, evicted: 0 };

  #gauges(): void {
    const s = this.#correlator.stats;
    metrics.correlationGroups.set(s.groups);
    metrics.correlationPending.set(s.pendingEvents);
    const r = this.#reported;
    if (s.lateAccepted > r.lateAccepted) metrics.correlationLate.inc({ outcome: 'accepted' }, s.lateAccepted - r.lateAccepted);
    if (s.lateDropped > r.lateDropped) metrics.correlationLate.inc({ outcome: 'dropped' }, s.lateDropped - r.lateDropped);
    if (s.evicted > r.evicted) metrics.correlationEvicted.inc(s.evicted - r.evicted);
    this.#reported = { lateAccepted: s.lateAccepted, lateDropped: s.lateDropped, evicted: s.evicted };
  }

  #recover(): Detection[] {
    const dir = this.#opts.dir;
    if (dir === undefined || this.#log === undefined) return [];
    const file = path.join(dir, SNAPSHOT_FILE);
    if (fs.existsSync(file)) {
      try {
        this.restoreState(JSON.parse(fs.readFileSync(file, 'utf8')));
      } catch (err) {
        this.#opts.logger?.error({ err, file }, 'The correlation snapshot cannot be read; open windows start empty.');
      }
    }
    const entries: LogEntry[] = [];
    for (const p of this.#log.readAllSync()) {
      try {
        entries.push(JSON.parse(p.toString('utf8')) as LogEntry);
      } catch {
        // A record the log's checksum accepted always parses; anything else is not ours to guess at.
      }
    }
    if (entries.length === 0) return [];
    const recorded = new Set(entries.flatMap((e) => e.fired));
    const out: Detection[] = [];
    for (const e of entries) {
      const fired = e.tick ? this.tick(e.t) : this.push(e.inputs ?? [], e.t);
      for (const d of fired) if (!recorded.has(d.fingerprint)) out.push(d);
    }
    this.#opts.logger?.info({ records: entries.length, refired: out.length }, 'Correlation state restored from the snapshot and the correlation log.');
    return out;
  }

  #dedup(inputs: readonly CorrelationInput[]): CorrelationInput[] {
    const fresh: CorrelationInput[] = [];
    for (const i of inputs) {
      // The same rule on the same record (a sender's retry of a request, a replay) counts once.
      if (this.#recent.has(i.fingerprint)) continue;
      this.#recent.add(i.fingerprint);
      fresh.push(i);
    }
    return fresh;
  }

  #detections(outputs: readonly CorrelationOutput[], nowMs: number): Detection[] {
    if (outputs.length === 0) return [];
    const emitted = this.#suppressed.size === 0 ? outputs : outputs.filter((o) => !this.#suppressed.has(o.rule.info.id));
    metrics.correlationsFired.inc(emitted.length);
    return emitted.map((o) => correlationDetection(o, nowMs, this.#source));
  }
}
