/**
 * Bytes of request bodies (HTTP) or messages (gRPC) being received on one port, across every connection.
 * Each is bounded by the request limit, but uploads that stall half-way (60 HTTP ones held 3.7 GB, 400 gRPC
 * calls 5 GB) are bounded only by this: past it an upload is refused with a retryable status, and its bytes
 * are given back the moment it ends, fails or is dropped.
 */
export class BodyBudget {
  readonly maxBytes: number;
  #used = 0;
  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }
  get used(): number {
    return this.#used;
  }
  take(n: number): boolean {
    if (this.#used + n > this.maxBytes) return false;
    this.#used += n;
    return true;
  }
  give(n: number): void {
    this.#used -= n;
  }
}

/** Default budget for a port: room for four requests at the limit, at least 256 MiB. */
export const defaultBodyBudgetBytes = (maxRequestBytes: number): number => Math.max(4 * maxRequestBytes, 256 * 1024 * 1024);
