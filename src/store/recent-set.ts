/** A set that remembers the last `capacity` keys added (oldest forgotten first). */
export class RecentSet {
  readonly #capacity: number;
  readonly #keys = new Set<string>();
  readonly #ring: string[] = [];
  #next = 0;

  constructor(capacity: number) {
    this.#capacity = Math.max(1, Math.trunc(capacity));
  }

  has(key: string): boolean {
    return this.#keys.has(key);
  }

  /** The keys remembered, oldest first (what a restart needs to remember them again). */
  keys(): string[] {
    return this.#ring.length < this.#capacity ? this.#ring.slice() : [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
  }

  add(key: string): void {
    if (this.#keys.has(key)) return;
    if (this.#ring.length < this.#capacity) this.#ring.push(key);
    else {
      this.#keys.delete(this.#ring[this.#next]!);
      this.#ring[this.#next] = key;
      this.#next = (this.#next + 1) % this.#capacity;
    }
    this.#keys.add(key);
  }
}
