# shellcheck shell=bash
# The WAN test bed, sourced by bench/wan/wan.sh: two network namespaces, a shaped link between them (the
# program bench/wan/link.c on a TUN device in each) and a plain veth pair beside it, and the checks that the
# link delivers the round trip, the loss and the rate asked for (ping and iperf3).
#
#   fxwan-a (servers)                                      fxwan-b (clients)
#     fxwan0  10.77.0.1  <-- link.c: delay, loss, rate -->  fxwan0  10.77.0.2
#     fxwan-va 10.77.1.1 <------- veth, no shaping ------>  fxwan-vb 10.77.1.2
#
# Every address lives inside these two namespaces; nothing is routed anywhere else. wan_down removes them
# (and stops whatever still runs in them, and a link program a run left behind), and is run before wan_up.

WAN_NS_A=fxwan-a
WAN_NS_B=fxwan-b
WAN_DEV=fxwan0
WAN_TUN_A=10.77.0.1
WAN_TUN_B=10.77.0.2
WAN_VETH_A=10.77.1.1
WAN_VETH_B=10.77.1.2
WAN_STATE=/run/fxwan # the link program's pid, so that the next run can stop one a killed run left behind
WAN_LINK= # the link program, set by the caller
WAN_LINK_LOG=/dev/null # its stderr (settings and counters), set by the caller
wan_link_pid=

wan_log() { echo "wan: $*" >&2; }

# Runs a command in a namespace (nsenter: no mount namespace or /sys remount, unlike `ip netns exec`).
wan_in() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@"; }

wan_link_stop() {
  local pid=${wan_link_pid:-}
  if [[ -z $pid && -s $WAN_STATE/link.pid ]]; then
    pid=$(<"$WAN_STATE/link.pid")
    # Only a link program of ours: its command line names our namespaces.
    [[ $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) == *"--ns-a $WAN_NS_A --ns-b $WAN_NS_B"* ]] || pid=
  fi
  if [[ -n $pid ]]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
  fi
  wan_link_pid=
  rm -f "$WAN_STATE/link.pid"
}

wan_down() {
  wan_link_stop
  local ns pid
  for ns in $(ip netns list | awk '$1 ~ /^fxwan-/ { print $1 }'); do
    # What still runs there was started by a run of this script (a server, iperf3): stopped by its id.
    for pid in $(ip netns pids "$ns"); do kill "$pid" 2>/dev/null || true; done
    for _ in $(seq 100); do [[ -z $(ip netns pids "$ns") ]] && break; sleep 0.02; done
    for pid in $(ip netns pids "$ns"); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns delete "$ns"
  done
  rm -rf "$WAN_STATE"
}

# The host's congestion control (BBR here) and socket buffer limits in both namespaces, so that they behave as
# this host would; prints what was set, for the report.
wan_tcp_settings() {
  local ns cc available
  cc=$(sysctl -n net.ipv4.tcp_congestion_control)
  available=$(sysctl -n net.ipv4.tcp_available_congestion_control)
  if [[ " $available " == *" bbr "* ]]; then cc=bbr; else wan_log "BBR is not available here; keeping $cc"; fi
  for ns in "$WAN_NS_A" "$WAN_NS_B"; do
    wan_in "$ns" sysctl -q -w net.ipv4.tcp_congestion_control="$cc" \
      net.ipv4.tcp_rmem="$(sysctl -n net.ipv4.tcp_rmem)" net.ipv4.tcp_wmem="$(sysctl -n net.ipv4.tcp_wmem)"
  done
  echo "congestion control $(wan_in "$WAN_NS_B" sysctl -n net.ipv4.tcp_congestion_control)," \
    "tcp_rmem $(wan_in "$WAN_NS_B" sysctl -n net.ipv4.tcp_rmem | tr '\t' ' ')," \
    "tcp_wmem $(wan_in "$WAN_NS_B" sysctl -n net.ipv4.tcp_wmem | tr '\t' ' ')," \
    "net.core.wmem_max $(sysctl -n net.core.wmem_max), MTU 1500"
}

wan_up() {
  wan_down
  mkdir -p "$WAN_STATE"
  local ns
  for ns in "$WAN_NS_A" "$WAN_NS_B"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    # Persistent TUN devices: the addresses stay while the link program is restarted with other settings.
    ip -n "$ns" tuntap add dev "$WAN_DEV" mode tun
    ip -n "$ns" link set "$WAN_DEV" mtu 1500 txqueuelen 1000 up
  done
  ip -n "$WAN_NS_A" addr add "$WAN_TUN_A" peer "$WAN_TUN_B" dev "$WAN_DEV"
  ip -n "$WAN_NS_B" addr add "$WAN_TUN_B" peer "$WAN_TUN_A" dev "$WAN_DEV"
  ip link add fxwan-va netns "$WAN_NS_A" type veth peer name fxwan-vb netns "$WAN_NS_B"
  ip -n "$WAN_NS_A" addr add "$WAN_VETH_A/24" dev fxwan-va
  ip -n "$WAN_NS_B" addr add "$WAN_VETH_B/24" dev fxwan-vb
  ip -n "$WAN_NS_A" link set fxwan-va mtu 1500 up
  ip -n "$WAN_NS_B" link set fxwan-vb mtu 1500 up
}

# wan_link_start RTT_MS LOSS_PCT RATE_MBIT [more link options]: (re)starts the link program with these settings.
wan_link_start() {
  local rtt=$1 loss=$2 rate=$3
  shift 3
  wan_link_stop
  local ready=$WAN_STATE/link.ready
  : > "$ready"
  "$WAN_LINK" --ns-a "$WAN_NS_A" --ns-b "$WAN_NS_B" --dev "$WAN_DEV" --rtt-ms "$rtt" --loss-pct "$loss" \
    --rate-mbit "$rate" "$@" > "$ready" 2>> "$WAN_LINK_LOG" &
  wan_link_pid=$!
  echo "$wan_link_pid" > "$WAN_STATE/link.pid"
  for _ in $(seq 250); do
    grep -q ready "$ready" && return 0
    kill -0 "$wan_link_pid" 2>/dev/null || break
    sleep 0.02
  done
  wan_log "the link program did not start (see $WAN_LINK_LOG)"
  return 1
}

# The link's counters now (it prints them on SIGUSR1): "read lost queue_dropped" of each direction, a->b first.
wan_link_counters() {
  local before
  before=$(grep -c ' read ' "$WAN_LINK_LOG" || true)
  kill -USR1 "$wan_link_pid"
  for _ in $(seq 100); do
    [[ $(grep -c ' read ' "$WAN_LINK_LOG") -ge $((before + 2)) ]] && break
    sleep 0.01
  done
  tail -n 2 "$WAN_LINK_LOG" | awk '{ printf "%s %s %s ", $4, $6, $8 } END { print "" }'
}

# wan_iperf HOST_A STREAMS: iperf3 for 8 s from fxwan-b to HOST_A; prints the received rate in Mbit/s.
wan_iperf() {
  wan_in "$WAN_NS_A" iperf3 -s -1 -B "$1" -p 5201 > /dev/null 2>&1 &
  local server=$! rate_json
  sleep 0.3
  rate_json=$(wan_in "$WAN_NS_B" iperf3 -c "$1" -p 5201 -t 8 -P "$2" -J || true)
  wait "$server" 2>/dev/null || true
  python3 -c 'import json, sys; print(round(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))' \
    <<< "$rate_json" 2>/dev/null || echo failed
}

# wan_check LABEL HOST_A RTT LOSS RATE OUT_TSV: ping and iperf3 from fxwan-b to HOST_A; one line appended to
# OUT_TSV: label, asked round trip, ping min/avg/max/mdev, asked loss per direction, ping loss (a round trip
# crosses the link twice: 1-(1-p)^2 expected), the link's own loss per direction and queue drops while the
# checks ran (- on veth), asked rate, iperf3's received rate with 1 and with 4 streams (Mbit/s).
wan_check() {
  local label=$1 host=$2 rtt=$3 loss=$4 rate=$5 out=$6 ping_out counters_before='' counters_after='' link_loss=- p1 p4
  [[ $host == "$WAN_TUN_A" ]] && counters_before=$(wan_link_counters)
  ping_out=$(wan_in "$WAN_NS_B" ping -q -c 1000 -i 0.004 -W 2 "$host" || true)
  p1=$(wan_iperf "$host" 1)
  p4=$(wan_iperf "$host" 4)
  if [[ -n $counters_before ]]; then
    counters_after=$(wan_link_counters)
    link_loss=$(python3 -c '
import sys
b, a = [list(map(int, s.split())) for s in sys.argv[1:3]]
d = [y - x for x, y in zip(b, a)]
print(f"a->b {100 * d[1] / max(d[0], 1):.2f}%, b->a {100 * d[4] / max(d[3], 1):.2f}%; queue drops {d[2]}, {d[5]}")' \
      "$counters_before" "$counters_after")
  fi
  local ping_loss ping_rtt
  ping_loss=$(grep -o '[0-9.]*% packet loss' <<< "$ping_out" | cut -d% -f1)
  ping_rtt=$(sed -n 's|^rtt min/avg/max/mdev = \([0-9./]*\) ms.*|\1|p' <<< "$ping_out")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$rtt" "${ping_rtt:-failed}" "$loss" "${ping_loss:-failed}" \
    "$link_loss" "$rate" "$p1" "$p4" >> "$out"
  wan_log "check $label: ping rtt min/avg/max/mdev ${ping_rtt:-failed} ms, loss ${ping_loss:-?}%; link $link_loss;" \
    "iperf3 $p1 Mbit/s (1 stream), $p4 Mbit/s (4 streams)"
}
