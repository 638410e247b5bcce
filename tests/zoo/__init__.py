"""A zoo of user-style hand-written BPTT: correct code in the styles people write, and
mutants of it with one classic mistake planted (a ``bug=`` switch).

Styles (the calling conventions of harness.guard.layouts):
    cs231n_rnn, cs231n_lstm   step functions + sequence drivers, x (N, T, D), Wx (D, G*H)
    tf_rnn, tf_lstm           a layer class with a kernel (D+H, G*H) on concat([x, h])
    karpathy_rnn              column vectors, one example at a time (min-char-rnn)

Each module exposes ``BUGS`` {bug name: catalogue cause} and ``make(bug=None)`` ->
(forward, backward, check options).
"""
