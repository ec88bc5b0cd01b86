"""CSV dialect and encoding detection, so DuckDB reads the file strictly and fails loudly.

DuckDB's automatic sniffer can silently drop rows of a ragged file, so we detect
the delimiter, header and encoding ourselves and read with auto-detection off.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, Lead2CashError, Location

__all__ = ["CsvDialect", "detect_dialect", "detect_encoding", "is_utf8_name", "utf8_copy"]

_DELIMITERS = (",", ";", "\t", "|")
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class CsvDialect:
    """How to read one CSV file: delimiter, quote, header names and a UTF-8 path to read."""

    path: Path
    delimiter: str
    header: tuple[str, ...]
    encoding: str
    compression: str | None


def _open_binary(path: Path) -> io.BufferedIOBase:
    """Open a CSV file as bytes, transparently decompressing `.gz`."""
    if path.suffix == ".gz":
        import gzip

        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _unreadable(path: Path, exc: BaseException) -> InputError:
    """The error for a file that cannot be read to its end: not gzip, cut short, no permission."""
    import gzip
    import zlib

    if isinstance(exc, gzip.BadGzipFile | zlib.error):
        return InputError(Location(str(path)), f"not a valid gzip file ({exc})",
                          "name it without .gz if it is plain text, or compress it again "
                          "(gzip FILE)")
    if isinstance(exc, EOFError):
        return InputError(Location(str(path)), "the gzip file is cut short (truncated)",
                          "copy or download the file again; `gzip -t FILE` tests it")
    if isinstance(exc, PermissionError):
        return InputError(Location(str(path)), "no permission to read the file",
                          "give yourself read access (chmod u+r FILE) or run as its owner")
    return InputError(Location(str(path)), f"cannot read the file ({exc})",
                      "check that the file is complete and readable")


_READ_ERRORS = (OSError, EOFError)  # BadGzipFile is an OSError; zlib.error is caught by name


def _utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when the first bytes look like UTF-16 text without its
    byte-order mark (every other byte NUL), else None."""
    sample = head[:400]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def _is_utf8(path: Path) -> bool:
    """Whether the whole file decodes as UTF-8 (streamed, constant memory)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with _open_binary(path) as fh:
        try:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def detect_encoding(path: Path) -> str:
    """The encoding of a text file: its byte-order mark (UTF-8, UTF-16), else UTF-8 when the
    whole file decodes as UTF-8, else cp1252 (Windows Latin-1, a superset of ISO-8859-1's
    printable characters; its few undefined bytes are read as Latin-1)."""
    import zlib

    try:
        with _open_binary(path) as fh:
            head = fh.read(400)
        for bom, name in _BOMS:
            if head.startswith(bom):
                return name
        utf16 = _utf16_without_bom(head)
        if utf16:
            raise InputError(
                Location(str(path)), f"the file looks like {utf16.upper()} text without a "
                "byte-order mark (every other byte is NUL)",
                f"pass --encoding {utf16}, or save the file as UTF-8")
        return "utf-8" if _is_utf8(path) else "cp1252"
    except (*_READ_ERRORS, zlib.error) as exc:
        raise _unreadable(path, exc) from None


def is_utf8_name(encoding: str) -> bool:
    """Whether an encoding name means UTF-8 (with or without BOM), which DuckDB reads as is;
    an unknown name is an error saying which names work."""
    try:
        return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    except LookupError:
        raise Lead2CashError(
            f"unknown encoding {encoding!r}",
            'use a Python codec name such as "utf-8", "utf-16", "cp1252" or "latin-1"',
        ) from None


def _cp1252_or_latin1(err: UnicodeDecodeError) -> tuple[str, int]:
    """Decode the few bytes cp1252 leaves undefined as latin-1, so no byte is lost."""
    return err.object[err.start : err.end].decode("latin-1"), err.end  # type: ignore[union-attr]


codecs.register_error("lead2cash-latin1", _cp1252_or_latin1)


def utf8_copy(path: Path, encoding: str, tmp_dir: Path) -> Path:
    """Transcode a file to a temporary UTF-8 copy that DuckDB can read."""
    try:
        tmp_dir.mkdir(parents=True, exist_ok=True)
        out = tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", suffix=".csv", dir=tmp_dir, delete=False, newline=""
        )
    except OSError as exc:
        raise Lead2CashError(
            f"{tmp_dir}: cannot write the temporary UTF-8 copy of {path.name} ({exc.strerror})",
            "point LEAD2CASH_TEMP_DIR at a writable folder with room for the file, or unset it",
        ) from None
    decoder = codecs.getincrementaldecoder(encoding)(errors="lead2cash-latin1")
    try:
        with _open_binary(path) as fh, out:
            while chunk := fh.read(_CHUNK):
                out.write(decoder.decode(chunk))
            out.write(decoder.decode(b"", final=True))
    except BaseException:  # a cut-short or unreadable input: no half copy stays behind
        Path(out.name).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            tmp_dir.rmdir()
        raise
    return Path(out.name)


def _first_line(path: Path, encoding: str) -> str:
    """The header line of the file (first physical line, BOM removed)."""
    with _open_binary(path) as fh:
        raw = fh.readline(1 << 20)
    text = raw.decode(encoding, errors="replace")
    return text.lstrip("\ufeff").rstrip("\r\n")


def detect_dialect(
    path: Path, delimiter: str | None, encoding: str | None, tmp_dir: Path
) -> CsvDialect:
    """Work out encoding, delimiter and header of a CSV file; transcode when not UTF-8."""
    import zlib

    if delimiter is not None and len(delimiter) != 1:
        raise InputError(Location("--delimiter"),
                         f"a delimiter is one character, not {delimiter!r}",
                         "pass one character, e.g. --delimiter ';' (or --delimiter $'\\t' "
                         "for tabs); leave it out to detect it")
    if encoding is None:
        encoding = detect_encoding(path)
    try:
        readable = path if is_utf8_name(encoding) else utf8_copy(path, encoding, tmp_dir)
        line = _first_line(readable, "utf-8")
    except (*_READ_ERRORS, zlib.error) as exc:
        raise _unreadable(path, exc) from None
    if not line.strip():
        raise InputError(
            Location(str(path), 1), "the file is empty or its first line is blank",
            "the first line must be a header row naming the columns",
        )
    if delimiter is None:
        counts = {d: _count_outside_quotes(line, d) for d in _DELIMITERS}
        delimiter = max(counts, key=lambda d: counts[d])
        if counts[delimiter] == 0:
            delimiter = ","
    header = tuple(next(csv.reader([line], delimiter=delimiter, quotechar='"')))
    blanks = [i + 1 for i, h in enumerate(header) if not h.strip()]
    if blanks:
        raise InputError(
            Location(str(path), 1, f"#{blanks[0]}"), "a header cell is empty",
            "give every column a name in the header row",
        )
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputError(
            Location(str(path), 1, dupes[0]), "the header names this column twice",
            "rename one of the columns so that every header name is unique",
        )
    compression = "gzip" if readable.suffix == ".gz" else None
    return CsvDialect(readable, delimiter, header, encoding, compression)


def _count_outside_quotes(line: str, delimiter: str) -> int:
    """How often `delimiter` occurs outside double-quoted parts of `line`."""
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delimiter and not quoted:
            count += 1
    return count
