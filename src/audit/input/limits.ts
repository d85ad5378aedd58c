/** Bounds on input: what a single object may be, so hostile input cannot exhaust memory or the stack. */

/** Largest document or list item (Kubernetes stores at most about 1.5 MiB per object). */
export const MAX_UNIT_BYTES = 64 * 1024 * 1024;
/** Deepest nesting of maps and lists in one document (Kubernetes objects stay far below 64). */
export const MAX_DEPTH = 100;
/** YAML alias references resolved per document (yaml's own default; billion-laughs input stops here). */
export const MAX_ALIASES = 100;
/** Problems reported per file before the rest of the file is given up. */
export const MAX_ERRORS_PER_FILE = 20;
