#!/usr/bin/env bash
# A Docker engine for the docker runtime's tests, started only when none
# answers, and stopped again only by the invocation that started it.
#
#   scripts/docker-engine.sh install   # Debian's docker.io + docker-compose (when missing)
#   scripts/docker-engine.sh start     # start dockerd unless an engine answers; prints "started" or "running"
#   scripts/docker-engine.sh stop      # stop the dockerd that `start` started (by its recorded PID)
#
# No image is ever pulled: tests build medchain/geth locally (`medchain image build`).
set -euo pipefail

socket="${DOCKER_SOCKET:-/var/run/docker.sock}"
state_dir="$HOME/.cache/medchain/dockerd"
pidfile="$state_dir/dockerd.pid"

answers() {
  curl -sf --max-time 3 --unix-socket "$socket" http://localhost/_ping >/dev/null 2>&1
}

sudo_if_needed() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

case "${1:-}" in
  install)
    missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v docker-compose >/dev/null || missing+=(docker-compose)
    command -v curl >/dev/null || missing+=(curl)
    if [ "${#missing[@]}" -gt 0 ]; then
      echo "installing ${missing[*]} (Debian packages)" >&2
      sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
    fi
    ;;
  start)
    if answers; then echo running; exit 0; fi
    command -v dockerd >/dev/null || { echo "dockerd is missing: run scripts/docker-engine.sh install" >&2; exit 1; }
    mkdir -p "$state_dir"
    sudo_if_needed sh -c "nohup dockerd --host unix://$socket >'$state_dir/dockerd.log' 2>&1 & echo \$! >'$pidfile'"
    for _ in $(seq 1 60); do
      if answers; then echo started; exit 0; fi
      sleep 1
    done
    echo "dockerd did not answer on $socket within 60 s; its log: $state_dir/dockerd.log" >&2
    tail -20 "$state_dir/dockerd.log" >&2 || true
    exit 1
    ;;
  stop)
    [ -f "$pidfile" ] || exit 0
    pid="$(cat "$pidfile")"
    if [ -n "$pid" ] && grep -q dockerd "/proc/$pid/cmdline" 2>/dev/null; then
      sudo_if_needed kill -TERM "$pid" || true
      for _ in $(seq 1 30); do
        [ -d "/proc/$pid" ] || break
        sleep 1
      done
    fi
    rm -f "$pidfile"
    ;;
  *)
    echo "usage: $0 install|start|stop" >&2
    exit 2
    ;;
esac
