/**
 * Detections → Keep alerts, off the hot path. `send()` never waits and never throws for delivery
 * problems:
 *
 *   send(d) ─ level ─ dedup fold ─ [replica claim] ─ ceiling ─▶ staged ─▶ queue ─▶ Delivery ─▶ Keep | log
 *                                                      └─ held back ─▶ digest alert per window
 *
 * Staged alerts go to the queue once per event-loop turn (one fsync'd append for a burst). The
 * queue is on disk when `queueDir` is set (survives restarts and SIGKILL) and in memory
 * otherwise; both are bounded, and what the bound pushes out is counted into the digest.
 * A timer sweeps the dedup groups: grown counts are re-sent, quiet groups resolved, and with
 * Redis the counts of all replicas are merged first (see shared-state.ts).
 */
import type { Logger } from 'pino';
import type { Detection } from '../detect/detection.ts';
import { SIGMA_LEVELS, type SigmaLevel } from '../detect/types.ts';
import { ErrorCode, PipelineError } from '../errors.ts';
import { metrics } from '../telemetry/metrics.ts';
import { MemoryQueue, type AlertQueue } from './alert-queue.ts';
import { DedupWindow, groupAlert, newGroup, type AlertGroup } from './dedup-window.ts';
import { Delivery, type DeliveryOutcome } from './delivery.ts';
import { DetectionFields } from './detection-fields.ts';
import { LogQueue } from './log-queue.ts';
import type { KeepClientOptions } from './keep-client.ts';
import { alertFingerprint, toAlertDto, validateUrlTemplate, type AlertPayloadOptions } from './keep-payload.ts';
import type { AlertDto } from './keep-types.ts';
import { DEFAULT_RETRY } from './retry-policy.ts';
import type { AlertSenderOptions, AlertSenderStats } from './sender-options.ts';
import { mergeSharedCounts, SharedState } from './shared-state.ts';
import { digestAlert, digestKeyOf, digestKeyOfDetection, ThrottleWindow } from './throttle.ts';

export type { AlertSenderOptions, AlertSenderStats } from './sender-options.ts';

type Outcome = DeliveryOutcome | 'dropped' | 'failed' | 'deduplicated' | 'throttled' | 'digests' | 'resolved';
type Staged = AlertGroup | AlertDto;

const rankOf = (l: SigmaLevel): number => SIGMA_LEVELS.indexOf(l);
const isGroup = (s: Staged): s is AlertGroup => 'first' in s;

export class AlertSender {
  readonly #payload: AlertPayloadOptions;
  readonly #log: Logger;
  readonly #minRank: number;
  readonly #maxStaged: number;
  readonly #windowMs: number;
  readonly #flushMs: number;
  readonly #resolveAfterMs: number;
  readonly #dedup: DedupWindow | undefined;
  readonly #throttle: ThrottleWindow;
  readonly #shared: SharedState | undefined;
  readonly #queue: AlertQueue;
  readonly #delivery: Delivery;
  readonly #abort = new AbortController();
  readonly #timers: NodeJS.Timeout[] = [];
  #staged: Staged[] = [];
  #persistScheduled = false;
  #persisting: Promise<void> = Promise.resolve();
  #sweeping: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  readonly #pending = new Set<Promise<void>>();
  #dropLoggedMs = 0;
  #dropsUnlogged = 0;
  readonly #counts: Record<Outcome | 'retries', number> = {
    sent: 0, logged: 0, dropped: 0, rejected: 0, failed: 0, deduplicated: 0, retries: 0, throttled: 0, digests: 0, resolved: 0, superseded: 0,
  };

  constructor(opts: AlertSenderOptions) {
    if (!Number.isInteger(opts.maxQueue) || opts.maxQueue < 1) throw configError(`"alert.max_queue" is ${opts.maxQueue}; expected an integer ≥ 1`);
    if (!(opts.timeoutMs > 0)) throw configError(`"alert.timeout_ms" is ${opts.timeoutMs}; expected a number > 0`);
    if (opts.urlTemplate) validateUrlTemplate(opts.urlTemplate);
    if (opts.keepUrl !== undefined && opts.keepUrl !== '' && !/^https?:\/\/[^/\s]+/i.test(opts.keepUrl)) {
      throw configError(`"alert.keep_url" is ${JSON.stringify(opts.keepUrl)}; expected an http(s) URL such as https://keep.example`);
    }
    if (opts.redisUrl && !/^rediss?:\/\/\S+$/i.test(opts.redisUrl)) {
      throw configError(`"alerts.redis_url" is ${JSON.stringify(opts.redisUrl)}; expected redis://HOST:PORT or rediss://…`);
    }
    const groupBy = opts.groupBy && opts.groupBy.length > 0 ? opts.groupBy : undefined;
    this.#payload = { environment: opts.environment || undefined, urlTemplate: opts.urlTemplate || undefined, groupBy };
    const retry = { ...DEFAULT_RETRY, ...opts.retry };
    const client: KeepClientOptions | undefined = opts.keepUrl
      ? { keepUrl: opts.keepUrl, apiKey: opts.apiKey || undefined, timeoutMs: opts.timeoutMs, maxRetryAfterMs: retry.maxRetryAfterMs, ca: opts.keepCa }
      : undefined;
    this.#log = opts.logger;
    this.#minRank = rankOf(opts.minLevel);
    this.#maxStaged = opts.maxQueue;
    this.#windowMs = opts.dedupWindowMs ?? 300_000;
    this.#flushMs = Math.max(10, opts.dedupFlushMs ?? 30_000);
    this.#resolveAfterMs = Math.max(0, opts.resolveAfterMs ?? 0);
    this.#throttle = new ThrottleWindow(opts.maxPerWindow ?? 100, Math.max(100, opts.throttleWindowMs ?? 60_000));
    this.#throttle.roll(Date.now());
    const onDrop = (alerts: readonly AlertDto[]): void => this.#onQueueDrop(alerts);
    // The queue first: it can refuse to start (directory locked), and must not leave a Redis connection behind.
    this.#queue = opts.queueDir ? new LogQueue(opts.queueDir, opts.queueMaxBytes ?? 64 * 1024 * 1024, onDrop, this.#log) : new MemoryQueue(opts.maxQueue, onDrop);
    this.#shared = opts.redisUrl ? new SharedState(opts.redisUrl, opts.logger, opts.redisTimeoutMs, opts.redisConnectTimeoutMs) : undefined;
    if (opts.queueDir && this.#queue.length > 0) this.#log.info({ stage: 'alert', queued: this.#queue.length }, 'Alerts from the on-disk queue will be delivered.');
    this.#delivery = new Delivery({
      queue: this.#queue,
      client,
      retry,
      maxBatch: Math.max(1, opts.maxBatch ?? 100),
      logger: opts.logger,
      signal: this.#abort.signal,
      count: (o, n) => this.#count(o, n),
    });
    if (this.#windowMs > 0) {
      this.#dedup = new DedupWindow(this.#windowMs, opts.maxTracked ?? 10_000);
      this.#every(this.#flushMs, () => this.#sweep());
    }
    this.#every(Math.min(1000, Math.max(10, this.#throttle.windowMs / 4)), () => this.#rollThrottle(Date.now()));
    this.#delivery.kick();
  }

  /** Resolves once Redis (if configured) is connected, or its start-up wait (redisConnectTimeoutMs) is over. */
  ready(): Promise<void> {
    return this.#shared?.ready() ?? Promise.resolve();
  }

  /** Non-blocking: never waits on Keep or Redis and never throws for delivery problems. */
  send(d: Detection): void {
    if (rankOf(d.ruleLevel) < this.#minRank) return;
    if (this.#closing !== undefined) return this.#count('dropped', 1);
    const now = Date.now();
    this.#rollThrottle(now);
    if (this.#dedup) {
      const fp = alertFingerprint(new DetectionFields(d), this.#payload.groupBy);
      if (this.#dedup.fold(fp, d.detectedAtMs, now) !== undefined) return this.#count('deduplicated', 1);
    }
    metrics.alertsRaised.inc({ rule_id: d.ruleId, level: d.ruleLevel });
    if (!this.#shared && !this.#throttle.admitLocal()) {
      // Held back before the alert is built: in an alert storm this runs for nearly every detection, and
      // building a Keep alert (labels, markdown description) only to drop it took ~8 % of the main thread.
      this.#throttle.hold(digestKeyOfDetection(d), 1);
      return this.#count('throttled', 1);
    }
    const g = newGroup(toAlertDto(d, this.#payload), d.detectedAtMs, now);
    this.#dedup?.track(g);
    if (this.#shared && this.#dedup) {
      g.queued = true; // no sweep while the claim is in flight; repeats fold into g meanwhile
      this.#track(this.#claimThenAdmit(g, this.#shared));
    } else if (this.#shared) {
      this.#track(this.#admitShared(g, this.#shared));
    } else this.#stage(g);
  }

  stats(): AlertSenderStats {
    return { queued: this.#queue.length + this.#staged.length, ...this.#counts, sharedFallbacks: this.#shared?.fallbacks ?? 0 };
  }

  /**
   * Sends what it can within `deadlineMs` (grown counts and the current digest included). What is
   * left stays in the on-disk queue for the next start; an in-memory queue's rest is counted as
   * failed. Safe to call more than once; later calls return the first call's promise.
   */
  close(deadlineMs: number): Promise<void> {
    this.#closing ??= this.#close(deadlineMs);
    return this.#closing;
  }

  async #close(deadlineMs: number): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    const deadline = setTimeout(() => this.#abort.abort(), Math.max(0, deadlineMs));
    try {
      await this.#sweeping;
      // Replica claims and shared digests in flight still stage their alerts (until the deadline).
      const aborted = new Promise((resolve) => this.#abort.signal.addEventListener('abort', resolve, { once: true }));
      await Promise.race([Promise.all(this.#pending), aborted]);
      await this.#sweep();
      const ended = this.#throttle.roll(Date.now());
      if (ended) this.#stageDigest(digestAlert(ended.start, this.#throttle.windowMs, ended.held, this.#payload.environment, this.#shared ? 'shutdown' : undefined));
      const held = this.#throttle.takeHeld();
      // This replica's part of the current window; another replica's digest may count the rest.
      if (held.size > 0) this.#stageDigest(digestAlert(this.#throttle.currentStart, this.#throttle.windowMs, held, this.#payload.environment, 'shutdown'));
      await this.#persist();
      this.#delivery.kick();
      await this.#delivery.idle();
    } finally {
      clearTimeout(deadline);
    }
    const left = this.#queue.length;
    if (left > 0 && this.#queue instanceof LogQueue) {
      this.#log.warn({ stage: 'alert', code: ErrorCode.ALERT, alerts: left }, 'Alerts not yet delivered stay in the on-disk queue for the next start.');
    } else if (left > 0) {
      this.#count('failed', left);
      this.#log.warn({ stage: 'alert', code: ErrorCode.ALERT, alerts: left }, 'Alerts not delivered before the shutdown deadline.');
    }
    await this.#queue.close();
    await this.#shared?.close();
    this.#gauge();
  }

  async #claimThenAdmit(g: AlertGroup, shared: SharedState): Promise<void> {
    const r = await shared.claim(g.fingerprint, this.#windowMs);
    g.queued = false;
    if (r === 'lost') {
      // Another replica sends this alert; our detections reach it through the shared count.
      g.owner = false;
      return;
    }
    await this.#admitShared(g, shared);
  }

  async #admitShared(g: AlertGroup, shared: SharedState): Promise<void> {
    const start = this.#throttle.startOf(Date.now());
    const n = await shared.incrRate(start, this.#throttle.windowMs * 2);
    this.#admit(g, n === undefined ? this.#throttle.admitLocal() : this.#throttle.admitCount(n));
  }

  #admit(g: AlertGroup, admitted: boolean): void {
    if (admitted) return this.#stage(g);
    // Held back: counted (with the repeats folded in so far) into this window's digest.
    this.#dedup?.forget(g);
    this.#throttle.hold(digestKeyOf(g.first), g.count);
    this.#count('throttled', g.count);
  }

  #rollThrottle(now: number): void {
    const ended = this.#throttle.roll(now);
    if (ended === undefined) return;
    if (!this.#shared) return this.#stageDigest(digestAlert(ended.start, this.#throttle.windowMs, ended.held, this.#payload.environment));
    this.#track(this.#sharedDigest(ended.start, ended.held, this.#shared));
  }

  /** Pushes our held counts, waits for the other replicas' to land, and lets one replica send. */
  async #sharedDigest(start: number, held: Map<string, number>, shared: SharedState): Promise<void> {
    const w = this.#throttle.windowMs;
    const pushed = await shared.addHeld(start, held, w * 3);
    if (pushed) await new Promise((r) => setTimeout(r, Math.min(2000, w / 4)).unref());
    const all = pushed ? await shared.takeDigest(start, w * 3) : undefined;
    const counts = all ?? held; // Redis unreachable: our own counts, never none
    if (counts.size > 0) this.#stageDigest(digestAlert(start, w, counts, this.#payload.environment));
  }

  #stageDigest(a: AlertDto): void {
    this.#count('digests', 1);
    this.#log.warn({ stage: 'alert', code: ErrorCode.ALERT, heldBack: a.occurrences, fingerprint: a.fingerprint }, 'Alert ceiling reached; sending a digest of held-back alerts.');
    this.#stage(a);
  }

  #onQueueDrop(alerts: readonly AlertDto[]): void {
    let held = 0;
    for (const a of alerts) {
      if (a.labels['kind'] === 'digest' || a.status === 'resolved') continue;
      this.#throttle.hold(digestKeyOf(a), a.occurrences);
      held += a.occurrences;
    }
    this.#count('dropped', alerts.length);
    // At most one line a minute while the queue stays full; the counter has every drop.
    this.#dropsUnlogged += alerts.length;
    const now = Date.now();
    if (now - this.#dropLoggedMs < 60_000) return;
    this.#dropLoggedMs = now;
    this.#log.warn({ stage: 'alert', code: ErrorCode.ALERT, alerts: this.#dropsUnlogged, intoDigest: held }, 'Alert queue full; oldest alerts dropped into the next digest.');
    this.#dropsUnlogged = 0;
  }

  #sweep(): Promise<void> {
    this.#sweeping ??= this.#sweepOnce()
      .catch((err: unknown) => this.#log.error({ stage: 'alert', code: ErrorCode.INTERNAL, err }, 'Alert sweep failed.'))
      .finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  async #sweepOnce(): Promise<void> {
    if (!this.#dedup) return;
    if (this.#shared) await mergeSharedCounts(this.#dedup, this.#shared, this.#windowMs + 2 * this.#flushMs);
    const now = Date.now();
    const { due, quiet } = this.#dedup.sweep(now, { resolveAfterMs: this.#resolveAfterMs, shared: this.#shared !== undefined });
    for (const g of due) this.#stage(g);
    for (const g of quiet) {
      this.#count('resolved', 1);
      this.#stage({ ...groupAlert(g), status: 'resolved', lastReceived: new Date(Math.max(now, g.lastMs)).toISOString() });
    }
  }

  #stage(s: Staged): void {
    if (isGroup(s)) s.queued = true;
    this.#staged.push(s);
    if (this.#staged.length > this.#maxStaged) this.#onQueueDrop(this.#staged.splice(0, this.#staged.length - this.#maxStaged).map(unstage));
    if (this.#persistScheduled) return;
    this.#persistScheduled = true;
    // Deferred a turn so a burst of detections from one request is one append and one batch.
    setImmediate(() => {
      this.#persistScheduled = false;
      void this.#persist().then(() => this.#delivery.kick());
    });
  }

  /** Staged alerts → queue, one append at a time. */
  #persist(): Promise<void> {
    this.#persisting = this.#persisting.then(async () => {
      const items = this.#staged.splice(0);
      if (items.length === 0) return;
      const alerts = items.map(unstage);
      try {
        await this.#queue.append(alerts);
      } catch (err) {
        metrics.errors.inc({ stage: 'alert', code: ErrorCode.ALERT });
        this.#log.error({ stage: 'alert', code: ErrorCode.ALERT, err, alerts: alerts.length }, 'Cannot write alerts to the queue; counting them into the next digest.');
        this.#onQueueDrop(alerts);
      }
      this.#gauge();
    });
    return this.#persisting;
  }

  #track(p: Promise<void>): void {
    const q: Promise<void> = p
      .catch((err: unknown) => this.#log.error({ stage: 'alert', code: ErrorCode.INTERNAL, err }, 'Alert admission failed.'))
      .finally(() => this.#pending.delete(q));
    this.#pending.add(q);
  }

  #every(ms: number, fn: () => unknown): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.#timers.push(t);
  }

  #count(outcome: Outcome | 'retries', n: number): void {
    this.#counts[outcome] += n;
    if (outcome !== 'retries') metrics.alertsSent.inc({ outcome }, n);
  }

  #gauge(): void {
    metrics.queueDepth.set({ queue: 'alert' }, this.#queue.length);
  }
}

/** The alert a staged item stands for now; a group is marked handed over at its current count. */
function unstage(s: Staged): AlertDto {
  if (!isGroup(s)) return s;
  s.queued = false;
  s.sentCount = s.count;
  return groupAlert(s);
}

const configError = (msg: string): PipelineError => new PipelineError(ErrorCode.CONFIG, msg, false);
