"""Worked examples of hand-written BPTT in the conventions gradharness understands."""
