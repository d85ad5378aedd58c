/**
 * Which directories a stream of file paths needs, each named once: the
 * directory sink makes them, the archive writer emits their entries. Memory
 * stays flat: only the current host's (or router's) directories are kept,
 * plus the top level.
 */
const NONE: string[] = [];

export class DirTracker {
  /** top-level directories (hosts, fabric, racks ...): kept for the whole run */
  private readonly top = new Set<string>();
  /** first two parts of the current group (hosts/<host>) */
  private group = '';
  /** directories made inside the current group */
  private made = new Set<string>();
  private last = '';

  private has(d: string): boolean {
    return d.includes('/') ? this.made.has(d) : this.top.has(d);
  }

  /** directories of `rel`'s parent chain not yet emitted, outermost first */
  missing(rel: string): string[] {
    const cut = rel.lastIndexOf('/');
    if (cut <= 0) return NONE;
    const dir = rel.slice(0, cut);
    if (dir === this.last) return NONE;
    this.last = dir;
    const first = dir.indexOf('/');
    const second = first < 0 ? -1 : dir.indexOf('/', first + 1);
    const group = second < 0 ? dir : dir.slice(0, second);
    if (group !== this.group) {
      this.group = group;
      this.made = new Set();
    }
    // walk up from the directory itself to the first one already made: usually one step
    const out: string[] = [];
    for (let d = dir; !this.has(d); ) {
      out.push(d);
      const up = d.lastIndexOf('/');
      if (up < 0) break;
      d = d.slice(0, up);
    }
    if (out.length === 0) return NONE;
    out.reverse();
    for (const d of out) (d.includes('/') ? this.made : this.top).add(d);
    return out;
  }
}
