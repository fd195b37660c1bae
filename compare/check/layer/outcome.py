"""The layer check's outcome: the table in your terms, the verdict, the diagnosis; and JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from tabulate import tabulate

from ...output import fmt
from ...tolerances import Tolerance
from .comparison import Row
from .contract import LayerTarget
from ..text import item, wrap



@dataclass
class LayerOutcome:
    target: LayerTarget
    keras_class: str
    dtype: str
    tolerance: Tolerance
    cases: list[str]                       # case labels, by index
    configs: list[str]                     # the configurations' texts
    inputs: list[str]                      # the inputs' labels
    calls: list[list[str]]                 # per case: 'training' / 'inference' per call
    rows: list[Row]                        # yours vs Keras (or vs the matching convention)
    diagnosis: list = field(default_factory=list)     # Findings of bugs
    conventions: list = field(default_factory=list)   # Findings of conventions
    unexplained: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def agree(self) -> bool:
        return all(row.agree for row in self.rows)

    # ------------------------------------------------------------ names
    def name(self, quantity: str) -> str:
        """A quantity in the user's terms: 'out', 'dx', 'grad w', 'state running_mean'."""
        if "/" in quantity:
            what, keras_name = quantity.split("/", 1)
            return f"{what} {self.target.layout.user_name(keras_name)}"
        return {"kept": "kept fraction"}.get(quantity, quantity)

    def summary(self) -> list[dict]:
        """One entry per quantity: its worst call over the grid."""
        out = []
        for quantity in dict.fromkeys(row.quantity for row in self.rows):
            rows = [row for row in self.rows if row.quantity == quantity]
            bad = [row for row in rows if not row.agree]
            worst = max(bad or rows, key=lambda r: (-1 if r.max_rel is None else r.max_rel))
            out.append({"quantity": self.name(quantity), "keras_name": quantity,
                        "calls": len(rows), "disagreeing_calls": len(bad),
                        "max_abs_diff": max((r.max_abs for r in rows if r.max_abs is not None),
                                            default=None),
                        "max_rel_diff": max((r.max_rel for r in rows if r.max_rel is not None),
                                            default=None),
                        "worst_case": self.cases[worst.case], "worst_call": worst.call + 1,
                        "note": worst.note, "agree": not bad})
        return out

    def to_dict(self) -> dict:
        t = self.target
        return {"kind": "layer", "agree": self.agree, "target": str(t.path),
                "layer": t.text, "keras_layer": f"keras.layers.{self.keras_class}",
                "data_format": t.layout.data_format, "kernel_layout": t.layout.kernel_layout,
                "param_names": dict(t.layout.names), "style": t.style,
                "takes_config": t.takes_config, "dtype": self.dtype,
                "tolerance": asdict(self.tolerance),
                "cases": [{"label": label, "calls": calls}
                          for label, calls in zip(self.cases, self.calls)],
                "quantities": self.summary(),
                "rows": [dict(asdict(row), case=self.cases[row.case], call=row.call + 1,
                              quantity=self.name(row.quantity)) for row in self.rows],
                "diagnosis": [{"bug": f.bug, "label": f.label, "message": f.message}
                              for f in self.diagnosis],
                "conventions": [{"name": f.bug, "message": f"{f.label}: {f.message}"}
                                for f in self.conventions],
                "unexplained": self.unexplained, "notes": self.notes,
                "seconds": round(self.seconds, 3)}

    # ------------------------------------------------------------ text
    def format(self) -> str:
        t = self.target
        calls = sum(len(c) for c in self.calls)
        layout = (t.layout.describe() if t.kind in ("conv", "dense")
                  else t.layout.data_format)
        lines = [wrap(f"Check: {t.path.name}: layer {t.text} vs keras.layers.{self.keras_class}"
                       f" ({layout}; {'LAYER_CLASS' if t.style == 'class' else 'functions'}; "
                       f"{self.dtype})"),
                 wrap(f"grid: {len(self.cases)} cases ({calls} calls): configurations "
                       f"{'; '.join(self.configs)} x inputs {'; '.join(self.inputs)}"),
                 "Your layer vs Keras', worst call over the grid:",
                 self._table(),
                 f"tolerance {self.dtype}: yours vs keras rel <= {self.tolerance.rtol:g}",
                 f"verdict: {'AGREE' if self.agree else 'DISAGREE'}"]
        if self.diagnosis:
            lines.append("Diagnosis:")
            lines += [item(f"{f.bug}: {f.label}: {f.message}") for f in self.diagnosis]
            if len(self.diagnosis) > 1:
                lines.append(item("(several variants give your numbers on this grid; each "
                                   "is a way to get them)"))
        if self.conventions:
            lines.append("Conventions (not bugs; the table compares with the matching one):")
            lines += [item(f"{f.bug}: {f.label}: {f.message}") for f in self.conventions]
        if self.unexplained:
            lines.append("Not diagnosed (no listed bug reproduces your numbers); where the "
                         "differences are:")
            lines += [item(sentence) for sentence in self.unexplained]
        if self.notes:
            lines.append("Notes:")
            lines += [item(note) for note in self.notes]
        return "\n".join(lines)

    def _table(self) -> str:
        table = []
        for entry in self.summary():
            worst = f"{entry['worst_case']}, call {entry['worst_call']}"
            if entry["note"]:
                worst += f" ({entry['note']})"
            table.append([_clip(entry["quantity"], 22),
                          f"{entry['disagreeing_calls']}/{entry['calls']}",
                          fmt(entry["max_abs_diff"]), fmt(entry["max_rel_diff"]),
                          "agree" if entry["agree"] else "DISAGREE", _clip(worst, 38)])
        headers = ["quantity", "off", "max abs", "max rel", "verdict", "worst call"]
        return tabulate(table, headers=headers, tablefmt="simple", disable_numparse=True)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."
