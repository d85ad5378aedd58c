#!/bin/bash
# flat6: keepalived health check for rack0-n1 (cluster scale, stack scale).
# Succeeds while the local haproxy accepts TCP connections on [::1]:6443, the
# frontend of the API endpoint [2001:db8:4000::100]:6443. keepalived runs it every
# second as user nobody; two failures in a row release the VIP to the next node.
# It does not probe the local kube-apiserver: haproxy routes around a dead API
# server by itself, and moving the VIP would only add a failover.
exec 3<>"/dev/tcp/::1/6443"
