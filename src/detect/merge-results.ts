/** The results of one request's parts (see DetectPool.run) as the result of the whole request. */
import type { DetectResult } from './task.ts';

export function mergeResults(results: readonly DetectResult[]): DetectResult {
  // A part that failed fails the request: a malformed one first (it is not worth a retry), else a retryable one.
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) return failed.find((r) => !r.retryable) ?? failed[0]!;
  const ok = results.filter((r) => r.ok);
  const routed: Record<string, number> = {};
  let anyRouted = false;
  for (const r of ok) {
    if (r.routed === undefined) continue;
    anyRouted = true;
    for (const k in r.routed) routed[k] = (routed[k] ?? 0) + r.routed[k]!;
  }
  const sum = (pick: (s: (typeof ok)[number]['stats']) => number): number => ok.reduce((n, r) => n + pick(r.stats), 0);
  return {
    ok: true,
    rejected: ok.reduce((n, r) => n + r.rejected, 0),
    errorMessage: ok.map((r) => r.errorMessage).filter(Boolean).join('; '),
    detections: ok.flatMap((r) => r.detections),
    correlationInputs: ok.flatMap((r) => r.correlationInputs),
    stats: {
      records: sum((s) => s.records),
      events: sum((s) => s.events),
      ruleEvaluations: sum((s) => s.ruleEvaluations),
      evalErrors: sum((s) => s.evalErrors),
      detectionsDropped: sum((s) => s.detectionsDropped),
    },
    ...(anyRouted ? { routed } : {}),
  };
}
