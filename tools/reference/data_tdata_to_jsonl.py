"""Independent reader for Tailor's .tdata format (standard library only): validates magic, version, size and CRC-32
(zlib) and writes one {"input_ids": [...], "labels": [...]} JSON line per row (plus "segment_ids"/"position_ids"
when packed), the JSONL the trainer's reader takes.

Run: python3 tools/reference/data_tdata_to_jsonl.py OUT/train.tdata train.jsonl
"""
import json
import struct
import sys
import zlib


def read_tdata(path):
    data = open(path, "rb").read()
    if data[:8] != b"TAILORDS":
        raise ValueError(f"{path}: bad magic")
    version, flags, rows, tokens, crc, header = struct.unpack_from("<IIQQII", data, 8)
    if version != 1:
        raise ValueError(f"{path}: version {version}")
    if zlib.crc32(data[header:]) != crc:
        raise ValueError(f"{path}: checksum mismatch")
    packed = flags & 1
    offsets = struct.unpack_from(f"<{rows + 1}Q", data, header)
    ids_at = header + 8 * (rows + 1)
    labels_at = ids_at + 4 * tokens
    seg_at = labels_at + 4 * tokens
    pos_at = seg_at + (2 * tokens + 3) // 4 * 4
    end = pos_at + 4 * tokens if packed else seg_at
    if end != len(data):
        raise ValueError(f"{path}: size {len(data)} != {end}")
    ids = struct.unpack_from(f"<{tokens}I", data, ids_at)
    labels = struct.unpack_from(f"<{tokens}i", data, labels_at)
    segs = struct.unpack_from(f"<{tokens}h", data, seg_at) if packed else None
    pos = struct.unpack_from(f"<{tokens}I", data, pos_at) if packed else None
    for r in range(rows):
        a, b = offsets[r], offsets[r + 1]
        row = {"input_ids": list(ids[a:b]), "labels": list(labels[a:b])}
        if packed:
            row["segment_ids"] = list(segs[a:b])
            row["position_ids"] = list(pos[a:b])
        yield row


if __name__ == "__main__":
    with open(sys.argv[2], "w") as f:
        n = 0
        for row in read_tdata(sys.argv[1]):
            f.write(json.dumps(row) + "\n")
            n += 1
    print(n, "rows ->", sys.argv[2])
