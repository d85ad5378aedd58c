#!/usr/bin/env python3
# flat6: first boot of an AWS node. cloud-init has written flat6's rendered
# files (kernel settings, kubeadm, CNI) with stand-ins for what only the running
# instance knows. This script asks the instance metadata service (IMDSv2, over
# IPv6) for the node's host name, IPv6 address and delegated /80, finds the
# uplink by its MAC, rewrites the stand-ins in place, then installs containerd and kubeadm and runs
# `kubeadm init` or `kubeadm join`.
#
# Steps that depend on the network (apt-get, the package key download, the API
# endpoint's name, kubeadm init/join) are retried a bounded number of times;
# every attempt is logged as "attempt n of N", with what failed and the wait
# before the next. When a step fails for good, the script prints a BOOT FAILED
# banner, writes /var/lib/flat6/boot-failed and exits 1 (cloud-init then
# reports the run as failed). Rerun by hand: flat6-aws-boot boot --config ...
#
#   flat6-aws-boot prepare --config /etc/flat6/aws-boot.json [--root DIR]
#       discover and rewrite only (no packages, no kubeadm)
#   flat6-aws-boot boot --config /etc/flat6/aws-boot.json
#       everything; cloud-init runs this once per instance
#
# FLAT6_IMDS_ENDPOINT overrides the metadata endpoint and FLAT6_SYS_CLASS_NET
# the interface directory (for tests).
import argparse
import ipaddress
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

IMDS_DEFAULT = "http://[fd00:ec2::254]"
LOG_PREFIX = "flat6-aws-boot: "
STATE_DIR = "/var/lib/flat6"
SCRIPT_PATH = "/usr/local/sbin/flat6-aws-boot"

# Retry policy per step: (attempts, first wait in seconds, longest wait).
# Waits double from the first up to the longest.
RETRY = {
    # package indexes and packages, through NAT64 for IPv4-only mirrors
    "apt": (6, 10, 60),
    # the pkgs.k8s.io signing key
    "download": (6, 10, 60),
    # the API load balancer's DNS name: a new load balancer's name can take
    # a few minutes to appear
    "resolve": (60, 10, 10),
    # kubeadm init: reset and start over (the other nodes join only after
    # init has created the bootstrap token, one of its last steps)
    "init": (3, 60, 60),
    # kubeadm join: waits for the first control plane behind the load
    # balancer (packages, init, health checks): 90 x 30 s = 45 minutes
    "join": (90, 30, 30),
}

# Replaced by tests.
sleep = time.sleep
resolver = socket.getaddrinfo


def log(msg):
    print(LOG_PREFIX + msg, flush=True)


class BootFailure(Exception):
    """A step failed for good: the boot stops here and says so."""


class StepError(Exception):
    """One attempt of a step failed (retried)."""


def fail(msg):
    raise BootFailure(msg)


def describe(e):
    if isinstance(e, subprocess.CalledProcessError):
        cmd = e.cmd if isinstance(e.cmd, (list, tuple)) else [str(e.cmd)]
        return "`%s` exited with status %d" % (" ".join(str(c) for c in cmd), e.returncode)
    return "%s: %s" % (type(e).__name__, e)


def retry(what, action, policy, before_retry=None):
    """Run action() until it returns, at most `attempts` times. Failing
    attempts (a command's non-zero exit, StepError, OSError such as a DNS or
    connection error) are logged with the wait before the next; the last one
    raises BootFailure. A missing command is not retried."""
    attempts, wait, longest = policy
    for n in range(1, attempts + 1):
        log("%s: attempt %d of %d" % (what, n, attempts))
        try:
            result = action()
        except FileNotFoundError as e:
            raise BootFailure("%s: %s" % (what, describe(e)))
        except (subprocess.CalledProcessError, StepError, OSError) as e:
            reason = describe(e)
            if n == attempts:
                raise BootFailure("%s failed %d time(s), giving up; last error: %s" % (what, attempts, reason))
            log("%s: attempt %d of %d failed: %s; next attempt in %d s" % (what, n, attempts, reason, wait))
            if before_retry is not None:
                before_retry()
            sleep(wait)
            wait = min(wait * 2, longest)
            continue
        if n > 1:
            log("%s: succeeded at attempt %d of %d" % (what, n, attempts))
        return result
    raise BootFailure("%s: no attempt allowed" % what)


def report_failure(message, state_dir=None, rerun=None, prefix=None):
    """Make the end of a failed boot impossible to miss: a banner on stderr
    (cloud-init-output.log and the serial console) and a marker file.
    `rerun` and `prefix` let another cloud's boot script (which loads this one
    as a library) name its own command and log prefix."""
    state_dir = state_dir or STATE_DIR
    rerun = rerun or "python3 %s boot --config /etc/flat6/aws-boot.json" % SCRIPT_PATH
    prefix = prefix or LOG_PREFIX
    rule = "=" * 72
    for line in (
        rule,
        "BOOT FAILED: " + message,
        "This node has NOT joined the cluster. Every attempt is logged above.",
        "Fix the cause, then run again: " + rerun,
        rule,
    ):
        print(prefix + line, file=sys.stderr, flush=True)
    try:
        os.makedirs(state_dir, exist_ok=True)
        with open(os.path.join(state_dir, "boot-failed"), "w") as f:
            f.write(message + "\n")
    except OSError as e:
        print(prefix + "could not write %s/boot-failed: %s" % (state_dir, e), file=sys.stderr, flush=True)


class Imds:
    """IMDSv2: a session token from PUT, then GETs that carry it."""

    def __init__(self, endpoint):
        self.endpoint = endpoint.rstrip("/")
        self.token = None

    def _token(self):
        req = urllib.request.Request(
            self.endpoint + "/latest/api/token",
            method="PUT",
            headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"},
        )
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.read().decode().strip()

    def get(self, path, attempts=60, delay=2.0):
        last = None
        for n in range(1, attempts + 1):
            try:
                if self.token is None:
                    self.token = self._token()
                req = urllib.request.Request(
                    self.endpoint + "/latest/meta-data/" + path,
                    headers={"X-aws-ec2-metadata-token": self.token},
                )
                with urllib.request.urlopen(req, timeout=5) as r:
                    return r.read().decode().strip()
            except urllib.error.HTTPError as e:
                last = e
                if e.code == 401:
                    self.token = None
                elif e.code == 404:
                    # Not there (yet): prefixes can appear a moment after launch.
                    pass
                else:
                    raise
            except (urllib.error.URLError, OSError) as e:
                last = e
            if n < attempts:
                log("instance metadata %s: attempt %d of %d failed: %s; next attempt in %g s" % (path, n, attempts, last, delay))
                sleep(delay)
        raise BootFailure("instance metadata %s unavailable after %d attempts: %s" % (path, attempts, last))


def discover(imds, expected_address, sys_class_net):
    mac = imds.get("mac").lower()
    base = "network/interfaces/macs/%s/" % mac
    addresses = [a for a in imds.get(base + "ipv6s").split() if a]
    if not addresses:
        fail("no IPv6 address on interface %s; the subnet must assign IPv6 on create" % mac)
    if expected_address:
        want = ipaddress.IPv6Address(expected_address)
        if not any(ipaddress.IPv6Address(a) == want for a in addresses):
            fail("this control-plane node should hold %s but has %s" % (want, ", ".join(addresses)))
        address = want
    else:
        address = ipaddress.IPv6Address(addresses[0])
    prefixes = [p for p in imds.get(base + "ipv6-prefix").split() if p]
    if not prefixes:
        fail("no delegated IPv6 prefix on interface %s; the launch template must set ipv6PrefixCount 1" % mac)
    prefix = ipaddress.IPv6Network(prefixes[0])
    if prefix.prefixlen != 80:
        fail("delegated prefix %s is not a /80" % prefix)
    hostname = imds.get("local-hostname").split()[0].lower()
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
    return {"mac": mac, "address": address, "prefix": prefix, "hostname": hostname, "uplink": uplink}


# An IPv6 literal, optionally with a prefix length; never part of a longer token.
TOKEN = re.compile(r"(?<![0-9A-Za-z:.])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,8})(/\d{1,3})?(?![0-9A-Za-z:])")


def make_rewriter(sentinels, found):
    block = ipaddress.IPv6Network(sentinels["block"])
    s_addr = ipaddress.IPv6Address(sentinels["address"])
    s_prefix = ipaddress.IPv6Network(sentinels["podPrefix"])
    real_prefix = found["prefix"]
    problems = []

    def one(m):
        text, length = m.group(1), m.group(2) or ""
        try:
            a = ipaddress.IPv6Address(text)
        except ValueError:
            return m.group(0)
        if a not in block:
            return m.group(0)
        if a == s_addr:
            return str(found["address"]) + length
        if a in s_prefix:
            offset = int(a) - int(s_prefix.network_address)
            return str(ipaddress.IPv6Address(int(real_prefix.network_address) + offset)) + length
        problems.append(text + length)
        return m.group(0)

    def rewrite(content):
        out = TOKEN.sub(one, content).replace(sentinels["hostname"], found["hostname"])
        if found["uplink"]:
            out = out.replace(sentinels["interface"], found["uplink"])
        return out

    return rewrite, problems


def write_atomic(path, content, mode):
    tmp = path + ".flat6-tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(content)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def prepare(cfg, root, imds_endpoint, sys_class_net):
    imds = Imds(imds_endpoint)
    found = discover(imds, cfg.get("expectedAddress"), sys_class_net)
    log("host %s, address %s, pod prefix %s, uplink %s" % (found["hostname"], found["address"], found["prefix"], found["uplink"]))
    rewrite, problems = make_rewriter(cfg["sentinels"], found)
    for rel in cfg["files"]:
        path = os.path.join(root, rel.lstrip("/"))
        mode = os.stat(path).st_mode & 0o7777
        with open(path) as f:
            content = f.read()
        new = rewrite(content)
        for what in ("hostname", "interface"):
            if cfg["sentinels"][what] in new:
                problems.append("%s stand-in in %s" % (what, rel))
        write_atomic(path, new, mode)
    if problems:
        fail("stand-ins flat6 cannot fill in: %s" % ", ".join(sorted(set(problems))))
    # The uplink learns its default route from router advertisements; with
    # forwarding on, the kernel ignores them unless accept_ra = 2. Only the
    # uplink: pod interfaces keep accept_ra = 0 from flat6's sysctl file.
    if found["uplink"]:
        sysctl_dir = os.path.join(root, "etc/sysctl.d")
        os.makedirs(sysctl_dir, exist_ok=True)
        write_atomic(
            os.path.join(sysctl_dir, "99-zz-flat6-aws.conf"),
            "# flat6: the uplink %s takes its default route from router advertisements.\n"
            "net.ipv6.conf.%s.accept_ra = 2\n" % (found["uplink"], found["uplink"]),
            0o644,
        )
    return found


def run(cmd, check=True, **kw):
    log("$ " + " ".join(cmd))
    return subprocess.run(cmd, check=check, **kw)


APT_OPTIONS = [
    # Ubuntu's first boot often runs unattended-upgrades: wait for its lock
    # instead of failing at once.
    "-o", "DPkg::Lock::Timeout=600",
    "-o", "Acquire::Retries=3",
]


def apt_get(args, what, policy=None):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get"] + APT_OPTIONS + list(args)
    retry(what, lambda: run(cmd, env=env), policy or RETRY["apt"])


def download(url, what, policy=None):
    def once():
        return subprocess.run(["curl", "-fsSL", "--connect-timeout", "20", "--max-time", "120", url], check=True, capture_output=True).stdout

    return retry(what, once, policy or RETRY["download"])


def install_packages(version):
    m = re.match(r"^v?(\d+)\.(\d+)\.(\d+)$", version)
    if not m:
        fail("unexpected Kubernetes version %s" % version)
    minor = "v%s.%s" % (m.group(1), m.group(2))
    exact = "%s.%s.%s" % m.groups()
    apt_get(["update", "-q"], "apt-get update (Ubuntu)")
    apt_get(["install", "-y", "-q", "ca-certificates", "curl", "gpg", "containerd"], "apt-get install containerd")
    os.makedirs("/etc/apt/keyrings", exist_ok=True)
    key = download("https://pkgs.k8s.io/core:/stable:/%s/deb/Release.key" % minor, "download the pkgs.k8s.io signing key")
    run(["gpg", "--batch", "--yes", "--dearmor", "-o", "/etc/apt/keyrings/kubernetes-apt-keyring.gpg"], input=key)
    write_atomic(
        "/etc/apt/sources.list.d/kubernetes.list",
        "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/%s/deb/ /\n" % minor,
        0o644,
    )
    apt_get(["update", "-q"], "apt-get update (pkgs.k8s.io)")
    apt_get(["install", "-y", "-q", "kubelet=%s-*" % exact, "kubeadm=%s-*" % exact, "kubectl=%s-*" % exact], "apt-get install kubelet kubeadm kubectl %s" % exact)
    run(["apt-mark", "hold", "kubelet", "kubeadm", "kubectl"])
    config = subprocess.run(["containerd", "config", "default"], check=True, capture_output=True, text=True).stdout
    config = config.replace("SystemdCgroup = false", "SystemdCgroup = true")
    os.makedirs("/etc/containerd", exist_ok=True)
    write_atomic("/etc/containerd/config.toml", config, 0o644)
    run(["systemctl", "restart", "containerd"])
    run(["systemctl", "enable", "kubelet"])


def is_ip_literal(host):
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def wait_for_endpoint(endpoint, policy=None):
    """Wait until the API endpoint's name has IPv6 addresses (the VPC
    resolver answers the load balancer's AAAA records). A literal needs no
    lookup."""
    host, port = endpoint["host"], int(endpoint["port"])
    if is_ip_literal(host):
        return [host]

    def once():
        try:
            infos = resolver(host, port, socket.AF_INET6, socket.SOCK_STREAM)
        except socket.gaierror as e:
            raise StepError("no IPv6 address for %s: %s" % (host, e))
        addresses = sorted({i[4][0] for i in infos})
        if not addresses:
            raise StepError("no IPv6 address for %s" % host)
        return addresses

    addresses = retry("resolve the API endpoint %s (AAAA)" % host, once, policy or RETRY["resolve"])
    log("API endpoint %s:%d resolves to %s" % (host, port, ", ".join(addresses)))
    return addresses


def kubeadm(role, config_path, policy=None):
    def reset():
        log("kubeadm reset -f before the next attempt")
        run(["kubeadm", "reset", "-f"], check=False)

    if role == "init":
        retry("kubeadm init", lambda: run(["kubeadm", "init", "--config", config_path, "--upload-certs"]), policy or RETRY["init"], before_retry=reset)
        return
    # Joining waits for the first control plane behind the load balancer.
    what = "kubeadm join (control plane)" if role == "join-control-plane" else "kubeadm join"
    retry(what, lambda: run(["kubeadm", "join", "--config", config_path]), policy or RETRY["join"], before_retry=reset)


def boot(cfg, imds_endpoint, sys_class_net):
    marker = os.path.join(STATE_DIR, "booted")
    if os.path.exists(marker):
        log("already booted (%s); nothing to do" % marker)
        return
    prepare(cfg, "/", imds_endpoint, sys_class_net)
    if any(f.startswith("/etc/netplan/") for f in cfg["files"]):
        # Adds the discard route of the node's /80 to the uplink cloud-init configured.
        run(["netplan", "apply"])
    run(["systemctl", "restart", "systemd-modules-load"], check=False)
    run(["modprobe", "br_netfilter"], check=False)
    run(["sysctl", "--system"])
    run(["systemctl", "restart", "systemd-resolved"], check=False)
    run(["chronyc", "reload", "sources"], check=False)
    install_packages(cfg["kubernetesVersion"])
    if cfg.get("apiEndpoint"):
        wait_for_endpoint(cfg["apiEndpoint"])
    kubeadm(cfg["role"], cfg["kubeadmConfig"])
    os.makedirs(os.path.dirname(marker), exist_ok=True)
    with open(marker, "w") as f:
        f.write("ok\n")
    failed = os.path.join(STATE_DIR, "boot-failed")
    if os.path.exists(failed):
        os.remove(failed)
    log("done: %s" % cfg["role"])


def main():
    p = argparse.ArgumentParser(prog="flat6-aws-boot")
    p.add_argument("command", choices=["prepare", "boot"])
    p.add_argument("--config", required=True)
    p.add_argument("--root", default="/")
    a = p.parse_args()
    with open(a.config) as f:
        cfg = json.load(f)
    imds_endpoint = os.environ.get("FLAT6_IMDS_ENDPOINT", cfg.get("imds", IMDS_DEFAULT))
    sys_class_net = os.environ.get("FLAT6_SYS_CLASS_NET", "/sys/class/net")
    if a.command == "prepare":
        try:
            found = prepare(cfg, a.root, imds_endpoint, sys_class_net)
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
            report_failure("unexpected %s" % describe(e))
            raise


if __name__ == "__main__":
    main()
