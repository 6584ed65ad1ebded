#!/usr/bin/env bash
# Measures issue 13's figures side by side in one run, each gateway and the
# demo upstream in processes of their own, driven by cmd/loadtest (the
# gateway's own CPU per request comes from /proc/<pid>/stat):
#
#   1. compression: { projects { code ennis { reference } } } on 500
#      projects / 2,000 doors, without the shared cache (cold) and with it
#      warm, for no Accept-Encoding, gzip and zstd, interleaved over ROUNDS
#      rounds: bytes on the wire and gateway CPU per request;
#   2. SWR: an upstream answering in 300 ms, COVAGE_CACHE_TTL=1s, one client
#      asking every 100 ms for 10 s (after one unmeasured request), with
#      SWR and refresh-ahead off, SWR alone, and the defaults;
#   3. billing sites, 50 codes of which 8 unknown, upstream latency 20 ms,
#      warm cache, with 404s not remembered (before) and remembered (after).
#
# Usage: test/bench/delivery.sh [duration, default 10s] [rounds, default 2]
# Ports 19180-19199 on 127.0.0.1 must be free. Every process it starts is
# stopped by its PID when it ends.
set -euo pipefail
cd "$(dirname "$0")/../.."
D=${1:-10s}
ROUNDS=${2:-2}
BIN=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$BIN"; }
trap cleanup EXIT

go build -o "$BIN/gateway" .
go build -o "$BIN/loadtest" ./cmd/loadtest

wait_up() { for _ in $(seq 100); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "not up: $1" >&2; exit 1; }

upstream() { # port latency
  "$BIN/loadtest" -serve-demo "127.0.0.1:$1" -demo-size 500,2000,50 -demo-latency "$2" 2>/dev/null &
  PIDS+=($!)
  wait_up "http://127.0.0.1:$1/_demo/stats"
}

GW=0
gateway() { # port upstream-port env...
  local port=$1 up=$2; shift 2
  env "$@" PORT="$port" COVAGE_API_URL="http://127.0.0.1:$up" LOG_LEVEL=error "$BIN/gateway" 2>/dev/null &
  GW=$!
  PIDS+=($GW)
  wait_up "http://127.0.0.1:$port/healthz"
}

stop() { kill "$1"; wait "$1" 2>/dev/null || true; }

load() { # port upstream-port query extra-flags...
  local port=$1 up=$2 q=$3; shift 3
  "$BIN/loadtest" -json -url "http://127.0.0.1:$port/query" -d "$D" -pid "$GW" \
    -upstream-stats "http://127.0.0.1:$up/_demo/stats" -query "$q" "$@"
}

echo "# $(date -u +%FT%TZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(go version | cut -d' ' -f3)"

Q='{ projects { code ennis { reference } } }'
upstream 19180 0
echo "## compression: projects_ennis, 16 clients, $D per run, $ROUNDS rounds"
echo "| cache | Accept-Encoding | bytes on the wire | gateway CPU/request (ms, each round) | p50 ms | upstream/request |"
echo "|---|---|---|---|---|---|"
for mode in cold warm; do
  if [ $mode = cold ]; then gateway 19181 19180 COVAGE_CACHE_TTL=0; else gateway 19181 19180; fi
  declare -A cpu=() p50=() bytes=() ups=()
  for r in $(seq "$ROUNDS"); do
    for enc in identity gzip zstd; do
      flag=(); [ $enc != identity ] && flag=(-accept-encoding "$enc")
      out=$(load 19181 19180 "$Q" -c 16 "${flag[@]}")
      read -r b c p u < <(python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["resp_bytes"], "%.3f"%(r["cpu_per_request_ns"]/1e6), "%.2f"%(r["p50_ns"]/1e6), "%.2f"%r["upstream_per_request"])' <<<"$out")
      bytes[$enc]=$b; cpu[$enc]="${cpu[$enc]:-} $c"; p50[$enc]="${p50[$enc]:-} $p"; ups[$enc]=$u
    done
  done
  for enc in identity gzip zstd; do
    echo "| $mode | $enc | ${bytes[$enc]} | ${cpu[$enc]} | ${p50[$enc]} | ${ups[$enc]} |"
  done
  stop "$GW"
done

R='{ terminateReasons { code label } changeReasons { code label } }'
upstream 19182 300ms
echo "## SWR: upstream latency 300 ms, COVAGE_CACHE_TTL=1s, 1 client every 100 ms for $D"
echo "| settings | requests | p50 ms | p90 ms | p99 ms | upstream calls/s |"
echo "|---|---|---|---|---|---|"
for setting in "COVAGE_CACHE_SWR=0 COVAGE_REFRESH_AHEAD=false" "COVAGE_REFRESH_AHEAD=false" "(defaults: SWR 1m, refresh-ahead on)"; do
  if [ "${setting:0:1}" = "(" ]; then gateway 19183 19182 COVAGE_CACHE_TTL=1s; else gateway 19183 19182 COVAGE_CACHE_TTL=1s $setting; fi
  out=$(load 19183 19182 "$R" -c 1 -every 100ms -warmup 1)
  python3 -c 'import json,sys; r=json.load(sys.stdin); s=r["elapsed_ns"]/1e9; print("| %s | %d | %.2f | %.2f | %.2f | %.2f |"%(sys.argv[1], r["requests"], r["p50_ns"]/1e6, r["p90_ns"]/1e6, r["p99_ns"]/1e6, r["upstream_per_request"]*r["requests"]/s))' "$setting" <<<"$out"
  stop "$GW"
done

B=$(python3 -c 'print("{ billingSites(codes: [" + ", ".join(["\"BS%04d\"" % (i % 42 + 1) for i in range(42)] + ["\"XX%04d\"" % i for i in range(8)]) + "]) { code description } }")')
upstream 19184 20ms
echo "## billing sites: 50 codes, 8 unknown, upstream latency 20 ms, warm, 16 clients, $D"
echo "| settings | p50 ms | p99 ms | upstream/request | gateway CPU/request ms |"
echo "|---|---|---|---|---|"
for setting in "COVAGE_CACHE_TTL_NOT_FOUND=0" "COVAGE_CACHE_TTL_NOT_FOUND=1m"; do
  gateway 19185 19184 $setting
  out=$(load 19185 19184 "$B" -c 16)
  python3 -c 'import json,sys; r=json.load(sys.stdin); print("| %s | %.2f | %.2f | %.2f | %.3f |"%(sys.argv[1], r["p50_ns"]/1e6, r["p99_ns"]/1e6, r["upstream_per_request"], r["cpu_per_request_ns"]/1e6))' "$setting" <<<"$out"
  stop "$GW"
done
