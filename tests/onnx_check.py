#!/usr/bin/env python3
"""onnx_check.py: checks an ONNX export of dinornn (tests/cli-onnx.sh).

usage: onnx_check.py MODEL.onnx [METADATA.json]

Runs onnx.checker with full_check (the graph, its types and its shapes
inferred in strict mode), checks the model's header (IR version 7, opset 13,
producer "dinornn") and, given METADATA.json, writes the model's
metadata_props there as one JSON object. Exit 0: valid; 1: not; 2: bad usage.
"""
import json
import sys


def main(argv):
    if len(argv) not in (2, 3) or argv[1].startswith("-"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        import onnx
    except ImportError:
        print("onnx_check.py: the onnx package is not installed", file=sys.stderr)
        return 2
    try:
        model = onnx.load(argv[1])
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:  # the checker's and the parser's own errors
        print(f"{argv[1]}: not a valid ONNX model: {e}", file=sys.stderr)
        return 1
    opsets = {o.domain: o.version for o in model.opset_import}
    problems = []
    if model.ir_version != 7:
        problems.append(f"ir_version {model.ir_version}, not 7")
    if opsets != {"": 13}:
        problems.append(f"opsets {opsets}, not {{'': 13}}")
    if model.producer_name != "dinornn" or model.graph.name != "dinornn":
        problems.append("producer or graph name is not dinornn")
    meta = {p.key: p.value for p in model.metadata_props}
    if meta.get("format") != "dinornn" or meta.get("format_version") != "1":
        problems.append("metadata format is not dinornn 1")
    if problems:
        print(f"{argv[1]}: " + "; ".join(problems), file=sys.stderr)
        return 1
    if len(argv) == 3:
        with open(argv[2], "w", encoding="utf-8") as f:
            json.dump(meta, f, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
