/**
 * The line of a field in the text of one JSON value, found by a single scan
 * that tracks the path of every value (no parse tree): cheap enough to run for
 * every object with a finding in a 100,000-object dump.
 */
import type { PathPart } from '../types.js';

interface Frame {
  array: boolean;
  /** current key (objects) or index (arrays) */
  at: PathPart | undefined;
  expectKey: boolean;
}

/** 1-based line (within `text`) where the value at `path` starts, or of its deepest ancestor found. */
export function jsonLineOf(text: string, path: readonly PathPart[]): number {
  const stack: Frame[] = [];
  let line = 1;
  let best = 1;
  let bestDepth = -1;
  /** does the path of the value about to start match `path` so far? */
  const matched = (): number => {
    let d = 0;
    for (; d < stack.length && d < path.length; d++) if (stack[d].at !== path[d]) break;
    return d;
  };
  const valueStarts = (): boolean => {
    const d = matched();
    if (d === stack.length && d > bestDepth) {
      best = line;
      bestDepth = d;
      if (d === path.length) return true;
    }
    return false;
  };
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) {
      line++;
      continue;
    }
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x3a) continue;
    const top = stack.at(-1);
    if (c === 0x2c) {
      if (top) {
        if (top.array) top.at = (top.at as number) + 1;
        else top.expectKey = true;
      }
      continue;
    }
    if (c === 0x7d || c === 0x5d) {
      stack.pop();
      continue;
    }
    if (c === 0x22 && top && !top.array && top.expectKey) {
      // a key: read it, then the value follows
      let j = i + 1;
      let key = '';
      while (j < n && text.charCodeAt(j) !== 0x22) {
        if (text.charCodeAt(j) === 0x5c) {
          j++;
          key += JSON.parse(`"\\${text[j] === 'u' ? text.slice(j, j + 5) : text[j]}"`) as string;
          if (text[j] === 'u') j += 4;
        } else key += text[j];
        j++;
      }
      top.at = key;
      top.expectKey = false;
      i = j;
      continue;
    }
    // a value starts here
    if (valueStarts()) return best;
    if (c === 0x7b || c === 0x5b) {
      stack.push({ array: c === 0x5b, at: c === 0x5b ? 0 : undefined, expectKey: c === 0x7b });
      continue;
    }
    if (c === 0x22) {
      let j = i + 1;
      while (j < n && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      i = j;
      continue;
    }
    // number, true, false, null
    while (i + 1 < n && !/[\s,\]}]/.test(text[i + 1])) i++;
  }
  return best;
}
