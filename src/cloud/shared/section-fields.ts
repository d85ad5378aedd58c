/**
 * Fields both cloud sections declare alike (flat6:aws, flat6:oci): lists of
 * IPv6 prefixes, worker pool names, tag values. Each section adds its own
 * descriptions; the patterns are one.
 */
import { z } from 'zod';
import { ipv6Prefix } from '../../spec/fields.js';

/** A list of IPv6 prefixes (parsed and checked by the cloud checks). */
export const ipv6PrefixList = (what: string) => z.array(ipv6Prefix('An IPv6 prefix, e.g. 2001:db8:1234::/48.')).max(64).describe(what);

/** A worker pool's name: its resources are named after it. */
export const poolName = z
  .string()
  .regex(/^(?=.{1,40}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'is not a pool name (a lower-case DNS label of at most 40 characters)')
  .describe('Pool name (lower-case DNS label, at most 40 characters); its resources are named after it.');

/** A tag value as both clouds accept it (`kind`: "an AWS tag value", "a freeform tag value"). */
export const tagValue = (kind: string) => z.string().regex(/^[A-Za-z0-9 _.:/=+@-]{0,256}$/, `is not ${kind} (0-256 of letters, digits, spaces and _.:/=+-@)`);
