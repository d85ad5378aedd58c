/**
 * nginx: a `listen` without an address (`listen 80;`), with `*` or 0.0.0.0 or
 * an IPv4 address binds IPv4 only. A server block is reported when one of its
 * IPv4 ports has no IPv6 `listen` on the same port, or when it has no `listen`
 * at all (nginx then listens on *:80, IPv4 only).
 */
import { classifyToken } from '../ipv4.js';
import { quote, type TextHit } from './text-hit.js';

interface Token {
  text: string;
  line: number;
}

/** nginx's lexer, reduced: words (quotes removed), ';', '{', '}', comments to the end of the line. */
function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') i++;
    else if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === ';' || c === '{' || c === '}') {
      out.push({ text: c, line });
      i++;
    } else if (c === '"' || c === "'") {
      const start = line;
      let j = i + 1;
      let s = '';
      while (j < n && text[j] !== c) {
        if (text[j] === '\\' && j + 1 < n) j++;
        if (text[j] === '\n') line++;
        s += text[j];
        j++;
      }
      out.push({ text: s, line: start });
      i = j + 1;
    } else {
      let j = i;
      while (j < n && !/[\s;{}#]/.test(text[j])) j++;
      out.push({ text: text.slice(i, j), line });
      i = j;
    }
  }
  return out;
}

interface Directive {
  name: string;
  args: string[];
  line: number;
  block?: Directive[];
}

/** Directives and blocks; unbalanced braces end the parse where they stand (nginx would refuse the file). */
function parse(tokens: Token[]): Directive[] {
  const root: Directive[] = [];
  const stack: Directive[][] = [root];
  let cur: Token[] = [];
  for (const t of tokens) {
    const top = stack[stack.length - 1];
    if (t.text === ';') {
      if (cur.length) top.push({ name: cur[0].text, args: cur.slice(1).map((x) => x.text), line: cur[0].line });
      cur = [];
    } else if (t.text === '{') {
      const d: Directive = { name: cur[0]?.text ?? '', args: cur.slice(1).map((x) => x.text), line: cur[0]?.line ?? t.line, block: [] };
      top.push(d);
      if (stack.length > 64) break;
      stack.push(d.block!);
      cur = [];
    } else if (t.text === '}') {
      if (stack.length > 1) stack.pop();
      cur = [];
    } else cur.push(t);
  }
  return root;
}

type ListenFamily = 'ipv4' | 'ipv6' | 'local' | 'other';

/** What a listen's first argument binds, and its port (80 when only an address is given). */
function listenOf(arg: string): { family: ListenFamily; port: string } {
  if (arg.startsWith('unix:')) return { family: 'other', port: '' };
  if (arg.startsWith('[')) {
    const m = /^\[([^\]]*)\](?::(\d+))?$/.exec(arg);
    return { family: m ? (m[1] === '::1' ? 'local' : 'ipv6') : 'other', port: m?.[2] ?? '80' };
  }
  if (/^\d{1,5}$/.test(arg)) return { family: 'ipv4', port: arg };
  const star = /^\*(?::(\d{1,5}))?$/.exec(arg);
  if (star) return { family: 'ipv4', port: (star[1] as string | undefined) ?? '80' };
  const t = classifyToken(arg);
  if (t && (t.form === 'wildcard' || t.form === 'address')) return { family: 'ipv4', port: String(t.port ?? 80) };
  if (t && t.form === 'loopback') return { family: 'local', port: String(t.port ?? 80) };
  return { family: 'other', port: '' };
}

const NGINX_HINTS = /^\s*(listen|server_name|location|proxy_pass|root|worker_processes|events|upstream|access_log)\b/m;

/** Does `text` read as nginx configuration? */
export function looksLikeNginx(text: string): boolean {
  return /\bserver\s*\{/.test(text) && NGINX_HINTS.test(text);
}

export function nginxHits(text: string): TextHit[] {
  if (!looksLikeNginx(text)) return [];
  const hits: TextHit[] = [];
  const visit = (ds: Directive[], depth: number): void => {
    for (const d of ds) {
      if (!d.block) continue;
      if (d.name === 'server' && d.args.length === 0) serverBlock(d, hits);
      else if (depth < 8) visit(d.block, depth + 1);
    }
  };
  visit(parse(tokenize(text)), 0);
  return hits;
}

function serverBlock(server: Directive, hits: TextHit[]): void {
  const listens = server.block!.filter((d) => d.name === 'listen' && d.args.length > 0);
  if (listens.length === 0) {
    const nginxish = server.block!.some((d) => ['location', 'server_name', 'root', 'proxy_pass', 'return'].includes(d.name));
    if (nginxish) {
      hits.push({
        code: 'NGINX_LISTEN_IPV4_ONLY',
        line: server.line,
        said: 'nginx server block has no listen directive, so nginx listens on *:80 (IPv4 only)',
        quiet: 'nginx server block has no listen directive, so nginx listens on *:80 (IPv4 only)',
        fix: 'add "listen [::]:80;" to the server block',
      });
    }
    return;
  }
  const v6Ports = new Set(listens.map((d) => listenOf(d.args[0])).filter((l) => l.family === 'ipv6').map((l) => l.port));
  const reported = new Set<string>();
  for (const d of listens) {
    const l = listenOf(d.args[0]);
    if (l.family !== 'ipv4' || v6Ports.has(l.port) || reported.has(l.port)) continue;
    reported.add(l.port);
    const text = `listen ${d.args.join(' ')};`;
    const params = d.args.slice(1).filter((a) => !/^(default_server|default|reuseport|backlog=|rcvbuf=|sndbuf=|bind|deferred|accept_filter=|fastopen=|so_keepalive=|setfib=)/.test(a));
    hits.push({
      code: 'NGINX_LISTEN_IPV4_ONLY',
      line: d.line,
      said: `nginx ${quote(text)} binds IPv4 only and the server block has no IPv6 listen on port ${l.port}`,
      quiet: `nginx listen directive binds IPv4 only and the server block has no IPv6 listen on that port`,
      fix: `add ${quote(`listen [::]:${l.port}${params.length ? ' ' + params.join(' ') : ''};`)} to the server block (or replace the IPv4 listen with it)`,
    });
  }
}
