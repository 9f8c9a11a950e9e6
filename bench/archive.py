"""Benchmark the archive package: one item with 2,000 audit events and 200 MB of attachments.

The package is written in a fresh process each time (`multiprocessing` spawn), so the printed peak memory is the
packaging's own. It is written twice, with 50 MB and with 200 MB of attachments: the peak must not grow with the
attachments' size (the ZIP is streamed). The baseline, measured in the same run, is reading every attachment once
(sha256 of 200 MB).
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from core.config import config_from_dict
from core.runtime import Runtime
from core.storage import store
from migrations import upgrade
from models import Attachment, AuditEvent, Item, Person
from workflow.people.org import import_org, load_org_file

ROOT = Path(__file__).resolve().parents[1]
AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(prog="python -m bench.archive", description=__doc__)
    p.add_argument("--events", type=int, default=2000)
    p.add_argument("--mb", type=int, default=200, help="megabytes of attachments (default 200)")
    p.add_argument("--file-mb", type=int, default=5, help="size of each attachment (default 5 MB)")
    p.add_argument("--keep", action="store_true")
    return p.parse_args(argv)


def _runtime(tmp: Path) -> Runtime:
    wecom = {"corp_id": "wwbench", "agent_id": 1, "secret": "s", "token": "t", "encoding_aes_key": "k" * 43}
    raw = {"wecom": wecom, "database": {"url": f"sqlite:///{tmp / 'bench.db'}"}, "app": {"data_dir": str(tmp)}}
    return Runtime(config_from_dict(raw, base_dir=tmp))


def fill(tmp: Path, code: str, events: int, mb: int, file_mb: int) -> list[Path]:
    """One archived item with its audit events and attachments of random (incompressible) bytes; return the files."""
    rt = _runtime(tmp)
    files = []
    with rt.sessions() as s, s.begin():
        if s.scalar(select(Person.id).limit(1)) is None:
            import_org(s, load_org_file(ROOT / "cli" / "demo_org.toml"), AT)
        reporter = s.scalar(select(Person.id).where(Person.userid == "zhangsan"))
        item = Item(code=code, title="案卷基准", text="基准条目" * 50, source="discovery", grade="major",
                    state="archived", reporter_id=reporter, reported_at=AT, updated_at=AT)  # fmt: skip
        s.add(item)
        s.flush()
        s.execute(
            insert(AuditEvent),
            [{"item_id": item.id, "actor": "chenqi", "action": "progress_report", "detail": {"text": f"第 {i} 次续报"},
              "at": AT + timedelta(seconds=i)} for i in range(events)],
        )  # fmt: skip
        for i in range(mb // file_mb):
            digest, rel = store(rt.config.storage_dir, os.urandom(file_mb << 20))
            files.append(rt.config.storage_dir / rel)
            att = Attachment(
                item_id=item.id,
                kind="file",
                sha256=digest,
                stored_name=rel,
                content_type="application/pdf",
                size=file_mb << 20,
                original_name=f"材料{i}.pdf",
                uploader_id=reporter,
                created_at=AT,
            )
            s.add(att)
    rt.engine.dispose()
    return files


def package(tmp: str, code: str, out: str, queue: Any) -> None:
    """In a fresh process: write the package, report (seconds, peak RSS MB, manifest sha256, files)."""
    from workflow.record import archive

    rt = _runtime(Path(tmp))
    start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    with rt.sessions() as s, s.begin():
        _path, digest, pkg = archive.make(s, rt.config, code, AT + timedelta(days=1), Path(out), actor="bench")
    took = time.perf_counter() - t
    queue.put((took, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, start, digest, len(pkg.entries)))


def run(tmp: Path, code: str) -> tuple[float, float, float, str, int]:
    """Package code in a spawned process and return what it reported."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=package, args=(str(tmp), code, str(tmp / f"{code}.zip"), queue))
    proc.start()
    result = queue.get(timeout=600)
    proc.join()
    return result  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    """Fill, package twice (a quarter of the size, then all of it), print the figures."""
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="lw-bench-archive-"))
    try:
        upgrade(f"sqlite:///{tmp / 'bench.db'}")
        print(f"archive benchmark: {args.events:,} audit events; attachments {args.mb // 4} MB, then {args.mb} MB")
        small = fill(tmp, "YQ-BENCH-SMALL", args.events, args.mb // 4, args.file_mb)
        big = fill(tmp, "YQ-BENCH-BIG", args.events, args.mb, args.file_mb)
        t = time.perf_counter()
        for f in big:
            h = hashlib.sha256()
            with f.open("rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
        baseline = time.perf_counter() - t
        rows = []
        for code, files in (("YQ-BENCH-SMALL", small), ("YQ-BENCH-BIG", big)):
            took, peak, start, digest, entries = run(tmp, code)
            size = (tmp / f"{code}.zip").stat().st_size
            rows.append((code, len(files), took, peak, start, size, digest, entries))
        print("\n| attachments | files in package | time | peak RSS | RSS after start-up | package |")
        for _code, n, took, peak, start, size, _digest, entries in rows:
            sizes = f"{peak:.0f} MB | {start:.0f} MB | {size >> 20} MB"
            print(f"| {n} × {args.file_mb} MB | {entries} | {took:.2f} s | {sizes} |")
        growth = rows[1][3] - rows[0][3]
        print(f"\nbaseline: reading the {args.mb} MB once (sha256)  {baseline:.2f} s; "
              f"packaging took {rows[1][2] / baseline:.1f}× that")  # fmt: skip
        verdict = "ok" if growth < 20 else "GROWS"
        print(f"peak memory growth from {args.mb // 4} MB to {args.mb} MB of attachments: {growth:+.0f} MB ({verdict})")
        return 0 if growth < 20 else 1
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
