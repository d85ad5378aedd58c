/**
 * Checks both clouds run on top of the core ones, collected with their place
 * in the stack file like the core checks: the cloud section against its
 * declaration, IPv6 prefix lists, and what flat6:cluster must say on a cloud
 * (pod prefix length, control-plane-only racks, no VRRP pair, nothing in the
 * reserved stand-in block). Codes carry the cloud's prefix (AWS_NODES,
 * OCI_NODES, ...). Pure: no Pulumi.
 */
import { Flat6Error, type Diagnostic, type SourceLocation } from '../../core/diagnostics.js';
import { formatAddress, formatPrefix, isIPv4Literal, overlaps, parseAddress, parsePrefix, type IpError } from '../../core/ip.js';
import { checkStack } from '../../plan/checks.js';
import { problemCode, type LoadedStack } from '../../spec/load.js';
import { checkSection, type Path, type Section } from '../../spec/section.js';
import { SENTINEL_BLOCK } from './sentinels.js';

function dotted(path: Path): string {
  return path.map(String).join('.');
}

export class CloudChecks {
  readonly diagnostics: Diagnostic[] = [];

  /**
   * @param cloud "AWS" or "OCI": the code prefix and how messages name the cloud
   * @param key the cloud section's config key (flat6:aws, flat6:oci)
   */
  constructor(
    readonly stack: LoadedStack,
    readonly cloud: 'AWS' | 'OCI',
    readonly key: string,
    readonly docs: string,
  ) {
    // Core checks first, collected rather than thrown, so one run reports everything.
    this.diagnostics.push(...checkStack(stack).diagnostics.filter((d) => d.severity === 'error'));
  }

  locate(path: Path): SourceLocation | undefined {
    return this.stack.locateIn(this.key, path, true);
  }

  /** A problem inside the cloud section, at `path`. */
  section(code: string, path: Path, message: string, fix: string): void {
    this.diagnostics.push({ code, severity: 'error', message: `${this.key}${path.length ? '.' + dotted(path) : ''}: ${message}`, location: this.locate(path), fix });
  }

  /** A problem inside flat6:cluster, at a dotted path. */
  cluster(code: string, path: string, message: string, fix: string): void {
    this.diagnostics.push({ code, severity: 'error', message, path, location: this.stack.locate(path), fix });
  }

  /**
   * The cloud section checked against its declaration. Throws (exit 2) with
   * everything collected so far when it is missing or malformed.
   */
  load<S extends Section>(section: S, example: string): ReturnType<S['schema']['parse']> {
    const raw = this.stack.config[this.key];
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      this.diagnostics.push({
        code: 'NO_CLUSTER',
        severity: 'error',
        message: `no "${this.key}" mapping under "config:" in ${this.stack.file}; an ${this.cloud} stack says where it runs`,
        location: { file: this.stack.file, line: 1, col: 1 },
        fix: `add, next to flat6:cluster:\n  ${this.key}:\n${example}\n(see ${this.docs})`,
      });
      throw new Flat6Error(this.diagnostics, 2);
    }
    const checked = checkSection(section, raw);
    if (!checked.ok) {
      for (const p of checked.problems) {
        // A missing field is reported at the mapping that lacks it.
        const at = p.kind === 'required' ? p.path.slice(0, -1) : p.path;
        this.diagnostics.push({ code: problemCode(p), severity: 'error', message: `${this.key}.${dotted(p.path)}: ${p.message}`, location: this.locate(at), fix: p.fix ?? `see ${this.docs} for every field of ${this.key}` });
      }
      throw new Flat6Error(this.diagnostics, 2);
    }
    return checked.value as ReturnType<S['schema']['parse']>;
  }

  /** A list of IPv6 prefixes in the cloud section: IPv6 only, each listed once. */
  prefixList(list: readonly string[], field: string, what: string, reachedOver: string): void {
    const seen = new Map<string, number>();
    list.forEach((text, i) => {
      if (isIPv4Literal(text)) {
        this.section('IPV4_LITERAL', [field, i], `${what} "${text}" is IPv4; ${reachedOver}`, 'use an IPv6 prefix, e.g. 2001:db8:1234::/48');
        return;
      }
      try {
        const key = formatPrefix(parsePrefix(text));
        const first = seen.get(key);
        if (first !== undefined) this.section(`${this.cloud}_DUPLICATE`, [field, i], `${what} ${key} is listed twice (first at ${field}.${first})`, 'list each prefix once');
        else seen.set(key, i);
      } catch (e) {
        this.section('ADDRESS_SYNTAX', [field, i], `${what}: ${(e as IpError).message}`, 'write an IPv6 prefix as address/length, e.g. 2001:db8:1234::/48');
      }
    });
  }

  /** Each worker pool name once. */
  poolNames(names: readonly string[]): void {
    const seen = new Map<string, number>();
    names.forEach((name, i) => {
      const first = seen.get(name);
      if (first !== undefined) this.section(`${this.cloud}_POOL`, ['workerPools', i, 'name'], `worker pool name "${name}" is used twice (first at workerPools.${first})`, 'give each pool its own name');
      else seen.set(name, i);
    });
  }

  /** network.podPrefixLength must be what the cloud hands a node. */
  podPrefixLength(length: number, why: string): void {
    const net = this.stack.spec.network;
    if (net.podPrefixLength !== length) {
      this.cluster(`${this.cloud}_POD_PREFIX`, 'network.podPrefixLength', `per-node pod prefix /${net.podPrefixLength}: ${why}`, `set network.podPrefixLength: ${length}`);
    }
  }

  /** network.dns must be exactly `address` (the resolver that does DNS64 for the nodes). */
  dns(address: string, why: string): void {
    const dns = this.stack.spec.network.dns;
    const ok =
      dns.length === 1 &&
      (() => {
        try {
          return parseAddress(dns[0]) === parseAddress(address);
        } catch {
          return false;
        }
      })();
    if (!ok) this.cluster(`${this.cloud}_DNS`, 'network.dns', `DNS servers [${dns.join(', ')}]: ${why}`, `set network.dns: ["${address}"]`);
  }

  /** No VRRP pair: the cloud's load balancer serves the endpoint. */
  noVipPair(): void {
    const loadBalancer = (this.stack.spec.controlPlane as { loadBalancer?: string }).loadBalancer;
    if (loadBalancer !== undefined && loadBalancer !== 'none') {
      this.cluster(
        `${this.cloud}_LOAD_BALANCER`,
        'controlPlane.loadBalancer',
        `controlPlane.loadBalancer is ${loadBalancer}, but on ${this.cloud} the API endpoint is the Network Load Balancer flat6 creates (VRRP does not work in a ${this.cloud === 'AWS' ? 'VPC' : 'VCN'})`,
        "set controlPlane.loadBalancer: none (kube-apiserver then binds controlPlane.port, the load balancer's target port)",
      );
    }
  }

  /** Racks list exactly the control-plane nodes; workers come from the cloud section's pools. */
  controlPlaneRacks(): void {
    const racks = this.stack.spec.racks;
    const count = this.stack.spec.controlPlane.count;
    const listed = racks.kind === 'generated' ? racks.count * racks.nodes : racks.items.reduce((n, r) => n + (typeof r.nodes === 'number' ? r.nodes : r.nodes.length), 0);
    if (listed !== count) {
      this.cluster(
        `${this.cloud}_NODES`,
        'racks',
        `racks hold ${listed} node(s) but controlPlane.count is ${count}: on ${this.cloud}, racks list only the control-plane nodes`,
        `list exactly the ${count} control-plane node(s) (e.g. racks: [{ name: control-plane, nodes: ${count} }]); workers come from ${this.key}.workerPools`,
      );
    }
  }

  /** Nothing of the cluster in the block of boot-time stand-ins, except `allowedDns`. */
  reservedBlock(dnsFix: string, allowedDns: readonly bigint[] = []): void {
    const net = this.stack.spec.network;
    try {
      const services = parsePrefix(net.services);
      if (overlaps(services, SENTINEL_BLOCK)) {
        this.cluster(`${this.cloud}_RESERVED`, 'network.services', `service range ${formatPrefix(services)} overlaps ${formatPrefix(SENTINEL_BLOCK)}, which flat6 reserves for values nodes fill in at boot`, 'use a unique local /112, e.g. fd3c:9a52:7e10::/112');
      }
    } catch {
      // the core checks already reported it
    }
    for (const d of net.dns) {
      try {
        const a = parseAddress(d);
        if (a >= SENTINEL_BLOCK.base && a < SENTINEL_BLOCK.base + (1n << 64n) && !allowedDns.includes(a)) {
          this.cluster(`${this.cloud}_RESERVED`, 'network.dns', `DNS server ${formatAddress(a)} lies in ${formatPrefix(SENTINEL_BLOCK)}, reserved by flat6`, dnsFix);
        }
      } catch {
        // reported by the core checks
      }
    }
  }

  /** Throw every problem at once, if any. */
  finish(): void {
    if (this.diagnostics.some((d) => d.severity === 'error')) throw new Flat6Error(this.diagnostics);
  }
}
