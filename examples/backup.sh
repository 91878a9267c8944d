#!/usr/bin/env bash
# Nightly backup of a directory to a FileXfer server, then a verification of what the server stores.
#
#   examples/backup.sh SOURCE_DIR REMOTE_DIR [LOG_DIR]
#
# Environment:
#   FILEXFER_SERVER  HOST:PORT of the server (the client's own default is 127.0.0.1:7070)
#   FILEXFER         how to run the client (default: filexfer), e.g. "dotnet /opt/filexfer/filexfer.dll";
#                    split on spaces, so its path cannot contain one
#
# It relies only on the client's documented exit codes and --json lines:
#   put -r   0 all sent or unchanged, 7 some files failed (the rest were sent), 3 server unreachable
#   verify   0 identical, 4 something differs or is missing, 7 some files could not be read or hashed
# Exit status of this script: 0 backed up and verified, 3 server unreachable, 4 verification failed,
# 7 some files could not be backed up (the rest were, and were verified), 1 anything else.
# A JSON-lines log of both steps is kept in LOG_DIR (default: the current directory).
set -u -o pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 SOURCE_DIR REMOTE_DIR [LOG_DIR]" >&2
  exit 2
fi
source_dir=$1
remote_dir=$2
log_dir=${3:-.}
read -r -a filexfer <<< "${FILEXFER:-filexfer}"

stamp=$(date -u +%Y%m%dT%H%M%S.%NZ)
put_log="$log_dir/backup-$stamp.put.jsonl"
verify_log="$log_dir/backup-$stamp.verify.jsonl"

# The value of one numeric field of the summary object in a JSON-lines log.
summary_field() {
  grep '"op":"summary"' "$1" | tail -n 1 | sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p"
}

# The remote paths of the objects with a given status.
paths_with_status() {
  grep "\"status\":\"$2\"" "$1" | sed -n 's/.*"remote":"\([^"]*\)".*/\1/p'
}

"${filexfer[@]}" put -r --json "$source_dir" "$remote_dir" > "$put_log"
put_status=$?
case $put_status in
  0) ;;
  7)
    echo "backup: $(summary_field "$put_log" failed) file(s) could not be backed up:" >&2
    paths_with_status "$put_log" failed | sed 's/^/  /' >&2
    ;;
  3)
    echo "backup: cannot reach the server" >&2
    exit 3
    ;;
  *)
    echo "backup: put failed with exit code $put_status" >&2
    exit 1
    ;;
esac
echo "backup: $(summary_field "$put_log" transferred) sent, $(summary_field "$put_log" skipped) unchanged, $(summary_field "$put_log" bytes) bytes in $(summary_field "$put_log" seconds) s"

"${filexfer[@]}" verify -r --json "$source_dir" "$remote_dir" > "$verify_log"
verify_status=$?
case $verify_status in
  0)
    echo "verify: $(summary_field "$verify_log" identical) files identical on the server"
    ;;
  4)
    echo "verify: FAILED" >&2
    for status in differs missing_on_server only_on_server; do
      paths_with_status "$verify_log" "$status" | sed "s/^/  $status: /" >&2
    done
    exit 4
    ;;
  7)
    # Typically the files put could not send either; everything else was verified.
    echo "verify: $(summary_field "$verify_log" identical) files identical on the server"
    echo "verify: $(summary_field "$verify_log" failed) file(s) could not be verified:" >&2
    paths_with_status "$verify_log" failed | sed 's/^/  /' >&2
    exit 7
    ;;
  3)
    echo "verify: cannot reach the server" >&2
    exit 3
    ;;
  *)
    echo "verify: failed with exit code $verify_status" >&2
    exit 1
    ;;
esac

[ "$put_status" -eq 7 ] && exit 7
exit 0
