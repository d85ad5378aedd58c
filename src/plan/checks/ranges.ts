/** The node, pod and service ranges: overlaps and the service range's size. */
import { formatPrefix, overlaps } from '../../core/ip.js';
import type { CheckContext } from './context.js';

/** No two of the node, pod and service ranges overlap. */
export function checkRangeOverlaps(c: CheckContext): void {
  const { ranges } = c;
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const [pa, na, a] = ranges[i];
      const [pb, nb, b] = ranges[j];
      if (a && b && overlaps(a, b)) {
        c.add(
          'RANGE_OVERLAP',
          pa,
          `${na} ${formatPrefix(a)} overlaps ${nb} ${formatPrefix(b)}`,
          `give each range its own space, e.g. carve node, pod and service ranges from different /48s of your allocation`,
          c.related(pb, `${nb} ${formatPrefix(b)}`),
        );
      }
    }
  }
}

/** kubeadm's IPv6 service subnet is a /108 or longer, and must hold the API and DNS Service addresses. */
export function checkServiceMask(c: CheckContext): void {
  const { serviceRange } = c;
  if (serviceRange && serviceRange.length < 108) {
    c.add(
      'SERVICE_MASK',
      'network.services',
      `service range ${formatPrefix(serviceRange)} is too large: kubeadm requires an IPv6 service subnet mask of /108 or longer`,
      `use a /108 to /120, e.g. ${formatPrefix({ base: serviceRange.base, length: 112 })}`,
    );
  } else if (serviceRange && serviceRange.length > 124) {
    c.add('SERVICE_MASK', 'network.services', `service range ${formatPrefix(serviceRange)} is too small to hold the API and DNS Service addresses`, `use a /112, e.g. ${formatPrefix({ base: serviceRange.base, length: 112 })}`);
  }
}
