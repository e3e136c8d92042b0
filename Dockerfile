FROM python:3.13-slim

# Unbuffered output keeps the step log in the order things happen.
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/aws-oidc-deploy
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY pyproject.toml README.md pipe.yml ./
COPY pipe ./pipe
RUN pip install --no-cache-dir --no-deps . && rm -rf build *.egg-info

# The console script, not `python -m pipe`: Bitbucket runs the pipe with --workdir set to the
# clone, and a `pipe/` folder in a user's repository would shadow the package on `-m`'s path.
ENTRYPOINT ["aws-oidc-deploy"]
