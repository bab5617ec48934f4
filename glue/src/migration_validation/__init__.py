"""Pure-Python validation core of the Glue validation job (standard library only).

Read ``docs/glue.md`` for the contract schema, the report format and how
partition reports merge.
"""

from .contracts import Contract, ContractError, load_contracts_dir, load_contracts_zip, match_contracts, parse_contract
from .ranges import FileReader, LineBlocks, S3RangeReader, read_first_line, split_ranges
from .report import FAILED, PASSED, Report, merge_reports
from .validator import Plan, plan_file, resolve_contract, validate_object, validate_range

__all__ = [
    "Contract",
    "ContractError",
    "FAILED",
    "FileReader",
    "LineBlocks",
    "PASSED",
    "Plan",
    "Report",
    "S3RangeReader",
    "load_contracts_dir",
    "load_contracts_zip",
    "match_contracts",
    "merge_reports",
    "parse_contract",
    "plan_file",
    "read_first_line",
    "resolve_contract",
    "split_ranges",
    "validate_object",
    "validate_range",
]
