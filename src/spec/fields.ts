/**
 * Field kinds shared by every stack section. Each string kind carries a
 * pattern, so no free text reaches a rendered file unchecked (docs/stack.md,
 * "Strings that reach rendered files").
 */
import { z } from 'zod';

/** A DNS label (RFC 1123): lower-case letters, digits and "-", at most 63 characters. */
export const DNS_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A DNS-1123 subdomain: dot-separated DNS labels, at most 253 characters. */
export const DNS_SUBDOMAIN = /^(?=.{1,253}$)(?!.*[^.]{64})[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A Linux interface name: 1-15 characters, no "/", ":" or white space, and neither "." nor "..". */
export const INTERFACE_NAME = /^(?!\.\.?$)[A-Za-z0-9_.-]{1,15}$/;
/** A MAC address, colon-separated. */
export const MAC = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/;

/** The largest count or index any field takes: 2^24. Positions (rack x slots) then stay exact in a double. */
export const MAX_COUNT = 2 ** 24;

export function pattern(re: RegExp, what: string): z.ZodString {
  return z.string().regex(re, `is not ${what}`);
}

/**
 * Addresses and prefixes are strings here; the checks parse every one
 * (ADDRESS_SYNTAX, IPV4_LITERAL, RESERVED_RANGE) and renderers write only the
 * parsed value in RFC 5952 form, so their text never reaches a file.
 */
export const ipv6Address = (description: string) => z.string().max(100).describe(description);

export const ipv6Prefix = (description: string) => z.string().max(104).describe(description);

export const dnsLabel = (description: string, max = 63) =>
  z
    .string()
    .regex(new RegExp(`^(?=.{1,${max}}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$`), `is not a DNS label of at most ${max} characters (lower-case letters, digits and "-", starting and ending with a letter or digit)`)
    .describe(description);

export const interfaceName = (description: string) =>
  z.string().regex(INTERFACE_NAME, 'is not a Linux interface name (1-15 of letters, digits, "_", "-" and "."; not "." or "..")').describe(description);

/** An integer with bounds (never beyond MAX_COUNT unless said). */
export const int = (min: number, max: number = MAX_COUNT) => z.int().min(min).max(max);
