/**
 * Alerts waiting for Keep, in a durable log (src/wal), so neither an outage nor a restart (even
 * SIGKILL) loses them: each append (one burst of alerts) is one record, fdatasync'd before it
 * resolves. Bounded by bytes: when full, the oldest segments are dropped and handed to `onDrop`
 * (counted into the next digest). A crash between Keep's 202 and the ack re-sends that batch
 * once; Keep drops full duplicates by the alert's stable id.
 */
import type { Logger } from '../telemetry/logger.ts';
import { DurableLog, type LogBatch } from '../wal/durable-log.ts';
import type { AlertQueue, DropHandler, QueuedBatch } from './alert-queue.ts';
import type { AlertDto } from './keep-types.ts';

/** The most one peek reads; a batch never needs more. */
const READ_BYTES = 1024 * 1024;

export class LogQueue implements AlertQueue {
  readonly #log: DurableLog;
  /** Alerts per unconsumed record, oldest first (records are appended and consumed in order). */
  readonly #counts: number[] = [];
  #length = 0;
  /** Records that failed to parse when read back (foreign content). */
  corrupt = 0;

  /** Synchronous: recovers what a previous process left; throws ERR_CONFIG when another process holds `dir`. */
  constructor(dir: string, maxBytes: number, onDrop: DropHandler, logger?: Logger) {
    this.#log = new DurableLog({
      dir,
      name: 'alerts',
      maxBytes,
      whenFull: 'drop-oldest',
      logger,
      onDrop: (payloads) => {
        const lost = payloads.flatMap((p) => this.#parse(p));
        this.#counts.splice(0, payloads.length);
        this.#length -= lost.length;
        onDrop(lost);
      },
    });
    for (const p of this.#log.readAllSync()) {
      const n = this.#parse(p).length;
      this.#counts.push(n);
      this.#length += n;
    }
  }

  get length(): number {
    return this.#length;
  }

  async append(alerts: readonly AlertDto[]): Promise<void> {
    if (alerts.length === 0) return;
    this.#counts.push(alerts.length);
    this.#length += alerts.length;
    try {
      await this.#log.append(Buffer.from(JSON.stringify(alerts)));
    } catch (err) {
      this.#counts.pop();
      this.#length -= alerts.length;
      throw err;
    }
  }

  async peek(max: number): Promise<QueuedBatch | undefined> {
    const batch = await this.#log.peek(Math.max(1, max), READ_BYTES);
    if (batch === undefined) return undefined;
    const alerts: AlertDto[] = [];
    let n = 0;
    // Whole records (one burst each) up to `max` alerts; a burst larger than max goes alone.
    while (n < batch.payloads.length && (n === 0 || alerts.length + this.#counts[n]! <= max)) {
      alerts.push(...this.#parse(batch.payloads[n]!));
      n++;
    }
    return { alerts, token: this.#log.prefix(batch, n) };
  }

  async ack(batch: QueuedBatch): Promise<void> {
    const b = batch.token as LogBatch;
    const before = this.#log.records;
    await this.#log.ack(b);
    const consumed = before - this.#log.records;
    for (const c of this.#counts.splice(0, consumed)) this.#length -= c;
  }

  close(): Promise<void> {
    return this.#log.close();
  }

  #parse(payload: Buffer): AlertDto[] {
    try {
      const v: unknown = JSON.parse(payload.toString('utf8'));
      if (Array.isArray(v)) return v as AlertDto[];
    } catch {
      // fall through
    }
    this.corrupt++;
    return [];
  }
}
