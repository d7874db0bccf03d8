import { BlockList, isIP } from 'node:net';

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
