"""Customer segments: base load profiles and heterogeneous per-customer parameters."""

from .segments import STREAM_BLOCK, SegmentPopulation, block_stream, build_segment, draw

__all__ = ["STREAM_BLOCK", "SegmentPopulation", "block_stream", "build_segment", "draw"]
