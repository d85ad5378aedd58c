/**
 * Values a node learns only when it boots on AWS: its host name (resource
 * name), its IPv6 address and its delegated /80. flat6 renders the node's files
 * with stand-ins from a reserved documentation block; the node's boot script
 * (templates/aws/flat6-aws-boot.py) reads the real values (and finds the uplink) from the instance
 * metadata service and rewrites every address inside the block, keeping the
 * offset (so an address derived from the /80, e.g. its first host, stays
 * derived from the real /80).
 */
import { formatAddress, formatPrefix, parseAddress, parsePrefix } from '../../core/ip.js';

/** Reserved block: nothing of a stack may lie in it (checked in config.ts). */
export const SENTINEL_BLOCK = parsePrefix('2001:db8:ffff:fff6::/64');
/** Stands for the node's own IPv6 address. */
export const SENTINEL_ADDRESS = parseAddress('2001:db8:ffff:fff6::6');
/** Stands for the node's delegated /80. */
export const SENTINEL_POD_PREFIX = parsePrefix('2001:db8:ffff:fff6:8000::/80');
/** Stands for the node's host name (i-0123456789abcdef0.<region>.compute.internal). */
export const SENTINEL_HOSTNAME = 'flat6-boot-hostname';
/** Stands for the node's uplink interface (ens5 on most Nitro images). */
export const SENTINEL_INTERFACE = 'flat6-uplink';

/** The JSON the boot script reads to know what to replace. */
export function sentinelSpec(): { block: string; address: string; podPrefix: string; hostname: string; interface: string } {
  return {
    block: formatPrefix(SENTINEL_BLOCK),
    address: formatAddress(SENTINEL_ADDRESS),
    podPrefix: formatPrefix(SENTINEL_POD_PREFIX),
    hostname: SENTINEL_HOSTNAME,
    interface: SENTINEL_INTERFACE,
  };
}
