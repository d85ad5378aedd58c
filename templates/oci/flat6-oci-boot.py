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
# Everything else is the AWS boot script's (templates/aws/flat6-aws-boot.py),
# written beside this one as /usr/local/lib/flat6/flat6_boot.py and run as a
# library: its command line, discover() (fed OCI's facts under the paths it
# reads), the stand-in rewriter, accept_ra on the uplink, the bounded retries,
# packages and kubeadm. Only the failure banner is this script's own: the
# library's names the AWS config file.
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
library_prepare = lib.prepare
library_boot = lib.boot
library_run = lib.run
library_report_failure = lib.report_failure


def report_failure(message, state_dir=None):
    library_report_failure(message, state_dir, rerun="python3 %s boot --config %s" % (SCRIPT_PATH, CONFIG_PATH), prefix=LOG_PREFIX)


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


class AwsShapedMetadata:
    """The OCI facts the library's discover() asks for, under the paths it asks
    (it was written for EC2's metadata service): the VNIC's MAC and IPv6
    addresses, the node's /80 (pinned for a control plane, assigned through
    the OCI CLI for a worker) and the host name."""

    def __init__(self, imds, cfg, cli):
        instance = imds.get("instance/")
        vnics = imds.get("vnics/")
        if not vnics:
            fail("the metadata service lists no VNIC")
        vnic = vnics[0]
        self.vnic_id = vnic.get("vnicId")
        mac = vnic.get("macAddr", "").lower()
        length = int(cfg["podPrefixLength"])
        if cfg.get("podPrefix"):
            # A control plane's /80 is pinned and created by Pulumi on its VNIC.
            prefix = ipaddress.IPv6Network(cfg["podPrefix"])
        elif cli is None:
            fail("no OCI CLI to assign this worker's /%d (install it or set FLAT6_OCI_CLI)" % length)
        else:
            prefix = assign_pod_prefix(cli, cfg["region"], self.vnic_id, length)
        # The VNIC's own addresses, not the prefix (OCI may list it among them).
        addresses = [a for a in (vnic.get("ipv6Addresses") or []) if a and ipaddress.IPv6Address(a.split("/")[0]) not in prefix]
        hostname = (instance.get("hostname") or instance.get("displayName") or "").split(".")[0].lower()
        if not hostname:
            fail("the metadata service names no host name")
        base = "network/interfaces/macs/%s/" % mac
        self.answers = {"mac": mac, base + "ipv6s": "\n".join(addresses), base + "ipv6-prefix": str(prefix), "local-hostname": hostname}

    def get(self, path):
        return self.answers[path]


# What main() and boot() hand the metadata adapter (the library's prepare()
# builds its metadata client from the endpoint alone).
STATE = {"cfg": None, "cli": None}


def prepare(cfg, root, imds_endpoint, sys_class_net, cli=None):
    """The library's prepare() (discover, rewrite the stand-ins, accept_ra on
    the uplink) over OCI's metadata; on the node itself (root /) it also makes
    sure the uplink holds the VNIC's IPv6 address."""
    STATE["cfg"], STATE["cli"] = cfg, cli if cli is not None else STATE["cli"]
    found = library_prepare(cfg, root, imds_endpoint, sys_class_net)
    if root == "/":
        ensure_address(found)
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
    """NAT64 and (for a worker) the OCI CLI first, then the library's boot:
    prepare, kernel settings, packages, kubeadm init or join."""
    if os.path.exists(os.path.join(lib.STATE_DIR, "booted")):
        log("already booted; nothing to do")
        return
    lib.run(["systemctl", "restart", "systemd-resolved"], check=False)
    wait_for_nat64(cfg["nat64Prefix"])
    cli = None
    if not cfg.get("podPrefix"):
        cli = oci_cli()
        if cli is None:
            install_oci_cli()
            cli = oci_cli()
    STATE["cli"] = cli
    library_boot(cfg, imds_endpoint, sys_class_net)


def _wire():
    """The library looks these names up when it runs: point them at OCI's."""
    lib.IMDS_DEFAULT = "http://169.254.169.254"
    lib.Imds = lambda endpoint: AwsShapedMetadata(OciImds(endpoint), STATE["cfg"], STATE["cli"])
    lib.prepare = lambda cfg, root, imds_endpoint, sys_class_net: prepare(cfg, root, imds_endpoint, sys_class_net, STATE["cli"] or oci_cli())
    lib.boot = boot
    lib.report_failure = report_failure
    lib.run = run


def run(cmd, check=True, **kw):
    """The library's run(); a best-effort command (check=False) the image lacks
    (e.g. chronyc) is skipped instead of ending the boot."""
    if not check and shutil.which(cmd[0]) is None:
        log("skipped, %s is not installed: %s" % (cmd[0], " ".join(cmd)))
        return subprocess.CompletedProcess(cmd, 0)
    return library_run(cmd, check=check, **kw)


_wire()


def main():
    """The library's command line, with OCI's metadata, prepare, boot and failure banner."""
    lib.main()


if __name__ == "__main__":
    main()
