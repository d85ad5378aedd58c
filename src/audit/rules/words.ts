/**
 * Settings inside free text: command lines (`args`, `command`), environment
 * variables and configuration files. Each value is judged with the name of the
 * setting it belongs to (`--bind-address=...`, `--host 0.0.0.0`, `HOST=...`,
 * `bind 0.0.0.0`, `listen_addresses = '...'`, `server: 10.0.0.1:80`), so an
 * IPv4-looking version string or an address in prose is not reported.
 */
import { classifyName, classifyToken, type Ipv4Token } from '../ipv4.js';

export type WordContext = 'args' | 'env' | 'text';

export type WordCode = 'IPV4_WILDCARD_BIND' | 'IPV4_LITERAL_ADDRESS' | 'IPV4_CIDR' | 'JAVA_PREFER_IPV4_STACK';

export interface WordHit<R> {
  code: WordCode;
  ref: R;
  /** the setting's name when there is one (`--bind-address`, `HOST`, `listen`) */
  name: string | null;
  /** the IPv4 token (absent for JAVA_PREFER_IPV4_STACK) */
  token?: Ipv4Token;
  /** the setting binds (bind, listen, advertise) rather than connects */
  bind: boolean;
}

export interface Word<R> {
  text: string;
  ref: R;
}

const JAVA_RE = /java\.net\.preferIPv4Stack\s*[=:]\s*["']?true\b/i;
const FLAG_EQ_RE = /^--?([A-Za-z][\w.-]{0,127})=(.*)$/s;
const FLAG_RE = /^--?([A-Za-z][\w.-]{0,127})$/;
const KEY_EQ_RE = /^([A-Za-z_][\w.-]{0,127})=(.*)$/s;

/** Judge the value of one setting (which may list several values, comma-separated). */
export function judge(name: string | null, value: string, ctx: WordContext): Array<Omit<WordHit<never>, 'ref'>> {
  const nc = classifyName(name);
  if (nc.veto) return [];
  const out: Array<Omit<WordHit<never>, 'ref'>> = [];
  for (const part of value.split(',')) {
    const token = classifyToken(part);
    if (!token || token.form === 'loopback') continue;
    const hit = { name, token, bind: nc.bind };
    if (token.form === 'wildcard') {
      // A command line or an environment value of exactly 0.0.0.0 is a bind; in
      // a configuration file the setting's name (or a port) must say so.
      if (ctx !== 'text' || nc.address || token.endpoint) out.push({ code: 'IPV4_WILDCARD_BIND', ...hit, bind: true });
    } else if (token.form === 'cidr') {
      out.push({ code: 'IPV4_CIDR', ...hit });
    } else if (nc.address || token.endpoint) {
      out.push({ code: 'IPV4_LITERAL_ADDRESS', ...hit });
    }
  }
  return out;
}

/**
 * Command-line style words: `--name=value`, `--name value`, `NAME=value`,
 * `bind=0.0.0.0,fork` (socat), bare words (judged under `defaultName`).
 */
export function scanWords<R>(words: Array<Word<R>>, ctx: WordContext, defaultName: string | null = null): Array<WordHit<R>> {
  const hits: Array<WordHit<R>> = [];
  const add = (ref: R, list: Array<Omit<WordHit<never>, 'ref'>>): void => {
    for (const h of list) hits.push({ ...h, ref });
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const text = w.text;
    if (JAVA_RE.test(text)) {
      hits.push({ code: 'JAVA_PREFER_IPV4_STACK', ref: w.ref, name: null, bind: false });
      continue;
    }
    let m = FLAG_EQ_RE.exec(text);
    if (m) {
      add(w.ref, judge(m[1], m[2], ctx));
      continue;
    }
    m = FLAG_RE.exec(text);
    if (m) {
      const next = words.at(i + 1);
      if (next && !next.text.startsWith('-')) {
        add(next.ref, judge(m[1], next.text, ctx));
        i++;
      }
      continue;
    }
    if (text.includes('=')) {
      const parts = text.includes(',') ? text.split(',') : [text];
      for (const p of parts) {
        const kv = KEY_EQ_RE.exec(p);
        if (kv) add(w.ref, judge(kv[1], kv[2], ctx));
        else add(w.ref, judge(defaultName, p, ctx));
      }
      continue;
    }
    add(w.ref, judge(defaultName, text, ctx));
  }
  return hits;
}

/**
 * Split a command-line argument or an environment value into shell-like
 * words. A multi-line value is a script: its comment lines and trailing
 * comments are dropped first.
 */
export function splitWords(text: string): string[] {
  if (text.includes('\n')) text = [...codeLines(text)].map((l) => l.text).join('\n');
  return text.split(/\s+/).filter(Boolean);
}

// ---------------------------------------------------------------------------
// Configuration text
// ---------------------------------------------------------------------------

/** `key: value`, `key = value`, `"key": value`, `- key: value` (YAML, ini, properties, JSON lines) */
const KEY_VALUE_RE = /^\s*(?:-\s+)?["']?([A-Za-z_$@][\w.$@/-]{0,127})["']?\s*(?::(?=\s|$)|=)\s*(.*)$/;
/** `directive arg arg;` (nginx, redis, haproxy, Corefile, resolv.conf) */
const DIRECTIVE_RE = /^\s*([A-Za-z_][\w.-]{0,127})\s+(.+)$/;
/** `- value` in a YAML list */
const LIST_ITEM_RE = /^(\s*)-\s+(.*)$/;
/** `key:` opening a YAML list or map */
const OPEN_KEY_RE = /^(\s*)(?:-\s+)?["']?([A-Za-z_$@][\w.$@/-]{0,127})["']?:\s*$/;
const TEXT_SPLIT_RE = /[\s,;{}()[\]"'`]+/;

/** true for a line that is only a comment in the usual configuration formats */
export function isCommentLine(line: string): boolean {
  return /^\s*(#|;|\/\/|\/\*|\*|<!--|%|!)/.test(line);
}

/** The line without a trailing ` # comment` (a '#' after whitespace, outside quotes). */
export function stripTrailingComment(line: string): string {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && i > 0 && (line[i - 1] === ' ' || line[i - 1] === '\t')) return line.slice(0, i);
  }
  return line;
}

/** Lines of `text`, 1-based, with comment-only lines dropped and trailing comments cut. */
export function* codeLines(text: string): Generator<{ line: number; text: string }> {
  let n = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    n++;
    const raw = text.slice(start, end).replace(/\r$/, '');
    start = end + 1;
    if (!raw.trim() || isCommentLine(raw)) continue;
    yield { line: n, text: stripTrailingComment(raw) };
    if (end === text.length) break;
  }
}

/**
 * Every IPv4 setting in configuration text, with its 1-based line. Lines in
 * `skip` were already reported by a format-specific rule (nginx, haproxy,
 * CoreDNS) and are not reported again.
 */
export function scanText(text: string, skip: ReadonlySet<number> = new Set()): Array<WordHit<number>> {
  const hits: Array<WordHit<number>> = [];
  let open: { indent: number; key: string } | undefined;
  for (const { line, text: l } of codeLines(text)) {
    const indent = l.length - l.trimStart().length;
    if (open && indent <= open.indent && !(indent === open.indent && /^\s*-\s/.test(l))) open = undefined;
    const ok = OPEN_KEY_RE.exec(l);
    if (ok) {
      open = { indent: ok[1].length, key: ok[2] };
      continue;
    }
    if (skip.has(line)) continue;
    let name: string | null = null;
    let value = l;
    const kv = KEY_VALUE_RE.exec(l);
    const item = kv ? undefined : LIST_ITEM_RE.exec(l);
    const dir = kv || item ? undefined : DIRECTIVE_RE.exec(l);
    if (kv) [name, value] = [kv[1], kv[2]];
    else if (item) [name, value] = [open?.key ?? null, item[2]];
    else if (dir) [name, value] = [dir[1], dir[2]];
    const words = value
      .split(TEXT_SPLIT_RE)
      .filter(Boolean)
      .map((t) => ({ text: t, ref: line }));
    hits.push(...scanWords(words, 'text', name));
  }
  return hits;
}
