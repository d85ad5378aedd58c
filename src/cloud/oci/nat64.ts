/**
 * NAT64 and DNS64 on OCI, which manages neither: one small instance in the
 * edge subnet runs Jool (stateful NAT64, RFC 6146) and Unbound (DNS64, RFC
 * 6147). Its prefix is not the well-known 64:ff9b::/96 but a /96 of the edge
 * subnet assigned to the instance's own VNIC (an `oci.core.Ipv6` with
 * cidrPrefixLength 96, the mechanism that gives nodes their /80s), so the VCN
 * delivers translated traffic to it without a route rule: a VCN route rule
 * with an IPv6 destination may only target an internet gateway or a DRG.
 * Its VNIC skips the source/destination check. The instance answers DNS at
 * <edge subnet>::53, the nodes' resolver.
 *
 * This module builds the instance's cloud-config. Pure: no Pulumi.
 */
import { formatAddress, formatPrefix } from '../../core/ip.js';
import { cloudConfig } from '../shared/cloud-init.js';
import type { VcnLayout } from './layout.js';

/** The OCI VCN resolver, on the link-local address every VNIC reaches over IPv4. */
export const VCN_RESOLVER_IPV4 = '169.254.169.254';
export const JOOL_INSTANCE = 'flat6';

export interface Nat64Files {
  unbound: string;
  sysctl: string;
  unit: string;
}

export function nat64Files(l: VcnLayout): Nat64Files {
  const prefix = formatPrefix(l.nat64Prefix);
  const address = formatAddress(l.nat64Address);
  return {
    unbound: [
      '# flat6: DNS64 for the cluster\'s IPv6-only nodes (RFC 6147). AAAA answers for',
      `# IPv4-only names are synthesized inside ${prefix}, which Jool translates.`,
      'server:',
      `    interface: ${address}`,
      '    interface: ::1',
      '    ip-freebind: yes',
      `    access-control: ${formatPrefix(l.vcn)} allow`,
      '    access-control: ::1 allow',
      '    module-config: "dns64 iterator"',
      `    dns64-prefix: ${prefix}`,
      '    do-ip4: yes',
      '    do-ip6: yes',
      'forward-zone:',
      '    name: "."',
      `    forward-addr: ${VCN_RESOLVER_IPV4}`,
      '',
    ].join('\n'),
    sysctl: ['# flat6: the NAT64 instance forwards both families; its uplink keeps its IPv6 default route.', 'net.ipv4.conf.all.forwarding = 1', 'net.ipv6.conf.all.forwarding = 1', 'net.ipv6.conf.all.accept_ra = 2', 'net.ipv6.conf.default.accept_ra = 2', ''].join('\n'),
    unit: [
      '[Unit]',
      `Description=flat6 NAT64 (Jool instance ${JOOL_INSTANCE}, pool6 ${prefix})`,
      'After=network-online.target',
      'Wants=network-online.target',
      '',
      '[Service]',
      'Type=oneshot',
      'RemainAfterExit=yes',
      'ExecStartPre=/sbin/modprobe jool',
      `ExecStart=/usr/bin/jool instance add ${JOOL_INSTANCE} --netfilter --pool6 ${prefix}`,
      `ExecStop=/usr/bin/jool instance remove ${JOOL_INSTANCE}`,
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
  };
}

/** The NAT64 instance's cloud-config, gzip-compressed and base64 (metadata user_data). */
export function nat64UserData(l: VcnLayout): { text: string; base64: string } {
  const f = nat64Files(l);
  const { text, gzip } = cloudConfig(
    [
      { path: '/etc/unbound/unbound.conf.d/flat6-dns64.conf', mode: 0o644, content: f.unbound },
      { path: '/etc/sysctl.d/60-flat6-nat64.conf', mode: 0o644, content: f.sysctl },
      { path: '/etc/systemd/system/flat6-nat64.service', mode: 0o644, content: f.unit },
    ],
    [
      ['sysctl', '--system'],
      ['sh', '-c', 'for i in 1 2 3 4 5 6; do apt-get -o DPkg::Lock::Timeout=600 update -q && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "linux-headers-$(uname -r)" jool-dkms jool-tools unbound && exit 0; sleep 20; done; exit 1'],
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', '--now', 'flat6-nat64.service'],
      ['systemctl', 'restart', 'unbound'],
    ],
    `NAT64 (Jool) and DNS64 (Unbound) at ${formatAddress(l.nat64Address)}, prefix ${formatPrefix(l.nat64Prefix)}.`,
  );
  return { text, base64: gzip.toString('base64') };
}
