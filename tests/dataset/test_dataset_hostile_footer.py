"""A file whose footer claims more than the Parquet reader's 256 MiB limit
(docs/parquet.md) is refused without fetching the claimed bytes: an error
naming it, or a skipped file with --skip-bad. The file is sparse, so the
test costs no disk."""
import re
import struct

import pyarrow as pa
import pyarrow.parquet as pq

from conftest import run_cli


def test_huge_footer_claim_is_refused_unfetched(tmp_path, hoist_cli):
    d = tmp_path / "ds"
    d.mkdir()
    pq.write_table(pa.table({"x": [1, 2, 3]}), d / "good.parquet")
    claim = 300 * 1024 * 1024
    with open(d / "huge.parquet", "wb") as f:
        f.write(b"PAR1")
        f.truncate(claim + 64)
        f.seek(claim + 64 - 8)
        f.write(struct.pack("<I", claim) + b"PAR1")
    p = run_cli(hoist_cli, "load", str(d) + "/")
    assert p.returncode == 1, p.stderr_text
    assert "huge.parquet: footer of 314572808 bytes exceeds the limit of 256 MiB" in p.stderr_text, p.stderr_text
    p = run_cli(hoist_cli, "load", str(d) + "/", "--skip-bad", check=True)
    assert re.search(r"^rows\s+3$", p.stdout_text, re.M), p.stdout_text
    assert "exceeds the limit" in p.stdout_text + p.stderr_text
    fetched = re.search(r"^fetched\s+([\d.]+) (\w+)", p.stdout_text, re.M)
    assert fetched and fetched.group(2) in ("B", "KiB"), p.stdout_text  # the 64 KiB tails only
