#!/usr/bin/env bash
# benches/load.sh [-d SECONDS] [-s ANCHORS]: switchboard against the peers, side by side in one run.
#
# Builds the release binary, copies ../shared/bench to target/bench-harness (it writes its venv
# and node_modules beside itself), runs its setup once, and runs compare.sh with switchboard as
# the candidate for each route:
#   /voice/incoming  signed and validated, TwiML from templates (the harness's own request)
#   /sms             the harness's one signed SMS, repeated: after the first, each is a replay
#   /sms (unique)    a fresh MessageSid per request, each committed before its answer
#                    (bodies pre-signed by benches/sms_bodies.py, sent by benches/sms_unique.lua)
# Each table's "x ceiling" column is the ratio to the bare axum ceiling of that same run.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${SHARED_BENCH:-$ROOT/../shared/bench}
HARNESS=$ROOT/target/bench-harness
SECS=10 ONLY=axum-twiml,axum-full,express,flask-gunicorn
while getopts "d:s:" o; do
  case $o in d) SECS=$OPTARG ;; s) ONLY=$OPTARG ;; *) sed -n '2,13p' "$0"; exit 2 ;; esac
done

(cd "$ROOT" && cargo build --release --locked --quiet)
BIN=$ROOT/target/release/switchboard
if [[ ! -x $HARNESS/.venv/bin/gunicorn || ! -d $HARNESS/anchors/node_modules/twilio ]]; then
  rm -rf "$HARNESS" && mkdir -p "$HARNESS" && cp -r "$SHARED"/. "$HARNESS"/
  (cd "$HARNESS" && ./setup.sh)
fi
# The harness posts to /voice/incoming and expects a <Gather>; let it post to another route.
sed -i -e 's|^URL=\$BASE/voice/incoming|URL=$BASE${ROUTE:-/voice/incoming}|' \
       -e 's|elif root.find("Gather") is None:|elif root.find("Gather") is None and root.find("Message") is None:|' \
       -e 's|-s "\$HERE/wrk/post.lua"|-s "${WRK_SCRIPT:-$HERE/wrk/post.lua}"|' \
       "$HARNESS/run.sh"

DB=$(mktemp -d /tmp/switchboard-bench.XXXXXX)
trap 'rm -rf "$DB"' EXIT
server() { # the candidate command: fresh database each run
  # A fixed open hour: the harness expects the menu, which the shipped hours close at night.
  echo env PUBLIC_URL=http://127.0.0.1:18090 DATABASE_URL=sqlite://$DB/$1.db RUST_LOG=warn \
    SWITCHBOARD_CLOCK=2026-11-25T18:00:00Z TEMPLATES_DIR=$ROOT/templates "$BIN"
}

echo "== /voice/incoming"
(cd "$HARNESS" && ./compare.sh -d "$SECS" -s "$ONLY" -n switchboard -- $(server voice))
echo "== /sms (the same signed message repeated: replays)"
(cd "$HARNESS" && ROUTE=/sms PAYLOAD=$HARNESS/payloads/sms.form ./compare.sh -d "$SECS" -s axum-full -n switchboard-sms -- $(server sms))
echo "== /sms (a new message per request, each committed before its answer)"
N=$(( (SECS + 4) * 60000 ))
python3 "$ROOT/benches/sms_bodies.py" "$N" > "$DB/bodies.txt"
(cd "$HARNESS" && ROUTE=/sms PAYLOAD=$HARNESS/payloads/sms.form WRK_SCRIPT=$ROOT/benches/sms_unique.lua \
   SMS_BODIES=$DB/bodies.txt ./compare.sh -d "$SECS" -s axum-ceiling -n switchboard-sms-new -- $(server smsnew))
