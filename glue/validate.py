"""Validate a local file against the dataset contracts, as the Glue job would.

    python3 -m glue.validate FILE [--key incoming/...] [--contracts glue/contracts] [--partitions N]

Prints the report as JSON. Exit status: 0 PASSED, 1 FAILED, 2 usage error
(bad arguments, missing file, unreadable contracts).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_SRC = str(_HERE / "src")
if _SRC not in sys.path:
    sys.path.insert(0, _SRC)

from migration_validation import (  # noqa: E402  (needs the path above)
    PASSED,
    ContractError,
    FileReader,
    load_contracts_dir,
    validate_object,
)
from migration_validation.values import utf8_json  # noqa: E402

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
DEFAULT_CONTRACTS = _HERE / "contracts"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m glue.validate",
        description="Validate a local CSV or JSON lines file against the dataset contracts.",
        epilog="Exit status: 0 PASSED, 1 FAILED, 2 usage error.",
    )
    parser.add_argument("file", help="file to validate")
    parser.add_argument(
        "--key",
        help="S3 key the file would have; it selects the contract (default: incoming/<file name>)",
    )
    parser.add_argument(
        "--contracts",
        default=str(DEFAULT_CONTRACTS),
        help="folder of contract *.json files (default: glue/contracts)",
    )
    parser.add_argument(
        "--partitions",
        type=_positive_int,
        default=1,
        help="validate N byte ranges separately and merge, as the Glue job does (default: 1)",
    )
    return parser


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)  # exits with 2 on bad arguments
    path = Path(args.file)
    if not path.is_file():
        print(f"error: {path} is not a readable file", file=sys.stderr)
        return EXIT_USAGE
    key = args.key or f"incoming/{path.name}"
    if not key.startswith("incoming/"):
        print(f"error: --key must start with incoming/ (got {key!r})", file=sys.stderr)
        return EXIT_USAGE
    try:
        contracts = load_contracts_dir(args.contracts)
    except ContractError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        report = validate_object(contracts, key, FileReader(handle), size, partitions=args.partitions)
    result = report.to_dict()
    result["source"] = {"file": str(path), "key": key, "partitions": args.partitions}
    # Bytes, not text: stdout's own encoding (C locale, a Windows console)
    # must not decide whether the report can be printed.
    sys.stdout.flush()
    sys.stdout.buffer.write(utf8_json(result, indent=2).encode("utf-8") + b"\n")
    sys.stdout.buffer.flush()
    return EXIT_PASSED if result["status"] == PASSED else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
