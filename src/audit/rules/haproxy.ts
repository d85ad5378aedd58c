/**
 * haproxy: `bind *:80`, `bind :80` and `bind 0.0.0.0:80` listen on IPv4 only
 * (haproxy's configuration manual, "bind": "If unset, all IPv4 addresses of
 * the system will be listened on. The same will apply for '*' or ... 0.0.0.0.
 * The IPv6 equivalent is '::'"). A frontend or listen section is reported for
 * each IPv4 port with no IPv6 bind on the same port.
 */
import { classifyToken } from '../ipv4.js';
import { codeLines } from './words.js';
import { quote, type TextHit } from './text-hit.js';

const SECTION_RE = /^(global|defaults|frontend|backend|listen|peers|resolvers|userlist|program|mailers|cache|ring|http-errors)\b/;

export function looksLikeHaproxy(text: string): boolean {
  return /^(frontend|listen|backend)\s+\S/m.test(text) && /^\s+bind\s/m.test(text);
}

type BindFamily = 'ipv4' | 'ipv6' | 'other';

function bindOf(addr: string): { family: BindFamily; port: string } {
  let a = addr;
  let forced: BindFamily | undefined;
  if (a.startsWith('ipv4@')) [a, forced] = [a.slice(5), 'ipv4'];
  else if (a.startsWith('ipv6@')) [a, forced] = [a.slice(5), 'ipv6'];
  else if (/^[a-z0-9]+@/.test(a) || a.startsWith('/')) return { family: 'other', port: '' };
  const colon = a.lastIndexOf(':');
  if (colon < 0) return { family: 'other', port: '' };
  const host = a.slice(0, colon);
  const port = a.slice(colon + 1);
  if (forced) return { family: forced, port };
  if (host === '' || host === '*') return { family: 'ipv4', port };
  if (host.includes(':') || host.startsWith('[')) return { family: 'ipv6', port };
  const t = classifyToken(host);
  if (t && (t.form === 'wildcard' || t.form === 'address')) return { family: 'ipv4', port };
  return { family: 'other', port };
}

export function haproxyHits(text: string): TextHit[] {
  if (!looksLikeHaproxy(text)) return [];
  const hits: TextHit[] = [];
  let section: Array<{ line: number; text: string; family: BindFamily; port: string }> = [];
  const flush = (): void => {
    const v6 = new Set(section.filter((b) => b.family === 'ipv6').map((b) => b.port));
    const seen = new Set<string>();
    for (const b of section) {
      if (b.family !== 'ipv4' || v6.has(b.port) || seen.has(b.port)) continue;
      seen.add(b.port);
      hits.push({
        code: 'HAPROXY_BIND_IPV4_ONLY',
        line: b.line,
        said: `haproxy ${quote(b.text)} listens on IPv4 only and the section has no IPv6 bind on port ${b.port}`,
        quiet: 'haproxy bind listens on IPv4 only and the section has no IPv6 bind on that port',
        fix: `bind ${quote(`:::${b.port}`)} instead (add "v4v6" to keep IPv4 clients)`,
      });
    }
    section = [];
  };
  for (const { line, text: l } of codeLines(text)) {
    if (SECTION_RE.test(l)) {
      flush();
      continue;
    }
    const m = /^\s+bind\s+(\S+)/.exec(l);
    if (!m) continue;
    for (const addr of m[1].split(',')) section.push({ line, text: l.trim(), ...bindOf(addr) });
  }
  flush();
  return hits;
}
