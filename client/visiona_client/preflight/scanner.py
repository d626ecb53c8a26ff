"""A push-style reader of the ONNX protobuf that never holds the weights.

``Scanner.feed`` takes the file's bytes in chunks of any size; ``finish`` returns an
``OnnxSummary``. The reader walks the protobuf wire format with a stack of open
messages (each with the absolute offset where it ends) and descends only into the
messages that carry metadata: the graph, its nodes and their attributes, tensors'
headers, inputs and outputs with their shapes, opset imports. Everything else, and
above all every tensor payload (``raw_data``, ``float_data``…), is skipped by its
length without being copied, also when it spans many chunks.

Memory: at most one partial field (a few KiB) is carried from one chunk to the next,
plus the metadata itself. Garbage raises nothing: the summary says what was wrong.
"""

from __future__ import annotations

import os

from visiona_client.preflight.onnx_wire import (
    DATA_LOCATION_EXTERNAL,
    DIM,
    ENTRY,
    FIELDS,
    GRAPH,
    INT,
    INTS,
    MODEL,
    NODE,
    OPSET,
    PAYLOAD_FIELDS,
    ROLE_INDICES,
    ROLE_INIT,
    ROLE_INIT_SPARSE,
    ROLE_INPUT,
    ROLE_NONE,
    ROLE_OUTPUT,
    SHAPE,
    SPARSE,
    STR,
    SUB,
    SUBGRAPH,
    TENSOR,
    TENSOR_TYPE,
    TYPE,
    VALUE_INFO,
    Frame,
    Malformed,
    Spec,
    decode_ints,
    signed,
    varint,
)
from visiona_client.preflight.summary import OnnxSummary, ValueInfo

LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/v1"
# A kept string (an operator, a name) is at most this long; longer ones are skipped.
MAX_KEPT_BYTES = 16 * 1024
# The longest piece of a field that has to be whole at once: tag, length, kept string.
_CARRY_LIMIT = MAX_KEPT_BYTES + 32
_HEAD_BYTES = 64
_MAX_LOCATIONS = 10


class Scanner:
    """Feed the model's bytes with ``feed`` (any chunk sizes), then call ``finish``."""

    def __init__(self) -> None:
        self.summary = OnnxSummary()
        self._stack: list[Frame] = [Frame(MODEL, None, ROLE_NONE, True)]
        self._base = 0  # absolute offset of the next unread byte
        self._skip = 0  # bytes still to skip
        self._carry = b""  # an incomplete field, re-read when more bytes come
        self._head = bytearray()
        self._head_full = False
        self._error = ""
        self._graph_seen = False
        self._finished = False
        self._raw_inputs: list[ValueInfo] = []
        self._initializer_names: set[str] = set()

    # --- feeding -----------------------------------------------------------

    def feed(self, chunk: bytes | bytearray | memoryview) -> None:
        size = len(chunk)
        if size <= self._skip and not self._carry and self._head_full:
            # The common case inside a weight tensor: nothing to read, only to count.
            self._skip -= size
            self._base += size
            self.summary.size_bytes += size
            return
        if not size or self._finished:
            return
        self.summary.size_bytes += size
        if not self._head_full:
            self._head += chunk[: _HEAD_BYTES - len(self._head)]
            self._head_full = len(self._head) >= _HEAD_BYTES
        if self._error:
            return
        try:
            if self._carry:
                self._feed_carried(chunk)
            else:
                self._feed_view(memoryview(chunk))
        except Malformed as exc:
            self._error = str(exc)

    def _feed_view(self, view: memoryview) -> None:
        used = self._run(view, len(view))
        self._base += used
        if used < len(view):
            self._carry = bytes(view[used:])  # an incomplete field: small by design

    def _feed_carried(self, chunk: bytes | bytearray | memoryview) -> None:
        carried = len(self._carry)
        joined = self._carry + bytes(chunk[: _CARRY_LIMIT - carried])
        used = self._run(joined, len(joined))
        self._base += used
        if used >= carried:
            self._carry = b""
            rest = memoryview(chunk)[used - carried :]
            if len(rest):
                self._feed_view(rest)
        elif len(joined) >= _CARRY_LIMIT:
            raise Malformed("a field header is longer than any ONNX field")
        else:
            self._carry = joined[used:]

    # --- the wire format --------------------------------------------------

    def _run(self, data: bytes | memoryview, n: int) -> int:
        """Read whole fields from ``data``; return how many bytes were consumed."""
        stack = self._stack
        i = 0
        while True:
            if self._skip:
                step = min(self._skip, n - i)
                i += step
                self._skip -= step
                if self._skip:
                    return i
            position = self._base + i
            frame = stack[-1]
            while frame.end is not None and position >= frame.end:
                if position > frame.end:
                    raise Malformed("a field runs past the end of its message")
                stack.pop()
                self._close(frame, stack[-1])
                frame = stack[-1]
            if i >= n:
                return i
            start = i
            tag, i = varint(data, i, n)
            if tag is None:
                return start
            number, wire = tag >> 3, tag & 7
            if number == 0:
                raise Malformed("a field numbered 0")
            spec = FIELDS[frame.kind].get(number)
            if wire == 2:
                length, i = varint(data, i, n)
                if length is None:
                    return start
                end = self._base + i + length
                if frame.end is not None and end > frame.end:
                    raise Malformed("a field runs past the end of its message")
                if spec is not None:
                    what = spec[0]
                    if what == SUB:
                        stack.append(self._open(frame, spec, number, end))
                        continue
                    if length <= MAX_KEPT_BYTES:
                        if i + length > n:
                            return start
                        self._store(frame, spec, bytes(data[i : i + length]))
                        i += length
                        continue
                if frame.kind == TENSOR and number in PAYLOAD_FIELDS:
                    self.summary.weight_bytes += length
                self._skip = length
            elif wire == 0:
                value, i = varint(data, i, n)
                if value is None:
                    return start
                if spec is not None and spec[0] in (INT, INTS):
                    self._store_int(frame, spec, signed(value))
            elif wire == 1 or wire == 5:
                self._skip = 8 if wire == 1 else 4
                if frame.kind == TENSOR and number in PAYLOAD_FIELDS:
                    self.summary.weight_bytes += self._skip
            else:
                raise Malformed(f"wire type {wire} is not used by ONNX")

    # --- what the fields mean -------------------------------------------------

    def _open(self, parent: Frame, spec: Spec, number: int, end: int) -> Frame:
        kind, role = spec[1], spec[2]
        if kind == GRAPH:
            self._graph_seen = True
        if parent.kind == SPARSE and number == 1:
            role = ROLE_INIT_SPARSE if parent.role == ROLE_INIT_SPARSE else ROLE_NONE
        main = parent.main and kind != SUBGRAPH
        return Frame(kind, end, role, main)

    def _store(self, frame: Frame, spec: Spec, raw: bytes) -> None:
        what, key = spec[0], spec[1]
        if what == INTS:
            frame.values.setdefault(key, []).extend(decode_ints(raw))
        elif what == STR:
            text = raw.decode("utf-8", "replace")
            if frame.kind == DIM:
                frame.values["dim"] = None
            else:
                frame.values[key] = text
        # An INT field sent length-delimited is not valid ONNX; protobuf keeps it
        # as an unknown field, and so do we (by ignoring it).

    def _store_int(self, frame: Frame, spec: Spec, value: int) -> None:
        if spec[0] == INTS:
            frame.values.setdefault(spec[1], []).append(value)
        elif frame.kind == DIM:
            frame.values["dim"] = value
        else:
            frame.values[spec[1]] = value

    def _close(self, frame: Frame, parent: Frame) -> None:
        handler = _CLOSERS.get(frame.kind)
        if handler is not None:
            handler(self, frame, parent)

    def _close_opset(self, frame: Frame, parent: Frame) -> None:
        values = frame.values
        self.summary.opset_imports[values.get("domain", "")] = values.get("version", 0)

    def _close_node(self, frame: Frame, parent: Frame) -> None:
        key = (frame.values.get("op_type", ""), frame.values.get("domain", ""))
        counts = self.summary.op_counts if frame.main else self.summary.subgraph_op_counts
        counts[key] = counts.get(key, 0) + 1

    def _close_tensor(self, frame: Frame, parent: Frame) -> None:
        values = frame.values
        summary = self.summary
        if values.get("location") == DATA_LOCATION_EXTERNAL or values.get("external"):
            summary.has_external_data = True
        if frame.role != ROLE_INDICES:
            elements = 1
            for dim in values.get("dims", ()):
                elements *= max(dim, 0)
            summary.weight_elements += elements
        if frame.main and frame.role in (ROLE_INIT, ROLE_INIT_SPARSE):
            summary.initializer_count += 1
            self._initializer_names.add(values.get("name", ""))

    def _close_entry(self, frame: Frame, parent: Frame) -> None:
        parent.values["external"] = True
        locations = self.summary.external_data_locations
        if frame.values.get("key") == "location" and len(locations) < _MAX_LOCATIONS:
            location = frame.values.get("value", "")
            if location not in locations:
                locations.append(location)

    def _close_dim(self, frame: Frame, parent: Frame) -> None:
        parent.values.setdefault("dims", []).append(frame.values.get("dim"))

    def _close_shape(self, frame: Frame, parent: Frame) -> None:
        parent.values["shape"] = tuple(frame.values.get("dims", ()))

    def _close_tensor_type(self, frame: Frame, parent: Frame) -> None:
        parent.values["elem_type"] = frame.values.get("elem_type", 0)
        parent.values["shape"] = frame.values.get("shape")

    def _close_type(self, frame: Frame, parent: Frame) -> None:
        parent.values["elem_type"] = frame.values.get("elem_type")
        parent.values["shape"] = frame.values.get("shape")

    def _close_value_info(self, frame: Frame, parent: Frame) -> None:
        if frame.role not in (ROLE_INPUT, ROLE_OUTPUT):
            return
        values = frame.values
        value = ValueInfo(values.get("name", ""), values.get("elem_type"), values.get("shape"))
        (self._raw_inputs if frame.role == ROLE_INPUT else self.summary.outputs).append(value)

    # --- the verdict ------------------------------------------------------

    def finish(self) -> OnnxSummary:
        """The summary; call once, after the last ``feed``."""
        if self._finished:
            return self.summary
        self._finished = True
        summary = self.summary
        summary.lfs_pointer = bytes(self._head).startswith(LFS_POINTER_PREFIX)
        if not self._error and (self._carry or self._skip or len(self._stack) > 1):
            self._error = "the file ends in the middle of a field"
        model = self._stack[0].values
        summary.ir_version = model.get("ir_version")
        summary.producer_name = model.get("producer", "")
        names = self._initializer_names
        summary.inputs = [value for value in self._raw_inputs if value.name not in names]
        summary.not_onnx_reason = self._reason()
        summary.is_onnx = not summary.not_onnx_reason
        return summary

    def _reason(self) -> str:
        if self.summary.size_bytes == 0:
            return "the file is empty"
        if self.summary.lfs_pointer:
            return "the file is a Git LFS pointer, not the model"
        if self._error:
            return f"not a protobuf file ({self._error})"
        if not self._graph_seen:
            return "a protobuf file without an ONNX graph"
        if not self.summary.ir_version or self.summary.ir_version < 1:
            return "no IR version"
        return ""


_CLOSERS = {
    OPSET: Scanner._close_opset,
    NODE: Scanner._close_node,
    TENSOR: Scanner._close_tensor,
    ENTRY: Scanner._close_entry,
    DIM: Scanner._close_dim,
    SHAPE: Scanner._close_shape,
    TENSOR_TYPE: Scanner._close_tensor_type,
    TYPE: Scanner._close_type,
    VALUE_INFO: Scanner._close_value_info,
}

READ_BLOCK = 1024 * 1024


def scan_file(path: str | os.PathLike[str], block_size: int = READ_BLOCK) -> OnnxSummary:
    """Scan a local file in blocks (the file is never read whole)."""
    scanner = Scanner()
    with open(path, "rb") as handle:
        while True:
            block = handle.read(block_size)
            if not block:
                break
            scanner.feed(block)
    return scanner.finish()
