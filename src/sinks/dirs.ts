/**
 * Which directories a stream of file paths needs, each named once: the
 * directory sink makes them, the archive writer emits their entries. Memory
 * stays flat: only the current host's (or router's) directories are kept,
 * plus the top level.
 */
const NONE: string[] = [];

export class DirTracker {
  private readonly top = new Set<string>();
  private group = '';
  private made = new Set<string>();
  private last = '';
  /** directories of `rel`'s parent chain not yet emitted, outermost first */
  missing(rel: string): string[] {
    const dir = rel.slice(0, Math.max(0, rel.lastIndexOf('/')));
    if (dir === this.last) return NONE;
    this.last = dir;
    // a directory of the current group made for an earlier file (a host's files revisit etc/netplan)
    if (this.made.has(dir) && dir.startsWith(this.group + '/')) return NONE;
    const parts = rel.split('/');
    parts.pop();
    const out: string[] = [];
    if (parts.length === 0) return out;
    const group = parts.length >= 2 ? `${parts[0]}/${parts[1]}` : parts[0]!;
    if (group !== this.group) {
      this.group = group;
      this.made = new Set();
    }
    let d = '';
    for (let i = 0; i < parts.length; i++) {
      d = i === 0 ? parts[0]! : `${d}/${parts[i]}`;
      const seen = i === 0 ? this.top : this.made;
      if (!seen.has(d)) {
        seen.add(d);
        out.push(d);
      }
    }
    return out;
  }
}
