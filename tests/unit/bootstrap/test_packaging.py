"""The function package: deterministic bytes, the right contents, importable with only boto3."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bootstrap.packaging import Package, build_package, functions_dir, runtime_closure
from bootstrap.settings import Settings
from bootstrap.topology import Topology


@pytest.fixture(scope="module")
def package() -> Package:
    return build_package()


def test_same_content_same_bytes_same_hash(package: Package) -> None:
    again = build_package()
    assert again.data == package.data and again.sha256 == package.sha256


def test_hash_is_what_lambda_reports_as_code_sha256(package: Package) -> None:
    assert package.sha256 == base64.b64encode(hashlib.sha256(package.data).digest()).decode()


def copy_functions(tmp_path: Path) -> Path:
    target = tmp_path / "functions"
    shutil.copytree(functions_dir(), target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_timestamps_and_permissions_do_not_change_the_hash(tmp_path: Path, package: Package) -> None:
    copy = copy_functions(tmp_path)
    for path in copy.rglob("*.py"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
        path.chmod(0o600)
    (copy / "__pycache__").mkdir(exist_ok=True)
    (copy / "__pycache__" / "junk.cpython-311.pyc").write_bytes(b"\0junk")
    assert build_package(copy).sha256 == package.sha256


def test_changed_source_changes_the_hash(tmp_path: Path, package: Package) -> None:
    copy = copy_functions(tmp_path)
    with (copy / "__init__.py").open("a") as handle:
        handle.write("\n# changed\n")
    assert build_package(copy).sha256 != package.sha256


def test_entries_are_sorted_with_fixed_metadata(package: Package) -> None:
    with zipfile.ZipFile(io.BytesIO(package.data)) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


def test_contents_are_functions_and_their_pure_python_dependencies(package: Package) -> None:
    names = set(package.files)
    tops = {name.split("/")[0] for name in names}
    assert {"functions", "aws_lambda_powertools", "jmespath"} <= tops
    assert "functions/archive.py" in names and "aws_lambda_powertools/__init__.py" in names
    # the runtime provides boto3; compiled or cached files never ship
    assert not tops & {"boto3", "botocore", "s3transfer"}
    assert not any("__pycache__" in n or n.endswith((".pyc", ".so")) for n in names)
    dists = {d.split("==")[0].replace("_", "-").lower() for d in package.distributions}
    assert "aws-lambda-powertools" in dists and "boto3" not in dists


def runtime_dir(tmp_path: Path) -> Path:
    """A directory holding only boto3 and its dependencies: what the Lambda runtime provides."""
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    for dist in runtime_closure():
        for entry in dist.files or ():
            top = entry.parts[0]
            if top == ".." or top.endswith(".dist-info") or top == "__pycache__" or top.endswith(".pth"):
                continue
            link = runtime / top
            if not link.exists():
                link.symlink_to(Path(dist.locate_file(top)))
    return runtime


def import_in_clean_interpreter(
    package: Package, tmp_path: Path, modules: list[str]
) -> subprocess.CompletedProcess[str]:
    code = tmp_path / "code"
    with zipfile.ZipFile(io.BytesIO(package.data)) as archive:
        archive.extractall(code)
    settings = Settings(endpoint_url="http://127.0.0.1:4566")
    env = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "PATH": os.environ.get("PATH", "")}
    env.update(Topology.from_settings(settings).environment(Topology.from_settings(settings).functions[0]))
    script = (
        "import importlib, sys\n"
        f"sys.path[:0] = [{str(code)!r}, {str(runtime_dir(tmp_path))!r}]\n"
        f"for name in {modules!r}:\n"
        "    module, _, attr = name.rpartition('.')\n"
        "    assert callable(getattr(importlib.import_module(module), attr)), name\n"
        "import aws_lambda_powertools\n"
        f"assert aws_lambda_powertools.__file__.startswith({str(code)!r}), aws_lambda_powertools.__file__\n"
        "print('ok')\n"
    )
    # -I: no user site, no cwd; -S: no site-packages at all. Only the package and boto3 are importable.
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", script], env=env, capture_output=True, text=True, timeout=60
    )


def test_every_handler_imports_with_only_boto3(package: Package, tmp_path: Path) -> None:
    handlers = [spec.handler for spec in Topology.from_settings(Settings()).functions]
    result = import_in_clean_interpreter(package, tmp_path, handlers)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"


def test_the_clean_interpreter_really_lacks_other_packages(package: Package, tmp_path: Path) -> None:
    result = import_in_clean_interpreter(package, tmp_path, ["moto.server.ThreadedMotoServer"])
    assert result.returncode != 0 and "No module named 'moto'" in result.stderr
