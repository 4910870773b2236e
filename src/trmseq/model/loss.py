"""Training objective: deep supervision over the recursion, as one module DDP can wrap.

For each supervision step: the sequence loss (CTC, or per-slot cross-entropy for the
fixed-position ablation) on the answer, plus a binary cross-entropy teaching the halting head
whether the greedy answer is exactly right. Samples whose halting head says "done" stop being
supervised. The step losses are weighted (uniform, linear or exponential in the step) and
summed into one backward pass per batch, so the encoder runs once per batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from trmseq.batch import SpectrumBatch
from trmseq.constants import PROTON
from trmseq.model.trm import TRM
from trmseq.tokenizer import BLANK


def greedy_sequences(logits: torch.Tensor, loss: str = "ctc") -> torch.Tensor:
    """Decode the argmax path to padded class sequences (-1 after the end).

    Returns
    -------
    torch.Tensor of shape (batch, n_slots), int64
    """
    path = logits.argmax(-1)
    b, n = path.shape
    if loss == "ctc":
        keep = path != BLANK
        keep[:, 1:] &= path[:, 1:] != path[:, :-1]
    else:  # positional: everything before the first blank (end)
        keep = (path != BLANK).long().cumprod(dim=1).bool()
    position = torch.where(keep, keep.long().cumsum(1) - 1, torch.full_like(path, n))
    out = torch.full((b, n + 1), -1, dtype=torch.int64, device=path.device)
    out.scatter_(1, position, torch.where(keep, path, torch.full_like(path, -1)))
    return out[:, :n]


def padded_targets(targets: torch.Tensor, lengths: torch.Tensor, n: int) -> torch.Tensor:
    """Targets padded with -1 to ``n`` columns."""
    out = torch.full((targets.shape[0], n), -1, dtype=torch.int64, device=targets.device)
    width = min(n, targets.shape[1])
    valid = torch.arange(width, device=targets.device) < lengths.unsqueeze(1)
    out[:, :width] = torch.where(valid, targets[:, :width], out[:, :width])
    return out


@torch.no_grad()
def viterbi_paths(log_probs: torch.Tensor, targets: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """The most probable CTC alignment of each target under the current outputs.

    Parameters
    ----------
    log_probs : torch.Tensor of shape (batch, n_slots, n_classes)

    Returns
    -------
    torch.Tensor of shape (batch, n_slots): the class of each slot on the best path.
    """
    b, n, _ = log_probs.shape
    u = targets.shape[1]
    ext = torch.zeros((b, 2 * u + 1), dtype=torch.int64, device=targets.device)
    ext[:, 1::2] = targets
    s = ext.shape[1]
    valid = torch.arange(s, device=targets.device) < (2 * lengths + 1).unsqueeze(1)
    # a label may skip the blank before it unless it repeats the label two back
    skip = torch.zeros((b, s), dtype=torch.bool, device=targets.device)
    skip[:, 2:] = (ext[:, 2:] != 0) & (ext[:, 2:] != ext[:, :-2])
    emit = log_probs.gather(2, ext.unsqueeze(1).expand(b, n, s)).float()  # (batch, slots, s)
    neg = torch.tensor(float("-inf"), device=log_probs.device)
    alpha = torch.full((b, s), float("-inf"), device=log_probs.device)
    alpha[:, 0] = emit[:, 0, 0]
    alpha[:, 1] = emit[:, 0, 1]
    back = torch.zeros((n, b, s), dtype=torch.int64, device=log_probs.device)
    for t in range(1, n):
        stay = alpha
        one = torch.cat([alpha.new_full((b, 1), float("-inf")), alpha[:, :-1]], dim=1)
        two = torch.cat([alpha.new_full((b, 2), float("-inf")), alpha[:, :-2]], dim=1)
        two = torch.where(skip, two, neg)
        best, arg = torch.stack([stay, one, two]).max(dim=0)
        alpha = torch.where(valid, best + emit[:, t], neg)
        back[t] = arg
    end = 2 * lengths
    last_two = torch.stack([alpha.gather(1, end.unsqueeze(1)).squeeze(1),
                            alpha.gather(1, (end - 1).clamp(min=0).unsqueeze(1)).squeeze(1)])
    state = torch.where(last_two[0] >= last_two[1], end, end - 1)
    path = torch.zeros((b, n), dtype=torch.int64, device=log_probs.device)
    rows = torch.arange(b, device=log_probs.device)
    for t in range(n - 1, -1, -1):
        path[:, t] = ext[rows, state]
        state = state - back[t, rows, state]
    return path


def sequence_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    lengths: torch.Tensor,
    kind: str = "ctc",
    label_smoothing: float = 0.0,
    viterbi_weight: float = 0.0,
) -> torch.Tensor:
    """Per-sample loss, normalised by target length. Shape (batch,)."""
    log_probs = logits.float().log_softmax(-1)
    b, n, _ = log_probs.shape
    if kind == "ctc":
        loss = F.ctc_loss(
            log_probs.transpose(0, 1), targets, torch.full((b,), n, dtype=torch.int64),
            lengths, blank=BLANK, reduction="none", zero_infinity=True,
        ) / lengths.clamp(min=1)  # fmt: skip
        if viterbi_weight > 0:
            # CTC sums over alignments, so a residue smeared thinly over many slots scores
            # well yet vanishes from the greedy answer; training the single best alignment
            # too makes each residue commit to one slot.
            best = viterbi_paths(log_probs.detach(), targets, lengths)
            hard = F.nll_loss(log_probs.transpose(1, 2), best, reduction="none").sum(1)
            loss = loss + viterbi_weight * hard / lengths.clamp(min=1)
    else:
        padded = padded_targets(targets, lengths, n).clamp(min=BLANK)  # pad = blank = end
        loss = F.nll_loss(log_probs.transpose(1, 2), padded, reduction="none").mean(1)
    if label_smoothing > 0:
        uniform = -log_probs.mean(dim=(1, 2))
        loss = (1 - label_smoothing) * loss + label_smoothing * uniform
    return loss


def spectrum_matching_loss(
    logits: torch.Tensor, class_masses: torch.Tensor, mz: torch.Tensor
) -> torch.Tensor:
    """The seed's soft loss: expected b-ion m/z of every slot vs the nearest peak, in Da.

    Kept only as an ablation option (DESIGN.md section 3.5 explains why it misleads).
    """
    probs = logits.float().softmax(-1)
    expected = (probs.double() * class_masses).sum(-1)  # (batch, slots)
    b_ions = expected.cumsum(dim=1) + PROTON
    with torch.no_grad():
        right = torch.searchsorted(mz, b_ions.detach()).clamp(max=mz.shape[1] - 1)
        left = (right - 1).clamp(min=0)
        nearest = torch.where(
            (mz.gather(1, left) - b_ions).abs() < (mz.gather(1, right) - b_ions).abs(), left, right
        )
        target = mz.gather(1, nearest)
        has_mass = expected.detach() > 1.0
    distance = (b_ions - target).abs().clamp(max=1.0).float()
    return (distance * has_mass).sum(1) / has_mass.sum(1).clamp(min=1)


def corrupted_paths(
    targets: torch.Tensor,
    lengths: torch.Tensor,
    n_slots: int,
    n_classes: int,
    max_noise: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """CTC paths spelling a corrupted copy of each target, tokens packed from slot 0.

    Each sample gets a noise level uniform in [0, ``max_noise``]; at that rate each token is
    substituted by a random class, deleted, or followed by a random insertion. A blank
    separates repeated classes, as CTC needs. Used as starting drafts during training.
    """
    paths = torch.zeros((targets.shape[0], n_slots), dtype=torch.int64)
    for i, (row, n) in enumerate(zip(targets.tolist(), lengths.tolist(), strict=True)):
        level = float(torch.rand(1, generator=generator)) * max_noise
        draws = torch.rand(n, 4, generator=generator).tolist()
        randoms = torch.randint(1, n_classes, (n, 2), generator=generator).tolist()
        tokens: list[int] = []
        for k, token in enumerate(row[:n]):
            sub, delete, insert, _ = draws[k]
            if delete < level / 3:
                continue
            tokens.append(randoms[k][0] if sub < level / 3 else token)
            if insert < level / 3:
                tokens.append(randoms[k][1])
        path: list[int] = []
        for token in tokens:
            if path and path[-1] == token:
                path.append(BLANK)
            path.append(token)
        path = path[:n_slots]
        paths[i, : len(path)] = torch.tensor(path, dtype=torch.int64)
    return paths.to(targets.device)


class DeepSupervision(nn.Module):
    """The model plus its training loss; ``forward`` returns (loss, statistics)."""

    def __init__(
        self,
        model: TRM,
        weighting: str = "uniform",
        label_smoothing: float = 0.0,
        spectrum_loss_weight: float = 0.0,
        halting: bool = True,
        full_backprop: bool = False,
        draft_teacher: float = 0.0,
        draft_noise: float = 0.5,
        viterbi_weight: float = 0.0,
    ) -> None:
        super().__init__()
        self.model = model
        self.viterbi_weight = viterbi_weight
        self.draft_teacher = draft_teacher
        self.draft_noise = draft_noise
        self.generator = torch.Generator().manual_seed(0)
        self.weighting = weighting
        self.label_smoothing = label_smoothing
        self.spectrum_loss_weight = spectrum_loss_weight
        self.halting = halting
        self.full_backprop = full_backprop

    def step_weights(self, n_sup: int) -> list[float]:
        """Weight of each supervision step's loss (they sum to 1)."""
        if self.weighting == "uniform":
            raw = [1.0] * n_sup
        elif self.weighting == "linear":
            raw = [float(k + 1) for k in range(n_sup)]
        else:  # exponential: each step counts twice the one before
            raw = [2.0**k for k in range(n_sup)]
        total = sum(raw)
        return [w / total for w in raw]

    def forward(
        self, batch: SpectrumBatch, n_sup: int, h_cycles: int, l_cycles: int
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Run the recursion with deep supervision; return the loss and detached statistics."""
        assert batch.targets is not None and batch.target_lengths is not None
        model, kind = self.model, self.model.config.loss
        memory = model.encode(batch)
        carry = model.initial_carry(memory)
        if self.training and self.draft_teacher > 0:
            carry = self._teacher_drafts(carry, memory, batch)
        active = torch.ones(len(batch), dtype=torch.bool, device=batch.mz.device)
        total = torch.zeros((), device=batch.mz.device)
        answer_seq = torch.zeros(len(batch), device=batch.mz.device)  # at each sample's halt
        answer: torch.Tensor | None = None
        for k, weight in enumerate(self.step_weights(n_sup)):  # noqa: B007 (k is reported)
            carry, out = model.supervision_step(carry, memory, h_cycles, l_cycles, self.full_backprop,
                                                check=k < n_sup - 1)  # the last check is unread
            seq = sequence_loss(out.logits, batch.targets, batch.target_lengths, kind,
                                self.label_smoothing, self.viterbi_weight)  # fmt: skip
            with torch.no_grad():
                decoded = greedy_sequences(out.logits, kind)
                truth = padded_targets(batch.targets, batch.target_lengths, decoded.shape[1])
                correct = (decoded == truth).all(dim=1)
                answer_seq = torch.where(active, seq.detach(), answer_seq)
                answer = decoded if answer is None else torch.where(active[:, None], decoded, answer)
            loss = seq
            if self.halting:
                loss = loss + F.binary_cross_entropy_with_logits(
                    out.q.float(), correct.float(), reduction="none"
                )
            if self.spectrum_loss_weight > 0:
                loss = loss + self.spectrum_loss_weight * spectrum_matching_loss(
                    out.logits, model.class_masses, batch.mz
                )
            total = total + weight * (loss * active).sum() / len(batch)
            if self.halting:
                active = active & ~(out.q.detach() > 0)
            if not self.full_backprop:
                carry = carry.detach()
            if not active.any():
                break
        assert answer is not None
        valid = truth >= 0
        stats = {  # of the answer each sample would give: at its halting step, else the last
            "seq_loss": answer_seq.mean(),
            "token_acc": ((answer == truth) & valid).sum() / valid.sum().clamp(min=1),
            "exact": (answer == truth).all(dim=1).float().mean(),
            "halt_acc": ((out.q.detach() > 0) == correct).float().mean(),
            "steps_run": torch.tensor(float(k + 1)),
        }
        return total, stats

    def _teacher_drafts(self, carry, memory, batch: SpectrumBatch):
        """Start a share of the batch from corrupted true drafts instead of the empty one."""
        assert batch.targets is not None and batch.target_lengths is not None
        b, n_slots = carry.prefix.shape
        chosen = torch.rand(b, generator=self.generator) < self.draft_teacher
        if not chosen.any():
            return carry
        paths = corrupted_paths(batch.targets.cpu(), batch.target_lengths.cpu(), n_slots,
                                self.model.head.out_features, self.draft_noise, self.generator)  # fmt: skip
        paths = paths.to(carry.prefix.device)
        feedback, prefix = self.model._check(paths, memory)
        mask = chosen.to(carry.prefix.device)
        carry.feedback = torch.where(mask[:, None, None], feedback, carry.feedback)
        carry.prefix = torch.where(mask[:, None], prefix, carry.prefix)
        carry.path = torch.where(mask[:, None], paths, carry.path)
        return carry
