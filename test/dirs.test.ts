/**
 * DirTracker (src/sinks/dirs.ts), which names the directories the directory
 * sink makes and the archive writer records: for files grouped by their first
 * two parts, as the renderers emit them, every ancestor directory is named
 * exactly once, before anything inside it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DirTracker } from '../src/sinks/dirs.js';

const part = fc.constantFrom('etc', 'netplan', 'sysctl.d', 'cni', 'net.d', 'bird', 'a', 'b');
const file = fc.tuple(fc.array(part, { maxLength: 4 }), fc.constantFrom('x.conf', 'y.yaml')).map(([dirs, f]) => [...dirs, f].join('/'));
const group = fc.tuple(fc.constantFrom('hosts', 'fabric'), fc.constantFrom('h0', 'h1', 'h2', 'tor-r0'), fc.uniqueArray(file, { minLength: 1, maxLength: 8 }));

describe('DirTracker', () => {
  it('names every ancestor directory once, parents first, over grouped files', () => {
    fc.assert(
      fc.property(fc.uniqueArray(group, { selector: ([top, name]) => `${top}/${name}`, maxLength: 6 }), fc.array(fc.constantFrom('plan.json', 'secrets.yaml'), { maxLength: 2 }), (groups, topFiles) => {
        const t = new DirTracker();
        const named: string[] = [];
        const expected = new Set<string>();
        const files = [...topFiles, ...groups.flatMap(([top, name, fs]) => fs.map((f) => `${top}/${name}/${f}`))];
        for (const f of files) {
          for (const d of t.missing(f)) {
            const parent = d.includes('/') ? d.slice(0, d.lastIndexOf('/')) : undefined;
            if (parent !== undefined) expect(named, `${d} named before its parent`).toContain(parent);
            named.push(d);
          }
          const parts = f.split('/');
          for (let i = 1; i < parts.length; i++) expected.add(parts.slice(0, i).join('/'));
        }
        expect(named.length, 'a directory named twice').toBe(new Set(named).size);
        expect(new Set(named)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('names nothing for top-level files and for a directory it just named', () => {
    const t = new DirTracker();
    expect(t.missing('plan.json')).toEqual([]);
    expect(t.missing('hosts/h/etc/netplan/60.yaml')).toEqual(['hosts', 'hosts/h', 'hosts/h/etc', 'hosts/h/etc/netplan']);
    expect(t.missing('hosts/h/etc/netplan/61.yaml')).toEqual([]);
    expect(t.missing('hosts/h/etc/bird/bird.conf')).toEqual(['hosts/h/etc/bird']);
    expect(t.missing('hosts/h/etc/netplan/62.yaml')).toEqual([]);
    expect(t.missing('hosts/g/etc/netplan/60.yaml')).toEqual(['hosts/g', 'hosts/g/etc', 'hosts/g/etc/netplan']);
  });
});
