/**
 * Address lists (an allow-list, trusted proxies): IPv4 and IPv6 addresses and CIDRs, checked with
 * Node's BlockList; an IPv4 address seen as IPv4-mapped IPv6 (`::ffff:10.0.0.1`) matches its
 * IPv4 entry.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { VoicebotError } from './errors.js';

/** A BlockList of `entries` (`1.2.3.4`, `10.0.0.0/8`, `::1`, `fd00::/8`); throws CONFIG_INVALID. */
export function addressList(entries: readonly string[], name: string): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const type = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
    const prefix = bits === undefined ? undefined : Number(bits);
    const max = type === 'ipv4' ? 32 : 128;
    if (
      !type ||
      (prefix !== undefined && !(Number.isInteger(prefix) && prefix >= 0 && prefix <= max))
    ) {
      throw new VoicebotError('CONFIG_INVALID', `${name}: "${entry}" is not an address or CIDR`);
    }
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, prefix, type);
  }
  return list;
}

/** True when `ip` (v4, v6, or v4-mapped v6) is in `list`. */
export function listed(list: BlockList, ip: string): boolean {
  if (isIPv4(ip)) return list.check(ip, 'ipv4');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  if (mapped) return list.check(mapped, 'ipv4') || list.check(ip, 'ipv6');
  return isIPv6(ip) && list.check(ip, 'ipv6');
}
