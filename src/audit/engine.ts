/**
 * The audit of one object at a time: which rules apply to its kind, its
 * identity, where each finding points in the input. Findings are held until
 * the end so that a finding of an object its controller already has (a Pod of
 * a ReplicaSet of a Deployment, a Job of a CronJob: same code, same place in
 * the pod template) is reported once, on the controller.
 */
import { codeInfo } from './codes.js';
import { componentRules, isComponentConfig } from './rules/component.js';
import { dataRules } from './rules/data.js';
import { endpointSliceRules, endpointsRules, lbStatus, networkPolicyRules, nodeRules, serviceRules } from './rules/network.js';
import { workloadRules } from './rules/workload.js';
import { arr, formatPath, isRecord, str, type Finding, type KubeObject, type PathPart, type RawFinding } from './types.js';

/** Where an object came from and how to find the line of one of its fields. */
export interface ObjectSource {
  /** `file:line` prefix (file name as shown) or 'cluster' */
  label: string;
  /** line of the object's first line; undefined for live objects */
  line?: number;
  /** line of the field at `path` (with `textLine` inside a text value), or undefined */
  locate?: (path: PathPart[], textLine?: number) => number | undefined;
}

export function rulesFor(obj: KubeObject): RawFinding[] {
  switch (obj['kind']) {
    case 'Service':
      return serviceRules(obj);
    case 'Ingress': {
      const out: RawFinding[] = [];
      lbStatus(obj, out);
      return out;
    }
    case 'NetworkPolicy':
      return networkPolicyRules(obj);
    case 'EndpointSlice':
      return endpointSliceRules(obj);
    case 'Endpoints':
      return endpointsRules(obj);
    case 'Node':
      return nodeRules(obj);
    case 'ConfigMap':
    case 'Secret':
      return dataRules(obj);
    default:
      return isComponentConfig(obj) ? componentRules(obj) : workloadRules(obj);
  }
}

/** A Kubernetes object: a map with a string apiVersion and kind. */
export function isKubeObject(v: unknown): v is KubeObject {
  return isRecord(v) && typeof v['apiVersion'] === 'string' && typeof v['kind'] === 'string' && v['kind'] !== '';
}

/** FNV-1a of a message, with its length: the dedupe key need not hold the message itself. */
function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return `${(h >>> 0).toString(36)}.${s.length}`;
}

interface Held {
  finding: Finding;
  uid?: string;
  owner?: string;
  key?: string;
}

/** Findings reported per object; more are counted, not listed (a hostile object cannot flood the report). */
export const MAX_FINDINGS_PER_OBJECT = 200;

export class Auditor {
  objects = 0;
  /** objects that had more than MAX_FINDINGS_PER_OBJECT findings */
  truncated: string[] = [];
  private held: Held[] = [];
  /** uid -> keys of its pod-template findings */
  private keysByUid = new Map<string, Set<string>>();
  private excluded: Set<string>;

  constructor(excludeKinds: Iterable<string> = []) {
    this.excluded = new Set([...excludeKinds].map((k) => k.toLowerCase()));
  }

  isExcluded(kind: string): boolean {
    return this.excluded.has(kind.toLowerCase());
  }

  /** Audit one object; false if its kind is excluded. */
  add(obj: KubeObject, src: ObjectSource): boolean {
    const kind = str(obj['kind'])!;
    if (this.isExcluded(kind)) return false;
    this.objects++;
    const raw = rulesFor(obj);
    if (!raw.length) return true;
    const meta = isRecord(obj['metadata']) ? obj['metadata'] : {};
    const uid = str(meta['uid']);
    const owner = arr(meta['ownerReferences']).find((r) => isRecord(r) && r['controller'] === true && typeof r['uid'] === 'string') as Record<string, unknown> | undefined;
    const seen = new Set<string>();
    if (raw.length > MAX_FINDINGS_PER_OBJECT) {
      this.truncated.push(`${src.line === undefined ? src.label : `${src.label}:${src.line}`} (${raw.length})`);
      raw.length = MAX_FINDINGS_PER_OBJECT;
    }
    for (const r of raw) {
      const path = formatPath(r.path);
      const once = `${r.code} ${path} ${r.textLine ?? ''}`;
      if (seen.has(once)) continue;
      seen.add(once);
      const info = codeInfo(r.code);
      const line = src.locate?.(r.path, r.textLine) ?? src.line;
      const finding: Finding = {
        kind,
        namespace: str(meta['namespace']) ?? null,
        name: str(meta['name']) ?? str(meta['generateName']) ?? null,
        path,
        severity: r.severity ?? info.severity,
        code: r.code,
        message: r.message,
        fix: r.fix ?? info.fix,
        source: line === undefined ? src.label : `${src.label}:${line}`,
      };
      // only objects that may own others (uid) or be owned (a controller) need the key
      const key = r.podSpecPath !== undefined && (uid || owner) ? `${r.code} ${r.podSpecPath} ${hash(r.message)}` : undefined;
      if (uid && key) {
        let keys = this.keysByUid.get(uid);
        if (!keys) this.keysByUid.set(uid, (keys = new Set()));
        keys.add(key);
      }
      const h: Held = { finding };
      if (uid) h.uid = uid;
      if (owner) h.owner = owner['uid'] as string;
      if (key) h.key = key;
      this.held.push(h);
    }
    return true;
  }

  /** Every finding in input order, without those its controller already reports. */
  findings(): Finding[] {
    return this.held.filter((h) => !(h.owner && h.key && this.keysByUid.get(h.owner)?.has(h.key))).map((h) => h.finding);
  }
}
