"""Training: the loop (:mod:`.loop`), its batches (:mod:`.batches`), schedule, log, and overfit."""

from trmseq.train.loop import Trainer, deep_supervision, validate
from trmseq.train.overfit import OverfitResult, overfit
from trmseq.train.schedule import Progress, Schedule

__all__ = ["OverfitResult", "Progress", "Schedule", "Trainer", "deep_supervision", "overfit", "validate"]
