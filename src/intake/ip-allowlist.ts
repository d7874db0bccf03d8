import { BlockList, isIP } from 'node:net';
import { normalizeAddress } from './client-address';

/** Whether a remote address is inside one of the CIDRs (validated by the config schema). */
export function createAllowlist(cidrs: string[]): (remoteAddress: string) => boolean {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, prefix] = cidr.split('/');
    const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    list.addSubnet(address, prefix === undefined ? (type === 'ipv4' ? 32 : 128) : Number(prefix), type);
  }
  return (remoteAddress) => {
    const address = normalizeAddress(remoteAddress);
    return address !== undefined && list.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
  };
}
