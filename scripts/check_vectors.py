"""Reads every language-neutral golden vector (spec/v1/vectors/*.json) with the official
protobuf library, as an implementation in another language would: the `frame` member must
parse under the protobuf JSON mapping, encode to exactly `protobuf_hex`, and `protobuf_hex`
must decode back to the same frame. The descriptors come from spec/v1/released-descriptor.binpb.

Usage: python scripts/check_vectors.py   (needs `pip install protobuf`)
"""

from __future__ import annotations

import glob
import json
import pathlib
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main() -> int:
    descriptors = (ROOT / "spec/v1/released-descriptor.binpb").read_bytes()
    pool = descriptor_pool.DescriptorPool()
    for file in descriptor_pb2.FileDescriptorSet.FromString(descriptors).file:
        pool.Add(file)
    frame_type = message_factory.GetMessageClass(pool.FindMessageTypeByName("cim.v1.Frame"))
    paths = sorted(glob.glob(str(ROOT / "spec/v1/vectors/*.json")))
    problems = []
    for path in paths:
        vector = json.loads(pathlib.Path(path).read_text())
        parsed = json_format.ParseDict(vector["frame"], frame_type())
        encoded = parsed.SerializeToString(deterministic=True).hex()
        if encoded != vector["protobuf_hex"]:
            problems.append(f"{path}: the frame encodes to {encoded}, not protobuf_hex")
        if frame_type.FromString(bytes.fromhex(vector["protobuf_hex"])) != parsed:
            problems.append(f"{path}: protobuf_hex decodes to another frame")
        if not vector["tcp_hex"].endswith(vector["protobuf_hex"]):
            problems.append(f"{path}: tcp_hex does not end with protobuf_hex")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(paths)} golden vectors read with the protobuf library: {len(problems)} problems")
    return 1 if problems or not paths else 0


if __name__ == "__main__":
    sys.exit(main())
