/**
 * What `flat6 diff` reports for one stack, as plain data: the JSON format
 * prints it as is, the text and markdown formats read it. Addresses are in
 * RFC 5952 text; lists that can grow with the cluster are capped (the counts
 * stay exact).
 */
import type { Diagnostic, SourceLocation } from '../core/diagnostics.js';

/** Where the base came from. */
export type BaseRef = { kind: 'git'; ref: string; commit: string } | { kind: 'dir'; dir: string };

/** A cluster-level field that differs (dotted path inside its config key). */
export interface FieldChange {
  /** config key, e.g. flat6:cluster or flat6:aws */
  section: string;
  path: string;
  /** old and new values as text; undefined when the field is absent on that side; "(secret)" for secrets */
  old?: string;
  new?: string;
  location?: SourceLocation;
  /** set when the change cannot be applied to a live cluster: why */
  disruptive?: string;
}

/** One node's place, as a line of the added/removed lists. */
export interface NodeRef {
  name: string;
  rack: string;
  address: string;
  podPrefix: string;
}

export interface RenumberCause {
  /** dotted path in the head stack (or the base one when the line is gone) */
  path: string;
  location?: SourceLocation;
  why: string;
}

/** A node present on both sides whose address, pod prefix, rack or gateway changes. */
export interface Renumber {
  node: string;
  changes: Array<{ field: 'address' | 'podPrefix' | 'rack' | 'gateway'; old: string; new: string }>;
  causes: RenumberCause[];
}

export interface RackChange {
  name: string;
  what: string;
}

/** One file of a host or router that differs. */
export interface FileDiff {
  path: string;
  status: 'changed' | 'added' | 'removed';
  oldMode?: string;
  newMode?: string;
  /** lines removed and added (of the whole file, before any cut) */
  removed: number;
  added: number;
  /** unified diff, secrets masked; cut after MAX_DIFF_LINES lines */
  diff: string;
  /** diff lines cut from `diff` */
  cut: number;
}

/** A host, fabric router or node pool whose files differ. */
export interface TargetDiff {
  name: string;
  files: FileDiff[];
}

/** Hosts (or routers) whose inputs changed, and how many were rendered to compare. */
export interface Coverage {
  /** targets whose render inputs differ between base and head */
  inputsChanged: number;
  /** targets rendered on both sides */
  rendered: number;
  /** rendered targets whose files differ */
  changed: number;
  /** why every target's inputs changed, when they did (a cluster field, a template) */
  broad?: string;
  /** true when only a sample of inputsChanged was rendered */
  sampled: boolean;
  /** against a render directory every target is rendered and compared, whatever changed */
  all?: boolean;
}

export type BlockCode = 'RENUMBER' | 'DISRUPTIVE' | 'UNVERIFIED';

export interface StackDiff {
  stack: string;
  /** the stack file as shown (relative to the working directory when below it) */
  file: string;
  base: BaseRef;
  /** added: no stack file at the base; removed: no stack file now */
  status: 'changed' | 'unchanged' | 'added' | 'removed' | 'error';
  /** the head stack failed to load or check, or could not be rendered: exit status 1 or 2 */
  error?: { exitCode: 1 | 2; message: string; diagnostics: Diagnostic[] };
  /** true when a RENUMBER, DISRUPTIVE or UNVERIFIED finding blocks (not allowed) */
  blocked: boolean;
  blocks: BlockCode[];
  notes: string[];
  cluster: FieldChange[];
  /** templates whose text differs between base and head */
  templates: string[];
  counts: {
    hostsBase: number;
    hostsHead: number;
    added: number;
    removed: number;
    renumbered: number;
  };
  added: NodeRef[];
  removed: NodeRef[];
  renumber: Renumber[];
  racks: { added: string[]; removed: string[]; changed: RackChange[]; addedCount: number; removedCount: number; changedCount: number };
  hosts: TargetDiff[];
  hostCoverage: Coverage;
  routers: TargetDiff[];
  routersAdded: string[];
  routersRemoved: string[];
  routerCoverage: Coverage;
  /** AWS stacks: what each node pool boots with (control-plane nodes cp<k>, worker pools workers-<pool>) */
  pools?: TargetDiff[];
  poolsAdded?: string[];
  poolsRemoved?: string[];
}

export interface DiffReport {
  base: BaseRef;
  stacks: StackDiff[];
  allowRenumber: boolean;
  /** 0 nothing blocks, 1 a stack is blocked or failed its checks, 2 a stack could not be read */
  exitCode: 0 | 1 | 2;
}

/** Names listed per list (added, removed, renumbered, racks); counts stay exact. */
export const MAX_LISTED = 1000;
/** Diff lines kept per file. */
export const MAX_DIFF_LINES = 2000;

export function emptyCoverage(): Coverage {
  return { inputsChanged: 0, rendered: 0, changed: 0, sampled: false };
}
