/** Detections for store tests: every field set, distinct per `i`, event time close to now (TTL-safe). */
import type { DetectedEvent, Detection } from '../../../src/detect/detection.ts';

export type DetectionOverrides = Partial<Omit<Detection, 'event'>> & { event?: Partial<DetectedEvent> };

let seq = 0;

/** `nowNs` is a decimal string of epoch nanoseconds with a non-zero sub-millisecond part. */
export function nowNs(offsetMs = 0): string {
  const ms = BigInt(Date.now() + offsetMs);
  return String(ms * 1_000_000n + 123_457n);
}

export function makeDetection(over: DetectionOverrides = {}): Detection {
  const i = seq++;
  const { event, ...rest } = over;
  const eventTimeNs = rest.eventTimeNs ?? nowNs(-i);
  return {
    eventTimeNs,
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
    event: {
      id: `ev-${process.pid}-${i}-${Math.random().toString(36).slice(2)}`,
      timeNs: eventTimeNs,
      host: rest.host ?? `host-${i % 3}`,
      sigmaEvent: JSON.stringify({ Image: 'C:\\Windows\\System32\\cmd.exe', CommandLine: `cmd /c echo ${i}` }),
      body: `process started ${i}`,
      logAttributes: { 'event.id': '1' },
      resourceAttributes: { 'host.name': `host-${i % 3}` },
      severityText: 'INFO',
      severityNumber: 9,
      traceId: '',
      spanId: '',
      ...event,
    },
    fingerprint: `fp-${process.pid}-${i}-${Math.random().toString(36).slice(2)}`,
    source: 'stream',
    ...rest,
  };
}

export function makeDetections(n: number, over: DetectionOverrides = {}): Detection[] {
  return Array.from({ length: n }, () => makeDetection(over));
}
