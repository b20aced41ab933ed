"""Sensor lists as CSV: `name,address[,notes]`, comma or semicolon, optional header, UTF-8 with or
without the BOM Excel writes. Every bad row is reported by line; a file with errors imports nothing
unless the caller asks to skip bad rows.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from core import atomicfile, gcpause
from core.model import Sensor, check_additions, sensor_problems

MAX_FILE_BYTES = 64 * 1024 * 1024
_HEADER_NAMES = {"name", "sensor", "sensor name"}


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class CsvResult:
    sensors: tuple[Sensor, ...]
    errors: tuple[RowError, ...]


class CsvImportError(ValueError):
    def __init__(self, source: str, errors: tuple[RowError, ...], message: str = "") -> None:
        self.errors = errors
        shown = "\n".join(f"  {e}" for e in errors[:50])
        more = f"\n  … and {len(errors) - 50} more" if len(errors) > 50 else ""
        rows = "bad row" if len(errors) == 1 else "bad rows"
        super().__init__(message or f"{source}: {len(errors)} {rows}; nothing was imported\n{shown}{more}")


def _dialect(text: str) -> str:
    """Semicolon when the first non-empty line has more semicolons than commas (Excel, EU locales)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if first.count(";") > first.count(",") else ","


def parse(
    text: str, *, separator: str | None = None, allow_wide: bool = False, existing: tuple[Sensor, ...] = ()
) -> CsvResult:
    """Parse sensor rows to add to `existing`. Tabs also work, for rows pasted from a spreadsheet. A row
    whose name or address clashes with a sensor in `existing` or an earlier row is a bad row."""
    text = text.removeprefix("\ufeff")
    sep = separator or ("\t" if "\t" in text.split("\n", 1)[0] else _dialect(text))
    sensors: list[tuple[int, Sensor]] = []
    errors: list[RowError] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    with gcpause.paused():  # every row's sensor and checks live on (in the result, in the cache)
        try:
            for row in reader:
                line = reader.line_num
                cells = [c.strip() for c in row]
                while cells and cells[-1] == "":
                    cells.pop()
                if not cells:
                    continue
                if not sensors and not errors and cells[0].casefold() in _HEADER_NAMES:
                    continue
                if len(cells) < 2:
                    errors.append(RowError(line, f"expected name{sep}address[{sep}notes], got {len(cells)} column"))
                    continue
                if len(cells) > 3:
                    errors.append(RowError(line, f"expected at most 3 columns, got {len(cells)}"))
                    continue
                name, address = cells[0], cells[1]
                notes = cells[2] if len(cells) == 3 else ""
                sensor = Sensor(name, address, True, notes)
                if problems := sensor_problems(sensor, allow_wide=allow_wide):
                    errors.append(RowError(line, "; ".join(m for _, m in problems)))
                else:
                    sensors.append((line, sensor))
        except csv.Error as exc:
            errors.append(RowError(reader.line_num, f"unreadable CSV ({exc})"))
        good, clashes = check_additions(existing, sensors, allow_wide=allow_wide)
    errors += [RowError(line, why) for line, why in clashes]
    errors.sort(key=lambda e: e.line)
    return CsvResult(tuple(good), tuple(errors))


def read(
    path: Path, *, skip_bad_rows: bool = False, allow_wide: bool = False, existing: tuple[Sensor, ...] = ()
) -> CsvResult:
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise CsvImportError(str(path), (RowError(0, f"the file is {size:,} bytes; at most {MAX_FILE_BYTES:,}"),))
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        hint = "save it from Excel as 'CSV UTF-8'"
        raise CsvImportError(str(path), (RowError(line, f"not UTF-8 text; {hint}"),)) from None
    if path.suffix.lower() == ".toml" or re.search(r"^schema\s*=\s*\d", text, re.MULTILINE):
        raise CsvImportError(
            str(path),
            (),
            f"{path}: this is a sensorproxy project file, not a CSV sensor list; the project comes first, "
            f"as in `sensorproxy import-csv {path.name} sensors.csv`",
        )
    result = parse(text, allow_wide=allow_wide, existing=existing)
    if result.errors and not skip_bad_rows:
        raise CsvImportError(str(path), result.errors)
    return result


def dumps(sensors: tuple[Sensor, ...] | list[Sensor]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["name", "address", "notes"])
    for s in sensors:
        writer.writerow([s.name, s.address, s.notes])
    return out.getvalue()


def write(sensors: tuple[Sensor, ...] | list[Sensor], path: Path) -> None:
    # UTF-8 with BOM so Excel shows non-ASCII names correctly.
    atomicfile.write_text(Path(path), "\ufeff" + dumps(sensors))
