/** IP addresses as numbers, for the `cidr` operator of event patterns. */

/** IPv4 dotted quad or IPv6 (with `::` compression and an optional trailing IPv4) as a bigint. */
export function parseIp(text: string): { bits: 32 | 128; value: bigint } | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { bits: 32, value: v4 };
  if (!text.includes(':')) return undefined;
  let groups: string[];
  let tail: bigint | undefined;
  let head = text;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail = parseIpv4(text.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    head = text.slice(0, lastColon + 1) + (text[lastColon - 1] === ':' ? '' : '0');
  }
  const doubles = head.split('::');
  if (doubles.length > 2) return undefined;
  const wanted = tail === undefined ? 8 : 7;
  if (doubles.length === 2) {
    const left = doubles[0] ? doubles[0].split(':') : [];
    const right = doubles[1] ? doubles[1].split(':') : [];
    const missing = wanted - left.length - right.length;
    if (missing < 1) return undefined;
    groups = [...left, ...Array<string>(missing).fill('0'), ...right];
  } else {
    groups = head.split(':');
  }
  if (tail !== undefined) groups = groups.slice(0, 6);
  if (groups.length !== (tail === undefined ? 8 : 6)) return undefined;
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }
  if (tail !== undefined) value = (value << 32n) | tail;
  return { bits: 128, value };
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}
