#!/usr/bin/python3
"""The peer flat6 must beat: one Python process with Jinja2 (Debian's
python3-jinja2) writing each host's sysctl, netplan and kubeadm files from
the inventory `flat6 plan --json` gives, the way an operator would in an
afternoon. bench/render-peer.mjs runs it and checks its bytes against flat6's.

  python3 bench/render-peer.py INVENTORY.json TEMPLATE_DIR OUT_DIR

INVENTORY.json: flat6's plan JSON plus "vars" (mtu, criSocket, dnsDomain,
apiServerPort, stack) and "secrets" (bootstrapToken, certificateKey,
caCertHashes). TEMPLATE_DIR holds Jinja2 versions of flat6's templates.
Prints one JSON line: hosts, files, bytes, seconds.
"""
import json
import os
import sys
import time

from jinja2 import Environment, FileSystemLoader, StrictUndefined


def finalize(v):
    # Handlebars writes booleans as true/false
    if isinstance(v, bool):
        return 'true' if v else 'false'
    return v


def main():
    inv_path, tpl_dir, out = sys.argv[1:4]
    t0 = time.perf_counter()
    with open(inv_path) as f:
        inv = json.load(f)
    env = Environment(loader=FileSystemLoader(tpl_dir), trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True, undefined=StrictUndefined, autoescape=False, finalize=finalize)
    env.filters['json'] = lambda v: json.dumps(v, ensure_ascii=True, separators=(',', ':'))
    t_sysctl = env.get_template('sysctl/99-flat6.conf.j2')
    t_netplan = env.get_template('netplan/60-flat6.yaml.j2')
    t_init = env.get_template('kubeadm/init.yaml.j2')
    t_join = env.get_template('kubeadm/join.yaml.j2')
    v = inv['vars']
    s = inv['secrets']
    cluster = {
        'stack': v['stack'],
        'cluster': inv['cluster'],
        'kubernetesVersion': inv['kubernetesVersion'],
        'controlPlaneEndpoint': inv['controlPlaneEndpoint'],
        'podSubnet': inv['podRange'],
        'serviceSubnet': inv['serviceRange'],
        'dnsDomain': v['dnsDomain'],
        'clusterDNS': inv['dnsServiceIP'],
        'certSANs': [inv['vip']] + [c['address'] for c in inv['controlPlanes']],
        'apiServerPort': v['apiServerPort'],
        'criSocket': v['criSocket'],
        'token': s['bootstrapToken'],
        'certificateKey': s['certificateKey'],
        'caCertHashes': s['caCertHashes'],
        'mtu': v['mtu'],
        'dns': inv['dns'],
        'acceptRA': False,
    }
    files = 0
    nbytes = 0

    def write(path, mode, text):
        nonlocal files, nbytes
        data = text.encode('utf-8')
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.chmod(path, mode)
        files += 1
        nbytes += len(data)

    for n in inv['nodes']:
        iface = n['interface']
        c = dict(cluster)
        c.update({
            'host': n['name'], 'rack': n['rack'], 'slot': n['slot'],
            'iface': iface, 'mac': n.get('mac'),
            'uplinkDadKey': ('net/ipv6/conf/%s/accept_dad' % iface) if '.' in iface else ('net.ipv6.conf.%s.accept_dad' % iface),
            'addressCidr': '%s/%s' % (n['address'], n['subnet'].split('/')[1]),
            'gateway': n['gateway'],
            'address': n['address'],
            'controlPlane': n['role'] == 'control-plane',
        })
        root = os.path.join(out, 'hosts', n['name'], 'etc')
        for d in ('sysctl.d', 'netplan', 'flat6'):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        write(os.path.join(root, 'sysctl.d', '99-flat6.conf'), 0o644, t_sysctl.render(c))
        write(os.path.join(root, 'netplan', '60-flat6.yaml'), 0o600, t_netplan.render(c))
        t = t_init if n.get('controlPlaneIndex') == 0 else t_join
        write(os.path.join(root, 'flat6', 'kubeadm.yaml'), 0o600, t.render(c))
    print(json.dumps({'hosts': len(inv['nodes']), 'files': files, 'bytes': nbytes, 'seconds': time.perf_counter() - t0}))


if __name__ == '__main__':
    main()
