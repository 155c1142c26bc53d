/**
 * Where alerts wait between admission and Keep's 202. Two implementations share this contract:
 * MemoryQueue (no queue directory configured) and LogQueue (survives a restart). Both are
 * bounded; what the bound pushes out is handed to `onDrop` so the sender can count it into the
 * throttle digest instead of losing it silently.
 */
import type { AlertDto } from './keep-types.ts';

/** The oldest pending alerts, handed out by peek() and removed by ack(). */
export interface QueuedBatch {
  readonly alerts: readonly AlertDto[];
  /** Opaque position token for ack(). */
  readonly token: unknown;
}

export interface AlertQueue {
  /** Durable once the promise resolves (LogQueue: written and fdatasync'd). */
  append(alerts: readonly AlertDto[]): Promise<void>;
  /** Up to `max` of the oldest pending alerts, without removing them; undefined when empty. */
  peek(max: number): Promise<QueuedBatch | undefined>;
  /** Removes a peeked batch; a batch the bound has already dropped is ignored. */
  ack(batch: QueuedBatch): Promise<void>;
  /** Alerts pending (appended, not acked). */
  readonly length: number;
  close(): Promise<void>;
}

export type DropHandler = (alerts: readonly AlertDto[]) => void;

/**
 * Later versions of an alert (same fingerprint, grown count or resolved) supersede earlier ones
 * waiting in the same batch, so an outage's backlog reaches Keep as one alert per fingerprint.
 */
export function coalesce(alerts: readonly AlertDto[]): AlertDto[] {
  const last = new Map<string, number>();
  alerts.forEach((a, i) => last.set(a.fingerprint, i));
  return alerts.filter((a, i) => last.get(a.fingerprint) === i);
}

/**
 * In-process queue bounded by alert count (not counting the batch in flight); the oldest waiting
 * alerts go to `onDrop` when it is full.
 */
export class MemoryQueue implements AlertQueue {
  readonly #max: number;
  readonly #onDrop: DropHandler;
  readonly #items: AlertDto[] = [];
  /** Head alerts handed out by the last peek and not yet acked: never dropped. */
  #inflight = 0;

  constructor(maxAlerts: number, onDrop: DropHandler) {
    this.#max = Math.max(1, maxAlerts);
    this.#onDrop = onDrop;
  }

  get length(): number {
    return this.#items.length;
  }

  append(alerts: readonly AlertDto[]): Promise<void> {
    this.#items.push(...alerts);
    const over = this.#items.length - this.#inflight - this.#max;
    if (over > 0) this.#onDrop(this.#items.splice(this.#inflight, over));
    return Promise.resolve();
  }

  peek(max: number): Promise<QueuedBatch | undefined> {
    if (this.#items.length === 0) return Promise.resolve(undefined);
    const alerts = this.#items.slice(0, max);
    this.#inflight = alerts.length;
    return Promise.resolve({ alerts, token: alerts.length });
  }

  ack(batch: QueuedBatch): Promise<void> {
    this.#items.splice(0, batch.token as number);
    this.#inflight = 0;
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
