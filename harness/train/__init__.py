"""Training comparisons: does a hand-written BPTT train like the frameworks do?

    optimizers.py   update rules as torch.optim and TF1 define them, in NumPy, and clipping
    data.py         streams cut into truncated-BPTT batches; seed 001's data
    driver.py       the training loop every side runs, and the NumPy sides (reference, yours)
    torch_side.py   the model in torch, trained by torch.optim
    tf_side.py      the model as TF1 cells through dynamic_rnn, trained by tf.compat.v1.train
    trajectories.py comparing the runs step by step; what the difference looks like
    report.py       the training report and its summary
    figures.py      its pictures (drawn by harness.plots when rendered)
    api.py          check_training()
"""
