/** Small IPv4 helpers for config validation (no token ever reaches them: config is plain data). */

const ADDRESS = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The address as an unsigned 32-bit number, or `undefined` when it is not a dotted quad. */
export function parseIpv4(address: string): number | undefined {
  const m = ADDRESS.exec(address);
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((acc, o) => acc * 256 + o, 0);
}

export interface Ipv4Range {
  readonly first: number;
  readonly last: number;
}

/** `a.b.c.d/n` as its first and last address; `undefined` when malformed or not on a boundary. */
export function parseCidr(cidr: string): Ipv4Range | undefined {
  const [address, bits, ...rest] = cidr.split('/');
  if (rest.length > 0 || address === undefined || bits === undefined || !/^\d{1,2}$/.test(bits)) return undefined;
  const base = parseIpv4(address);
  const prefix = Number(bits);
  if (base === undefined || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) return undefined;
  return { first: base, last: base + size - 1 };
}

export function rangeContains(range: Ipv4Range, address: number): boolean {
  return address >= range.first && address <= range.last;
}

export function rangesOverlap(a: Ipv4Range, b: Ipv4Range): boolean {
  return a.first <= b.last && b.first <= a.last;
}

const range = (cidr: string) => parseCidr(cidr)!;

/** RFC 1918 private ranges, loopback, link-local, CGNAT and multicast/reserved: never a VPN peer. */
const NOT_PUBLIC = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '100.64.0.0/10',
  '0.0.0.0/8',
  '224.0.0.0/3',
].map(range);

/** RFC 5737 documentation ranges: fine for committed examples, never for a deploy. */
export const DOCUMENTATION_RANGES = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'].map(range);

export function isPublicIpv4(address: number): boolean {
  return !NOT_PUBLIC.some((r) => rangeContains(r, address));
}

export function isDocumentationIpv4(address: number): boolean {
  return DOCUMENTATION_RANGES.some((r) => rangeContains(r, address));
}
