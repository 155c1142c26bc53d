/**
 * A ClickHouse `Connection` wrapper for outages that last a while (test/helpers/faulty-connection.ts
 * counts failed inserts; this one fails every insert while `down`, e.g. for N seconds). Everything
 * else, and every insert while up, goes to the real (embedded) ClickHouse. It also records, in
 * order, the fingerprints of each insert that reached the table, so tests can check arrival order.
 */
import { Readable } from 'node:stream';
import type {
  ConnBaseQueryParams,
  ConnCommandResult,
  ConnExecParams,
  ConnExecResult,
  ConnInsertParams,
  ConnInsertResult,
  ConnPingParams,
  ConnPingResult,
  ConnQueryResult,
  Connection,
} from 'chdb/connection';
import type { InjectedConnection } from '../../../src/store/client.ts';
import { networkError } from '../../helpers/faulty-connection.ts';

type ConnCommandParams = Parameters<Connection<Readable>['command']>[0];

export class OutageConnection implements Connection<Readable> {
  readonly #inner: Connection<Readable>;
  #downUntil = 0;
  /** 'before': failed inserts never reach the table; 'after': they land, then the reply is lost; 'alternate': odd attempts 'after'. */
  when: 'before' | 'after' | 'alternate' = 'before';
  insertAttempts = 0;
  insertFailures = 0;
  /** Fingerprints of every insert that reached the table (deduplicated by ClickHouse or not), in order. */
  readonly landed: string[][] = [];

  constructor(inner: Connection<Readable>) {
    this.#inner = inner;
  }

  asInjected(): InjectedConnection {
    return this as unknown as InjectedConnection;
  }

  /** Every insert fails from now for `ms` (Infinity: until up()). */
  down(ms = Infinity): void {
    this.#downUntil = performance.now() + ms;
  }

  up(): void {
    this.#downUntil = 0;
  }

  get isDown(): boolean {
    return performance.now() < this.#downUntil;
  }

  insert(params: ConnInsertParams<Readable>): Promise<ConnInsertResult> {
    return this.#outage(typeof params.values === 'string' ? params.values : '', () => this.#inner.insert(params));
  }

  async #outage<T>(text: string, run: () => Promise<T>): Promise<T> {
    this.insertAttempts++;
    const down = this.isDown;
    const lands = this.when === 'after' || (this.when === 'alternate' && this.insertAttempts % 2 === 1);
    if (down && !lands) {
      this.insertFailures++;
      throw networkError();
    }
    const result = await run();
    this.landed.push(fingerprints(text));
    if (down) {
      this.insertFailures++;
      throw networkError();
    }
    return result;
  }

  ping(params: ConnPingParams): Promise<ConnPingResult> {
    return this.#inner.ping(params);
  }
  query(params: ConnBaseQueryParams): Promise<ConnQueryResult<Readable>> {
    return this.#inner.query(params);
  }
  command(params: ConnCommandParams): Promise<ConnCommandResult> {
    return this.#inner.command(params);
  }
  /** An exec with a body is an insert (the detection writer sends its JSONEachRow text that way). */
  async exec(params: ConnExecParams<Readable>): Promise<ConnExecResult<Readable>> {
    if (params.values === undefined) return this.#inner.exec(params);
    let text = '';
    for await (const chunk of params.values) text += String(chunk);
    return this.#outage(text, () => this.#inner.exec({ ...params, values: Readable.from([text]) }));
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
}

/** Fingerprints in JSONEachRow detection rows (event rows have none). */
function fingerprints(text: string): string[] {
  return [...text.matchAll(/"fingerprint":"([^"]*)"/g)].map((m) => m[1]!);
}
