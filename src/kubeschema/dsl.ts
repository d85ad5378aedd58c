/**
 * The type-descriptor DSL the kubeadm, kubelet and kube-proxy schemas are written in: str / bool /
 * int32 / list / map / obj / anyOf / opaque, plus named checks. Every object is closed: a key that
 * is not listed is reported, which is how a misspelt or misplaced field fails.
 */

/** One problem in a Kubernetes configuration document. */
export interface SchemaIssue {
  /** where, starting with the document's kind: "ClusterConfiguration.networking.podSubnet", "(file)" */
  path: string;
  /** what is wrong, naming the offending value */
  message: string;
  /** how to fix it, when a likely fix is known (e.g. did you mean "podSubnet"?) */
  hint?: string;
  /** index of the document in the file (validateKubeadmFile); absent for the file as a whole */
  doc?: number;
  /** keys and list indexes from the document's root to the offending value */
  at?: ReadonlyArray<string | number>;
  /** the key itself is wrong (an unknown field), not its value */
  key?: boolean;
}

/**
 * Reports an issue; `sub` is a path relative to the value being checked (e.g. "ttl", "[0]",
 * "networking.podSubnet"), `hint` how to fix it.
 */
export type Report = (message: string, sub?: string, hint?: string) => void;
export type Check<V> = (value: V, report: Report) => void;
export type JsonObject = Record<string, unknown>;

export interface Common {
  /** Key must be present (upstream field without omitempty that validation requires). */
  required?: boolean;
}
export interface StringT extends Common {
  t: 'string';
  label?: string;
  enum?: readonly string[];
  /** Checks run on non-empty strings only: "" is Go's zero value, i.e. "unset". */
  checks?: readonly Check<string>[];
  /** Also reject "". */
  nonEmpty?: boolean;
}
export interface BoolT extends Common {
  t: 'bool';
}
export interface IntT extends Common {
  t: 'int';
  label: string;
  min: number;
  max: number;
}
export interface FloatT extends Common {
  t: 'float';
  label: string;
  checks?: readonly Check<number>[];
}
export interface ListT extends Common {
  t: 'list';
  item: TypeDesc;
  checks?: readonly Check<unknown[]>[];
  /** Extra explanation when the value is not a list. */
  notListHint?: string;
}
export interface MapT extends Common {
  t: 'map';
  value: TypeDesc;
  keyChecks?: readonly Check<string>[];
}
export interface ObjT extends Common {
  t: 'object';
  name: string;
  fields: Readonly<Record<string, TypeDesc>>;
  checks?: readonly Check<JsonObject>[];
}
export interface AnyOfT extends Common {
  t: 'anyOf';
  label: string;
  /** The first option whose JSON type matches the value is used to validate it. */
  options: readonly TypeDesc[];
}
export interface OpaqueT extends Common {
  t: 'opaque';
  label: string;
}
export type TypeDesc = StringT | BoolT | IntT | FloatT | ListT | MapT | ObjT | AnyOfT | OpaqueT;

const INT32: [number, number] = [-2147483648, 2147483647];
const UINT32_MAX = 4294967295;

export const str = (o: Omit<StringT, 't'> = {}): StringT => ({ t: 'string', ...o });
export const oneOfStr = (values: readonly string[], o: Omit<StringT, 't' | 'enum'> = {}): StringT => ({ t: 'string', enum: values, ...o });
export const bool = (): BoolT => ({ t: 'bool' });
function intT(kind: string, lo: number, hi: number, min?: number, max?: number): IntT {
  const range = min === undefined && max === undefined ? '' : max === undefined ? ` >= ${min}` : ` in [${min ?? lo}, ${max}]`;
  return { t: 'int', label: `${kind}${range}`, min: min ?? lo, max: max ?? hi };
}
export const int32 = (min?: number, max?: number): IntT => intT('int32', INT32[0], INT32[1], min, max);
export const int64 = (min?: number, max?: number): IntT => intT('int64', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, min, max);
export const uint32 = (): IntT => intT('uint32', 0, UINT32_MAX);
export const float = (checks?: Check<number>[]): FloatT => ({ t: 'float', label: 'number', checks });
export const list = (item: TypeDesc, o: Omit<ListT, 't' | 'item'> = {}): ListT => ({ t: 'list', item, ...o });
export const map = (value: TypeDesc, o: Omit<MapT, 't' | 'value'> = {}): MapT => ({ t: 'map', value, ...o });
export const obj = (name: string, fields: Record<string, TypeDesc>, checks?: Check<JsonObject>[]): ObjT => ({
  t: 'object',
  name,
  fields,
  checks,
});
export const anyOf = (label: string, ...options: TypeDesc[]): AnyOfT => ({ t: 'anyOf', label, options });
export const opaque = (label: string): OpaqueT => ({ t: 'opaque', label });
export const req = <T extends TypeDesc>(t: T): T => ({ ...t, required: true });
