/**
 * Why a node was renumbered: the stack line that moved it. A node's addresses
 * are a function of its rack's index, its slot and a few layout fields, so
 * the cause is one of those, found by comparing them on both sides.
 */
import { formatAddress } from '../core/ip.js';
import type { NodePlan } from '../plan/plan.js';
import type { LoadedStack, RackSpec } from '../spec/load.js';
import { ADDRESS_FIELDS } from './cluster.js';
import type { FieldChange, RenumberCause } from './types.js';

interface RackEntry {
  position: number;
  rack: RackSpec;
}

function rackEntries(stack: LoadedStack): Map<string, RackEntry> {
  const m = new Map<string, RackEntry>();
  if (stack.spec.racks.kind === 'list') stack.spec.racks.items.forEach((rack, position) => m.set(rack.name, { position, rack }));
  return m;
}

export class CauseFinder {
  private readonly baseRacks: Map<string, RackEntry>;
  private readonly headRacks: Map<string, RackEntry>;
  private readonly addressFields: FieldChange[];
  private readonly shiftedCache = new Map<string, string>();

  constructor(
    private readonly base: LoadedStack,
    private readonly head: LoadedStack,
    clusterChanges: readonly FieldChange[],
  ) {
    this.baseRacks = rackEntries(base);
    this.headRacks = rackEntries(head);
    const fields = new Set<string>(ADDRESS_FIELDS);
    this.addressFields = clusterChanges.filter((c) => fields.has(c.path));
  }

  private at(path: string): RenumberCause['location'] {
    return this.head.locate(path);
  }

  /** Racks inserted before the head position, or removed before the base position, of a rack. */
  private shifted(name: string): string {
    let text = this.shiftedCache.get(name);
    if (text === undefined) this.shiftedCache.set(name, (text = this.findShifted(name)));
    return text;
  }

  private findShifted(name: string): string {
    const h = this.headRacks.get(name);
    const b = this.baseRacks.get(name);
    const parts: string[] = [];
    if (h) {
      const inserted = [...this.headRacks.values()].filter((e) => e.position < h.position && !this.baseRacks.has(e.rack.name));
      for (const e of inserted) {
        const loc = this.at(`racks.${e.position}`);
        parts.push(`rack ${e.rack.name} was inserted before it${loc ? ` (line ${loc.line})` : ''}`);
      }
    }
    if (b) {
      const removed = [...this.baseRacks.values()].filter((e) => e.position < b.position && !this.headRacks.has(e.rack.name));
      for (const e of removed) parts.push(`rack ${e.rack.name} was removed before it`);
    }
    return parts.length ? `; ${parts.join('; ')}` : '';
  }

  /** Every stack line that explains why `b` became `h` (same node name, both sides). */
  causes(b: NodePlan, h: NodePlan): RenumberCause[] {
    const out: RenumberCause[] = [];
    if (b.rack.name !== h.rack.name) {
      const path = h.path ?? h.rack.path ?? 'racks';
      out.push({ path, location: this.at(path), why: `node ${h.name} moved from rack ${b.rack.name} to rack ${h.rack.name}` });
    } else if (b.rack.index !== h.rack.index) {
      const entry = this.headRacks.get(h.rack.name);
      if (entry && entry.rack.indexDefaulted) {
        const path = `racks.${entry.position}`;
        const was = this.baseRacks.get(h.rack.name);
        const before = was && !was.rack.indexDefaulted ? `its index ${b.rack.index} was removed` : `it was at list position ${b.rack.index}`;
        out.push({
          path,
          location: this.at(path),
          why: `rack ${h.rack.name} has no index, so it takes its list position: ${h.rack.index} now (${before})${this.shifted(h.rack.name)}; set index: ${b.rack.index} on it to keep its addresses`,
        });
      } else {
        const path = entry ? `racks.${entry.position}.index` : 'racks';
        out.push({ path, location: this.at(path), why: `index of rack ${h.rack.name} changed from ${b.rack.index} to ${h.rack.index}` });
      }
    }
    if (b.slot !== h.slot) {
      const path = h.path ? `${h.path}.slot` : (h.rack.path ?? 'racks');
      out.push({ path, location: this.at(path), why: `slot of ${h.name} changed from ${b.slot} to ${h.slot}` });
    }
    if (b.rack.gateway !== h.rack.gateway && b.rack.index === h.rack.index) {
      const entry = this.headRacks.get(h.rack.name);
      const wrote = entry?.rack.gateway !== undefined;
      const hadWritten = this.baseRacks.get(h.rack.name)?.rack.gateway !== undefined;
      if (entry && (wrote || hadWritten)) {
        const path = wrote ? `racks.${entry.position}.gateway` : `racks.${entry.position}`;
        out.push({
          path,
          location: this.at(path),
          why: `gateway of rack ${h.rack.name} changed from ${formatAddress(b.rack.gateway)} to ${formatAddress(h.rack.gateway)}${wrote ? '' : ' (its gateway field was removed: the default applies)'}`,
        });
      }
    }
    for (const f of this.addressFields) {
      out.push({ path: f.path, location: f.location, why: `${f.path} changed from ${f.old ?? '(default)'} to ${f.new ?? '(default)'}` });
    }
    if (out.length === 0) out.push({ path: 'racks', location: this.at('racks'), why: 'the rack layout changed (no single field found)' });
    return out;
  }
}
