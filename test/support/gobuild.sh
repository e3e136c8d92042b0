# shellcheck shell=bash
# What the test bench's Go builds share (controlplane/build.sh, helm/build.sh): binaries built once per
# cache key into a cache outside the repository, answered from it in a fraction of a second after that.
# Sourced, not run. A build script hashes this file into its cache key as well, since what ends up in
# bin/ depends on the steps below too.
#   gobuild_main TAG CACHE_ROOT DEST NEEDS_GO BUILD MODE
#     TAG        the prefix of the progress lines on stderr ("[TAG] ...")
#     CACHE_ROOT the cache (its lock, build.log, the Go caches unless AWS_OIDC_DEPLOY_GO_CACHE moves them)
#     DEST       CACHE_ROOT/<version>-<key>: the binaries go to DEST/bin, printed on stdout
#     NEEDS_GO   the line that says where to get Go when there is none
#     BUILD      a function that writes the binaries into the directory it is given
#     MODE       --quiet (no progress), --background (return at once; a cold build goes on in the
#                background, logged to CACHE_ROOT/build.log, and the next call waits for it on the lock)
# Other keys' builds are removed from CACHE_ROOT once a build succeeds.

gobuild_tag=''
gobuild_mode=''
gobuild_started=0

say() { [ "${gobuild_mode}" = --quiet ] || printf '[%s] %s\n' "${gobuild_tag}" "$*" >&2; }

# Seconds since the build began (for progress lines between binaries).
gobuild_elapsed() { echo $(($(date +%s) - gobuild_started)); }

# go_build MODULE_DIR LDFLAGS OUT PACKAGE...: one module's binaries, niced (the tests run meanwhile).
go_build() {
  local module=$1 ldflags=$2 out=$3
  shift 3
  (cd "${module}" && nice go build -trimpath -ldflags "${ldflags}" -o "${out}" "$@")
}

gobuild_main() {
  gobuild_tag=$1 gobuild_mode=${6:-}
  local cache_root=$2 dest=$3 needs_go=$4 build=$5

  if [ -f "${dest}/bin/.complete" ]; then
    say "cached: ${dest}/bin"
    echo "${dest}/bin"
    exit 0
  fi

  # `make test` starts a cold build this way, so that the tests before the ones that need it run while
  # it compiles (niced); the fixture's own call waits for it on the lock. A background build that
  # fails leaves no .complete: that call then builds again and fails with the build's output.
  if [ "${gobuild_mode}" = --background ]; then
    mkdir -p "${cache_root}"
    nohup "$0" --quiet > "${cache_root}/build.log" 2>&1 < /dev/null &
    say "not cached: building in the background (pid $!, log ${cache_root}/build.log)"
    exit 0
  fi

  # The polyglot machine's Go, when the shell's PATH does not name it.
  PATH="${PATH}:/usr/local/go/bin"
  command -v go > /dev/null || {
    echo "[${gobuild_tag}] ${needs_go}" >&2
    exit 1
  }
  # Only one build at a time (parallel pytest workers, or make and pytest): wait for the other one.
  mkdir -p "${cache_root}"
  exec 9> "${cache_root}/.build.lock"
  flock 9
  if [ -f "${dest}/bin/.complete" ]; then
    echo "${dest}/bin"
    exit 0
  fi

  # The Go caches (GBs) can live elsewhere, so that a CI cache of cache_root holds only the binaries.
  local go_cache=${AWS_OIDC_DEPLOY_GO_CACHE:-${cache_root}/go}
  export GOMODCACHE="${go_cache}/mod" GOCACHE="${go_cache}/build" GOFLAGS="-mod=readonly -buildvcs=false"
  export GOTOOLCHAIN=local CGO_ENABLED=0

  # Global: the EXIT trap reads it after this function has returned.
  gobuild_work=$(mktemp -d "${cache_root}/.build.XXXXXX")
  trap 'rm -rf "${gobuild_work}"' EXIT
  gobuild_started=$(date +%s)
  "${build}" "${gobuild_work}"
  touch "${gobuild_work}/.complete"
  mkdir -p "${dest}"
  rm -rf "${dest:?}/bin"
  mv "${gobuild_work}" "${dest}/bin"
  trap - EXIT
  # Builds for other keys are of no more use here (the Go caches still speed up going back to one).
  local old
  for old in "${cache_root}"/v*-*; do
    [ "${old}" = "${dest}" ] || rm -rf "${old}"
  done
  say "built in $(gobuild_elapsed) s: $(du -sh "${dest}/bin" | cut -f1) of binaries, cache $(du -sh "${cache_root}" | cut -f1)"
  echo "${dest}/bin"
}
