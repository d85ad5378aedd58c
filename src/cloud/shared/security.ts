/**
 * Security-rule facts both clouds use: the ICMPv6 errors every node must
 * receive from anywhere, and stable resource keys for prefixes.
 */
import { formatPrefix, parsePrefix } from '../../core/ip.js';

/**
 * ICMPv6 errors that must reach a node from anywhere (RFC 4890 4.3.1):
 * destination unreachable, packet too big (path MTU discovery), time exceeded,
 * parameter problem. Without "packet too big", large responses stall.
 */
export const ICMPV6_ERRORS: ReadonlyArray<{ type: number; name: string }> = [
  { type: 1, name: 'destination-unreachable' },
  { type: 2, name: 'packet-too-big' },
  { type: 3, name: 'time-exceeded' },
  { type: 4, name: 'parameter-problem' },
];

/** A resource-name key for a prefix: its canonical text with ":" -> "-" and "/" -> "_" (stable when the list is reordered). */
export function prefixKey(prefix: string): string {
  return formatPrefix(parsePrefix(prefix)).replace(/:/g, '-').replace('/', '_');
}

