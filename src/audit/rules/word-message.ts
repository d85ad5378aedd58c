/** The words of a finding made from a setting in text (command lines, environment, configuration files). */
import type { WordHit } from './words.js';

export interface WordMessage {
  /** quoting the setting and the value */
  said: string;
  /** naming neither (for Secrets) */
  quiet: string;
  fix?: string;
}

export function wordMessage(h: WordHit<unknown>): WordMessage {
  const setting = h.name ? JSON.stringify(h.name) : 'a command-line value';
  const t = h.token;
  const value = t ? JSON.stringify(t.port !== undefined ? `${t.address}:${t.port}` : t.address) : '';
  switch (h.code) {
    case 'IPV4_WILDCARD_BIND':
      return {
        said: `${setting} binds the IPv4 wildcard ${value}: it accepts IPv4 connections only, and an IPv6-only cluster sends none`,
        quiet: 'a setting binds the IPv4 wildcard 0.0.0.0: it accepts IPv4 connections only',
        ...(t?.port !== undefined ? { fix: `bind "[::]:${t.port}" instead (every address; on Linux it also accepts IPv4 unless bindv6only is set)` } : {}),
      };
    case 'IPV4_LITERAL_ADDRESS':
      return h.bind
        ? { said: `${setting} binds ${value}, an IPv4 address: a pod or node of an IPv6-only cluster has none`, quiet: 'a setting binds an IPv4 address' }
        : { said: `${setting} points at ${value}, an IPv4 address: an IPv6-only pod cannot reach it (NAT64 translates names through DNS64, not literals)`, quiet: 'a setting points at an IPv4 address an IPv6-only pod cannot reach' };
    case 'IPV4_CIDR':
      return {
        said: `${setting} holds the IPv4 range ${value}: it matches no address of an IPv6-only cluster`,
        quiet: 'a setting holds an IPv4 range, which matches no address of an IPv6-only cluster',
        ...(t?.address === '0.0.0.0/0' ? { fix: 'use ::/0 for "every address"' } : {}),
      };
    case 'JAVA_PREFER_IPV4_STACK':
      return {
        said: 'java.net.preferIPv4Stack=true: the JVM opens IPv4 sockets only, so it can neither listen on nor connect to IPv6',
        quiet: 'java.net.preferIPv4Stack=true: the JVM opens IPv4 sockets only',
      };
  }
}
