# Sourced by scripts/build and scripts/test: one build or test suite at a time on this
# machine (2 cores), through /tmp/sluice-build.lock. Callers that already hold the lock
# (`flock /tmp/sluice-build.lock scripts/test`, or scripts/test calling scripts/build) are
# recognised, so nesting never deadlocks.
SLUICE_LOCK_FILE=${SLUICE_LOCK_FILE:-/tmp/sluice-build.lock}

# True when this process or one of its ancestors holds the lock.
sluice_lock_held_by_ancestor() {
  [[ -e $SLUICE_LOCK_FILE ]] || return 1
  local ino holders p
  ino=$(stat -c %i "$SLUICE_LOCK_FILE") || return 1
  holders=$(awk -v ino="$ino" '$2 == "FLOCK" { split($6, f, ":"); if (f[3] == ino) print $5 }' \
    /proc/locks 2>/dev/null)
  [[ -n $holders ]] || return 1
  p=$$
  while [[ -n $p && $p -gt 1 ]]; do
    grep -qx "$p" <<<"$holders" && return 0
    p=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
  done
  return 1
}

sluice_take_lock() {
  [[ -n ${SLUICE_BUILD_LOCKED:-} ]] && return 0
  if sluice_lock_held_by_ancestor; then
    export SLUICE_BUILD_LOCKED=1
    return 0
  fi
  exec 9>>"$SLUICE_LOCK_FILE"
  if ! flock -n 9; then
    echo "waiting for $SLUICE_LOCK_FILE (another build or test run holds it)" >&2
    flock 9
  fi
  export SLUICE_BUILD_LOCKED=1
}
