"""The regression guard: check a user's own hand-written BPTT (issue: check_backward / check_model)."""
