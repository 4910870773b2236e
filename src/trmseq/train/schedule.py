"""Where training stands, and what the schedule asks for at that point: learning rate,
curriculum stage, peptide length and recursion depth."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from trmseq.config import Config


@dataclass
class Progress:
    """Where training stands; saved in every checkpoint."""

    step: int = 0
    elapsed_s: float = 0.0
    best: dict[str, float] = field(default_factory=dict)


class Schedule:
    """Learning rate, curriculum stage, peptide length and recursion depth over training."""

    def __init__(self, config: Config) -> None:
        self.train = config.train
        self.model = config.model

    def fraction(self, progress: Progress) -> float:
        """How far training has come, by steps or by wall time, whichever is further."""
        t = self.train
        by_steps = progress.step / t.max_steps
        by_time = progress.elapsed_s / (60 * t.max_minutes) if t.max_minutes else 0.0
        return min(1.0, max(by_steps, by_time))

    def lr(self, progress: Progress) -> float:
        """Linear warm-up, then cosine decay to 10% of the peak."""
        t = self.train
        if progress.step < t.warmup_steps:
            return t.lr * (progress.step + 1) / t.warmup_steps
        p = self.fraction(progress)
        return t.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * p)))

    def presets(self, p: float) -> tuple[list[str], list[float]]:
        """Presets of the current stage: 3/4 the stage's own, 1/4 spread over earlier ones."""
        stage = sum(p >= u for u in self.train.curriculum_until)
        names = list(self.train.curriculum[: stage + 1])
        if stage == 0:
            return names, [1.0]
        return names, [0.25 / stage] * stage + [0.75]

    def max_length(self, p: float) -> int:
        """Longest synthetic peptide: grows from start_length until the curriculum ends."""
        t = self.train
        end = t.curriculum_until[-1] if t.curriculum_until else 0.0
        grow = 1.0 if end == 0 else min(1.0, p / end)
        return int(round(t.start_length + grow * (t.max_length - t.start_length)))

    def depth(self, p: float) -> tuple[int, int, int]:
        """(n_sup, h_cycles, l_cycles): shallow during the depth warm-up, then the config's."""
        if p < self.train.depth_warmup:
            return 1, 1, 1
        return self.model.n_sup, self.model.h_cycles, self.model.l_cycles
