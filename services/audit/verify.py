"""Offline verification of an exported transfer log (``kimhub audit verify``).

Input: the export (JSON Lines: ``{"index", "leaf_hash", "record"}`` in log order; ``"record": null``
for a record withheld from this reader, another controller's: its stored leaf hash stands in), a signed
checkpoint, the public key(s), optionally older checkpoints seen before. Needs no database and no
running hub; memory does not grow with the log (only with the number of damaged records; with the stored nodes,
32 bytes a record after the last older checkpoint that still matches).

What it finds, each named with the first bad record index:
- *modified*: a record whose bytes no longer hash to the leaf stored at append time;
- *missing*: an index that is skipped;
- *reordered*: a record that sits at another record's place;
- *inserted*: a record that was not there at append time (later records shifted);
- *root mismatch*: the records do not produce the signed root (e.g. leaf hashes rewritten too):
  "a record between i and j was changed", i and j bounded by the older checkpoints (and narrowed
  by the stored subtree hashes, if given: ``narrow.py`` says what each can prove);
- *rolled back*: the checkpoint is older than one seen before, or not consistent with it.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from services.audit import merkle, narrow
from services.audit.checkpoint import Checkpoint, open_checkpoint
from services.audit.note_keys import NoteError, NoteVerifier
from services.audit.record import canonical_json


@dataclass
class Problem:
    kind: str  # modified | missing | reordered | inserted | root_mismatch | rolled_back | malformed
    index: int | None
    detail: str
    last: int | None = None  # a range of records: index..last

    def __str__(self) -> str:
        where = f"record {self.index}" if self.index is not None else "log"
        if self.last is not None and self.last != self.index:
            where = f"records {self.index}..{self.last}"
        return f"{self.kind}: {where}: {self.detail}"


@dataclass
class Report:
    checkpoint: Checkpoint | None = None
    records: int = 0
    withheld: int = 0  # records of other controllers: checked by their stored leaf hash only
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.checkpoint is not None

    @property
    def first(self) -> Problem | None:
        return min(self.problems, key=lambda p: (p.index is None, p.index or 0)) if self.problems else None


def verify(lines: Iterable[str], checkpoint_note: str, verifiers: list[NoteVerifier],
           previous_notes: Iterable[str] = (), require_all: bool = False,
           stored_nodes: Iterable[str] | None = None) -> Report:
    """Check the exported ``lines`` against the signed checkpoint and the older checkpoints seen before.

    ``stored_nodes`` (``kimhub audit export --nodes``) narrows a root mismatch; read after the log.
    """
    report = Report()
    try:
        cp = open_checkpoint(checkpoint_note, verifiers, require_all=require_all)
    except (NoteError, ValueError) as exc:
        report.problems.append(Problem("malformed", None, f"checkpoint not verified: {exc}"))
        return report
    report.checkpoint = cp
    previous = _open_previous(report, previous_notes, verifiers, cp)
    replay = _replay(report, lines, cp, _Replay(_targets(previous, cp), keep_leaves=stored_nodes is not None))
    _classify(report, replay.mismatched, replay.suspects)
    _check_against_checkpoints(report, replay, cp, previous, stored_nodes)
    return report


def _open_previous(report: Report, previous_notes: Iterable[str], verifiers: list[NoteVerifier],
                   cp: Checkpoint) -> list[Checkpoint]:
    """The older checkpoints of the same log that verify; one larger than ``cp`` is a rollback."""
    previous: list[Checkpoint] = []
    for note in previous_notes:
        try:
            old = open_checkpoint(note, verifiers, origin=cp.origin)
        except (NoteError, ValueError) as exc:
            report.problems.append(Problem("malformed", None, f"older checkpoint not verified: {exc}"))
            continue
        if old.size > cp.size:
            report.problems.append(Problem(
                "rolled_back", None, f"the checkpoint (size {cp.size}) is older than one seen before (size {old.size})"))
        previous.append(old)
    return previous


def _targets(previous: list[Checkpoint], cp: Checkpoint) -> list[Checkpoint]:
    """The checkpoints whose roots the replay compares, by size (one per size), ``cp`` last."""
    targets = sorted({p.size: p for p in previous if p.size <= cp.size}.values(), key=lambda p: p.size)
    targets.append(cp)
    return targets


@dataclass
class _Replay:
    """The records re-hashed in log order: the tree they build and the leaf hashes that did not match."""

    targets: list[Checkpoint]
    tree: merkle.CompactRange = field(default_factory=merkle.CompactRange)
    expected: int = 0  # the index the next record should have
    suspects: dict[bytes, int] = field(default_factory=dict)  # stored leaf hash -> index, only for mismatches
    mismatched: list[tuple[int, bytes]] = field(default_factory=list)  # (index, recomputed leaf hash)
    last_good: int = 0  # largest checkpoint size whose root the records still reproduce
    first_bad: Checkpoint | None = None  # the smallest checkpoint whose root they do not reproduce
    next_target: int = 0
    keep_leaves: bool = False
    leaves: list[bytes] = field(default_factory=list)  # recomputed leaf hashes from last_good on (if kept)

    def append(self, index: int, stored: bytes | None, actual: bytes) -> None:
        if stored is not None and stored != actual:
            self.suspects[stored] = self.tree.size
            self.mismatched.append((self.tree.size, actual))
        self.tree.append(actual)
        if self.keep_leaves and self.first_bad is None:
            self.leaves.append(actual)
        self.expected = max(self.expected, index) + 1
        while self.next_target < len(self.targets) and self.tree.size == self.targets[self.next_target].size:
            self._compare(self.targets[self.next_target])
            self.next_target += 1

    def _compare(self, target: Checkpoint) -> None:
        if self.tree.root() == target.root:
            self.last_good = self.tree.size
            self.leaves.clear()
        elif self.first_bad is None:
            self.first_bad = target


def _replay(report: Report, lines: Iterable[str], cp: Checkpoint, replay: _Replay) -> _Replay:
    """Re-hash the records up to the checkpoint's size, noting unreadable lines and index gaps."""
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if replay.tree.size >= cp.size:
            break  # records after the checkpoint are not covered by it
        index, stored, actual = _read_entry(report, line_no, line, replay.expected)
        if actual is None:  # withheld: the stored leaf hash stands in for the record
            report.withheld += 1
            actual = stored
        _check_index(report, index, replay.expected)
        replay.append(index, stored, actual)
        report.records += 1
    return replay


def _read_entry(report: Report, line_no: int, line: str, expected: int) -> tuple[int, bytes | None, bytes | None]:
    """(index, stored leaf hash or None, recomputed leaf hash) of one exported line; the recomputed
    hash is None for a withheld record that has a stored one.

    An unreadable line stands in for the expected record, hashed as it is.
    """
    try:
        entry = json.loads(line)
        index, record = int(entry["index"]), entry["record"]
        stored = bytes.fromhex(entry["leaf_hash"]) if entry.get("leaf_hash") else None
        if record is None and stored is not None and len(stored) == merkle.HASH_SIZE:
            return index, stored, None
        actual = merkle.leaf_hash(canonical_json(record))
    except (ValueError, KeyError, TypeError) as exc:
        report.problems.append(Problem("malformed", expected, f"line {line_no} unreadable ({type(exc).__name__})"))
        actual, index, stored = merkle.leaf_hash(line.encode()), expected, None
    return index, stored, actual


def _check_index(report: Report, index: int, expected: int) -> None:
    """A record's index after a gap (missing records) or at or before an earlier one (reordered)."""
    if index > expected:
        report.problems.append(Problem("missing", expected, f"indexes {expected}..{index - 1} are not in the log"))
    elif index < expected:
        report.problems.append(Problem("reordered", index, f"index {index} appears again after {expected - 1}"))


def _check_against_checkpoints(report: Report, replay: _Replay, cp: Checkpoint,
                               previous: list[Checkpoint], stored_nodes: Iterable[str] | None) -> None:
    """The replayed log against the signed checkpoint, then against the older ones, if nothing else was found."""
    tree, last_good = replay.tree, replay.last_good
    if tree.size < cp.size:
        report.problems.append(Problem("missing", tree.size, f"the log ends at {tree.size} records, "
                                                             f"the checkpoint covers {cp.size}"))
    elif tree.root() != cp.root and not report.problems:
        report.problems.append(_root_mismatch(replay, replay.first_bad or cp, stored_nodes))
    for old in previous:
        if old.size <= cp.size and last_good < old.size and not report.problems:
            report.problems.append(Problem("rolled_back", None, f"not consistent with the checkpoint of size {old.size}"))


def _root_mismatch(replay: _Replay, bad: Checkpoint, stored_nodes: Iterable[str] | None) -> Problem:
    """A record between ``lo`` and ``hi - 1`` was changed: what the checkpoints (and the nodes) prove."""
    lo, hi = replay.last_good, bad.size
    why = (f"records 0..{lo - 1} reproduce the signed checkpoint of size {lo}, " if lo else "") + \
          f"records 0..{hi - 1} do not reproduce the signed checkpoint of size {hi}"
    first, last = lo, hi - 1
    if stored_nodes is not None:
        nodes = narrow.read_nodes(stored_nodes, narrow.wanted_nodes(lo, hi))
        first, last = narrow.unproven_range(replay.leaves, lo, hi, bad.root, nodes)
        if (first, last) != (lo, hi - 1):
            why += (f"; the stored subtree hashes prove every other record of {lo}..{hi - 1} unchanged "
                    f"(an inclusion proof leads it to that signed root)")
    return Problem("root_mismatch", first,
                   f"a record between {first} and {last} was changed (its leaf hash rewritten too): {why}", last)


def _classify(report: Report, mismatched: list[tuple[int, bytes]], suspects: dict[bytes, int]) -> None:
    """Tell moved records (their hash was stored at another index) from changed ones."""
    for i, (index, actual) in enumerate(mismatched):
        origin = suspects.get(actual)
        if origin is None:
            following = mismatched[i + 1] if i + 1 < len(mismatched) else None
            shifted = following is not None and following[0] == index + 1 and suspects.get(following[1]) == index
            if shifted:
                report.problems.append(Problem("inserted", index, "a record that was not in the log at append time"))
            else:
                report.problems.append(Problem("modified", index, "the record does not match its leaf hash"))
        elif origin == index - 1 and any(p.kind == "inserted" and p.index < index for p in report.problems):
            continue  # a record shifted by an insertion before it
        elif origin == index + 1:
            if not any(p.kind == "missing" and p.index < index for p in report.problems):
                report.problems.append(Problem("missing", index, "the record appended here was removed "
                                                                 "(later records moved up)"))
        else:
            report.problems.append(Problem("reordered", index, f"this record was appended at index {origin}"))
