/**
 * XML entity decoding for the Event XML reader: the five predefined entities and numeric character
 * references. No DTD entities exist here (a DOCTYPE is skipped, never expanded), so entity expansion
 * attacks are impossible; unknown or invalid references are kept as written.
 */

const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes `s` if it contains `&`; otherwise returns it unchanged (the common case, no allocation). */
export function decodeEntities(s: string): string {
  let amp = s.indexOf('&');
  if (amp < 0) return s;
  let out = '';
  let last = 0;
  while (amp >= 0) {
    const semi = findSemicolon(s, amp);
    if (semi < 0) {
      amp = s.indexOf('&', amp + 1);
      continue;
    }
    const ref = s.slice(amp + 1, semi);
    const rep = ref.charCodeAt(0) === 35 /* # */ ? numericRef(ref) : NAMED[ref];
    if (rep !== undefined) {
      out += s.slice(last, amp) + rep;
      last = semi + 1;
    }
    amp = s.indexOf('&', semi + 1);
  }
  return last === 0 ? s : out + s.slice(last);
}

/** A reference is short: looking further than 12 characters would make many stray `&` quadratic. */
function findSemicolon(s: string, amp: number): number {
  const end = Math.min(s.length, amp + 12);
  for (let i = amp + 1; i < end; i++) if (s.charCodeAt(i) === 59 /* ; */) return i;
  return -1;
}

function numericRef(ref: string): string | undefined {
  const hex = ref.charCodeAt(1) === 120 /* x */ || ref.charCodeAt(1) === 88; /* X */
  const digits = ref.slice(hex ? 2 : 1);
  if (digits.length === 0 || !(hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits)) return undefined;
  const cp = Number.parseInt(digits, hex ? 16 : 10);
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
  return String.fromCodePoint(cp);
}
