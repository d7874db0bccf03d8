import { BlockList, isIP } from 'node:net';

/** Checks a CIDR like `3.18.12.63/32` or `2600:1f18::/32`; returns a problem or undefined. */
export function cidrProblem(cidr: string): string | undefined {
  const [address, prefix, ...rest] = cidr.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return `${cidr} is not an IP address or CIDR`;
  if (prefix === undefined) return undefined;
  const bits = Number(prefix);
  if (!/^\d{1,3}$/.test(prefix) || bits > (family === 4 ? 32 : 128)) return `${cidr} has an invalid prefix length`;
  return undefined;
}

/** Whether a remote address is inside one of the CIDRs (validated by the config schema). */
export function createAllowlist(cidrs: string[]): (remoteAddress: string) => boolean {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, prefix] = cidr.split('/');
    const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    list.addSubnet(address, prefix === undefined ? (type === 'ipv4' ? 32 : 128) : Number(prefix), type);
  }
  return (remoteAddress) => {
    // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d.
    const address = remoteAddress.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
    const type = isIP(address) === 4 ? 'ipv4' : isIP(address) === 6 ? 'ipv6' : undefined;
    return type !== undefined && list.check(address, type);
  };
}
