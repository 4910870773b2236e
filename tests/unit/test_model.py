"""The recursive model: shapes, the no-grad recursion, detached carries, physics features."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pyteomics import mass

from model_helpers import tiny_batch, tiny_config
from trmseq import config as tc
from trmseq.batch import PAD_MZ
from trmseq.checkpoint import build_model
from trmseq.config import DecodeConfig
from trmseq.inference import Runner
from trmseq.model.features import draft_features, lookup, mz_encoding, peak_graph_features, physics_draft
from trmseq.model.loss import DeepSupervision, greedy_sequences, padded_targets, sequence_loss
from trmseq.tokenizer import Tokenizer, ctc_collapse


@pytest.fixture
def setup():
    config = tiny_config()
    torch.manual_seed(0)
    model, tokenizer = build_model(config)
    batch, _ = tiny_batch(config)
    return config, model, tokenizer, batch


def test_output_shapes(setup) -> None:
    config, model, tokenizer, batch = setup
    runner = Runner(model, tokenizer, DecodeConfig(halting=False))
    out = runner.infer(batch, keep_steps=True)
    assert out.per_step is not None and out.per_step_q is not None
    assert len(out.per_step) == len(out.per_step_q) == config.model.n_sup
    for log_probs, q in zip(out.per_step, out.per_step_q, strict=True):
        assert log_probs.shape == (len(batch), config.model.n_slots, tokenizer.n_classes)
        assert q.shape == (len(batch),)
    assert out.steps.tolist() == [config.model.n_sup] * len(batch)


def test_no_grad_cycles_build_no_graph_and_last_cycle_does(setup) -> None:
    config, model, _, batch = setup
    memory = model.encode(batch)
    carry = model.initial_carry(memory)
    with torch.no_grad():
        warm, _ = model.cycle(carry, memory, config.model.l_cycles)
    assert warm.y.grad_fn is None and warm.z.grad_fn is None
    new, out = model.supervision_step(carry, memory)
    assert out.logits.grad_fn is not None
    # Only the last cycle is differentiable: the graph from y back to the carry's y passes
    # through exactly one answer update, so d(y)/d(initial y) exists but the earlier cycles'
    # outputs are leaves. Check it by counting how many times the core is in the graph.
    seen, stack, core_calls = set(), [new.y.grad_fn], 0
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        core_calls += type(fn).__name__.startswith("ScaledDotProduct")
        stack.extend(f for f, _ in fn.next_functions)
    # one cycle = (l_cycles + 1) net calls, each with self- and cross-attention per layer
    assert core_calls == 2 * (config.model.l_cycles + 1) * config.model.n_core_layers + (
        config.model.n_encoder_layers
    )


def test_full_backprop_keeps_every_cycle(setup) -> None:
    config, model, _, batch = setup
    memory = model.encode(batch)
    carry = model.initial_carry(memory)
    _, out_trm = model.supervision_step(carry, memory)
    _, out_full = model.supervision_step(carry, memory, full_backprop=True)

    def count(t: torch.Tensor) -> int:
        seen, stack = set(), [t.grad_fn]
        while stack:
            fn = stack.pop()
            if fn is not None and fn not in seen:
                seen.add(fn)
                stack.extend(f for f, _ in fn.next_functions)
        return len(seen)

    assert count(out_full.logits) > 1.5 * count(out_trm.logits)


def test_carry_is_detached_between_supervision_steps(setup) -> None:
    _, model, _, batch = setup
    memory = model.encode(batch)
    carry, _ = model.supervision_step(model.initial_carry(memory), memory)
    assert carry.y.requires_grad
    detached = carry.detach()
    assert not detached.y.requires_grad and not detached.z.requires_grad
    assert detached.y.grad_fn is None


def test_deep_supervision_loss_is_finite_and_trains_every_parameter(setup) -> None:
    config, model, _, batch = setup
    loss_module = DeepSupervision(model)
    loss, stats = loss_module(batch, config.model.n_sup, 2, 2)
    assert torch.isfinite(loss)
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert missing == []
    assert 0 <= float(stats["token_acc"]) <= 1


def test_soft_embedding_and_positional_options_run() -> None:
    for model_cfg in (dict(answer_feedback="soft_embedding"), dict(loss="positional"),
                      dict(draft_feedback=False, evidence_head=False, graph_features=False, initial_draft="blank")):
        config = tiny_config()
        config = tc.Config(model=tc.ModelConfig(**(tc.to_dict(config.model) | model_cfg)),
                          train=config.train)
        model, _ = build_model(config)
        batch, _ = tiny_batch(config)
        loss, _ = DeepSupervision(model, spectrum_loss_weight=0.1)(batch, 2, 2, 1)
        loss.backward()
        assert torch.isfinite(loss)


def test_mz_encoding_separates_residues_a_few_mda_apart() -> None:
    # K and Q differ by 0.036 Da; the encoding of two m/z values that far apart must differ
    # clearly, and values 1e-6 Da apart must not.
    a = torch.tensor([1000.0], dtype=torch.float64)
    enc = lambda x: mz_encoding(x, 128)  # noqa: E731
    assert (enc(a) - enc(a + 0.036)).norm() > 1.0
    assert (enc(a) - enc(a + 1e-6)).norm() < 0.05


def test_lookup_finds_nearest_peak_within_tolerance() -> None:
    mz = torch.tensor([[100.0, 200.0, 300.0, PAD_MZ]], dtype=torch.float64)
    weight = torch.tensor([[0.1, 0.2, 0.3, 0.0]])
    queries = torch.tensor([[99.99, 200.03, 300.0, 150.0, 1e6]], dtype=torch.float64)
    found = lookup(mz, weight, queries, 0.02)
    assert torch.allclose(found, torch.tensor([[0.1, 0.0, 0.3, 0.0, 0.0]]))


def test_graph_features_mark_residue_gaps_and_complements() -> None:
    # A b1/b2 pair one G apart, plus the y ion complementary to b2.
    pep_mass = 600.0
    b1 = mass.fast_mass("A", ion_type="b", charge=1)
    b2 = mass.fast_mass("AG", ion_type="b", charge=1)
    y_comp = pep_mass + 2 * mass.nist_mass["H+"][0][0] - b2
    mz = torch.tensor([[b1, b2, y_comp, PAD_MZ]], dtype=torch.float64)
    gaps = torch.tensor([mass.std_aa_mass["G"], mass.std_aa_mass["A"]], dtype=torch.float64)
    f = peak_graph_features(mz, torch.tensor([[1.0, 1.0, 1.0, 0.0]]),
                            torch.tensor([pep_mass], dtype=torch.float64), gaps, 0.01)
    n = len(gaps)
    assert f[0, 0, 0] == 1.0  # b1 + G = b2
    assert f[0, 1, n + 0] == 1.0  # b2 - G = b1
    assert f[0, 0, 1] == 0.0  # b1 + A is absent
    assert f[0, 1, 4 * n] == 1.0 and f[0, 2, 4 * n] == 1.0  # b2 and its y complement
    assert f[0, 3].abs().sum() == 0  # padding stays empty


def test_draft_features_confirm_the_true_peptide_from_both_ends() -> None:
    config = tiny_config()
    vocab = config.vocab.build()
    tokenizer = Tokenizer(vocab)
    peptide = vocab.parse("PEPTLDEK")
    seq = "PEPTLDEK"
    ions = sorted(mass.fast_mass(seq[:i], ion_type="b", charge=1) for i in range(1, 8))
    ions += sorted(mass.fast_mass(seq[i:], ion_type="y", charge=1) for i in range(1, 8))
    mz = torch.tensor([sorted(ions)], dtype=torch.float64)
    ids = tokenizer.encode(peptide)
    path = torch.tensor([[i for token in ids for i in (token, 0)]])
    features, prefix = draft_features(path, tokenizer.masses, mz, torch.ones_like(mz),
                                      torch.tensor([mass.fast_mass(seq)], dtype=torch.float64),
                                      0.01)  # fmt: skip
    n_cand = tokenizer.n_classes - 1
    per_cand = features[0, :, : 8 * n_cand].reshape(path.shape[1], n_cand, 8)
    # Residue 3 (P, slot 4): with the true prefix PE, b3 and y5 are present (N-terminal view),
    # and with the true suffix TLDEK, y6 and b2 (C-terminal view).
    p = ids[2] - 1
    assert per_cand[4, p].tolist() == [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    wrong = tokenizer.encode(("G",))[0] - 1
    assert per_cand[4, wrong].sum() == 0.0
    assert abs(prefix[0, 4].item() - (mass.std_aa_mass["P"] + mass.std_aa_mass["E"])) < 1e-9
    assert features[0, 0, -1] == 1.0  # the draft's mass fits the precursor


def test_greedy_collapse_matches_numpy_reference() -> None:
    rng = np.random.default_rng(0)
    logits = torch.randn(20, 12, 6, generator=torch.Generator().manual_seed(1))
    decoded = greedy_sequences(logits)
    for row, path in zip(decoded, logits.argmax(-1).numpy(), strict=True):
        expect = ctc_collapse(path)
        assert row[: len(expect)].tolist() == expect.tolist()
        assert (row[len(expect):] == -1).all()
    del rng


def test_ctc_loss_prefers_the_right_answer() -> None:
    targets = torch.tensor([[3, 4, 4, 0]])
    lengths = torch.tensor([3])
    good = torch.full((1, 8, 6), -5.0)
    for slot, cls in enumerate([3, 0, 4, 0, 4, 0, 0, 0]):
        good[0, slot, cls] = 5.0
    bad = good.roll(1, dims=2)
    assert sequence_loss(good, targets, lengths) < 0.1 < sequence_loss(bad, targets, lengths)
    assert padded_targets(targets, lengths, 5).tolist() == [[3, 4, 4, -1, -1]]


def test_physics_draft_walks_a_clean_ladder_to_the_right_peptide() -> None:
    vocab = tiny_config().vocab.build()
    tokenizer = Tokenizer(vocab)
    seqs = ["PEPTLDEK", "GASPVTLK", "LLNDEMK"]  # the repeat LL needs a blank between
    rows, masses = [], []
    for seq in seqs:
        ions = [mass.fast_mass(seq[:i], ion_type="b", charge=1) for i in range(1, len(seq))]
        ions += [mass.fast_mass(seq[i:], ion_type="y", charge=1) for i in range(1, len(seq))]
        rows.append(sorted(ions))
        masses.append(mass.fast_mass(seq))
    width = max(map(len, rows))
    mz = torch.tensor([r + [PAD_MZ] * (width - len(r)) for r in rows], dtype=torch.float64)
    intensity = (mz < PAD_MZ).float()
    path = physics_draft(mz, intensity, torch.tensor(masses, dtype=torch.float64),
                         tokenizer.masses, tokenizer.is_residue, 20, 0.01)  # fmt: skip
    for row, seq in zip(path.numpy(), seqs, strict=True):
        assert "".join(tokenizer.decode(ctc_collapse(row))) == seq


def test_physics_draft_bridges_one_missing_fragment() -> None:
    vocab = tiny_config().vocab.build()
    tokenizer = Tokenizer(vocab)
    seq = "GASPVTLK"
    ions = [mass.fast_mass(seq[:i], ion_type="b", charge=1) for i in range(1, len(seq)) if i != 3]
    ions += [mass.fast_mass(seq[i:], ion_type="y", charge=1) for i in range(1, len(seq))
             if len(seq) - i != 3]  # b3 and its complement y5 both missing
    mz = torch.tensor([sorted(ions)], dtype=torch.float64)
    path = physics_draft(mz, torch.ones_like(mz, dtype=torch.float32),
                         torch.tensor([mass.fast_mass(seq)], dtype=torch.float64),
                         tokenizer.masses, tokenizer.is_residue, 20, 0.01)  # fmt: skip
    walked = tokenizer.decode(ctc_collapse(path[0].numpy()))
    # The pair S+A (or A+S) bridges the gap: same mass, order unknown without the fragment.
    assert "".join(walked) in ("GASPVTLK", "GSAPVTLK")


def test_draft_tokens_and_evidence_bonus_reach_the_logits(setup) -> None:
    config, model, tokenizer, batch = setup
    memory = model.encode(batch)
    carry = model.initial_carry(memory)
    _, base = model.cycle(carry, memory, 1)
    carry.path = torch.zeros_like(carry.path)  # a different draft must change the answer
    _, other = model.cycle(carry, memory, 1)
    assert not torch.allclose(base, other)
