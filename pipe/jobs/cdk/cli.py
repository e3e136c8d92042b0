"""Which CDK CLI a CDK job runs: the app's own, as `npx cdk` would pick it, else the one on PATH
(the image's, pinned in image/cdk)."""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipe.common import bounded_read, private_dir
from pipe.common.errors import PipeError

# Where npm links a dependency's executable; `cdk init` puts aws-cdk in devDependencies.
OWN_CLI = Path("node_modules") / ".bin" / "cdk"
CLI_PACKAGE = "aws-cdk"
UNKNOWN_VERSION = "version unknown"


@dataclass(frozen=True)
class Cli:
    path: Path
    version: str
    own: bool

    def describe(self) -> str:
        whose = "the app's own" if self.own else "from PATH"
        return f"aws-cdk {self.version} ({whose}, {self.path})"


def find(app_dir: Path, search_path: str, clone: Path | None = None) -> Cli:
    own = app_dir / OWN_CLI
    if own.is_file() and os.access(own, os.X_OK):
        # The app's own CLI is run only from inside the clone: a link out of it could run anything.
        private_dir.inside_clone(own, clone or app_dir, "The CDK app's node_modules/.bin/cdk")
        return Cli(own, version_of(own), own=True)
    found = shutil.which("cdk", path=search_path)
    if found is None:
        raise PipeError(
            "No CDK CLI: the app has no node_modules/.bin/cdk and there is no cdk on PATH (the pipe's image "
            "ships one, so this runs outside it). Add aws-cdk to the app's devDependencies."
        )
    return Cli(Path(found), version_of(Path(found)), own=False)


def version_of(executable: Path) -> str:
    """The version in the package.json of the aws-cdk package that `executable` (bin/cdk) belongs to."""
    # node_modules/.bin/cdk links to node_modules/aws-cdk/bin/cdk.
    manifest = executable.resolve().parents[1] / "package.json"
    try:
        package = bounded_read.load_json(
            bounded_read.read_bytes(manifest, bounded_read.SETTINGS_FILE_BYTES, str(manifest)), str(manifest)
        )
    except (OSError, ValueError):
        return UNKNOWN_VERSION
    if not isinstance(package, dict) or package.get("name") != CLI_PACKAGE:
        return UNKNOWN_VERSION
    return str(package.get("version") or UNKNOWN_VERSION)
