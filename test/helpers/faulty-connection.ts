/**
 * A ClickHouse `Connection` (the object @clickhouse/client's `createClient({ connection })` accepts)
 * that wraps a real one and makes chosen inserts fail the way a flaky network does. Everything
 * else goes straight to the wrapped connection, so data lands in a real ClickHouse.
 *
 *   const faulty = new FaultyConnection(createChdbConnection({ path: dir }), { failInserts: 2 });
 *   const client = createClient({ connection: faulty.asInjected() });
 *
 * `when: 'after'` lets the insert reach the table and then loses the reply — the case
 * insert_deduplication_token exists for.
 */
import type { Readable } from 'node:stream';
import type {
  ConnCommandResult,
  ConnExecParams,
  ConnExecResult,
  ConnInsertParams,
  ConnInsertResult,
  ConnPingParams,
  ConnPingResult,
  ConnQueryResult,
  ConnBaseQueryParams,
  Connection,
} from 'chdb/connection'; // chdb re-exports @clickhouse/client-common's Connection types verbatim
import type { InjectedConnection } from '../../src/store/client.ts';

type ConnCommandParams = Parameters<Connection<Readable>['command']>[0];

export interface FaultPlan {
  /** How many inserts fail, starting with the first. Default 1. */
  readonly failInserts?: number;
  /** 'before': the insert never reaches ClickHouse; 'after': it is stored, then the reply is lost. Default 'before'. */
  readonly when?: 'before' | 'after';
  /** The error thrown; default a retryable network error (ECONNRESET). */
  readonly error?: () => Error;
}

export function networkError(): Error {
  return Object.assign(new Error('socket hang up (injected by FaultyConnection)'), { code: 'ECONNRESET' });
}

export class FaultyConnection implements Connection<Readable> {
  readonly #inner: Connection<Readable>;
  readonly #plan: Required<FaultPlan>;
  /** Inserts attempted through this connection, failed or not. */
  insertAttempts = 0;
  /** Inserts this connection made fail. */
  insertFailures = 0;

  constructor(inner: Connection<Readable>, plan: FaultPlan = {}) {
    this.#inner = inner;
    this.#plan = { failInserts: plan.failInserts ?? 1, when: plan.when ?? 'before', error: plan.error ?? networkError };
  }

  /** This connection typed for `createClient({ connection })` (see InjectedConnection for why a cast). */
  asInjected(): InjectedConnection {
    return this as unknown as InjectedConnection;
  }

  insert(params: ConnInsertParams<Readable>): Promise<ConnInsertResult> {
    return this.#faulty(() => this.#inner.insert(params));
  }

  async #faulty<T>(run: () => Promise<T>): Promise<T> {
    this.insertAttempts++;
    const fail = this.insertAttempts <= this.#plan.failInserts;
    if (fail && this.#plan.when === 'before') {
      this.insertFailures++;
      throw this.#plan.error();
    }
    const result = await run();
    if (fail) {
      this.insertFailures++;
      throw this.#plan.error();
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
  exec(params: ConnExecParams<Readable>): Promise<ConnExecResult<Readable>> {
    return params.values === undefined ? this.#inner.exec(params) : this.#faulty(() => this.#inner.exec(params));
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
}
