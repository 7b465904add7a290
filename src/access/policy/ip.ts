// IPv4 and IPv6 addresses and CIDR blocks for IpAddress / NotIpAddress. An IPv4-mapped IPv6
// address (::ffff:192.0.2.1, as dual-stack sockets report IPv4 peers) is its IPv4 address.

export interface Ip {
  v6: boolean;
  value: bigint;
}

export interface Cidr extends Ip {
  bits: number;
}

function parseV4(s: string): bigint | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = (n << 8n) | BigInt(Number(p));
  }
  return n;
}

function parseV6(s: string): bigint | null {
  let text = s;
  // A dotted IPv4 tail (::ffff:192.0.2.1) is the last two groups written another way.
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = parseV4(tail);
    if (v4 === null) return null;
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const group = (g: string) => (/^[0-9a-f]{1,4}$/i.test(g) ? BigInt(parseInt(g, 16)) : null);
  const head = halves[0] ? halves[0].split(":").map(group) : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(":").map(group) : [];
  if (head.includes(null) || rest.includes(null)) return null;
  const given = head.length + rest.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return null;
  const groups = [...(head as bigint[]), ...Array<bigint>(8 - given).fill(0n), ...(rest as bigint[])];
  return groups.reduce((acc, g) => (acc << 16n) | g, 0n);
}

export function parseIp(s: string): Ip | null {
  const t = s.trim().replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (t.includes(":")) {
    const v = parseV6(t);
    if (v === null) return null;
    if (v >> 32n === 0xffffn) return { v6: false, value: v & 0xffffffffn };
    return { v6: true, value: v };
  }
  const v = parseV4(t);
  return v === null ? null : { v6: false, value: v };
}

/** `192.0.2.0/24`, `2001:db8::/32`, or a bare address (a block of one). */
export function parseCidr(s: string): Cidr | null {
  const [addr, len, extra] = s.trim().split("/");
  if (extra !== undefined) return null;
  const t = addr.trim();
  const v6 = t.includes(":");
  const value = v6 ? parseV6(t) : parseV4(t);
  if (value === null) return null;
  const max = v6 ? 128 : 32;
  const bits = len === undefined ? max : /^\d{1,3}$/.test(len) ? Number(len) : -1;
  if (bits < 0 || bits > max) return null;
  if (v6 && value >> 32n === 0xffffn && bits >= 96) return { v6: false, value: value & 0xffffffffn, bits: bits - 96 };
  return { v6, value, bits };
}

export function cidrContains(c: Cidr, ip: Ip): boolean {
  if (c.v6 !== ip.v6) return false;
  const width = c.v6 ? 128n : 32n;
  const shift = width - BigInt(c.bits);
  return c.value >> shift === ip.value >> shift;
}
