/**
 * Line diff (Myers' O(ND) algorithm after trimming the common head and tail)
 * and its unified form with N lines of context. A rendered spine file has
 * 160,000 lines at 16,384 racks; a rack added changes a few of them, so the
 * trimmed middle is small. When the middle differs too much for an exact edit
 * script within MAX_EDITS, it is compared line by line when both sides have as
 * many lines (a value changed on every line), else shown as one replacement:
 * still a correct diff, only less minimal.
 */

/** Edit distance past which the middle is shown as removed-then-added. */
export const MAX_EDITS = 2000;

export type Op = { kind: ' ' | '-' | '+'; line: string };

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Shortest edit script of a -> b (Myers, forward). The trace keeps, per step d,
 * only the 2d + 1 diagonals that step can reach, so memory is O(D^2) ints.
 */
function myers(a: readonly number[], b: readonly number[]): Array<' ' | '-' | '+'> | undefined {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, MAX_EDITS);
  const offset = max + 1;
  const trace: Int32Array[] = [];
  const v = new Int32Array(2 * max + 3);
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    // V as it was before this step, diagonals -d-1 .. d+1 (what this step reads).
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
  }
  if (found < 0) return undefined;
  const ops: Array<' ' | '-' | '+'> = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const before = trace[d]; // index i holds diagonal i - d - 1
    const at = (k: number): number => before[k + d + 1];
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const pk = down ? k + 1 : k - 1;
    const px = at(pk);
    const py = px - pk;
    // The move goes from (px, py) to (mx, my); a diagonal of equal lines follows it.
    const mx = down ? px : px + 1;
    const my = down ? py + 1 : py;
    while (x > mx && y > my) {
      ops.push(' ');
      x--;
      y--;
    }
    ops.push(down ? '+' : '-');
    x = px;
    y = py;
  }
  while (x > 0) {
    ops.push(' ');
    x--;
  }
  return ops.reverse();
}

/**
 * The edit script of two texts, line by line. `view` maps each line to what is
 * compared and shown (e.g. with secrets masked); it must keep equal lines
 * equal. Only lines past the common head and tail go through it here, so its
 * cost follows the change, not the file.
 */
export function diffLines(oldText: string, newText: string, view?: (line: string) => string): Op[] {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  let am = a.slice(head, a.length - tail);
  let bm = b.slice(head, b.length - tail);
  if (view) {
    am = am.map(view);
    bm = bm.map(view);
  }
  const ops: Op[] = [];
  for (let i = 0; i < head; i++) ops.push({ kind: ' ', line: a[i] });
  // Lines as small integers: equal lines, equal ids.
  const ids = new Map<string, number>();
  const id = (s: string): number => {
    let x = ids.get(s);
    if (x === undefined) ids.set(s, (x = ids.size));
    return x;
  };
  const script = am.length && bm.length ? myers(am.map(id), bm.map(id)) : undefined;
  if (script) {
    let i = 0;
    let j = 0;
    for (const k of script) {
      if (k === ' ') {
        ops.push({ kind: ' ', line: am[i++] });
        j++;
      } else if (k === '-') ops.push({ kind: '-', line: am[i++] });
      else ops.push({ kind: '+', line: bm[j++] });
    }
  } else if (am.length === bm.length) {
    for (let i = 0; i < am.length; i++) {
      if (am[i] === bm[i]) ops.push({ kind: ' ', line: am[i] });
      else ops.push({ kind: '-', line: am[i] }, { kind: '+', line: bm[i] });
    }
  } else {
    for (const line of am) ops.push({ kind: '-', line });
    for (const line of bm) ops.push({ kind: '+', line });
  }
  for (let i = a.length - tail; i < a.length; i++) ops.push({ kind: ' ', line: a[i] });
  return ops;
}

export interface Unified {
  /** the hunks, each starting with its @@ line; no file header */
  lines: string[];
  removed: number;
  added: number;
}

/** Unified diff hunks with `context` lines around each change; `view` as for diffLines (applied to every line shown). */
export function unifiedDiff(oldText: string, newText: string, context = 3, view?: (line: string) => string): Unified {
  const ops = diffLines(oldText, newText, view);
  const lines: string[] = [];
  let removed = 0;
  let added = 0;
  // Positions of changes; hunks join when their context would touch.
  const changes: number[] = [];
  ops.forEach((o, i) => {
    if (o.kind !== ' ') changes.push(i);
  });
  let ci = 0;
  // Line numbers before each op.
  const oldNo: number[] = [];
  const newNo: number[] = [];
  let on = 1;
  let nn = 1;
  for (const o of ops) {
    oldNo.push(on);
    newNo.push(nn);
    if (o.kind !== '+') on++;
    if (o.kind !== '-') nn++;
  }
  while (ci < changes.length) {
    const start = Math.max(0, changes[ci] - context);
    let end = changes[ci];
    while (ci < changes.length && changes[ci] <= end + 2 * context + 1) {
      end = changes[ci]!;
      ci++;
    }
    const stop = Math.min(ops.length - 1, end + context);
    let oc = 0;
    let nc = 0;
    const body: string[] = [];
    for (let i = start; i <= stop; i++) {
      const o = ops[i];
      body.push(o.kind + (view && o.kind === ' ' ? view(o.line) : o.line));
      if (o.kind !== '+') oc++;
      if (o.kind !== '-') nc++;
      if (o.kind === '-') removed++;
      if (o.kind === '+') added++;
    }
    const os = oc === 0 ? oldNo[start] - 1 : oldNo[start];
    const ns = nc === 0 ? newNo[start] - 1 : newNo[start];
    lines.push(`@@ -${os}${oc === 1 ? '' : `,${oc}`} +${ns}${nc === 1 ? '' : `,${nc}`} @@`, ...body);
  }
  return { lines, removed, added };
}
