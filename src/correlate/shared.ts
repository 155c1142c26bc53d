/**
 * Correlation across replicas through Redis, for groups that span hosts (one address against the whole
 * fleet) when a collector spreads hosts over several otel-sigma replicas. Every replica hands its
 * base-rule matches to one Redis stream; one replica at a time, the leader, runs the correlation stage
 * over that stream, so the result is the one process's result whatever replica received which event.
 *
 *   every replica   XADD <ns>:inputs MAXLEN ~ N * d <{t, inputs}>         before the request is answered
 *   leader lease    SET <ns>:leader <replica> NX PX <lease>, renewed while it holds it
 *   leader          XREAD from the last applied id → stage.push → fired correlations
 *                   fired windows not in <ns>:fired:* → store + alert → SET <ns>:fired:<fingerprint> EX 7d
 *   every interval  SET <ns>:state {id, stage state}; XTRIM MINID id
 * A new leader (the old one stopped or lost its lease) restores the state and replays the stream from the
 * id it names: open windows continue, and a window that already fired is not emitted again (the fired
 * keys; a leader that dies between storing a window and marking it may repeat that one window). Matches reach the stream before the request is acknowledged; Redis keeps them as durably as it
 * is configured to (appendonly for restarts of Redis itself).
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import type { Detection } from '../detect/detection.ts';
import type { CorrelationInput } from '../detect/correlation/types.ts';
import { ErrorCode, PipelineError } from '../errors.ts';
import { safeUrl, type Logger } from '../telemetry/logger.ts';
import { metrics } from '../telemetry/metrics.ts';
import type { CorrelationStage } from './stage.ts';

export interface SharedCorrelationOptions {
  readonly url: string;
  /** A fresh in-memory stage (no data directory): the leader's. */
  readonly stage: () => CorrelationStage;
  /** Stores and alerts the leader's fired correlations; resolves once they are durable. */
  readonly emit: (detections: readonly Detection[]) => Promise<void>;
  readonly leaseMs: number;
  readonly snapshotIntervalMs: number;
  /** Stream entries kept at most (one per request with matches); older ones are trimmed by Redis. */
  readonly maxEntries?: number;
  readonly connectTimeoutMs: number;
  /** Key prefix; replicas that correlate together share it. */
  readonly namespace?: string;
  readonly logger: Logger;
}

const FIRED_TTL_S = 7 * 86_400;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

interface Entry {
  readonly t: number;
  readonly inputs: readonly CorrelationInput[];
}

export class SharedCorrelation {
  readonly #opts: SharedCorrelationOptions;
  readonly #client: ReturnType<typeof createClient>;
  readonly #replica = randomUUID();
  readonly #ns: string;
  readonly #where: string;
  #stage: CorrelationStage | undefined;
  #lastId = '0-0';
  #closed = false;
  #loop: Promise<void> | undefined;
  #lastSnapshot = 0;
  #lastTick = 0;

  constructor(opts: SharedCorrelationOptions) {
    this.#opts = opts;
    this.#ns = opts.namespace ?? 'otel-sigma:correlation';
    this.#where = safeUrl(opts.url);
    this.#client = createClient({
      url: opts.url,
      disableOfflineQueue: true,
      socket: { connectTimeout: 2_000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** Math.min(retries, 5), 2_000) },
    });
    this.#client.on('error', (err: unknown) => {
      opts.logger.warn({ code: ErrorCode.CORRELATION, url: this.#where, err: err instanceof Error ? err.message : String(err) }, `Redis at ${this.#where} (correlation.redis_url) is not reachable; retrying.`);
    });
  }

  /** Connects (waiting up to connectTimeoutMs for a Redis that is still starting) and starts the leader loop. */
  async start(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PipelineError(ErrorCode.CONFIG, `Redis at ${this.#where} (correlation.redis_url) was not reachable within ${this.#opts.connectTimeoutMs / 1000} s (storage.connect_timeout_s)`, false)), this.#opts.connectTimeoutMs);
    });
    try {
      await Promise.race([this.#client.connect(), deadline]);
    } finally {
      clearTimeout(timer);
    }
    this.#loop = this.#run();
  }

  get leader(): boolean {
    return this.#stage !== undefined;
  }

  /** Hands a request's matches to the stream. Rejects with a retryable error while Redis is unreachable. */
  async submit(inputs: readonly CorrelationInput[], nowMs: number): Promise<void> {
    if (inputs.length === 0) return;
    const entry: Entry = { t: nowMs, inputs };
    try {
      await this.#client.xAdd(`${this.#ns}:inputs`, '*', { d: JSON.stringify(entry) }, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: this.#opts.maxEntries ?? 1_000_000 } });
    } catch (err) {
      throw new PipelineError(ErrorCode.CORRELATION, `cannot hand correlation matches to Redis at ${this.#where}: ${(err as Error).message}; retry later`, true, { retryAfterSeconds: 1, cause: err });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#loop?.catch(() => undefined);
    if (this.#stage !== undefined) {
      await this.#saveState().catch(() => undefined);
      await this.#client.eval(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`, { keys: [`${this.#ns}:leader`], arguments: [this.#replica] }).catch(() => undefined);
    }
    this.#client.destroy();
  }

  async #run(): Promise<void> {
    let lastRenew = 0;
    while (!this.#closed) {
      try {
        const now = Date.now();
        if (this.#stage === undefined) {
          const won = await this.#client.set(`${this.#ns}:leader`, this.#replica, { NX: true, PX: this.#opts.leaseMs });
          if (won === null) {
            await sleep(Math.max(50, this.#opts.leaseMs / 4));
            continue;
          }
          await this.#becomeLeader();
          lastRenew = Date.now();
        } else if (now - lastRenew > this.#opts.leaseMs / 3) {
          const kept = await this.#client.eval(RENEW, { keys: [`${this.#ns}:leader`], arguments: [this.#replica, String(this.#opts.leaseMs)] });
          if (kept !== 1) {
            this.#opts.logger.warn({}, 'Lost the correlation lease to another replica; it continues from the shared state.');
            this.#stage = undefined;
            continue;
          }
          lastRenew = now;
        }
        await this.#step();
      } catch (err) {
        if (this.#closed) break;
        this.#opts.logger.warn({ code: ErrorCode.CORRELATION, err }, 'Shared correlation step failed; retrying.');
        await sleep(500);
      }
    }
  }

  async #becomeLeader(): Promise<void> {
    const stage = this.#opts.stage();
    const raw = await this.#client.get(`${this.#ns}:state`);
    this.#lastId = '0-0';
    if (raw !== null) {
      try {
        const saved = JSON.parse(raw) as { id: string; state: unknown };
        if (stage.restoreState(saved.state)) this.#lastId = saved.id;
      } catch {
        this.#opts.logger.error({}, 'The shared correlation state in Redis cannot be read; replaying the whole stream.');
      }
    }
    this.#stage = stage;
    this.#lastSnapshot = Date.now();
    this.#opts.logger.info({ from: this.#lastId }, 'This replica now runs the shared correlation stage.');
  }

  /** One read of the stream (blocking briefly), the wall-clock tick, and the periodic state save. */
  async #step(): Promise<void> {
    const stage = this.#stage!;
    const replies = await this.#client.xRead({ key: `${this.#ns}:inputs`, id: this.#lastId }, { COUNT: 500, BLOCK: Math.min(500, this.#opts.leaseMs / 4) });
    let fired: Detection[] = [];
    let last = this.#lastId;
    for (const stream of (replies as { messages: { id: string; message: Record<string, string> }[] }[] | null) ?? []) {
      for (const m of stream.messages) {
        last = m.id;
        let entry: Entry;
        try {
          entry = JSON.parse(m.message['d'] ?? '') as Entry;
        } catch {
          continue;
        }
        fired = fired.concat(stage.push(entry.inputs, entry.t));
      }
    }
    const now = Date.now();
    if (now - this.#lastTick >= 1_000) {
      this.#lastTick = now;
      fired = fired.concat(stage.tick(now));
    }
    if (fired.length > 0) await this.#emitOnce(fired);
    this.#lastId = last;
    if (now - this.#lastSnapshot >= this.#opts.snapshotIntervalMs) await this.#saveState();
  }

  /**
   * Emits the fired windows no leader has emitted before (a new leader replays what the old one saw), and
   * marks them once they are durable: a crash in between repeats a window rather than losing it.
   */
  async #emitOnce(fired: readonly Detection[]): Promise<void> {
    const seen = await this.#client.mGet(fired.map((d) => `${this.#ns}:fired:${d.fingerprint}`));
    const fresh = fired.filter((_, i) => seen[i] === null);
    if (fresh.length < fired.length) metrics.correlationReplayed.inc(fired.length - fresh.length);
    if (fresh.length === 0) return;
    for (;;) {
      try {
        await this.#opts.emit(fresh);
        break;
      } catch (err) {
        if (this.#closed) throw err;
        this.#opts.logger.warn({ err }, 'Storing shared correlations failed; retrying.');
        await sleep(500);
      }
    }
    const m = this.#client.multi();
    for (const d of fresh) m.set(`${this.#ns}:fired:${d.fingerprint}`, this.#replica, { EX: FIRED_TTL_S });
    await m.execAsPipeline();
  }

  async #saveState(): Promise<void> {
    const stage = this.#stage;
    if (stage === undefined) return;
    const id = this.#lastId;
    await this.#client.set(`${this.#ns}:state`, JSON.stringify({ id, state: stage.state() }));
    if (id !== '0-0') await this.#client.xTrim(`${this.#ns}:inputs`, 'MINID', id);
    this.#lastSnapshot = Date.now();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
