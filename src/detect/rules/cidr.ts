/** IPv4 / IPv6 CIDR networks for the `cidr` modifier, as 16-bit words (IPv4: 2 words). */

export interface Cidr {
  readonly v6: boolean;
  readonly words: Uint16Array;
  readonly prefix: number;
}

export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const words = parseIp(addr.trim());
  if (!words) return `'${text}' is not an IPv4 or IPv6 network`;
  const v6 = words.length === 8;
  const bits = v6 ? 128 : 32;
  const prefix = slash < 0 ? bits : Number(text.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits || (slash >= 0 && !/^\s*\d+\s*$/.test(text.slice(slash + 1)))) {
    return `'${text}' has an invalid prefix length (0-${bits})`;
  }
  return { v6, words, prefix };
}

export function cidrContains(net: Cidr, ip: string): boolean {
  const w = parseIp(ip);
  if (!w || w.length !== net.words.length) {
    // an IPv4-mapped IPv6 address (::ffff:a.b.c.d) against an IPv4 network
    if (w && !net.v6 && w.length === 8 && w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
      return prefixEqual(net.words, w.subarray(6), net.prefix);
    }
    return false;
  }
  return prefixEqual(net.words, w, net.prefix);
}

function prefixEqual(a: Uint16Array, b: Uint16Array, prefix: number): boolean {
  let bits = prefix;
  for (let i = 0; bits > 0; i++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if ((a[i]! & mask) !== (b[i]! & mask)) return false;
  }
  return true;
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseV4(s: string): [number, number] | null {
  const m = V4.exec(s);
  if (!m) return null;
  const b = [m[1], m[2], m[3], m[4]].map(Number);
  if (b.some((x) => x > 255)) return null;
  return [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!];
}

/** 2 words for IPv4, 8 for IPv6 (with `::` compression, an embedded IPv4 tail and an optional `%zone`); null otherwise. */
function parseIp(s: string): Uint16Array | null {
  if (s.length > 64) return null;
  const v4 = parseV4(s);
  if (v4) return Uint16Array.from(v4);
  let str = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  const zone = str.indexOf('%');
  if (zone >= 0) str = str.slice(0, zone);
  if (!str.includes(':')) return null;
  const halves = str.split('::');
  if (halves.length > 2) return null;
  const parse = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    const groups = h.split(':');
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (i === groups.length - 1 && g.includes('.')) {
        const t = parseV4(g);
        if (!t) return null;
        out.push(t[0], t[1]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  if (!head || !tail) return null;
  const words = new Uint16Array(8);
  if (halves.length === 1) {
    if (head.length !== 8) return null;
    words.set(head);
  } else {
    if (head.length + tail.length > 7) return null;
    words.set(head, 0);
    words.set(tail, 8 - tail.length);
  }
  return words;
}
