#!/usr/bin/env bash
# Run a command with a Docker engine and the pipe's image ready, the way CI tests the image here:
#  1. install Debian's docker.io and debootstrap if missing;
#  2. start dockerd by hand (own data root, exec root and socket), stopped at exit by its pid;
#  3. build a stand-in for python:3.13-slim from `debootstrap --variant=minbase trixie` (Python 3.13),
#     once: it stays in the engine's data root, which is kept between runs;
#  4. `docker build` the project's Dockerfile unchanged, printing build time and image size;
#  5. run "$@" with DOCKER_HOST, DOCKER (the CLI) and PIPE_IMAGE set.
# No registry can be pulled from here, hence the stand-in; the Dockerfile's FROM line resolves to it.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
state=${AWS_OIDC_DEPLOY_DOCKER_STATE:-/var/cache/aws-oidc-deploy/docker}
# containerd's sockets live under the exec root: keep the path short (unix socket paths max 108 bytes).
exec_root=/run/aws-oidc-deploy-docker
socket="unix://${state}/docker.sock"
docker_cli=/usr/bin/docker # Debian's CLI; another docker on PATH may lack the classic builder.
version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "${repo}/pipe/__init__.py")
image="org/aws-oidc-deploy:${version}"
base_image="python:3.13-slim"
debian_mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

say() { printf '[with-docker] %s\n' "$*"; }

install_missing() {
  local missing=()
  { command -v dockerd > /dev/null && [ -x "${docker_cli}" ]; } || missing+=(docker.io)
  command -v debootstrap > /dev/null || missing+=(debootstrap)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
  fi
}

started_pid=""
stop_engine() {
  if [ -n "${started_pid}" ]; then
    say "stopping dockerd (pid ${started_pid})"
    kill "${started_pid}" 2> /dev/null || true
    # dockerd shuts its containerd down on SIGTERM; wait for it so the next run starts clean.
    while kill -0 "${started_pid}" 2> /dev/null; do sleep 0.2; done
  fi
}

start_engine() {
  mkdir -p "${state}/data" "${exec_root}"
  export DOCKER_HOST="${socket}"
  if "${docker_cli}" info > /dev/null 2>&1; then
    say "reusing the engine already listening on ${socket}"
    return
  fi
  # A pid file left by an engine that died would stop dockerd from starting.
  if [ -f "${state}/dockerd.pid" ] && ! kill -0 "$(cat "${state}/dockerd.pid")" 2> /dev/null; then
    rm -f "${state}/dockerd.pid"
  fi
  # No bridge and no iptables rules: containers use --network host, and the machine's own network
  # setup is left alone.
  dockerd --data-root "${state}/data" --exec-root "${exec_root}" --host "${socket}" \
    --pidfile "${state}/dockerd.pid" --storage-driver overlay2 --bridge none --iptables=false \
    > "${state}/dockerd.log" 2>&1 &
  started_pid=$!
  trap stop_engine EXIT
  for _ in $(seq 1 100); do
    "${docker_cli}" info > /dev/null 2>&1 && return
    kill -0 "${started_pid}" 2> /dev/null || break
    sleep 0.3
  done
  say "dockerd did not start; its log:"
  tail -n 30 "${state}/dockerd.log"
  exit 1
}

build_base_stand_in() {
  if "${docker_cli}" image inspect "${base_image}" > /dev/null 2>&1; then
    say "base ${base_image}: cached"
    return
  fi
  say "base ${base_image}: building a stand-in with debootstrap (trixie, minbase)"
  local root
  root=$(mktemp -d /var/tmp/aws-oidc-deploy-base.XXXXXX)
  debootstrap --variant=minbase --include=python3,python3-pip,ca-certificates trixie "${root}" "${debian_mirror}" > "${state}/debootstrap.log" 2>&1 \
    || { tail -n 30 "${state}/debootstrap.log"; exit 1; }
  # As in the official image: pip may install into the system Python; `python` and `pip` exist.
  rm -f "${root}"/usr/lib/python3*/EXTERNALLY-MANAGED
  ln -sf python3 "${root}/usr/bin/python"
  ln -sf pip3 "${root}/usr/bin/pip"
  # Outbound HTTPS here goes through an intercepting proxy: trust its CA inside the stand-in too.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" > /dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "${root}/usr/local/share/ca-certificates/"
    chroot "${root}" update-ca-certificates > /dev/null
  fi
  rm -rf "${root}"/var/cache/apt/* "${root}"/var/lib/apt/lists/* "${root}"/usr/share/doc/* "${root}"/usr/share/man/* "${root}"/usr/share/locale/*
  tar -C "${root}" -c . | "${docker_cli}" import \
    --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' \
    --change 'LABEL org.aws-oidc-deploy.stand-in="debootstrap trixie minbase"' - "${base_image}" > /dev/null
  rm -rf "${root}"
}

build_image() {
  say "building ${image} from the Dockerfile"
  local started ended
  started=$(date +%s%N)
  "${docker_cli}" build --network host --tag "${image}" "${repo}" > "${state}/build.log" 2>&1 \
    || { tail -n 40 "${state}/build.log"; exit 1; }
  ended=$(date +%s%N)
  local size elapsed_ms
  size=$("${docker_cli}" image inspect --format '{{.Size}}' "${image}")
  elapsed_ms=$(((ended - started) / 1000000))
  say "image ${image}: $((size / 1000000)) MB, built in $((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000))) s (goal: at most 520 MB)"
}

install_missing
start_engine
build_base_stand_in
build_image
export DOCKER="${docker_cli}" PIPE_IMAGE="${image}"
"$@"
