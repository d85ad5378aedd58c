/**
 * The `flat6:oci` section, declared once: its type, JSON Schema, defaults and
 * the field reference in docs/oci.md come from this declaration.
 */
import { z } from 'zod';
import { int } from '../../spec/fields.js';
import { defineSection } from '../../spec/section.js';
import { ipv6PrefixList, poolName, tagValue } from '../shared/section-fields.js';

/** An OCID of the given kinds (ocid1.<kind>.<realm>.[region].<unique id>). */
const ocid = (kinds: string, what: string) =>
  z
    .string()
    .regex(new RegExp(`^ocid1\\.(${kinds})\\.[a-z0-9-]{2,20}\\.[a-z0-9-]{0,30}\\.[a-z0-9]{1,128}$`), `is not ${what} (ocid1.${kinds.split('|')[0]}.oc1..<unique id>)`);

const shape = z
  .string()
  .regex(/^VM\.[A-Za-z0-9]+(\.[A-Za-z0-9]+){1,3}$/, 'is not a VM shape (e.g. VM.Standard.E5.Flex, VM.Standard.A1.Flex)')
  .describe('Compute shape (a VM shape; flexible shapes take ocpus and memoryGiB), e.g. VM.Standard.E5.Flex or VM.Standard.A1.Flex (Arm).');
const ocpus = int(1, 64).default(2).describe('OCPUs of a flexible shape.');
const memoryGiB = int(1, 1024).default(16).describe('Memory of a flexible shape in GiB (OCI allows 1 to 64 GiB per OCPU).');
const bootVolumeGiB = int(50, 32768).default(50).describe('Boot volume size in GiB (OCI: at least 50).');
const image = ocid('image', 'an image OCID');

const machine = (what: string) => z.strictObject({ shape, ocpus, memoryGiB, bootVolumeGiB }).describe(what);

const workerPool = z
  .strictObject({
    name: poolName,
    shape,
    ocpus,
    memoryGiB,
    bootVolumeGiB,
    size: int(0, 32768).describe('Number of workers in the instance pool.'),
  })
  .describe('One instance pool of workers.');

export const ociSchema = z.strictObject({
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'is not an OCI region identifier (e.g. us-ashburn-1)').describe('OCI region identifier, e.g. us-ashburn-1.'),
  compartmentId: ocid('compartment|tenancy', 'a compartment OCID').describe('OCID of the compartment every resource is created in.'),
  tenancyId: ocid('tenancy', 'a tenancy OCID').describe("OCID of the tenancy: the workers' dynamic group lives there (workers assign their own pod prefix at boot)."),
  availabilityDomains: z
    .array(z.string().regex(/^[A-Za-z0-9]{1,8}:[A-Z]{2}(-[A-Z]+)+-AD-[1-3]$/, 'is not an availability domain name (e.g. Uocm:US-ASHBURN-AD-1)'))
    .min(1)
    .max(3)
    .describe('Availability domains (full names, e.g. Uocm:US-ASHBURN-AD-1). Control plane k runs in domain k mod n; every worker pool spreads over all of them. Subnets are regional.'),
  faultDomains: z
    .array(z.enum(['FAULT-DOMAIN-1', 'FAULT-DOMAIN-2', 'FAULT-DOMAIN-3']))
    .max(3)
    .default([])
    .describe('Fault domains the worker pools spread over inside each availability domain (control plane k takes number k mod n). Empty: OCI chooses.'),
  ipv4Cidr: z
    .string()
    .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'is not an IPv4 CIDR (a.b.c.d/len)')
    .default('10.0.0.0/16')
    .describe("The IPv4 CIDR OCI requires on the VCN: every VNIC keeps a private IPv4 address (the metadata service, the boot volume), never a Kubernetes address. The node subnet gets the lower half, the edge subnet the last /27; the node subnet's IPv4 size bounds the node count."),
  controlPlane: machine('Control-plane machines; how many comes from flat6:cluster controlPlane.count.'),
  workerPools: z.array(workerPool).max(100).describe('Worker pools, one instance pool each. Workers are not listed in flat6:cluster.'),
  nat64: z
    .strictObject({ shape: shape.default('VM.Standard.E5.Flex'), ocpus: int(1, 64).default(1).describe('OCPUs of a flexible shape.'), memoryGiB: int(1, 1024).default(8).describe('Memory of a flexible shape in GiB.'), bootVolumeGiB })
    .prefault({})
    .describe('The NAT64/DNS64 instance (OCI has no managed NAT64): IPv6-only nodes reach IPv4-only hosts through it.'),
  adminPrefixes: ipv6PrefixList('IPv6 prefixes allowed to reach the API load balancer on the API port and the nodes on SSH (port 22). Empty: nodes only, no SSH.').default([]),
  nodeEgress: ipv6PrefixList('IPv6 prefixes nodes may send to outside the cluster (default ::/0: the internet over the internet gateway; IPv4 goes through NAT64).').default(['::/0']),
  sshAuthorizedKeys: z
    .array(z.string().regex(/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]{16,4096}( [A-Za-z0-9@._+-]{0,100})?$/, 'is not an OpenSSH public key line (type, base64 key, optional comment)'))
    .max(16)
    .default([])
    .describe('OpenSSH public keys for the ubuntu user of every machine (metadata ssh_authorized_keys). They count against the 32,000-byte metadata limit.'),
  images: z
    .strictObject({ x86_64: image.optional().describe('Image for x86_64 shapes.'), aarch64: image.optional().describe('Image for Arm shapes (A1, A2).') })
    .prefault({})
    .describe('Image OCID per architecture. Default: the newest Canonical Ubuntu 24.04 platform image for the shape, looked up at the first pulumi up.'),
  freeformTags: z
    .record(
      z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'is not a freeform tag key (1-100 of letters, digits and _.:-)'),
      tagValue('a freeform tag value'),
    )
    .default({})
    .describe('Extra freeform tags on every resource.'),
});

export const OCI_SECTION = defineSection('flat6:oci', ociSchema, {
  id: 'https://flat6.dev/schema/oci.json',
  description: 'Where and on what an Oracle Cloud (OCI) stack runs. The cluster itself stays in flat6:cluster.',
});

export type OciSpec = z.output<typeof ociSchema>;
export type OciMachine = OciSpec['controlPlane'];
export type OciWorkerPool = OciSpec['workerPools'][number];
