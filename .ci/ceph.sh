#!/usr/bin/env bash
# A throw-away one-node Ceph cluster with a RADOS Gateway (S3) on 127.0.0.1, for the storage leg.
#
#   .ci/ceph.sh start   install (if missing) and start; prints `export ...` lines for the tests
#   .ci/ceph.sh stop    stop the daemons by their pid files and remove the folder
#   .ci/ceph.sh run CMD start, create the user and the buckets, run CMD with the S3_* variables
#                       set, stop on exit (trap), exit with CMD's status
#
# Facts from docs (ARCHITECTURE.md): one mon, one memstore OSD, no cephx (auth none) with crc
# messenger modes (otherwise rgw loops on get_initial_auth_request -13), pool size 1, fast paxos.
# Everything lives in CEPH_DIR (default: a new temp folder); daemons are stopped by their pids.
set -euo pipefail

CEPH_DIR="${CEPH_DIR:-}"
RGW_PORT="${RGW_PORT:-7480}"
MON_PORT="${MON_PORT:-6789}"
ACCESS_KEY="${CEPH_ACCESS_KEY:-PORTALCIACCESSKEY000}"
SECRET_KEY="${CEPH_SECRET_KEY:-portal-ci-secret-key-0000000000000000000}"

log() { printf '[ceph] %s\n' "$*" >&2; }

# retry N CMD...: run CMD until it succeeds, at most N times, 0.05 s apart.
retry() {
  local tries=$1 i
  shift
  for ((i = 1; i <= tries; i++)); do
    if "$@" 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  "$@"
}

install_if_missing() {
  if ! command -v radosgw >/dev/null || ! command -v ceph-mon >/dev/null \
     || ! command -v ceph-osd >/dev/null; then
    log "installing radosgw ceph-mon ceph-osd from Debian"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq radosgw ceph-mon ceph-osd >/dev/null
  fi
}

conf() { printf '%s/ceph.conf' "$CEPH_DIR"; }

write_conf() {
  local fsid=$1
  cat >"$(conf)" <<CONF
[global]
fsid = $fsid
mon host = [v1:127.0.0.1:$MON_PORT]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
ms cluster mode = crc
ms service mode = crc
ms client mode = crc
ms mon cluster mode = crc
ms mon service mode = crc
ms mon client mode = crc
ms bind msgr2 = false
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
paxos propose interval = 0.01
paxos min wait = 0.001
run dir = $CEPH_DIR/run
pid file = $CEPH_DIR/run/\$name.pid
admin socket = $CEPH_DIR/run/\$name.asok
log file = $CEPH_DIR/log/\$name.log
keyring = $CEPH_DIR/keyring
[mon.a]
mon data = $CEPH_DIR/mon
[osd.0]
osd data = $CEPH_DIR/osd0
osd objectstore = memstore
memstore device bytes = 4294967296
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw crypt require ssl = false
rgw data = $CEPH_DIR/rgw
CONF
}

start() {
  install_if_missing
  if [[ -z "$CEPH_DIR" ]]; then CEPH_DIR=$(mktemp -d /tmp/portal-ceph.XXXXXX); fi
  mkdir -p "$CEPH_DIR"
  chmod 755 "$CEPH_DIR"  # radosgw refuses to start in a 0700 folder (mktemp's default)
  mkdir -p "$CEPH_DIR"/{run,log,mon,osd0,rgw}
  local t0 fsid uuid
  t0=$(date +%s.%N)
  fsid=$(cat /proc/sys/kernel/random/uuid)
  uuid=$(cat /proc/sys/kernel/random/uuid)
  write_conf "$fsid"
  ceph-authtool --create-keyring "$CEPH_DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  # v1 address given explicitly: a plain ip:port other than 6789 would be taken as msgr2.
  monmaptool --create --addv a "[v1:127.0.0.1:$MON_PORT]" --fsid "$fsid" "$CEPH_DIR/monmap" >/dev/null
  ceph-mon -c "$(conf)" --mkfs -i a --monmap "$CEPH_DIR/monmap" --keyring "$CEPH_DIR/keyring"
  ceph-mon -c "$(conf)" -i a
  # A monitor that has just started may refuse commands (EPERM) until it has formed its quorum.
  retry 200 timeout 30 ceph -c "$(conf)" osd new "$uuid" >/dev/null
  timeout 30 ceph-osd -c "$(conf)" -i 0 --mkfs --osd-uuid "$uuid" 2>/dev/null
  # ceph-osd sometimes asks the monitor before it knows the cluster's fsid ("wrong fsid", exit
  # 250, about one start in five here): it exits, so starting it again is safe.
  retry 10 timeout 60 ceph-osd -c "$(conf)" -i 0
  retry 10 timeout 60 radosgw -c "$(conf)" -n client.rgw.a
  local up=""
  for _ in $(seq 1 600); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$RGW_PORT") 2>/dev/null; then up=1; break; fi
    sleep 0.05
  done
  [[ -n "$up" ]] || { log "radosgw did not open 127.0.0.1:$RGW_PORT (logs: $CEPH_DIR/log)"; exit 1; }
  timeout 60 radosgw-admin -c "$(conf)" user create --uid portal-ci --display-name "portal ci" \
    --access-key "$ACCESS_KEY" --secret "$SECRET_KEY" >/dev/null
  log "cluster up in $(python3 -c "print(f'{$(date +%s.%N) - $t0:.1f}')") s: $CEPH_DIR, S3 on 127.0.0.1:$RGW_PORT"
  cat <<ENV
export CEPH_DIR=$CEPH_DIR
export S3_ENDPOINT_URL=http://127.0.0.1:$RGW_PORT
export S3_ACCESS_KEY_ID=$ACCESS_KEY
export S3_SECRET_ACCESS_KEY=$SECRET_KEY
export S3_REGION=us-east-1
export S3_ADDRESSING_STYLE=path
ENV
}

stop() {
  [[ -n "$CEPH_DIR" && -d "$CEPH_DIR" ]] || { log "no CEPH_DIR to stop"; return 0; }
  local pidfile pid
  for pidfile in "$CEPH_DIR"/run/*.pid; do
    [[ -f "$pidfile" ]] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
  done
  for pidfile in "$CEPH_DIR"/run/*.pid; do
    [[ -f "$pidfile" ]] || continue
    pid=$(cat "$pidfile")
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$CEPH_DIR" "$CEPH_DIR.env"
  log "stopped"
}

run() {
  # The folder exists before anything starts, so the trap can always stop what did start.
  if [[ -z "$CEPH_DIR" ]]; then CEPH_DIR=$(mktemp -d /tmp/portal-ceph.XXXXXX); fi
  chmod 755 "$CEPH_DIR"
  export CEPH_DIR
  trap stop EXIT
  trap 'exit 130' INT TERM
  start >"$CEPH_DIR.env"
  # shellcheck disable=SC1090
  source "$CEPH_DIR.env"
  rm -f "$CEPH_DIR.env"
  export S3_BUCKET="${S3_BUCKET:-portal-ci-default}"
  local two_regions='{"emea": {"bucket": "portal-ci-emea"}, "apac": {"bucket": "portal-ci-apac"}}'
  export PORTAL_STORAGE_REGIONS="${PORTAL_STORAGE_REGIONS:-$two_regions}"
  "${PYTHON_BIN:-.venv/bin/python}" - <<'PY'
import json, os
import boto3
from botocore.config import Config
s3 = boto3.client(
    "s3", endpoint_url=os.environ["S3_ENDPOINT_URL"], region_name=os.environ["S3_REGION"],
    aws_access_key_id=os.environ["S3_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["S3_SECRET_ACCESS_KEY"],
    config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
)
buckets = [os.environ["S3_BUCKET"]] + [
    entry["bucket"] for entry in json.loads(os.environ["PORTAL_STORAGE_REGIONS"]).values()
]
for bucket in buckets:
    s3.create_bucket(Bucket=bucket)
print("[ceph] buckets:", ", ".join(buckets))
PY
  set +e
  "$@"
  local status=$?
  set -e
  return $status
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  run) shift; run "$@" ;;
  *) echo "usage: $0 start|stop|run CMD..." >&2; exit 2 ;;
esac
