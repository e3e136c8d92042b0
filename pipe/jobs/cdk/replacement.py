"""CloudFormation's replacement rules, as the CDK CLI that ran knows them: which properties of each
resource type replace the resource when they change ("yes") or may ("maybe").

The CLI ships them in its package (db.json.gz, the AWS service spec its own diff marks replacements
with). Read from the CLI that ran, so the rules match its version, with the pipe's limits: at most
MAX_COMPRESSED_BYTES read, MAX_SPEC_BYTES decompressed, the usual JSON depth check. The file is the
CLI's own, not a documented interface: when it is missing or shaped otherwise, the rules are empty,
every change counts as an update (never "replaced") and the report says the rules were not there.
"""

import gzip
import io
from collections.abc import Mapping
from pathlib import Path

from pipe.common import bounded_read
from pipe.common.errors import PipeError
from pipe.common.log import logger
from pipe.jobs.cdk.changes import Rules

SPEC_FILE = "db.json.gz"
MAX_COMPRESSED_BYTES = 16 * bounded_read.MIB
# 2.1148's spec is 15 MB decompressed.
MAX_SPEC_BYTES = 96 * bounded_read.MIB
_REPLACING = ("yes", "maybe")


def spec_file(cli_path: Path) -> Path:
    """bin/cdk → the package's db.json.gz (node_modules/.bin/cdk links to node_modules/aws-cdk/bin/cdk)."""
    return cli_path.resolve().parents[1] / SPEC_FILE


def read(cli_path: Path) -> Rules:
    path = spec_file(cli_path)
    try:
        compressed = bounded_read.read_bytes(path, MAX_COMPRESSED_BYTES, "the CDK CLI's service spec")
        with gzip.GzipFile(fileobj=io.BytesIO(compressed)) as unzipped:
            text = unzipped.read(MAX_SPEC_BYTES + 1)
        if len(text) > MAX_SPEC_BYTES:
            raise ValueError(f"over {MAX_SPEC_BYTES} bytes decompressed")
        return rules(bounded_read.load_json(text, "the CDK CLI's service spec"))
    except (OSError, ValueError, EOFError, PipeError) as error:
        logger.debug("No replacement rules from %s: %s", path, error)
        return {}


def rules(spec: object) -> Rules:
    """{type: {property: yes|maybe}} from the spec's resource entities; {} for any other shape."""
    try:
        entities = spec["schema"]["resource"]["entities"]  # type: ignore[index]
    except (KeyError, TypeError):
        return {}
    found: dict[str, dict[str, str]] = {}
    for entity in entities if isinstance(entities, list) else []:
        if not isinstance(entity, Mapping) or not isinstance(entity.get("properties"), Mapping):
            continue
        replacing = {
            str(name): str(rule["causesReplacement"])
            for name, rule in entity["properties"].items()
            if isinstance(rule, Mapping) and rule.get("causesReplacement") in _REPLACING
        }
        if replacing:
            found[str(entity.get("cloudFormationType"))] = replacing
    return found
