/**
 * CoreDNS: `forward . 8.8.8.8` (and the old `proxy` plugin) sends queries to
 * an IPv4 resolver an IPv6-only pod cannot reach. Blocker when every upstream
 * of the directive is IPv4; warning when an IPv6 upstream (or a resolv.conf
 * path) remains, because CoreDNS then fails over to it after the IPv4 one fails.
 */
import { classifyToken, hostFamilyOf } from '../ipv4.js';
import { codeLines } from './words.js';
import { quote, type TextHit } from './text-hit.js';

export function looksLikeCorefile(key: string, text: string): boolean {
  if (/corefile/i.test(key)) return true;
  return /^\s*(forward|proxy)\s+\S+\s+\S/m.test(text) && /^\s*[^\s#]*(:\d+)?\s*\{\s*$/m.test(text);
}

export function corefileHits(key: string, text: string): TextHit[] {
  if (!looksLikeCorefile(key, text)) return [];
  const hits: TextHit[] = [];
  for (const { line, text: l } of codeLines(text)) {
    const m = /^\s*(forward|proxy)\s+(\S+)\s+(.*)$/.exec(l);
    if (!m) continue;
    const upstreams = m[3].replace(/\{.*$/, '').trim().split(/\s+/).filter(Boolean);
    const v4: string[] = [];
    let other = 0;
    for (const u of upstreams) {
      const t = classifyToken(u);
      if (t && (t.form === 'address' || t.form === 'wildcard')) v4.push(u);
      else if (u.startsWith('/') || hostFamilyOf(u.replace(/^[a-z]+:\/\//, ''))?.family === 6 || (t && t.form === 'loopback')) other++;
    }
    if (v4.length === 0) continue;
    const all = other === 0;
    hits.push({
      code: 'COREDNS_FORWARD_IPV4',
      line,
      severity: all ? 'blocker' : 'warning',
      said: all
        ? `CoreDNS ${m[1]} to IPv4 resolver(s) ${v4.map((u) => quote(u)).join(', ')} only: an IPv6-only cluster cannot reach them, so names outside the cluster do not resolve`
        : `CoreDNS ${m[1]} lists IPv4 resolver(s) ${v4.map((u) => quote(u)).join(', ')}: unreachable, queries fail over to the IPv6 upstream after an error`,
      quiet: all
        ? `CoreDNS ${m[1]} to IPv4 resolvers only: an IPv6-only cluster cannot reach them`
        : `CoreDNS ${m[1]} lists IPv4 resolvers next to IPv6 ones: the IPv4 ones are unreachable`,
    });
  }
  return hits;
}
