/** A rendered file: where it goes (relative to the output root), its mode and bytes. */
export interface FileEntry {
  path: string;
  mode: number;
  content: string;
}

export const MODE_PUBLIC = 0o644;
/** netplan refuses group/world-readable files; secrets stay owner-only. */
export const MODE_PRIVATE = 0o600;
