"""The neural network: physics features, layers, and the recursive model."""

from trmseq.model.trm import TRM, Carry, Memory, StepOutput, count_parameters

__all__ = ["TRM", "Carry", "Memory", "StepOutput", "count_parameters"]
