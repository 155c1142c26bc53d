/** Real requests from the regression corpus (../shared, tests only) as protobuf seeds for mutation. */
import { ExportLogsServiceRequest } from '../helpers/otlp-proto.ts';
import { hasCorpus, loadManifest, requestLines, type Shape } from '../helpers/corpus.ts';
import type { Encoded } from './otlp-arbitraries.ts';

/** Up to `max` requests spread over the corpus and its three shapes; [] without the corpus. */
export function corpusSeeds(max: number): Encoded[] {
  if (!hasCorpus) return [];
  const cases = loadManifest();
  const out: Encoded[] = [];
  const step = Math.max(1, Math.floor(cases.length / max));
  for (let i = 0; i < cases.length && out.length < max; i += step) {
    const c = cases[i]!;
    const shape: Shape = c.shapes[i % c.shapes.length] ?? 'raw';
    const line = requestLines(c, shape)[0];
    if (line === undefined) continue;
    out.push(reencode(line));
  }
  return out;
}

/** OTLP/JSON line → protobuf (protobufjs); mutations need only the bytes and the length-prefix offsets, which a wire walk recovers. */
function reencode(line: string): Encoded {
  const doc = JSON.parse(line, (key: string, value: unknown) =>
    (key === 'traceId' || key === 'spanId') && typeof value === 'string' ? Buffer.from(value, 'hex').toString('base64') : value) as Record<string, unknown>;
  const bytes = ExportLogsServiceRequest.encode(ExportLogsServiceRequest.fromObject(doc)).finish();
  return { bytes, lengthPrefixes: lengthPrefixes(bytes) };
}

/** Offsets of length prefixes of fields that parse as nested messages, found by walking the wire format. */
function lengthPrefixes(b: Uint8Array): number[] {
  const out: number[] = [];
  const walk = (start: number, end: number): boolean => {
    let p = start;
    const readVarint = (): number | undefined => {
      let v = 0;
      let shift = 0;
      while (p < end && shift < 35) {
        const x = b[p++]!;
        v += (x & 0x7f) * 2 ** shift;
        if ((x & 0x80) === 0) return v;
        shift += 7;
      }
      return undefined;
    };
    const found: number[] = [];
    while (p < end) {
      const tag = readVarint();
      if (tag === undefined || tag >>> 3 === 0) return false;
      const wt = tag & 7;
      if (wt === 0) { if (readVarint() === undefined) return false; }
      else if (wt === 1) p += 8;
      else if (wt === 5) p += 4;
      else if (wt === 2) {
        const at = p;
        const len = readVarint();
        if (len === undefined || p + len > end) return false;
        found.push(at);
        const inner = p;
        p += len;
        if (len > 0) walk(inner, inner + len); // strings fail to parse as messages and add nothing
      } else return false;
    }
    if (p !== end) return false;
    out.push(...found);
    return true;
  };
  walk(0, b.length);
  return out;
}
