"""X12 engine: tokenizer, declarative specs (004010, and 005010 derived from them by their
differences), streaming validator, serializer, 997/TA1.

Plain Python (no Odoo): usable as ``odoo.addons.logistics_connector_edi.x12`` and as a
standalone package (``PYTHONPATH=logistics_connector_edi python -m x12 validate FILE``).
"""

from .ack import build_997, build_acknowledgements, ta1_segment
from .charset import BASIC, EXTENDED
from .errors import SerializationError, UnreadableFile, X12Error
from .report import Report
from .serializer import (
    FunctionalGroup,
    Interchange,
    Serializer,
    TransactionSet,
    format_decimal,
    format_number,
)
from .sets_004010 import default_registry
from .spec import PartnerRules, Registry, SegmentChange, VersionChanges, derive
from .tokenizer import Delimiters, Segment, iter_segments, parse_isa
from .validator import ParsedSet, X12Reader, validate
from .viewer import segment_lines
