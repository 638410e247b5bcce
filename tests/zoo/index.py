"""Every zoo module of user-style check_backward code, by style name (for tests and benchmarks)."""

from . import cs231n_lstm, cs231n_rnn, karpathy_rnn, keras_gru, tf_lstm, tf_rnn

MODULES = {"cs231n_rnn": cs231n_rnn, "cs231n_lstm": cs231n_lstm, "tf_rnn": tf_rnn, "tf_lstm": tf_lstm,
           "karpathy_rnn": karpathy_rnn, "keras_gru": keras_gru}
