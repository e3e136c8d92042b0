// The OCI registry the helm job's tests push charts to and pull them from.
module aws-oidc-deploy/helm/registry

go 1.26.0

require github.com/google/go-containerregistry v0.22.1
