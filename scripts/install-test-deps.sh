#!/usr/bin/env bash
# Installs the Debian packages the test suite runs for real: netplan (netplan
# generate), iproute2 (network namespaces), procps (sysctl), the CNI plugins,
# BIRD 2, keepalived, haproxy, python3 (the AWS node boot script), etcd and
# etcdctl (the etcd backup test), openssl (its certificates) and busybox (the
# conformance script's awk as the image runs it). Idempotent: installs only what is missing.
set -euo pipefail

# command -> Debian package
declare -A NEED=(
  [netplan]=netplan.io
  [ip]=iproute2
  [sysctl]=procps
  [ping]=iputils-ping
  [bird]=bird2
  [birdc]=bird2
  [keepalived]=keepalived
  [haproxy]=haproxy
  [openssl]=openssl
  [etcd]=etcd-server
  [etcdctl]=etcd-client
  [unshare]=util-linux
  [busybox]=busybox
  [python3]=python3
)
missing=()
for cmd in "${!NEED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEED[$cmd]}")
done
[ -x /usr/lib/cni/ptp ] && [ -x /usr/lib/cni/host-local ] || missing+=(containernetworking-plugins)
# Jinja2 for Debian's python3: bench/render-peer.mjs renders the same files with it (not the tests)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import jinja2' >/dev/null 2>&1 || missing+=(python3-jinja2)

if [ ${#missing[@]} -eq 0 ]; then
  echo "test dependencies: all present"
  exit 0
fi
# de-duplicate
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" -ne 0 ]; then
  echo "test dependencies missing: ${missing[*]}" >&2
  echo "run as root, or: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing test dependencies: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "test dependencies: installed"
