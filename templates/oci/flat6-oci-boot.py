#!/usr/bin/env python3
# flat6: first boot of an OCI node. cloud-init has written flat6's rendered
# files (kernel settings, kubeadm, CNI) with stand-ins for what only the running
# instance knows. This script reads the instance metadata service v2
# (/opc/v2/, header "Authorization: Bearer Oracle") for the node's host name,
# VNIC, MAC and IPv6 address; a worker then gives its own VNIC one /80 for its
# pods (OCI CLI, instance principal: `oci network ipv6 create --vnic-id ...
# --cidr-prefix-length 80`; a control plane's /80 is created by Pulumi and
# only checked); the script rewrites the stand-ins in place, installs
# containerd and kubeadm and runs `kubeadm init` or `kubeadm join`.
#
# The retried steps, the stand-in rewriter, package installation and kubeadm
# are the AWS boot script's (templates/aws/flat6-aws-boot.py), written beside
# this one as /usr/local/lib/flat6/flat6_boot.py and loaded as a library.
#
#   flat6-oci-boot prepare --config /etc/flat6/oci-boot.json [--root DIR]
#       discover, assign the /80 (workers) and rewrite only
#   flat6-oci-boot boot --config /etc/flat6/oci-boot.json
#       everything; cloud-init runs this once per instance
#
# FLAT6_IMDS_ENDPOINT overrides the metadata endpoint, FLAT6_SYS_CLASS_NET the
# interface directory, FLAT6_OCI_CLI the OCI CLI command and
# FLAT6_BOOT_LIBRARY the library (for tests).
import argparse
import importlib.util
import ipaddress
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request

SCRIPT_PATH = "/usr/local/sbin/flat6-oci-boot"
CONFIG_PATH = "/etc/flat6/oci-boot.json"
LOG_PREFIX = "flat6-oci-boot: "
OCI_CLI_VENV = "/opt/flat6/oci-cli"
# (attempts, first wait, longest wait), as the library's RETRY
RETRY = {
    # DNS64 answers ipv4only.arpa inside the NAT64 prefix once the NAT64
    # instance is up (it installs its packages at its own first boot)
    "nat64": (90, 10, 10),
    # the worker's /80: the instance principal's first token can take a while
    "prefix": (10, 10, 60),
    "pip": (6, 10, 60),
}


def load_library():
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.environ.get("FLAT6_BOOT_LIBRARY") or os.path.normpath(os.path.join(here, "..", "lib", "flat6", "flat6_boot.py"))
    spec = importlib.util.spec_from_file_location("flat6_boot", path)
    lib = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lib)
    lib.LOG_PREFIX = LOG_PREFIX
    lib.SCRIPT_PATH = SCRIPT_PATH
    return lib


lib = load_library()
log = lib.log
fail = lib.fail
BootFailure = lib.BootFailure
StepError = lib.StepError


def report_failure(message, state_dir=None):
    state_dir = state_dir or lib.STATE_DIR
    rule = "=" * 72
    for line in (
        rule,
        "BOOT FAILED: " + message,
        "This node has NOT joined the cluster. Every attempt is logged above.",
        "Fix the cause, then run again: python3 %s boot --config %s" % (SCRIPT_PATH, CONFIG_PATH),
        rule,
    ):
        print(LOG_PREFIX + line, file=sys.stderr, flush=True)
    try:
        os.makedirs(state_dir, exist_ok=True)
        with open(os.path.join(state_dir, "boot-failed"), "w") as f:
            f.write(message + "\n")
    except OSError as e:
        print(LOG_PREFIX + "could not write %s/boot-failed: %s" % (state_dir, e), file=sys.stderr, flush=True)


class OciImds:
    """Instance metadata service v2: JSON documents under /opc/v2/."""

    def __init__(self, endpoint):
        self.endpoint = endpoint.rstrip("/")

    def get(self, path, attempts=60, delay=2.0):
        last = None
        for n in range(1, attempts + 1):
            try:
                req = urllib.request.Request(self.endpoint + "/opc/v2/" + path, headers={"Authorization": "Bearer Oracle"})
                with urllib.request.urlopen(req, timeout=5) as r:
                    return json.loads(r.read().decode())
            except urllib.error.HTTPError as e:
                last = e
                if e.code not in (404, 429, 500, 503):
                    raise BootFailure("instance metadata %s: HTTP %d" % (path, e.code))
            except (urllib.error.URLError, OSError, ValueError) as e:
                last = e
            if n < attempts:
                log("instance metadata %s: attempt %d of %d failed: %s; next attempt in %g s" % (path, n, attempts, last, delay))
                lib.sleep(delay)
        raise BootFailure("instance metadata %s unavailable after %d attempts: %s" % (path, attempts, last))


def oci_cli():
    """The OCI CLI as a command list (instance principal auth), or None."""
    override = os.environ.get("FLAT6_OCI_CLI")
    if override:
        return shlex.split(override)
    for candidate in (os.path.join(OCI_CLI_VENV, "bin", "oci"), shutil.which("oci")):
        if candidate and os.path.exists(candidate):
            return [candidate]
    return None


def install_oci_cli():
    """The CLI in a virtual environment of its own (through NAT64: PyPI)."""
    lib.apt_get(["install", "-y", "-q", "python3-venv"], "apt-get install python3-venv")
    lib.run(["python3", "-m", "venv", OCI_CLI_VENV])
    pip = os.path.join(OCI_CLI_VENV, "bin", "pip")
    lib.retry("pip install oci-cli", lambda: lib.run([pip, "install", "-q", "oci-cli"]), RETRY["pip"])


def cli_json(cli, region, args):
    cmd = cli + ["--auth", "instance_principal", "--region", region] + args
    log("$ " + " ".join(cmd))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()
    return json.loads(out) if out else {}


def assign_pod_prefix(cli, region, vnic_id, length):
    """This VNIC's /<length>: one a previous attempt made, else a new one."""

    def once():
        listed = cli_json(cli, region, ["network", "ipv6", "list", "--vnic-id", vnic_id, "--all"]).get("data") or []
        for d in listed:
            if d.get("cidr-prefix-length") == length and d.get("lifecycle-state", "AVAILABLE") in ("AVAILABLE", "PROVISIONING"):
                return d
        created = cli_json(cli, region, ["network", "ipv6", "create", "--vnic-id", vnic_id, "--cidr-prefix-length", str(length), "--display-name", "flat6-pods"]).get("data") or {}
        if created.get("cidr-prefix-length") != length or not created.get("ip-address"):
            raise StepError("unexpected answer to ipv6 create: %s" % json.dumps(created)[:300])
        return created

    d = lib.retry("assign a /%d for pods to VNIC %s" % (length, vnic_id), once, RETRY["prefix"])
    return ipaddress.IPv6Network("%s/%d" % (d["ip-address"], length))


def discover(imds, cfg, sys_class_net, cli):
    instance = imds.get("instance/")
    vnics = imds.get("vnics/")
    if not vnics:
        fail("the metadata service lists no VNIC")
    vnic = vnics[0]
    mac = vnic.get("macAddr", "").lower()
    addresses = [a for a in (vnic.get("ipv6Addresses") or []) if a]
    if not addresses:
        fail("no IPv6 address on VNIC %s; the subnet must be IPv6-enabled and the VNIC created with assignIpv6ip" % vnic.get("vnicId"))
    if cfg.get("expectedAddress"):
        want = ipaddress.IPv6Address(cfg["expectedAddress"])
        if not any(ipaddress.IPv6Address(a) == want for a in addresses):
            fail("this control-plane node should hold %s but has %s" % (want, ", ".join(addresses)))
        address = want
    else:
        address = ipaddress.IPv6Address(addresses[0])
    length = int(cfg["podPrefixLength"])
    if cfg.get("podPrefix"):
        # A control plane's /80 is pinned and created by Pulumi on its VNIC.
        prefix = ipaddress.IPv6Network(cfg["podPrefix"])
    else:
        if cli is None:
            fail("no OCI CLI to assign this worker's /%d (install it or set FLAT6_OCI_CLI)" % length)
        prefix = assign_pod_prefix(cli, cfg["region"], vnic["vnicId"], length)
    if prefix.prefixlen != length:
        fail("pod prefix %s is not a /%d" % (prefix, length))
    if address in prefix:
        fail("the node's address %s lies in its pod prefix %s" % (address, prefix))
    hostname = (instance.get("hostname") or instance.get("displayName") or "").split(".")[0].lower()
    if not hostname:
        fail("the metadata service names no host name")
    uplink = None
    try:
        for name in sorted(os.listdir(sys_class_net)):
            try:
                with open(os.path.join(sys_class_net, name, "address")) as f:
                    if f.read().strip().lower() == mac:
                        uplink = name
                        break
            except OSError:
                continue
    except OSError:
        pass
    return {"mac": mac, "address": address, "prefix": prefix, "hostname": hostname, "uplink": uplink, "vnic": vnic.get("vnicId")}


def prepare(cfg, root, imds_endpoint, sys_class_net, cli):
    found = discover(OciImds(imds_endpoint), cfg, sys_class_net, cli)
    log("host %s, address %s, pod prefix %s, uplink %s" % (found["hostname"], found["address"], found["prefix"], found["uplink"]))
    rewrite, problems = lib.make_rewriter(cfg["sentinels"], found)
    for rel in cfg["files"]:
        path = os.path.join(root, rel.lstrip("/"))
        mode = os.stat(path).st_mode & 0o7777
        with open(path) as f:
            content = f.read()
        new = rewrite(content)
        for what in ("hostname", "interface"):
            if cfg["sentinels"][what] in new:
                problems.append("%s stand-in in %s" % (what, rel))
        lib.write_atomic(path, new, mode)
    if problems:
        fail("stand-ins flat6 cannot fill in: %s" % ", ".join(sorted(set(problems))))
    if found["uplink"]:
        # The default route comes from router advertisements; with forwarding
        # on, the kernel ignores them unless accept_ra = 2 (the uplink only).
        sysctl_dir = os.path.join(root, "etc/sysctl.d")
        os.makedirs(sysctl_dir, exist_ok=True)
        lib.write_atomic(
            os.path.join(sysctl_dir, "99-zz-flat6-oci.conf"),
            "# flat6: the uplink %s takes its default route from router advertisements.\n"
            "net.ipv6.conf.%s.accept_ra = 2\n" % (found["uplink"], found["uplink"]),
            0o644,
        )
    return found


def wait_for_nat64(prefix, policy=None):
    """DNS64 answers ipv4only.arpa (RFC 7050) inside the NAT64 prefix once the NAT64 instance works."""
    net = ipaddress.IPv6Network(prefix)

    def once():
        try:
            infos = lib.resolver("ipv4only.arpa", 443, socket.AF_INET6, socket.SOCK_STREAM)
        except socket.gaierror as e:
            raise StepError("no AAAA for ipv4only.arpa: %s" % e)
        got = sorted({i[4][0] for i in infos})
        if not any(ipaddress.IPv6Address(a.split("%")[0]) in net for a in got):
            raise StepError("ipv4only.arpa resolves to %s, not inside %s" % (", ".join(got) or "nothing", net))
        return got

    return lib.retry("DNS64 and NAT64 ready (ipv4only.arpa in %s)" % net, once, policy or RETRY["nat64"])


def ensure_address(found):
    """cloud-init's Oracle datasource configures the VNIC's addresses; add the IPv6 one if it did not."""
    if not found["uplink"]:
        return
    shown = subprocess.run(["ip", "-6", "-o", "addr", "show", "dev", found["uplink"]], capture_output=True, text=True).stdout
    if (" %s/" % found["address"]) not in shown:
        lib.run(["ip", "-6", "addr", "add", "%s/64" % found["address"], "dev", found["uplink"]])


def boot(cfg, imds_endpoint, sys_class_net):
    marker = os.path.join(lib.STATE_DIR, "booted")
    if os.path.exists(marker):
        log("already booted (%s); nothing to do" % marker)
        return
    run = lib.run
    run(["systemctl", "restart", "systemd-resolved"], check=False)
    wait_for_nat64(cfg["nat64Prefix"])
    cli = None
    if not cfg.get("podPrefix"):
        cli = oci_cli()
        if cli is None:
            install_oci_cli()
            cli = oci_cli()
    found = prepare(cfg, "/", imds_endpoint, sys_class_net, cli)
    ensure_address(found)
    if any(f.startswith("/etc/netplan/") for f in cfg["files"]):
        run(["netplan", "apply"])
    run(["systemctl", "restart", "systemd-modules-load"], check=False)
    run(["modprobe", "br_netfilter"], check=False)
    run(["sysctl", "--system"])
    lib.install_packages(cfg["kubernetesVersion"])
    lib.wait_for_endpoint(cfg["apiEndpoint"])
    lib.kubeadm(cfg["role"], cfg["kubeadmConfig"])
    os.makedirs(os.path.dirname(marker), exist_ok=True)
    with open(marker, "w") as f:
        f.write("ok\n")
    failed = os.path.join(lib.STATE_DIR, "boot-failed")
    if os.path.exists(failed):
        os.remove(failed)
    log("done: %s" % cfg["role"])


def main():
    p = argparse.ArgumentParser(prog="flat6-oci-boot")
    p.add_argument("command", choices=["prepare", "boot"])
    p.add_argument("--config", required=True)
    p.add_argument("--root", default="/")
    a = p.parse_args()
    with open(a.config) as f:
        cfg = json.load(f)
    imds_endpoint = os.environ.get("FLAT6_IMDS_ENDPOINT", cfg.get("imds", "http://169.254.169.254"))
    sys_class_net = os.environ.get("FLAT6_SYS_CLASS_NET", "/sys/class/net")
    if a.command == "prepare":
        try:
            found = prepare(cfg, a.root, imds_endpoint, sys_class_net, oci_cli() if not cfg.get("podPrefix") else None)
        except BootFailure as e:
            print(LOG_PREFIX + "error: %s" % e, file=sys.stderr, flush=True)
            sys.exit(1)
        print(json.dumps({k: str(v) if v is not None else None for k, v in found.items()}))
    else:
        try:
            boot(cfg, imds_endpoint, sys_class_net)
        except BootFailure as e:
            report_failure(str(e))
            sys.exit(1)
        except Exception as e:  # anything unexpected is a failed boot too
            report_failure("unexpected %s" % lib.describe(e))
            raise


if __name__ == "__main__":
    main()
