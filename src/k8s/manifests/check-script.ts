/**
 * The conformance checker (bash, in the agnhost image: bash, curl, dig, BusyBox
 * ping and awk). It reads its settings from the environment only, so no stack
 * value is spliced into its text. Subcommands:
 *   check.sh            the whole check (the Job runs this)
 *   check.sh services   check a Service list (YAML, as the API server writes it) on stdin
 *   check.sh rack ADDR  print the rack index of a pod address (or "outside")
 * The awk programs stay within POSIX awk, so BusyBox awk, mawk and gawk agree.
 */

/** awk functions: an IPv6 address as 128 bits, and the rack of a pod address. */
const AWK_ADDR = String.raw`
function pad4(g) { while (length(g) < 4) g = "0" g; return g }
function expand(a,   i, head, tail, nh, nt, k, out, H, T) {
  if (a !~ /^[0-9a-fA-F:]+$/) return ""
  i = index(a, "::")
  if (i) { head = substr(a, 1, i - 1); tail = substr(a, i + 2) } else { head = a; tail = "" }
  nh = (head == "") ? 0 : split(head, H, ":")
  nt = (tail == "") ? 0 : split(tail, T, ":")
  if ((!i && nh != 8) || (i && nh + nt > 7)) return ""
  out = ""
  for (k = 1; k <= nh; k++) { if (length(H[k]) > 4 || H[k] == "") return ""; out = out pad4(H[k]) }
  for (k = 0; k < 8 - nh - nt; k++) out = out "0000"
  for (k = 1; k <= nt; k++) { if (length(T[k]) > 4 || T[k] == "") return ""; out = out pad4(T[k]) }
  return tolower(out)
}
function bitstring(hex,   k, d, b, out) {
  out = ""
  for (k = 1; k <= 32; k++) {
    d = index("0123456789abcdef", substr(hex, k, 1)) - 1
    for (b = 8; b >= 1; b = b / 2) out = out (int(d / b) % 2)
  }
  return out
}
function rack(addr, range, plen, rlen,   a, r, k, v) {
  a = expand(addr); r = expand(range)
  if (a == "" || r == "") return "invalid"
  a = bitstring(a); r = bitstring(r)
  if (substr(a, 1, plen) != substr(r, 1, plen)) return "outside"
  v = 0
  for (k = plen + 1; k <= rlen; k++) v = v * 2 + substr(a, k, 1)
  return v
}
`;

/** awk: PASS/FAIL per Service of a ServiceList in the API server's YAML; exit 1 if any is not IPv6 single-stack. */
const AWK_SERVICES = String.raw`
function unq(v) { gsub(/"/, "", v); return v }
function flush() {
  if (!have) return
  if (type == "ExternalName") print "PASS service " ns "/" name ": ExternalName (no cluster address)"
  else if (fams == "IPv6") print "PASS service " ns "/" name ": ipFamilies [IPv6]"
  else { print "FAIL service " ns "/" name ": ipFamilies [" fams "], want [IPv6]"; bad = 1 }
  have = 0; count++
}
/^[^ -]/ { flush(); sect = ""; next }
/^- / { flush(); have = 1; name = ""; ns = ""; fams = ""; type = ""; sect = ""; infam = 0; sub(/^- /, "  ") }
have && /^  [A-Za-z]+:/ { sect = $1; infam = 0 }
have && sect == "metadata:" && /^    name: / { name = unq($2) }
have && sect == "metadata:" && /^    namespace: / { ns = unq($2) }
have && sect == "spec:" && /^    ipFamilies: *\[/ { v = $0; sub(/^[^[]*\[/, "", v); sub(/\].*$/, "", v); gsub(/[ "]/, "", v); fams = v; next }
have && sect == "spec:" && /^    ipFamilies:/ { infam = 1; next }
have && sect == "spec:" && infam && /^    - / { fams = fams (fams == "" ? "" : ",") unq($2); next }
have && sect == "spec:" && /^    [A-Za-z]/ { infam = 0 }
have && sect == "spec:" && /^    type: / { type = unq($2) }
END { flush(); if (count == 0) { print "FAIL services: the API server listed none"; bad = 1 } exit bad }
`;

export const CHECK_SCRIPT = `#!/bin/bash
# flat6 flat-network conformance check (docs/addons.md). Settings come from the
# environment: NAMESPACE, ECHO_NAME, DNS_DOMAIN, POD_RANGE, POD_RANGE_LENGTH,
# RACK_POD_LENGTH, MTU, PAIRS, TIMEOUT, ECHO_PORT, POD_IP.
set -u

AWK_ADDR='${AWK_ADDR}'
AWK_SERVICES='${AWK_SERVICES}'

rack_of() {
  awk -v addr="$1" -v range="\${POD_RANGE%/*}" -v plen="$POD_RANGE_LENGTH" -v rlen="$RACK_POD_LENGTH" "$AWK_ADDR"'BEGIN { print rack(addr, range, plen, rlen) }'
}
same_address() {
  awk -v a="$1" -v b="$2" "$AWK_ADDR"'BEGIN { x = expand(a); exit !(x != "" && x == expand(b)) }'
}
check_services() { awk "$AWK_SERVICES"; }

case "\${1:-run}" in
  rack) rack_of "$2"; exit 0 ;;
  services) check_services; exit $? ;;
  run) ;;
  *) echo "usage: $0 [run | services < list.yaml | rack ADDRESS]" >&2; exit 2 ;;
esac

SA=/var/run/secrets/kubernetes.io/serviceaccount
API="https://[\${KUBERNETES_SERVICE_HOST}]:\${KUBERNETES_SERVICE_PORT}"
failures=0
pods=()
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
api() {
  curl -sS --fail --max-time 30 --cacert "$SA/ca.crt" -H "Authorization: Bearer $(cat "$SA/token")" -H 'Accept: application/yaml' "$API$1"
}
snmp() { awk -v k="$1" '$1 == k { print $2 }' /proc/net/snmp6; }

echo "flat6 conformance: pod $POD_IP, rack $(rack_of "$POD_IP"), pod range $POD_RANGE, racks /$RACK_POD_LENGTH, MTU $MTU"

# 1. Every echo pod ready.
deadline=$((SECONDS + TIMEOUT))
while :; do
  ds=$(api "/apis/apps/v1/namespaces/$NAMESPACE/daemonsets/$ECHO_NAME") || ds=""
  desired=$(printf '%s\\n' "$ds" | awk '/^  desiredNumberScheduled:/ { print $2 }')
  ready=$(printf '%s\\n' "$ds" | awk '/^  numberReady:/ { print $2 }')
  if [ -n "$desired" ] && [ "$desired" -gt 0 ] && [ "$desired" = "\${ready:-0}" ]; then
    mapfile -t pods < <(dig +tcp +short AAAA "$ECHO_NAME.$NAMESPACE.svc.$DNS_DOMAIN" | grep ':' | sort -u)
    [ "\${#pods[@]}" -ge "$desired" ] && break
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    fail "echo pods: \${ready:-0} of \${desired:-?} ready, \${#pods[@]} in DNS after \${TIMEOUT}s"
    exit 1
  fi
  sleep 5
done
pass "echo pods: $desired ready, every one in DNS (AAAA of $ECHO_NAME.$NAMESPACE.svc.$DNS_DOMAIN)"

# 2. Every pod address lies in the pod range; group them by rack.
declare -A members=()
for ip in "\${pods[@]}"; do
  r=$(rack_of "$ip")
  case "$r" in
    outside|invalid) fail "pod address $ip is not in the pod range $POD_RANGE (overlay or NAT?)"; continue ;;
  esac
  members[$r]="\${members[$r]:-} $ip"
done
mapfile -t racks < <(printf '%s\\n' "\${!members[@]}" | sort -n)
pass "pod addresses: \${#pods[@]} in \${#racks[@]} rack(s) of $POD_RANGE"

# 3. Pod to pod for sampled node pairs of every rack pair: reached, source address kept, large transfers pass.
big=$(printf '%*s' $((2 * MTU)) '' | tr ' ' x)
for ((i = 0; i < \${#racks[@]}; i++)); do
  read -r -a A <<< "\${members[\${racks[i]}]}"
  for ((j = i; j < \${#racks[@]}; j++)); do
    read -r -a B <<< "\${members[\${racks[j]}]}"
    pair="rack \${racks[i]} -> rack \${racks[j]}"
    for ((k = 0; k < PAIRS; k++)); do
      client=\${A[k % \${#A[@]}]}
      server=\${B[(k + (i == j ? 1 : 0)) % \${#B[@]}]}
      if [ "$client" = "$server" ]; then
        [ "$k" -eq 0 ] && pass "$pair: one echo pod in the rack, no pair inside it"
        continue
      fi
      seen=$(curl -sS -g --max-time 15 "http://[$client]:$ECHO_PORT/dial?request=clientip&protocol=http&host=$server&port=$ECHO_PORT&tries=1" | sed -n 's/.*"responses":\\["\\[\\([0-9a-fA-F:]*\\)\\]:[0-9]*".*/\\1/p')
      if [ -z "$seen" ]; then fail "$pair: $client could not reach $server:$ECHO_PORT"; continue; fi
      if same_address "$seen" "$client"; then pass "$pair: $client -> $server, source address kept"
      else fail "$pair: $client -> $server arrived from $seen (SNAT or overlay)"; fi
      echoed=$(curl -sS -g --max-time 15 "http://[$client]:$ECHO_PORT/dial?request=echo%3Fmsg%3D$big&protocol=http&host=$server&port=$ECHO_PORT&tries=1")
      case "$echoed" in
        *"$big"*) pass "$pair: $((2 * MTU))-byte response in full-size segments" ;;
        *) fail "$pair: $((2 * MTU))-byte response from $server did not arrive (MTU black hole?)" ;;
      esac
    done
  done
done

# 4. Full-size packets with no fragmentation, from this pod to every rack.
size=$((MTU - 48))
for r in "\${racks[@]}"; do
  read -r -a R <<< "\${members[$r]}"
  target=\${R[0]}
  big0=$(snmp Icmp6InPktTooBigs); frag0=$(snmp Ip6FragCreates)
  if ping -c 3 -W 3 -s "$size" "$target" > /dev/null 2>&1; then
    big1=$(snmp Icmp6InPktTooBigs); frag1=$(snmp Ip6FragCreates)
    if [ "$big1" = "$big0" ] && [ "$frag1" = "$frag0" ]; then pass "rack $r: $MTU-byte packets to $target, unfragmented, no Packet Too Big"
    else fail "rack $r: $MTU-byte packets to $target needed fragmentation or drew a Packet Too Big (path MTU below $MTU)"; fi
  else
    fail "rack $r: no reply to $MTU-byte packets from $target (MTU black hole, or ICMPv6 blocked)"
  fi
done

# 5. Every Service in the cluster is IPv6 single-stack.
if list=$(api "/api/v1/services"); then
  printf '%s\\n' "$list" | check_services || failures=$((failures + 1))
else
  fail "services: cannot list them through the API"
fi

if [ "$failures" -gt 0 ]; then echo "flat6 conformance: $failures check(s) FAILED"; exit 1; fi
echo "flat6 conformance: all checks passed"
`;
