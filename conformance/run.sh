#!/usr/bin/env bash
# Run the Boxoffice SDK conformance suite.
#
#   conformance/run.sh            # against an already-running server:
#                                 #   BOXOFFICE_URL, BOXOFFICE_API_KEY, BOXOFFICE_SITE_ID, BOXOFFICE_VISITOR_KEY,
#                                 #   BOXOFFICE_OWNER_KEY (a `wix-user` key: manages webhook subscriptions)
#   conformance/run.sh --local    # start a throw-away server on a temp SQLite DB, mint keys, run, stop it
#
# Extra arguments after the options are passed to `node --test` (e.g. --test-name-pattern=reorder).
# Without BOXOFFICE_URL (and without --local) the tests FAIL; they never skip.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$here"

local_mode=0
if [[ "${1:-}" == "--local" ]]; then
  local_mode=1
  shift
fi

if [[ ! -d node_modules/@wix/sdk ]]; then
  if [[ -f package-lock.json ]]; then
    npm ci --no-audit --no-fund
  else
    npm install --no-audit --no-fund
  fi
fi

server_pid=""
tmpdir=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ -n "$tmpdir" ]]; then
    rm -rf "$tmpdir"
  fi
}
trap cleanup EXIT

if [[ "$local_mode" == 1 ]]; then
  boxoffice="${BOXOFFICE_BIN:-$repo/.venv/bin/boxoffice}"
  if [[ ! -x "$boxoffice" ]]; then
    boxoffice="$(command -v boxoffice || true)"
  fi
  [[ -n "$boxoffice" && -x "$boxoffice" ]] || { echo "run.sh: boxoffice CLI not found (set BOXOFFICE_BIN)" >&2; exit 2; }

  tmpdir="$(mktemp -d)"
  port="${BOXOFFICE_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
  site="${BOXOFFICE_SITE_ID:-$(python3 -c 'import uuid; print(uuid.uuid4())')}"
  # BOXOFFICE_CONFORMANCE_DATABASE_URL runs the suite on another (empty) database, e.g. PostgreSQL
  export BOXOFFICE_DATABASE_URL="${BOXOFFICE_CONFORMANCE_DATABASE_URL:-sqlite:///$tmpdir/boxoffice.db}"
  # webhooks.test.mjs subscribes a receiver on 127.0.0.1 through the site owner's admin
  # API. A site owner may not point webhooks at loopback or private addresses (SSRF:
  # README "Security") unless the operator allows it; this throw-away local server's
  # operator does. Against a real server, run the receiver where that server may reach it.
  export BOXOFFICE_WEBHOOK_ALLOW_PRIVATE_URLS=1
  # the paid flow checks out with the built-in `test` payment provider (development and
  # CI only; a real server configures a real provider)
  export BOXOFFICE_TEST_PAYMENTS=1
  # confirmation e-mails of the orders the suite makes: into the scratch directory, not the repository
  export BOXOFFICE_MAIL_DIR="$tmpdir/mail"

  "$boxoffice" migrate >"$tmpdir/migrate.log" 2>&1 || { cat "$tmpdir/migrate.log" >&2; exit 2; }
  BOXOFFICE_API_KEY="$("$boxoffice" keys create --site "$site" --identity app | tail -n 1)"
  BOXOFFICE_VISITOR_KEY="$("$boxoffice" keys create --site "$site" --identity visitor | tail -n 1)"
  # the site owner: webhook subscriptions (POST/GET/DELETE /boxoffice/v1/webhooks) are owner-only
  BOXOFFICE_OWNER_KEY="$("$boxoffice" keys create --site "$site" --identity wix-user | tail -n 1)"
  export BOXOFFICE_API_KEY BOXOFFICE_VISITOR_KEY BOXOFFICE_OWNER_KEY
  export BOXOFFICE_SITE_ID="$site"
  export BOXOFFICE_URL="http://127.0.0.1:$port"

  "$boxoffice" serve --host 127.0.0.1 --port "$port" >"$tmpdir/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "run.sh: server exited early:" >&2
      cat "$tmpdir/server.log" >&2
      exit 2
    fi
    if python3 - "$port" <<'PY' 2>/dev/null; then break; fi
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2).close()
PY
    sleep 0.2
  done
  echo "run.sh: local server at $BOXOFFICE_URL (site $BOXOFFICE_SITE_ID, db $BOXOFFICE_DATABASE_URL)"
fi

status=0
node --test "$@" || status=$?

if [[ "$local_mode" == 1 && "$status" != 0 && -n "${BOXOFFICE_SHOW_SERVER_LOG:-}" ]]; then
  echo "----- server log -----" >&2
  tail -n 200 "$tmpdir/server.log" >&2
fi
exit "$status"
