/**
 * Rendered files of one target (a host, a fabric router, a node pool) on both
 * sides, compared file by file. Secrets are masked identically on both sides
 * before anything is compared, so a diff never holds a bootstrap token, a
 * certificate key or a CA hash, and changing only a secret shows nothing.
 */
import type { FileEntry } from '../render/files.js';
import type { Secrets } from '../render/secrets.js';
import { unifiedDiff } from './unified.js';
import { MAX_DIFF_LINES, type FileDiff } from './types.js';

/**
 * Fixed stand-in secrets both sides of a git diff render with. They are
 * masked like real ones, so they never show either.
 */
export const DIFF_SECRETS: Secrets = {
  bootstrapToken: 'abcdef.0123456789abcdef',
  certificateKey: '0123456789abcdef'.repeat(4),
  caCertHashes: [`sha256:${'0'.repeat(62)}aa`],
};

/**
 * What a secret looks like in a rendered file: a bootstrap token
 * ([a-z0-9]{6}.[a-z0-9]{16}), a CA hash (sha256:<64 hex>) and a certificate
 * key (64 hex). Any text of these forms is masked, whatever file it is in.
 */
const MASKS: ReadonlyArray<[RegExp, string]> = [
  [/(?<![A-Za-z0-9.])[a-z0-9]{6}\.[a-z0-9]{16}(?![A-Za-z0-9.])/g, '<bootstrap-token>'],
  [/sha256:[0-9a-fA-F]{64}(?![0-9a-fA-F])/g, 'sha256:<ca-cert-hash>'],
  [/(?<![0-9a-fA-F])[0-9a-f]{64}(?![0-9a-fA-F])/g, '<certificate-key>'],
];

export function maskSecrets(text: string): string {
  let out = text;
  for (const [re, mask] of MASKS) out = out.replace(re, mask);
  return out;
}

export function modeText(mode: number): string {
  return `0${(mode & 0o7777).toString(8)}`;
}

function cut(lines: string[]): { diff: string; cut: number } {
  if (lines.length <= MAX_DIFF_LINES) return { diff: lines.join('\n'), cut: 0 };
  return { diff: lines.slice(0, MAX_DIFF_LINES).join('\n'), cut: lines.length - MAX_DIFF_LINES };
}

function lineCount(text: string): number {
  if (text === '') return 0;
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return text.endsWith('\n') ? n : n + 1;
}

/** A whole file shown as added or removed: its first lines, marked, secrets masked. */
function wholeFile(text: string, mark: '+' | '-'): { diff: string; cut: number; lines: number } {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const shown = lines.slice(0, MAX_DIFF_LINES).map((l) => mark + maskSecrets(l));
  return { diff: shown.join('\n'), cut: lines.length - shown.length, lines: lines.length };
}

/**
 * Compare two sets of files (paths relative to the target's root), secrets
 * masked; a file only one side has is shown whole (its first lines).
 */
export function compareFiles(base: readonly FileEntry[], head: readonly FileEntry[], context: number): FileDiff[] {
  const b = new Map(base.map((f) => [f.path, f]));
  const h = new Map(head.map((f) => [f.path, f]));
  const paths = [...new Set([...b.keys(), ...h.keys()])].sort();
  const out: FileDiff[] = [];
  for (const path of paths) {
    const o = b.get(path);
    const n = h.get(path);
    if (o && n) {
      const modeChanged = (o.mode & 0o7777) !== (n.mode & 0o7777);
      // Lines are compared and shown masked (a secret never spans lines), so a change of a secret alone is no change.
      const u = o.content === n.content ? { lines: [], removed: 0, added: 0 } : unifiedDiff(o.content, n.content, context, maskSecrets);
      if (u.removed + u.added === 0 && !modeChanged) continue;
      out.push({
        path,
        status: 'changed',
        ...(modeChanged ? { oldMode: modeText(o.mode), newMode: modeText(n.mode) } : {}),
        removed: u.removed,
        added: u.added,
        ...cut(u.lines),
      });
    } else if (n) {
      const w = wholeFile(n.content, '+');
      out.push({ path, status: 'added', newMode: modeText(n.mode), removed: 0, added: w.lines, diff: w.diff, cut: w.cut });
    } else if (o) {
      const w = wholeFile(o.content, '-');
      out.push({ path, status: 'removed', oldMode: modeText(o.mode), removed: lineCount(o.content), added: 0, diff: w.diff, cut: w.cut });
    }
  }
  return out;
}

/** Files under `prefix` with it removed from their paths. */
export function under(files: Iterable<FileEntry>, prefix: string): FileEntry[] {
  const out: FileEntry[] = [];
  for (const f of files) if (f.path.startsWith(prefix)) out.push({ ...f, path: f.path.slice(prefix.length) });
  return out;
}
