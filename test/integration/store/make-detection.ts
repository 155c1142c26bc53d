/** Detections for store tests: every field set, distinct per `i`, event time close to now (TTL-safe). */
import type { Detection } from '../../../src/detect/detection.ts';

let seq = 0;

/** `nowNs` is a decimal string of epoch nanoseconds with a non-zero sub-millisecond part. */
export function nowNs(offsetMs = 0): string {
  const ms = BigInt(Date.now() + offsetMs);
  return String(ms * 1_000_000n + 123_457n);
}

export function makeDetection(over: Partial<Detection> = {}): Detection {
  const i = seq++;
  return {
    eventTimeNs: nowNs(-i),
    detectedAtMs: Date.now(),
    ruleId: `00000000-0000-4000-8000-${String(i % 7).padStart(12, '0')}`,
    ruleTitle: `Suspicious thing ${i % 7}`,
    ruleLevel: 'high',
    ruleStatus: 'test',
    ruleTags: ['attack.execution', 'attack.t1059.001'],
    ruleDescription: 'not stored',
    ruleReferences: ['https://example.invalid'],
    ruleFalsePositives: ['admins'],
    ruleAuthor: 'tester',
    product: 'windows',
    category: 'process_creation',
    service: '',
    host: `host-${i % 3}`,
    matched: { Image: 'C:\\Windows\\System32\\cmd.exe', CommandLine: `cmd /c echo ${i}` },
    sigmaEvent: JSON.stringify({ Image: 'C:\\Windows\\System32\\cmd.exe', CommandLine: `cmd /c echo ${i}` }),
    body: `process started ${i}`,
    logAttributes: { 'event.id': '1' },
    resourceAttributes: { 'host.name': `host-${i % 3}` },
    severityText: 'INFO',
    severityNumber: 9,
    traceId: '',
    spanId: '',
    fingerprint: `fp-${process.pid}-${i}-${Math.random().toString(36).slice(2)}`,
    source: 'stream',
    ...over,
  };
}

export function makeDetections(n: number, over: Partial<Detection> = {}): Detection[] {
  return Array.from({ length: n }, () => makeDetection(over));
}
