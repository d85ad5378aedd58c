/**
 * The mock harness both clouds' program tests use (test/cloud-program.test.ts,
 * test/oci-program.test.ts): `pulumi.runtime.setMocks` with a recorder that
 * keeps every registered resource, its inputs (secrets unwrapped, their paths
 * listed) and the dependency URNs the engine receives, plus the helpers to
 * wait for a run and read what it registered.
 */
import { gunzipSync } from 'node:zlib';
import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';

export interface Recorded {
  type: string;
  name: string;
  /** inputs as the provider would get them, secrets unwrapped */
  inputs: Record<string, any>;
  /** URNs of every resource this one depends on (dependsOn and inputs), as the engine receives them */
  dependencies: string[];
  /** input paths that were secrets ("" for the whole inputs) */
  secrets: string[];
}

/** Pulumi hands mocks secret inputs wrapped in its secret signature. */
export const SECRET_SIG = '4dabf18193072939515e22adb298388d';
export const SECRET_VALUE = '1b47061264138c4ac30d75fd1eb44270';

export function unwrapSecret(v: unknown): { secret: boolean; value: unknown } {
  if (v && typeof v === 'object' && (v as Record<string, unknown>)[SECRET_SIG] === SECRET_VALUE) return { secret: true, value: (v as Record<string, unknown>)['value'] };
  return { secret: false, value: v };
}

/** A value with every secret unwrapped; the paths that were secret are pushed to `secrets`. */
export function unsecret(v: any, path: string, secrets: string[]): any {
  if (Array.isArray(v)) return v.map((x, i) => unsecret(x, `${path}.${i}`, secrets));
  if (v && typeof v === 'object') {
    const u = unwrapSecret(v);
    if (u.secret) {
      secrets.push(path);
      return unsecret(u.value, path, secrets);
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unsecret(x, path ? `${path}.${k}` : k, secrets)]));
  }
  return v;
}

/** "urn:pulumi:stack::project::a$b$type::name" -> { type, name } */
export function urnOf(urn: string): { type: string; name: string } {
  const parts = urn.split('::');
  return { type: parts[2].split('$').pop()!, name: parts.slice(3).join('::') };
}

/** Pulumi's view of a stack file's config: structured values as JSON text. */
export function pulumiConfigOf(text: string): Record<string, string> {
  const config = (parse(text) as { config: Record<string, unknown> }).config;
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

export function value<T>(o: pulumi.Input<T>): Promise<T> {
  return new Promise((ok) => pulumi.output(o).apply((v) => ok(v as T)));
}

/** The counts of every resource type, sorted by type. */
export function countsByType(rs: readonly Recorded[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rs) out[r.type] = (out[r.type] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/** A gzip-compressed, base64 #cloud-config document, unpacked. */
export function unpackCloudConfig(base64: string): { text: string; doc: { write_files: Array<{ path: string; permissions: string; content: string }>; runcmd: string[][] } } {
  const text = gunzipSync(Buffer.from(base64, 'base64')).toString('utf8');
  return { text, doc: parse(text) };
}

export type ResourceState = (args: pulumi.runtime.MockResourceArgs, inputs: Record<string, any>) => { id: string; state: Record<string, unknown> };

export const SECRET_KEYS = ['flat6:bootstrapToken', 'flat6:certificateKey'] as const;

/** One recorder per test file: `reset` before a run, `settle` after it. */
export class MockRecorder {
  recorded: Recorded[] = [];
  /** dependency URNs of each registration request, by type and name, until the mock records the resource */
  private readonly pending = new Map<string, string[]>();
  readonly mocks: pulumi.runtime.Mocks;

  constructor(resource: ResourceState, call: (args: pulumi.runtime.MockCallArgs) => Record<string, any>) {
    this.mocks = {
      newResource: (args) => {
        const key = `${args.type}::${args.name}`;
        const secrets: string[] = [];
        const inputs = unsecret(args.inputs, '', secrets);
        this.recorded.push({ type: args.type, name: args.name, inputs, dependencies: this.pending.get(key) ?? [], secrets });
        this.pending.delete(key);
        return resource(args, inputs);
      },
      call: (args) => call(args),
    };
  }

  /** Fresh mocks for `stack`, with the stack file's config and the bootstrap secrets Pulumi would decrypt. */
  async reset(stack: string, configText: string, secrets: Partial<Record<'bootstrapToken' | 'certificateKey', string>>): Promise<void> {
    this.recorded = [];
    await pulumi.runtime.setMocks(this.mocks, 'flat6', stack, false);
    // Keep every registration's dependency list (the mock's newResource does not get it).
    const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: any, cb: any): unknown };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, cb: any) => {
      this.pending.set(`${req.getType()}::${req.getName()}`, [...req.getDependenciesList()]);
      return register(req, cb);
    };
    const config = { ...pulumiConfigOf(configText) };
    if (secrets.bootstrapToken) config['flat6:bootstrapToken'] = secrets.bootstrapToken;
    if (secrets.certificateKey) config['flat6:certificateKey'] = secrets.certificateKey;
    pulumi.runtime.setAllConfig(config, [...SECRET_KEYS]);
  }

  /** Wait until every output resolved and no resource registration is still arriving; the run's resources. */
  async settle(outputs: Record<string, unknown>): Promise<Recorded[]> {
    await Promise.all(Object.values(outputs).map((o) => (pulumi.Output.isInstance(o) ? value(o) : o)));
    let last = -1;
    for (let stable = 0; stable < 3; ) {
      await new Promise((r) => setTimeout(r, 10));
      stable = this.recorded.length === last ? stable + 1 : 0;
      last = this.recorded.length;
    }
    return this.recorded;
  }

  /** Run the program entry (src/program/index.ts) and expect it to fail before registering anything; its message. */
  async failure(stack: string, configText: string, secrets: Partial<Record<'bootstrapToken' | 'certificateKey', string>>): Promise<string> {
    await this.reset(stack, configText, secrets);
    const program = (await import('../src/program/index.js')).default;
    try {
      await program();
    } catch (e) {
      if (!(e instanceof pulumi.RunError)) throw e;
      if (this.recorded.length) throw new Error(`the program registered ${this.recorded.length} resource(s) before failing`);
      return e.message;
    }
    throw new Error('expected the program to fail');
  }
}
