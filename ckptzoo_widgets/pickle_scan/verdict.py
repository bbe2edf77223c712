"""The verdict of a pickle scan and the allowlist it is judged against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

# Globals an ordinary PyTorch state dict needs. An entry is allowed only when
# calling it cannot run code or load another pickle: `torch.storage._load_from_bytes`
# (which calls torch.load without weights_only) is deliberately absent.
_STORAGE_KINDS = "Float Double Half BFloat16 Long Int Short Char Byte Bool ComplexFloat ComplexDouble".split()
_DTYPES = "float32 float64 float16 bfloat16 int64 int32 int16 int8 uint8 bool complex64 complex128".split()
SAFE_PICKLE_GLOBALS = frozenset(
    {
        "collections.OrderedDict",
        "_codecs.encode",  # how protocol 2 (torch's default) pickles bytes
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor_v3",
        "torch.device",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        "torch._tensor._rebuild_from_type_v2",
        "torch.Size",
        *(f"torch.{kind}Storage" for kind in _STORAGE_KINDS),
        *(f"torch.{dtype}" for dtype in _DTYPES),
    }
)

Status = Literal["safe", "unsafe", "unknown"]


@dataclass(frozen=True)
class PickleVerdict:
    """The outcome of a scan: `status`, the imports outside the allowlist, and why not sure."""

    status: Status
    imports: tuple[str, ...] = ()  # imports outside SAFE_PICKLE_GLOBALS (status "unsafe")
    reason: str = ""  # why the scan could not tell ("unknown"; may accompany "unsafe")
    seen: tuple[str, ...] = ()  # every import the pickles name

    @property
    def safe(self) -> bool:
        return self.status == "safe"

    def describe(self) -> str:
        """One line for a warning, the CLI or the widget (names are plain ASCII-safe repr)."""
        if self.status == "safe":
            return "pickle scan: only rebuilds tensors and containers"
        if self.status == "unsafe":
            more = f" and {len(self.imports) - 5} more" if len(self.imports) > 5 else ""
            return f"pickle imports {', '.join(self.imports[:5])}{more} when loaded"
        return f"could not scan the pickle: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "imports": list(self.imports), "reason": self.reason, "seen": list(self.seen)}

    @classmethod
    def from_json(cls, data: Any) -> PickleVerdict | None:
        try:
            status = data["status"]
            if status not in ("safe", "unsafe", "unknown"):
                return None
            return cls(
                status,
                tuple(str(i) for i in data.get("imports", ())),
                str(data.get("reason", "")),
                tuple(str(i) for i in data.get("seen", ())),
            )
        except (TypeError, KeyError, AttributeError):
            return None
