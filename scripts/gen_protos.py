"""Generates the Python stubs beside the .proto files under protos/.

    python scripts/gen_protos.py          # regenerate in place
    python scripts/gen_protos.py --check  # fail if the committed stubs differ

The stubs are committed so that running copnet needs neither protoc nor
grpcio-tools; `--check` (run by the test suite) keeps them honest.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def proto_files() -> list[Path]:
    return sorted(PROTOS.rglob("*.proto"))


def generate(out_dir: Path) -> None:
    args = [
        "protoc",
        f"-I{PROTOS}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *[str(p.relative_to(PROTOS)) for p in proto_files()],
    ]
    include = Path(protoc.__file__).parent / "_proto"
    args.insert(1, f"-I{include}")
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")


def generated_files(base: Path) -> set[Path]:
    return {p.relative_to(base) for p in base.rglob("*") if p.name.endswith(SUFFIXES)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        generate(out)
        fresh = generated_files(out)
        if options.check:
            committed = generated_files(PROTOS)
            stale = sorted(
                str(p)
                for p in fresh
                if not (PROTOS / p).exists() or not filecmp.cmp(out / p, PROTOS / p, shallow=False)
            )
            extra = sorted(str(p) for p in committed - fresh)
            if stale or extra:
                print("generated stubs are out of date; run scripts/gen_protos.py", file=sys.stderr)
                for name in stale + extra:
                    print(f"  {name}", file=sys.stderr)
                return 1
            print(f"{len(fresh)} generated files match their .proto sources")
            return 0
        for relative in sorted(fresh):
            target = PROTOS / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(out / relative, target)
        for package_dir in {(PROTOS / p).parent for p in fresh}:
            for directory in [package_dir, *package_dir.relative_to(PROTOS).parents]:
                init = PROTOS / directory / "__init__.py"
                if directory != Path(".") and not init.exists():
                    init.touch()
        print(f"wrote {len(fresh)} files")
        return 0


if __name__ == "__main__":
    sys.exit(main())
