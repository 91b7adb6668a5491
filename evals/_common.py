"""Shared bits of the evaluation scripts: where the data is, and printing figures as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def data_dir(description: str, *needed: str) -> tuple[Path, argparse.Namespace]:
    """Parse `--data` (default ../shared/data beside the repo) and check `needed` sub-paths."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--seeds", type=int, default=5, help="repetitions of sampled runs")
    args = parser.parse_args()
    missing = [n for n in needed if not (args.data / n).exists()]
    if missing:
        sys.exit(f"data not found: {', '.join(str(args.data / n) for n in missing)} (pass --data)")
    return args.data, args


def emit(figures: dict[str, Any]) -> None:
    """Print one JSON object."""
    print(json.dumps(figures, indent=2, sort_keys=False))
