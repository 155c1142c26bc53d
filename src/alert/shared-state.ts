/**
 * Dedup and throttle state shared by replicas through Redis, so two otel-sigma instances behind
 * one collector send one alert, not two. Every operation is a single atomic command (or a
 * pipeline of them):
 *
 *   claim     SET  otel-sigma:claim:<fp> <replica> NX PX <window>   first sender wins the window
 *   counts    INCRBY otel-sigma:count:<fp> <delta> + PEXPIRE          detections across replicas
 *   rate      INCR otel-sigma:rate:<window start> + PEXPIRE           the shared per-minute ceiling
 *   held      HINCRBY otel-sigma:held:<window start> <rule> <n>      the shared digest counts
 *   digest    SET  otel-sigma:digest:<window start> NX PX            one replica sends the digest
 *
 * Redis never blocks alerting: commands fail fast while it is unreachable (no offline queue,
 * a short timeout), and every failure returns undefined so the caller falls back to its local
 * state; `fallbacks` counts them. Only start-up waits for it (`connectTimeoutMs`, bounded): a Redis
 * started beside the replicas may still be coming up, and each failed attempt is logged with its URL.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { createClient } from 'redis';
import { ErrorCode } from '../errors.ts';
import { safeUrl } from '../telemetry/logger.ts';
import type { DedupWindow } from './dedup-window.ts';

export type ClaimResult = 'won' | 'lost';

const NS = 'otel-sigma';

export class SharedState {
  readonly #client: ReturnType<typeof createClient>;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  readonly #replica = randomUUID();
  readonly #connecting: Promise<void>;
  #down = false;
  /** Until the first connection or the start-up deadline: failed attempts are logged one by one. */
  #starting = true;
  #attempts = 0;
  #closed = false;
  #scheduled = false;
  #claims: { fingerprint: string; windowMs: number; resolve: (r: ClaimResult | undefined) => void }[] = [];
  #rates = new Map<number, { ttlMs: number; waiting: ((position: number | undefined) => void)[] }>();
  /** Operations answered from local state because Redis was unreachable, slow or failing. */
  fallbacks = 0;

  constructor(url: string, logger: Logger, timeoutMs = 250, connectTimeoutMs = Math.max(1000, timeoutMs)) {
    this.#timeoutMs = timeoutMs;
    this.#log = logger;
    const where = safeUrl(url);
    this.#client = createClient({
      url,
      disableOfflineQueue: true,
      socket: { connectTimeout: Math.max(1000, timeoutMs), reconnectStrategy: (retries: number) => Math.min(100 * 2 ** Math.min(retries, 5), 2000) },
    });
    this.#client.on('error', (err: unknown) => {
      const reason = err instanceof Error ? err.message : String(err);
      if (this.#starting) {
        this.#attempts++;
        this.#log.warn({ stage: 'alert', code: ErrorCode.ALERT, url: where, attempt: this.#attempts, reason }, `Redis at ${where} is not reachable yet (${reason}); retrying.`);
        return;
      }
      if (this.#down) return;
      // Once per outage; the client reconnects on its own.
      this.#down = true;
      this.#log.warn({ stage: 'alert', code: ErrorCode.ALERT, url: where, err: reason }, `Redis at ${where} unreachable; alert dedup and throttling fall back to local state.`);
    });
    this.#client.on('ready', () => {
      if (this.#down) this.#log.info({ stage: 'alert', url: where }, `Redis at ${where} reachable again; alert state is shared.`);
      else if (this.#attempts > 0) this.#log.info({ stage: 'alert', url: where, attempts: this.#attempts + 1 }, `Redis at ${where} is reachable.`);
      this.#down = false;
      this.#starting = false;
    });
    // connect() only settles once connected (it keeps retrying): start-up waits at most connectTimeoutMs.
    let timer: NodeJS.Timeout | undefined;
    this.#connecting = Promise.race([
      this.#client.connect().then(
        () => undefined,
        () => undefined,
      ),
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          if (this.#starting && !this.#closed) {
            this.#down = true;
            this.#log.error({ stage: 'alert', code: ErrorCode.ALERT, url: where, attempts: this.#attempts },
              `Redis at ${where} was not reachable within ${connectTimeoutMs / 1000} s (storage.connect_timeout_s); alert dedup and throttling use local state until it is (reconnecting).`);
          }
          this.#starting = false;
          resolve();
        }, connectTimeoutMs);
        timer.unref();
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /** Resolves once the first connection attempt has succeeded or timed out. */
  ready(): Promise<void> {
    return this.#connecting;
  }

  /** Batched per event-loop turn: a burst of new fingerprints costs one pipeline, not one round trip each. */
  claim(fingerprint: string, windowMs: number): Promise<ClaimResult | undefined> {
    return new Promise((resolve) => {
      this.#claims.push({ fingerprint, windowMs, resolve });
      this.#schedule();
    });
  }

  /** Adds each delta to its fingerprint's shared count; returns the totals. */
  addCounts(items: readonly { fingerprint: string; delta: number }[], ttlMs: number): Promise<number[] | undefined> {
    if (items.length === 0) return Promise.resolve([]);
    return this.#op(async (c) => {
      const m = c.multi();
      for (const it of items) m.incrBy(`${NS}:count:${it.fingerprint}`, it.delta).pExpire(`${NS}:count:${it.fingerprint}`, ttlMs);
      const replies = await m.execAsPipeline();
      return items.map((_, i) => Number(replies[i * 2]));
    });
  }

  /** This alert's position among new alerts of the window, across replicas (batched like claim). */
  incrRate(windowStartMs: number, ttlMs: number): Promise<number | undefined> {
    return new Promise((resolve) => {
      const r = this.#rates.get(windowStartMs) ?? { ttlMs, waiting: [] };
      r.waiting.push(resolve);
      this.#rates.set(windowStartMs, r);
      this.#schedule();
    });
  }

  addHeld(windowStartMs: number, held: ReadonlyMap<string, number>, ttlMs: number): Promise<true | undefined> {
    if (held.size === 0) return Promise.resolve(true);
    return this.#op(async (c) => {
      const key = `${NS}:held:${windowStartMs}`;
      const m = c.multi();
      for (const [field, n] of held) m.hIncrBy(key, field, n);
      await m.pExpire(key, ttlMs).execAsPipeline();
      return true as const;
    });
  }

  /** The window's shared held-back counts for the one replica that wins the digest; else empty. */
  takeDigest(windowStartMs: number, ttlMs: number): Promise<Map<string, number> | undefined> {
    return this.#op(async (c) => {
      const won = await c.set(`${NS}:digest:${windowStartMs}`, this.#replica, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } });
      if (won !== 'OK') return new Map<string, number>();
      const all = await c.hGetAll(`${NS}:held:${windowStartMs}`);
      return new Map(Object.entries(all).map(([f, n]) => [f, Number(n)]));
    });
  }

  close(): Promise<void> {
    this.#closed = true;
    try {
      // Also ends a reconnect loop; a pending connect() then rejects into its catch above.
      this.#client.destroy();
    } catch {
      // Already closed.
    }
    return Promise.resolve();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    const claims = this.#claims.splice(0);
    const rates = this.#rates;
    this.#rates = new Map();
    if (claims.length > 0) {
      const replies = await this.#op(async (c) => {
        const m = c.multi();
        for (const x of claims) m.set(`${NS}:claim:${x.fingerprint}`, this.#replica, { condition: 'NX', expiration: { type: 'PX', value: x.windowMs } });
        return m.execAsPipeline();
      }, claims.length);
      claims.forEach((x, i) => x.resolve(replies === undefined ? undefined : (replies[i] as unknown) === 'OK' ? 'won' : 'lost'));
    }
    for (const [start, { ttlMs, waiting }] of rates) {
      const key = `${NS}:rate:${start}`;
      const total = await this.#op(async (c) => Number((await c.multi().incrBy(key, waiting.length).pExpire(key, ttlMs).execAsPipeline())[0]), waiting.length);
      // Positions in call order: the last caller of the batch gets the new total.
      waiting.forEach((resolve, i) => resolve(total === undefined ? undefined : total - waiting.length + 1 + i));
    }
  }

  /** `items`: how many callers this operation answers (all fall back together). */
  async #op<T>(fn: (c: ReturnType<typeof createClient>) => Promise<T>, items = 1): Promise<T | undefined> {
    if (this.#closed) return this.#fallback(items);
    // Yield until the caller's synchronous burst is over (see the timer below).
    await Promise.resolve();
    // The first alerts after start-up may wait (bounded) for the first connection.
    if (!this.#client.isReady) await this.#connecting;
    if (!this.#client.isReady) return this.#fallback(items);
    // The clock starts here, after the caller's synchronous burst: a burst of sends must not
    // spend the timeout of its own commands before they are even written.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      // A batch gets 0.1 ms more per caller: 10 000 claims in one pipeline may take a while.
      timer = setTimeout(() => resolve('timeout'), this.#timeoutMs + Math.ceil(items / 10));
    });
    try {
      const work = fn(this.#client);
      // A command that loses the race may still fail later; that must not become unhandled.
      work.catch(() => undefined);
      const r = await Promise.race([work, timeout]);
      return r === 'timeout' ? this.#fallback(items) : r;
    } catch {
      return this.#fallback(items);
    } finally {
      clearTimeout(timer);
    }
  }

  #fallback(items = 1): undefined {
    this.fallbacks += items;
    return undefined;
  }
}

/**
 * Adds each group's local detections to the shared count; the replica that owns a fingerprint
 * takes the total, so its next sweep re-sends the alert with every replica's detections.
 */
export async function mergeSharedCounts(dedup: DedupWindow, shared: SharedState, ttlMs: number): Promise<void> {
  const groups = [...dedup.groups()].filter((g) => !g.queued && (g.owner || g.unreported > 0));
  const deltas = groups.map((g) => g.unreported);
  const totals = await shared.addCounts(groups.map((g, i) => ({ fingerprint: g.fingerprint, delta: deltas[i] ?? 0 })), ttlMs);
  if (totals === undefined) {
    // Redis unreachable: drop the deltas (owners still send their local counts).
    for (const g of groups) g.unreported = 0;
    return;
  }
  const now = Date.now();
  groups.forEach((g, i) => {
    g.unreported -= deltas[i] ?? 0;
    const total = totals[i] ?? 0;
    if (g.owner && total > g.count) {
      g.count = total;
      g.seenMs = now;
    }
  });
}
