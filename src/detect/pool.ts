/**
 * The detection worker pool (piscina): bounded queue, raw bytes in, results out. A full queue is
 * answered at once with a retryable ERR_BACKPRESSURE so the collector keeps the data in its own queue.
 */
import { Piscina } from 'piscina';
import { ErrorCode, PipelineError } from '../errors.ts';
import { availableCores } from '../os/available-cores.ts';
import { metrics } from '../telemetry/metrics.ts';
import { splitExportRequest } from '../decode/split-request.ts';
import { newShareHandle, ShareKeeper } from './array-share.ts';
import { mergeResults } from './merge-results.ts';
import type { RuleTextColumns } from './build-detection.ts';
import type { Detection } from './detection.ts';
import type { DetectResult, DetectTask, RuleTextByRuleId, RulesetSummary, WorkerConfig } from './task.ts';

const WORKER_FILE = new URL('./worker.ts', import.meta.url).href;
/** Smaller requests are not worth cutting across idle workers. */
const SPLIT_MIN_BYTES = 256 * 1024;
/** Old-generation ceiling of one detection worker. */
export const WORKER_HEAP_MB = 2048;

export interface PoolOptions {
  /** 0 = one per core the process may use (its container's CPU limit counted). */
  readonly threads: number;
  /** 0 = threads × 4. */
  readonly maxQueue: number;
  readonly worker: WorkerConfig;
  /** Requests this large (protobuf, not compressed) are cut across idle workers; default 256 KiB, Infinity = never. */
  readonly splitMinBytes?: number;
  /** Worker entry (default ./worker.ts); hunt's reads pages of stored rows instead of OTLP requests. */
  readonly filename?: string;
}

export class DetectPool {
  readonly threads: number;
  readonly maxQueue: number;
  #pool: Piscina<DetectTask, DetectResult>;
  #inFlight = 0;
  readonly #keeper: ShareKeeper;
  readonly #splitMinBytes: number;
  #cut = 0;
  /** Warm-up calls still running after warmUp({ first }) returned: workers still compiling. */
  readonly #compiling = new Set<Promise<RulesetSummary>>();
  /** The rules' text, held here once for every worker (worker-compile.ts moves it out of them). */
  #ruleText = new Map<string, RuleTextColumns>();

  constructor(opts: PoolOptions) {
    this.threads = opts.threads > 0 ? opts.threads : availableCores();
    this.maxQueue = opts.maxQueue > 0 ? opts.maxQueue : this.threads * 4;
    // One worker compiles first and the others adopt its automata (array-share.ts): with the whole SigmaHQ
    // ruleset each worker beyond the first holds ~18 MB less; start-up takes one compile longer.
    this.#splitMinBytes = opts.splitMinBytes ?? SPLIT_MIN_BYTES;
    const share = newShareHandle();
    this.#keeper = new ShareKeeper(share);
    this.#pool = new Piscina<DetectTask, DetectResult>({
      filename: opts.filename ?? WORKER_FILE,
      minThreads: this.threads,
      maxThreads: this.threads,
      idleTimeout: 0x7fffffff,
      maxQueue: this.maxQueue,
      // A bounded young generation: V8 would grow it to ~130 MB while the rule YAML is parsed. 32 MB rather
      // than 8: at 8 the short-lived objects of attack-dense records (matches, detection rows) were promoted
      // and old-space collections re-marked the whole compiled ruleset (one worker, attack recordings:
      // 11.3-11.6k → 12.3-13.4k records/s); idle RSS is the same either way (the compile garbage is
      // collected in the worker, see worker-compile.ts). A worker whose heap passes maxOldGenerationSizeMb is stopped (its task fails as retryable) and replaced;
      // the process lives on. The compiled SigmaHQ ruleset takes ~60-110 MB.
      resourceLimits: { maxYoungGenerationSizeMb: 32, maxOldGenerationSizeMb: WORKER_HEAP_MB },
      workerData: { ...opts.worker, share } satisfies WorkerConfig,
    });
  }

  /**
   * Resolves when every worker has compiled the ruleset, with what the first one compiled (all compile the
   * same files). Rejects with ERR_RULE_LOAD when a worker could not load the rules at all.
   * With `first`, resolves as soon as one worker is ready: the others compile one after another (they
   * adopt the first one's automata), and meanwhile the ready ones already take tasks (a hunt's pages);
   * a worker that then fails to compile fails the tasks it is given.
   */
  async warmUp(opts: { readonly first?: boolean } = {}): Promise<RulesetSummary> {
    try {
      // piscina starts every thread up front (minThreads) and a thread takes one task at a time, so while
      // they compile, `threads` concurrent calls land one per thread.
      const calls = Array.from({ length: this.threads }, () => this.#describe());
      if (opts.first === true) {
        for (const c of calls) {
          this.#compiling.add(c);
          // Either way: a worker that fails to compile fails the tasks it is given.
          const done = (): boolean => this.#compiling.delete(c);
          void c.then(done, done);
        }
        // Ready means ready to fill in detections: the first summary that carries the rules' text (worker-compile.ts).
        const withText = calls.map((c) => c.then((s) => (s.ruleText !== undefined ? this.#keepRuleText(s) : Promise.reject(new Error('a worker that adopted the automata sends no rule text')))));
        return await Promise.any(withText).catch((e: unknown) => { throw e instanceof AggregateError ? e.errors[0] : e; });
      }
      const summaries = await Promise.all(calls);
      for (const s of summaries) this.#keepRuleText(s);
      // The publisher holds the shared arrays in its own count; the figure is what each worker adds.
      return { ...summaries[0]!, workerHeapMb: Math.max(0, ...summaries.map((x) => x.workerHeapMb ?? 0)), sharedMib: Math.max(0, ...summaries.map((x) => x.sharedMib ?? 0)) };
    } catch (err) {
      throw new PipelineError(ErrorCode.RULE_LOAD, `detection workers could not load the rules: ${(err as Error).message}`, false, { cause: err });
    }
  }

  /** Every worker compiles the same files: the first text sent serves them all. */
  #keepRuleText(summary: RulesetSummary): RulesetSummary {
    if (this.#ruleText.size === 0 && summary.ruleText !== undefined) {
      const text = JSON.parse(new TextDecoder().decode(summary.ruleText)) as RuleTextByRuleId;
      this.#ruleText = new Map(Object.entries(text));
    }
    return summary;
  }

  /**
   * A worker's detections carry the rule's text empty: fill it in (rules without a unique id kept theirs).
   * In place: the objects were just deserialized from the worker's reply and are this call's alone, and
   * copies would be garbage for every detection of an attack-dense stream.
   */
  #withRuleText(result: DetectResult): DetectResult {
    if (!result.ok) return result;
    for (const d of result.detections) {
      const text = this.#ruleText.get(d.ruleId);
      if (text !== undefined) Object.assign(d as { -readonly [K in keyof Detection]: Detection[K] }, text);
    }
    return result;
  }

  #describe(): Promise<RulesetSummary> {
    // The worker's named export `describe` takes no task and returns a summary, not a DetectResult.
    return this.#pool.run(undefined as unknown as DetectTask, { name: 'describe' }) as unknown as Promise<RulesetSummary>;
  }

  get queued(): number {
    return this.#pool.queueSize;
  }

  /**
   * Runs a request on a worker. While other workers are idle, a large protobuf request is cut along its
   * ResourceLogs and its parts run side by side, so a collector sending one request at a time is answered
   * in the time of a part, not of the whole (with busy workers, cutting would only add work).
   */
  async run(task: DetectTask): Promise<DetectResult> {
    const idle = this.threads - this.#inFlight;
    if (idle >= 2 && task.format === 'protobuf' && task.encoding === 'identity' && task.body.byteLength >= this.#splitMinBytes) {
      const bodies = splitExportRequest(task.body, idle);
      if (bodies.length > 1) {
        this.#cut++;
        return mergeResults(await Promise.all(bodies.map((body) => this.#runOne({ ...task, body }))));
      }
    }
    return this.#runOne(task);
  }

  async #runOne(task: DetectTask): Promise<DetectResult> {
    if (this.#pool.queueSize >= this.maxQueue) {
      throw new PipelineError(ErrorCode.BACKPRESSURE, `detection queue full (${this.maxQueue} requests waiting); retry later`, true, { retryAfterSeconds: 1 });
    }
    // Transfer the bytes instead of copying them when the buffer is ours alone.
    const body = task.body;
    const exclusive = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && !(body.buffer instanceof SharedArrayBuffer);
    const sent: DetectTask = exclusive ? task : { ...task, body: new Uint8Array(body) };
    this.#inFlight++;
    metrics.queueDepth.set({ queue: 'detect' }, this.#pool.queueSize);
    try {
      return this.#withRuleText(await this.#pool.run(sent, exclusive ? { transferList: [sent.body.buffer as ArrayBuffer] } : {}));
    } catch (err) {
      const msg = (err as Error).message;
      if (/queue is at limit/i.test(msg)) throw new PipelineError(ErrorCode.BACKPRESSURE, 'detection queue full; retry later', true, { retryAfterSeconds: 1 });
      throw new PipelineError(ErrorCode.WORKER, `detection worker failed: ${msg}`, true, { cause: err });
    } finally {
      this.#inFlight--;
      metrics.queueDepth.set({ queue: 'detect' }, this.#pool.queueSize);
    }
  }

  /** Requests run as parts on several workers so far. */
  get cutRequests(): number {
    return this.#cut;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Finishes queued and running tasks, then stops the threads. */
  async close(): Promise<void> {
    this.#keeper.close();
    // A worker still compiling (warmUp({ first })) has nothing to finish: a graceful close would wait for
    // its compile, and piscina gives up on that after 30 s with an error. Stop the threads instead.
    if (this.#compiling.size > 0) await this.#pool.destroy();
    else await this.#pool.close();
  }
}
