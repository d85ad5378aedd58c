/**
 * Prefix arithmetic (src/core/ip.ts): RFC 5952 known answers, a round trip
 * through ip-address, agreement with ip-address (formatting, range predicates)
 * and with Node's own address parser, and properties of subnet carving on bigint.
 */
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Address4, Address6 } from 'ip-address';
import {
  addressAt,
  containsAddress,
  containsPrefix,
  forbiddenRangeOfAddress,
  forbiddenRangeOfPrefix,
  FORBIDDEN_RANGES,
  formatAddress,
  formatIp,
  formatIpPrefix,
  formatPrefix,
  hostPort,
  IpError,
  isIPv4Literal,
  last,
  log2Exact,
  netmask,
  overlaps,
  parseAddress,
  parseIp,
  parseIpPrefix,
  parsePrefix,
  size,
  subnet,
  subnetCount,
  type Prefix,
} from '../src/core/ip.js';

const MAX = (1n << 128n) - 1n;

/** 128-bit values biased towards runs of zero groups, so "::" placement gets exercised. */
const address128 = fc
  .array(fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) }, { weight: 3, arbitrary: fc.integer({ min: 0, max: 0xffff }) }), {
    minLength: 8,
    maxLength: 8,
  })
  .map((groups) => groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n));

const anyPrefix: fc.Arbitrary<Prefix> = fc
  .tuple(address128, fc.integer({ min: 0, max: 128 }))
  .map(([a, len]) => ({ base: a & netmask(len), length: len }));

describe('formatAddress: RFC 5952 known answers', () => {
  it.each([
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // tie between two runs of two: the first is compressed (4.2.3)
    ['2001:0db8::0001', '2001:db8::1'], // leading zeros dropped (4.1)
    ['2001:DB8::AB:CD', '2001:db8::ab:cd'], // lower case (4.3)
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed (4.2.2)
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run wins over an earlier shorter one (4.2.3)
    ['1:0:0:0:1:0:0:0', '1::1:0:0:0'], // tie of three: first
    ['0:0:1:0:0:0:0:0', '0:0:1::'], // longer run at the end
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['fe80:0000:0000:0000:0202:b3ff:fe1e:8329', 'fe80::202:b3ff:fe1e:8329'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    ['2001:db8:1:0:0:0:0:100', '2001:db8:1::100'],
    ['2001:db8:43:0:0:0:0:a', '2001:db8:43::a'],
  ])('%s -> %s', (input, expected) => {
    expect(formatAddress(parseAddress(input))).toBe(expected);
  });

  it('formats prefixes and bracketed host:port', () => {
    expect(formatPrefix(parsePrefix('2001:0DB8:0042:0000::/48'))).toBe('2001:db8:42::/48');
    expect(formatPrefix(parsePrefix('::/0'))).toBe('::/0');
    expect(hostPort(parseAddress('2001:db8:1::100'), 6443)).toBe('[2001:db8:1::100]:6443');
    expect(hostPort('::1', 10249)).toBe('[::1]:10249');
  });

  it('rejects values outside 128 bits', () => {
    expect(() => formatAddress(-1n)).toThrow(IpError);
    expect(() => formatAddress(MAX + 1n)).toThrow(IpError);
  });
});

describe('formatAddress: properties', () => {
  it('round-trips through ip-address and matches its canonical form', () => {
    fc.assert(
      fc.property(address128, (a) => {
        const text = formatAddress(a);
        expect(BigInt(new Address6(text).bigInt().toString())).toBe(a);
        expect(parseAddress(text)).toBe(a);
        expect(text).toBe(Address6.fromBigInt(a).correctForm());
      }),
      { numRuns: 2000 },
    );
  });

  it('matches correctForm() on uniformly random 128-bit values too', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX }), (a) => {
        expect(formatAddress(a)).toBe(Address6.fromBigInt(a).correctForm());
      }),
      { numRuns: 2000 },
    );
  });

  it('parseAddress reads every spelling ip-address accepts: expanded, upper case, leading zeros', () => {
    fc.assert(
      fc.property(address128, fc.boolean(), (a, upper) => {
        const expanded = Address6.fromBigInt(a).canonicalForm();
        expect(parseAddress(upper ? expanded.toUpperCase() : expanded)).toBe(a);
      }),
      { numRuns: 1000 },
    );
  });

  it('is canonical: lower case, no leading zeros, at most one "::" and only for runs of two or more', () => {
    fc.assert(
      fc.property(address128, (a) => {
        const text = formatAddress(a);
        expect(text).toBe(text.toLowerCase());
        expect(text.split('::').length).toBeLessThanOrEqual(2);
        for (const g of text.split(':')) if (g !== '') expect(g).toMatch(/^(0|[1-9a-f][0-9a-f]{0,3})$/);
        if (text.includes('::')) {
          const explicit = text.split(':').filter((g) => g !== '').length;
          expect(8 - explicit).toBeGreaterThanOrEqual(2);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('parseAddress / parsePrefix', () => {
  it.each([
    ['2001:db8::/32', 0x20010db8n << 96n, 32],
    ['2001:db8:42::/48', 0x20010db80042n << 80n, 48],
    ['::/0', 0n, 0],
    ['2001:db8::1/128', (0x20010db8n << 96n) | 1n, 128],
  ])('%s', (text, base, length) => {
    expect(parsePrefix(text)).toEqual({ base, length });
  });

  it.each([
    ['2001:db8::1/64', /host bits set; the network is 2001:db8::\/64/],
    ['2001:db8::', /no prefix length/],
    ['2001:db8::/129', /exceeds 128/],
    ['2001:db8::/x', /invalid prefix length/],
    ['10.0.0.0/8', /IPv4/],
    ['2001:db8::g/64', /not a valid IPv6 address/],
  ])('rejects prefix %s', (text, message) => {
    expect(() => parsePrefix(text)).toThrow(message);
  });

  it('keeps host bits only when asked', () => {
    expect(parsePrefix('2001:db8::1/64', true)).toEqual({ base: 0x20010db8n << 96n, length: 64 });
  });

  it.each([
    ['2001:db8::/64', /is a prefix/],
    ['[2001:db8::1]', /bare IPv6/],
    ['fe80::1%eth0', /bare IPv6/],
    ['192.0.2.1', /IPv4/],
    ['2001:db8::1::2', /not a valid/],
    ['', /not a valid/],
  ])('rejects address %j', (text, message) => {
    expect(() => parseAddress(text)).toThrow(message);
  });

  it('recognises IPv4 literals', () => {
    expect(isIPv4Literal('10.0.0.1')).toBe(true);
    expect(isIPv4Literal(' 192.168.0.0/16 ')).toBe(true);
    expect(isIPv4Literal('2001:db8::1')).toBe(false);
    expect(isIPv4Literal('::ffff:10.0.0.1')).toBe(false);
  });
});

describe('parseIp / parseIpPrefix: either family, as written', () => {
  it.each([
    ['192.0.2.1', 4, 0xc0000201n],
    ['0.0.0.0', 4, 0n],
    ['2001:db8::1', 6, (0x20010db8n << 96n) | 1n],
    ['::ffff:192.0.2.1', 6, 0xffffc0000201n],
    ['1:2:3:4:5:6:1.2.3.4', 6, 0x10002000300040005000601020304n],
  ])('%s', (text, family, value) => {
    expect(parseIp(text)).toEqual({ family, value });
    expect(formatIp(parseIp(text))).toBe(family === 4 ? text : Address6.fromBigInt(value).correctForm());
  });

  it.each([
    ['192.0.2.0/24', /is a prefix/],
    ['[::1]', /bare IP/],
    ['fe80::1%eth0', /bare IP/],
    [' ::1', /not a valid IP/],
    ['::1 ', /not a valid IP/],
    ['010.0.0.1', /not a valid IP/],
    ['256.0.0.1', /not a valid IP/],
    ['1.2.3', /not a valid IP/],
    ['00001::', /not a valid IP/],
    ['', /not a valid IP/],
  ])('rejects %j', (text, message) => {
    expect(() => parseIp(text)).toThrow(message);
  });

  it('prefixes of both families; host bits kept only when asked', () => {
    expect(parseIpPrefix('10.96.0.0/12')).toEqual({ family: 4, base: 0x0a600000n, length: 12 });
    expect(formatIpPrefix(parseIpPrefix('10.96.0.1/12', true))).toBe('10.96.0.0/12');
    expect(formatIpPrefix(parseIpPrefix('2001:DB8:0::/48'))).toBe('2001:db8::/48');
    expect(() => parseIpPrefix('10.96.0.1/12')).toThrow(/host bits set; the network is 10\.96\.0\.0\/12/);
    expect(() => parseIpPrefix('10.0.0.0/33')).toThrow(/exceeds 32/);
    expect(() => parseIpPrefix('2001:db8::/129')).toThrow(/exceeds 128/);
    expect(() => parseIpPrefix('10.0.0.0')).toThrow(/no prefix length/);
    expect(() => parseIpPrefix('10.0.0.0/x')).toThrow(/invalid prefix length/);
  });

  /** Strings over the characters of address literals, so that near-misses are common. */
  const literalish = fc
    .array(fc.constantFrom('0', '1', '2', '5', '9', 'a', 'f', 'F', 'g', ':', ':', ':', '.', '.', '255', '256', '01', 'ffff', '12345', '::'), {
      maxLength: 16,
    })
    .map((parts) => parts.join(''));

  it("accepts exactly what Node's address parser accepts, with the same value", () => {
    const v4 = (s: string) => s.split('.').reduce((acc, o) => (acc << 8n) | BigInt(o), 0n);
    fc.assert(
      fc.property(fc.oneof(literalish, address128.map((a) => formatAddress(a)), fc.ipV4(), fc.ipV6()), (s) => {
        const family = isIP(s);
        let parsed: { family: number; value: bigint } | undefined;
        try {
          parsed = parseIp(s);
        } catch {
          parsed = undefined;
        }
        expect(parsed?.family ?? 0).toBe(family);
        if (family === 4) expect(parsed!.value).toBe(v4(s));
        if (family === 6) expect(parsed!.value).toBe(new Address6(s).bigInt());
      }),
      { numRuns: 5000 },
    );
  });

  it('IPv4 prefixes round-trip through text, and agree with ip-address', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (v, len) => {
        const text = `${Address4.fromBigInt(BigInt(v)).correctForm()}/${len}`;
        const p = parseIpPrefix(text, true);
        expect(p.base).toBe(new Address4(text).startAddress().bigInt());
        expect(parseIpPrefix(formatIpPrefix(p))).toEqual(p);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('special ranges', () => {
  it.each([
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['::ffff:192.0.2.1', 'IPv4-mapped'],
    ['fe80::1', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fec0::1', 'site-local'],
    ['feff::1', 'site-local'],
    ['ff02::1', 'multicast'],
  ])('%s is in the %s range', (text, name) => {
    expect(forbiddenRangeOfAddress(parseAddress(text))?.name).toContain(name);
  });

  it.each(['2001:db8::1', 'fd00::1', '64:ff9b::1', 'fc00::1', '2606:4700:4700::1111', 'fe7f:ffff::1'])('%s is usable', (text) => {
    expect(forbiddenRangeOfAddress(parseAddress(text))).toBeUndefined();
  });

  it("agrees with ip-address's predicates outside the embedded-IPv4 ranges", () => {
    const named = (a: bigint, word: string) => forbiddenRangeOfAddress(a)?.name.includes(word) ?? false;
    const nat64 = parsePrefix('64:ff9b::/96');
    const near = fc.oneof(
      address128,
      ...FORBIDDEN_RANGES.map((r) => fc.bigInt({ min: 0n, max: (1n << BigInt(128 - r.prefix.length)) - 1n }).map((o) => r.prefix.base + o)),
    );
    fc.assert(
      fc.property(near, (a) => {
        const lib = Address6.fromBigInt(a);
        expect(named(a, 'IPv4-mapped')).toBe(lib.isMapped4());
        if (lib.isMapped4() || containsAddress(nat64, a)) return; // the predicates answer for the IPv4 address inside
        expect(named(a, 'unspecified')).toBe(lib.isUnspecified());
        expect(named(a, 'loopback')).toBe(lib.isLoopback());
        expect(named(a, 'link-local')).toBe(lib.isLinkLocal());
        expect(named(a, 'multicast')).toBe(lib.isMulticast());
      }),
      { numRuns: 3000 },
    );
  });

  it('a prefix that merely contains a special range is flagged', () => {
    expect(forbiddenRangeOfPrefix(parsePrefix('fe00::/7'))?.name).toContain('link-local');
    expect(forbiddenRangeOfPrefix(parsePrefix('::/0'))).toBeDefined();
    expect(forbiddenRangeOfPrefix(parsePrefix('2001:db8::/32'))).toBeUndefined();
  });
});

describe('subnet carving: known answers', () => {
  it('carves by index', () => {
    const nodes = parsePrefix('2001:db8:1000::/50');
    expect(formatPrefix(subnet(nodes, 64, 0))).toBe('2001:db8:1000::/64');
    expect(formatPrefix(subnet(nodes, 64, 16383))).toBe('2001:db8:1000:3fff::/64');
    expect(() => subnet(nodes, 64, 16384)).toThrow(/out of range/);
    expect(() => subnet(nodes, 48, 0)).toThrow(/cannot carve/);
    expect(subnetCount(nodes, 64)).toBe(16384n);
    expect(subnetCount(nodes, 48)).toBe(0n);
    const pods = parsePrefix('2001:db8:4000::/44');
    expect(formatPrefix(subnet(subnet(pods, 58, 16383), 64, 63))).toBe('2001:db8:400f:ffff::/64');
    expect(formatAddress(addressAt(parsePrefix('2001:db8:43::/112'), 10))).toBe('2001:db8:43::a');
    expect(() => addressAt(parsePrefix('2001:db8::/127'), 2)).toThrow(/outside/);
  });

  it('log2Exact', () => {
    expect([1, 2, 64, 256].map(log2Exact)).toEqual([0, 1, 6, 8]);
    expect([0, 3, 100, 1.5, -4].map(log2Exact)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });
});

describe('subnet carving: properties', () => {
  const carving = anyPrefix.chain((parent) =>
    fc.integer({ min: parent.length, max: Math.min(128, parent.length + 40) }).chain((len) => {
      const count = subnetCount(parent, len);
      return fc.tuple(fc.constant(parent), fc.constant(len), fc.bigInt({ min: 0n, max: count - 1n }), fc.bigInt({ min: 0n, max: count - 1n }));
    }),
  );

  it('every subnet lies inside its parent, is aligned, and distinct indexes never overlap', () => {
    fc.assert(
      fc.property(carving, ([parent, len, i, j]) => {
        const a = subnet(parent, len, i);
        const b = subnet(parent, len, j);
        expect(containsPrefix(parent, a)).toBe(true);
        expect(a.base & ~netmask(len) & MAX).toBe(0n);
        expect(a.base).toBe(parent.base + i * size(a));
        expect(last(a)).toBeLessThanOrEqual(last(parent));
        expect(overlaps(a, b)).toBe(i === j);
        expect(overlaps(b, a)).toBe(i === j);
      }),
      { numRuns: 2000 },
    );
  });

  it('overlap of prefixes means one contains the other', () => {
    fc.assert(
      fc.property(anyPrefix, anyPrefix, (a, b) => {
        expect(overlaps(a, b)).toBe(containsPrefix(a, b) || containsPrefix(b, a));
        expect(containsAddress(a, a.base)).toBe(true);
        expect(containsAddress(a, last(a))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('parsePrefix(formatPrefix(p)) === p', () => {
    fc.assert(
      fc.property(anyPrefix, (p) => {
        expect(parsePrefix(formatPrefix(p))).toEqual(p);
      }),
      { numRuns: 1000 },
    );
  });
});
