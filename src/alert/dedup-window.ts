/**
 * Dedup window: detections with the same fingerprint within `windowMs` of the first fold into one
 * alert group. The first detection is sent at once; repeats only bump the group's count and last
 * time, and the sender re-sends the group (same id and fingerprint, new count) on its next sweep,
 * so Keep shows one alert whose count grows instead of one alert per matching record.
 */
import { withOccurrences } from './keep-payload.ts';
import type { AlertDto } from './keep-types.ts';

export interface AlertGroup {
  readonly fingerprint: string;
  /** The alert built from the first detection; updates are derived from it. */
  readonly first: AlertDto;
  /** Wall-clock ms when the window opened. */
  readonly openedMs: number;
  count: number;
  /** detectedAtMs of the newest detection in the group. */
  lastMs: number;
  /** `count` when the group was last handed to delivery or dropped from a full buffer (0 = never). */
  sentCount: number;
  /** Staged for the queue (or its replica claim is in flight): a repeat needs no extra send. */
  queued: boolean;
  /** Wall-clock ms of the newest detection; `resolve_after_s` counts from here. */
  seenMs: number;
  /** False when another replica won this fingerprint's window and sends the alert. */
  owner: boolean;
  /** Local detections not yet added to the shared (Redis) count. */
  unreported: number;
}

export function newGroup(first: AlertDto, detectedAtMs: number, nowMs: number): AlertGroup {
  return { fingerprint: first.fingerprint, first, openedMs: nowMs, count: 1, lastMs: detectedAtMs, sentCount: 0, queued: false, seenMs: nowMs, owner: true, unreported: 1 };
}

/** The alert to send for a group as it stands now. */
export function groupAlert(g: AlertGroup): AlertDto {
  return g.count === 1 ? g.first : withOccurrences(g.first, g.count, g.lastMs);
}

export class DedupWindow {
  readonly #windowMs: number;
  readonly #maxTracked: number;
  // Insertion order = opening order, so the first entry is the oldest window.
  readonly #groups = new Map<string, AlertGroup>();

  constructor(windowMs: number, maxTracked: number) {
    this.#windowMs = windowMs;
    this.#maxTracked = Math.max(1, maxTracked);
  }

  get size(): number {
    return this.#groups.size;
  }

  /** Folds a repeat into its open group and returns it; undefined when a new alert is due. */
  fold(fingerprint: string, detectedAtMs: number, nowMs: number): AlertGroup | undefined {
    const g = this.#groups.get(fingerprint);
    if (g === undefined || nowMs - g.openedMs >= this.#windowMs) return undefined;
    g.count++;
    g.unreported++;
    g.seenMs = nowMs;
    if (detectedAtMs > g.lastMs) g.lastMs = detectedAtMs;
    return g;
  }

  groups(): IterableIterator<AlertGroup> {
    return this.#groups.values();
  }

  forget(g: AlertGroup): void {
    if (this.#groups.get(g.fingerprint) === g) this.#groups.delete(g.fingerprint);
  }

  /** Tracks a new group, replacing an expired one with the same fingerprint. */
  track(g: AlertGroup): void {
    this.#groups.delete(g.fingerprint);
    // Bounded: under a flood of distinct fingerprints the oldest windows are forgotten first;
    // a forgotten group's later repeats simply open a new alert.
    while (this.#groups.size >= this.#maxTracked) {
      const oldest = this.#groups.keys().next();
      if (oldest.done === true) break;
      this.#groups.delete(oldest.value);
    }
    this.#groups.set(g.fingerprint, g);
  }

  /**
   * `due`: groups this replica sends whose count grew since they were last handed over (and are
   * not already queued). `quiet`: sent groups without a detection for `resolveAfterMs` (0 = never),
   * forgotten here so the caller sends them as resolved (`resolveAfterMs`). Groups whose window has closed and that
   * have nothing left to send (or resolve) are forgotten.
   */
  sweep(nowMs: number, opts: { resolveAfterMs?: number; shared?: boolean } = {}): { due: AlertGroup[]; quiet: AlertGroup[] } {
    const resolveAfterMs = opts.resolveAfterMs ?? 0;
    // With shared state a group is kept until its local count has been reported.
    const pending = (g: AlertGroup): boolean => opts.shared === true && g.unreported > 0;
    const due: AlertGroup[] = [];
    const quiet: AlertGroup[] = [];
    for (const [fp, g] of this.#groups) {
      if (g.queued) continue;
      const resolvable = resolveAfterMs > 0 && g.owner && g.sentCount > 0;
      if (g.owner && g.count > g.sentCount) due.push(g);
      else if (resolvable && nowMs - g.seenMs >= resolveAfterMs) {
        quiet.push(g);
        this.#groups.delete(fp);
      } else if (!resolvable && !pending(g) && nowMs - g.openedMs >= this.#windowMs) this.#groups.delete(fp);
    }
    return { due, quiet };
  }
}
