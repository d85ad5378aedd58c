/** A rendered file: where it goes (relative to the output root), its mode and bytes. */
export interface FileEntry {
  path: string;
  mode: number;
  content: string;
}

/** A file too large to hold as one string (plan.json of a large cluster): its text in pieces. */
export interface StreamedFile {
  path: string;
  mode: number;
  chunks: () => Iterable<string>;
}

/** What sinks take: whole files, or streamed ones. */
export type TreeEntry = FileEntry | StreamedFile;

export function isStreamed(e: TreeEntry): e is StreamedFile {
  return typeof (e as StreamedFile).chunks === 'function';
}

export const MODE_PUBLIC = 0o644;
/** netplan refuses group/world-readable files; secrets stay owner-only. */
export const MODE_PRIVATE = 0o600;
