"""The dbt project (dbt_like_sql/) and its manifest.

dagster-dbt builds the dbt assets from target/manifest.json, so the manifest must exist before the
definitions load. It is prepared the way dagster-dbt documents: `dagster dev` prepares it itself
(``prepare_if_dev``, with the dbt beside this interpreter, so the UI loads without an activated
virtualenv); the `gtm` commands and the tests call ``prepare()`` before loading the
definitions; a deployment prepares it once at build time with
``dagster-dbt project prepare-and-package --file gtm_assets/transform/project.py``. Loading the definitions
never runs dbt and never opens DuckDB."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from dagster_dbt.dbt_project import using_dagster_dev
from packaging import version

from gtm_assets import settings

dbt_project = DbtProject(project_dir=settings.DBT_PROJECT_DIR, profiles_dir=settings.DBT_PROJECT_DIR)


def dbt_executable() -> str:
    """The dbt installed beside this interpreter (works without activating the virtualenv)."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


class GtmDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI resource without its `dbt --version` subprocess in every run (about 2 s
    of a governance build): the dbt beside this interpreter is the installed dbt-core package, whose
    version the package metadata gives; another executable is still asked."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable) == Path(sys.executable).parent / "dbt":
            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version


def manifest_is_stale() -> bool:
    """True when target/manifest.json is missing or older than a model, macro or project file."""
    manifest = Path(dbt_project.manifest_path)
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [dbt_project.project_dir / "dbt_project.yml", dbt_project.project_dir / "profiles.yml"]
    for folder in ("models", "macros"):
        sources += list((dbt_project.project_dir / folder).rglob("*"))
    return any(path.is_file() and path.stat().st_mtime > built for path in sources)


def staging_path(database: str | Path) -> Path:
    """Where a build stages its copy: a hidden sibling folder, same file name, same file system. The
    name must match because DuckDB names a file's catalog after it and dbt's views store that name."""
    database = Path(database).resolve()
    return database.parent / ".dbt-staging" / database.name


def prepare() -> None:
    """Build the manifest with `dbt parse` (which never opens the DuckDB file) when it is stale. The
    profile names the staged copy the builds write, as theirs does, so their parse is partial."""
    if not manifest_is_stale():
        return
    project = str(settings.DBT_PROJECT_DIR)
    subprocess.run(
        [dbt_executable(), "parse", "--quiet", "--project-dir", project, "--profiles-dir", project],
        check=True,
        env={**os.environ, "GTM_DUCKDB_PATH": str(staging_path(settings.duckdb_path()))},
    )


def prepare_if_dev() -> None:
    """Under `dagster dev`, ``prepare()`` (dagster-dbt's ``DbtProject.prepare_if_dev`` looks for `dbt` on
    PATH, which `.venv/bin/dagster dev` without an activated virtualenv does not have)."""
    if using_dagster_dev():
        prepare()


def keep_partial_parse(invocation_target: Path) -> None:
    """Keep a finished build's partial-parse state for the next build. dagster-dbt starts every
    invocation from target/partial_parse.msgpack, and dbt parses the whole project again when the
    profile (here the staged copy's path) differs from the one that file was written with: the file
    `dbt parse` left never matches, so every build paid a full parse. Replaced atomically."""
    produced = Path(invocation_target) / "partial_parse.msgpack"
    if not produced.exists():
        return
    kept = Path(dbt_project.project_dir) / "target" / "partial_parse.msgpack"
    incoming = kept.with_name(f"partial_parse.msgpack.{os.getpid()}")
    shutil.copyfile(produced, incoming)
    os.replace(incoming, kept)
