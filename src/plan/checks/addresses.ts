/**
 * The first checks: IPv4 literals anywhere in the cluster section, then every
 * address and prefix parsed (syntax, reserved ranges, DNS servers).
 */
import {
  forbiddenRangeOfAddress,
  forbiddenRangeOfPrefix,
  formatAddress,
  formatPrefix,
  isIPv4Literal,
  IpError,
  parseAddress,
  parsePrefix,
} from '../../core/ip.js';
import type { LoadedStack } from '../../spec/load.js';
import type { AddressParsers, ParsedNetwork, Reporter } from './context.js';

/** Any IPv4 literal anywhere in the cluster section; returns the paths reported. */
export function checkIPv4Literals(stack: LoadedStack, r: Reporter): Set<string> {
  const paths = new Set<string>();
  walkStrings(stack.raw, '', (value, path) => {
    if (isIPv4Literal(value)) {
      r.add('IPV4_LITERAL', path, `IPv4 literal "${value}" in an IPv6-only stack`, 'use an IPv6 address or prefix (documentation range: 2001:db8::/32)');
      paths.add(path);
    }
  });
  return paths;
}

/** Prefix and address parsers that report syntax errors and reserved ranges. */
export function addressParsers(r: Reporter, ipv4Paths: ReadonlySet<string>): AddressParsers {
  return {
    isIPv4: (path) => ipv4Paths.has(path),
    prefix: (path, text, what) => {
      if (ipv4Paths.has(path)) return undefined;
      try {
        const p = parsePrefix(text);
        const bad = forbiddenRangeOfPrefix(p);
        if (bad) {
          r.add('RESERVED_RANGE', path, `${what} ${formatPrefix(p)} overlaps ${bad.name} (${formatPrefix(bad.prefix)})`, 'use a global unicast prefix (2000::/3) or a unique local one (fd00::/8)');
          return undefined;
        }
        return p;
      } catch (e) {
        r.add('ADDRESS_SYNTAX', path, `${what}: ${(e as IpError).message}`, 'write an IPv6 prefix as address/length, e.g. 2001:db8:42::/48');
        return undefined;
      }
    },
    address: (path, text, what) => {
      if (ipv4Paths.has(path)) return undefined;
      try {
        const a = parseAddress(text);
        const bad = forbiddenRangeOfAddress(a);
        if (bad) {
          r.add('RESERVED_RANGE', path, `${what} ${formatAddress(a)} is in ${bad.name} (${formatPrefix(bad.prefix)})`, 'use a global unicast (2000::/3) or unique local (fd00::/8) address');
          return undefined;
        }
        return a;
      } catch (e) {
        r.add('ADDRESS_SYNTAX', path, `${what}: ${(e as IpError).message}`, 'write a bare IPv6 address, e.g. 2001:db8:1::100');
        return undefined;
      }
    },
  };
}

/** The node, pod and service ranges, the API VIP and the DNS servers. */
export function parseNetwork(stack: LoadedStack, r: Reporter, p: AddressParsers): ParsedNetwork {
  const { network, controlPlane } = stack.spec;
  const nodeRange = p.prefix('network.nodes', network.nodes, 'node range');
  const podRange = p.prefix('network.pods', network.pods, 'pod range');
  const serviceRange = p.prefix('network.services', network.services, 'service range');
  const rackRange = network.racks === undefined ? undefined : p.prefix('network.racks', network.racks, 'rack range');
  const vip = p.address('controlPlane.vip', controlPlane.vip, 'API VIP');
  const dns = parseDnsServers(network.dns, r, p);
  return {
    nodeRange,
    podRange,
    serviceRange,
    vip,
    dns,
    rackRange,
    // With the rack layout the node and pod ranges both contain the rack range, so they overlap by design.
    ranges:
      network.racks === undefined
        ? [
            ['network.nodes', 'node range', nodeRange],
            ['network.pods', 'pod range', podRange],
            ['network.services', 'service range', serviceRange],
          ]
        : [
            ['network.racks', 'rack range', rackRange],
            ['network.services', 'service range', serviceRange],
          ],
  };
}

function parseDnsServers(servers: readonly string[], r: Reporter, p: AddressParsers): bigint[] {
  const dns: bigint[] = [];
  servers.forEach((text, i) => {
    const path = `network.dns.${i}`;
    if (p.isIPv4(path)) {
      // Re-code the IPv4 literal as a DNS problem too: it is the more specific fix.
      r.add('DNS_NOT_IPV6', path, `DNS server "${text}" is IPv4; IPv6-only hosts cannot reach it`, 'use an IPv6 resolver, e.g. 2001:4860:4860::8888 or your site resolver (NAT64/DNS64 if upstream is IPv4-only)');
      return;
    }
    let a: bigint;
    try {
      a = parseAddress(text);
    } catch {
      r.add('DNS_NOT_IPV6', path, `DNS server "${text}" is not an IPv6 address`, 'list resolvers by IPv6 address, e.g. 2606:4700:4700::1111 (names need a resolver to resolve them)');
      return;
    }
    const bad = forbiddenRangeOfAddress(a);
    if (bad) {
      r.add('RESERVED_RANGE', path, `DNS server ${formatAddress(a)} is in ${bad.name}`, 'use a routable IPv6 resolver address');
      return;
    }
    dns.push(a);
  });
  return dns;
}

function walkStrings(v: unknown, path: string, fn: (value: string, path: string) => void): void {
  if (typeof v === 'string') fn(v, path);
  else if (Array.isArray(v)) v.forEach((x, i) => { walkStrings(x, path ? `${path}.${i}` : String(i), fn); });
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walkStrings(x, path ? `${path}.${k}` : k, fn);
}
