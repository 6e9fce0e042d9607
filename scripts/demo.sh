#!/usr/bin/env bash
# make demo: an end-to-end run of what ircli does today, in a throwaway store under reports/.
set -euo pipefail
cd "$(dirname "$0")/.."
IRCLI=(.venv/bin/python -m ircli)
mkdir -p reports
export IRCLI_DB="$PWD/reports/demo-audit.db"
export IRCLI_OPERATOR="${IRCLI_OPERATOR:-demo-oncall}"
rm -f "$IRCLI_DB" "$IRCLI_DB-wal" "$IRCLI_DB-shm"

started=$(date -u -d '-12 minutes' +%Y-%m-%dT%H:%M:%SZ)
detected=$(date -u -d '-9 minutes' +%Y-%m-%dT%H:%M:%SZ)
id=$("${IRCLI[@]}" incident open "Bot accounts flooding live streams" --severity P1 \
      --commander "$IRCLI_OPERATOR" --started-at "$started" --detected-at "$detected")
echo "opened incident $id"
"${IRCLI[@]}" timeline add "$id" "Report queue at 40x normal; new accounts streaming abuse" --kind detection --at "$detected"
"${IRCLI[@]}" incident status "$id" acknowledged --at "$(date -u -d '-8 minutes' +%Y-%m-%dT%H:%M:%SZ)"
"${IRCLI[@]}" timeline add "$id" "Decision: suspend bot streams, freeze bot accounts, keep live on for others" --kind decision
"${IRCLI[@]}" incident status "$id" mitigating
"${IRCLI[@]}" incident status "$id" mitigated
"${IRCLI[@]}" incident show "$id"
"${IRCLI[@]}" audit verify
anchor=$("${IRCLI[@]}" audit head)
"${IRCLI[@]}" audit verify --anchor "$anchor"
"${IRCLI[@]}" audit export --format csv -o reports/demo-audit.csv
"${IRCLI[@]}" audit export --format jsonl -o reports/demo-audit.jsonl
echo "audit anchor: $anchor"
echo "wrote reports/demo-audit.db, reports/demo-audit.csv, reports/demo-audit.jsonl"
