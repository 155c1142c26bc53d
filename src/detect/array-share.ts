/**
 * How the workers of one pool agree on whose automata are shared (rules/shared-arrays.ts): the first
 * worker to take the lock compiles and publishes its arrays; the others wait for them (or for word that
 * the first could not compile), then compile adopting them. The pool keeps what was published and hands
 * it to a worker started later (piscina replaces a worker that died), which asks for it.
 */
import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import { AdoptingShare, PublishingShare, type ArrayShare, type Shareable } from './rules/shared-arrays.ts';

export interface ShareHandle {
  /** BroadcastChannel name, one per pool. */
  readonly channel: string;
  /** Int32 0 until a worker claims the publisher's role. */
  readonly lock: SharedArrayBuffer;
}

type Message = { readonly type: 'published'; readonly arrays: readonly Shareable[] | null } | { readonly type: 'want' };

/** A worker that has not heard from the publisher in this long compiles on its own. */
const WAIT_MS = 120_000;

export function newShareHandle(): ShareHandle {
  return { channel: `otel-sigma-automata-${randomUUID()}`, lock: new SharedArrayBuffer(4) };
}

/** The pool's side: remembers what the publisher sent and answers workers that ask later. */
export class ShareKeeper {
  readonly #channel: BroadcastChannel;
  #arrays: readonly Shareable[] | null | undefined;

  constructor(handle: ShareHandle) {
    this.#channel = new BroadcastChannel(handle.channel);
    this.#channel.unref();
    this.#channel.onmessage = (event) => {
      const msg = (event as { readonly data: Message }).data;
      if (msg.type === 'published') this.#arrays = msg.arrays;
      else if (this.#arrays !== undefined) this.#channel.postMessage({ type: 'published', arrays: this.#arrays } satisfies Message);
    };
  }

  /** Bytes held once for every worker (0 before the publisher compiled, or when it could not). */
  get sharedBytes(): number {
    return (this.#arrays ?? []).reduce((n, a) => n + a.byteLength, 0);
  }

  close(): void {
    this.#channel.close();
  }
}

export interface WorkerShare {
  readonly role: 'publisher' | 'adopter' | 'none';
  /** What the compile should run with (withArrayShare). */
  readonly share: ArrayShare | undefined;
  /** Tells the other workers the compile is over: they adopt its arrays, or compile alone when it failed. */
  done(ok: boolean): void;
  /** Bytes of automata this worker holds in shared memory (published or adopted), not in its own heap. */
  sharedBytes(): number;
}

const NOT_SHARING: WorkerShare = { role: 'none', share: undefined, done: () => undefined, sharedBytes: () => 0 };

/** A worker's side, before it compiles. */
export async function joinShare(handle: ShareHandle | undefined): Promise<WorkerShare> {
  if (handle === undefined) return NOT_SHARING;
  const channel = new BroadcastChannel(handle.channel);
  if (Atomics.compareExchange(new Int32Array(handle.lock), 0, 0, 1) === 0) {
    const share = new PublishingShare();
    return {
      role: 'publisher',
      share,
      done(ok) {
        channel.postMessage({ type: 'published', arrays: ok ? share.published : null } satisfies Message);
        channel.close();
      },
      sharedBytes: () => share.published.reduce((n, a) => n + a.byteLength, 0),
    };
  }
  const arrays = await new Promise<readonly Shareable[] | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), WAIT_MS);
    channel.onmessage = (event) => {
      const msg = (event as { readonly data: Message }).data;
      if (msg.type !== 'published') return;
      clearTimeout(timer);
      resolve(msg.arrays);
    };
    channel.postMessage({ type: 'want' } satisfies Message);
  });
  channel.close();
  if (arrays === null) return NOT_SHARING;
  const share = new AdoptingShare(arrays);
  return { role: 'adopter', share, done: () => undefined, sharedBytes: () => share.adoptedBytes };
}
