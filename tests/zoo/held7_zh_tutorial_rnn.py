"""A vanilla RNN written the way a Chinese blog tutorial writes it (the seed that checks a
NumPy ``RNNCell`` against TF's ``BasicRNNCell``): a class with one weight ``w``
(insize+outsize, outsize) applied to ``np.concatenate([x, s], axis=1)``, a bias ``b``, lists
``inputs``, ``states`` and ``outputs`` (the *pre-activations*), its own ``tanh`` and a
``d_tanh(x) = 4 e^{2x} / (1 + e^{2x})^2`` taken at the pre-activation, and a backward that
walks every step's error back to step 0 in an inner loop (``for itrs ...: for itr in
range(itrs, -1, -1)``), adding into ``back_error`` (dx) as it goes. Built-in ``tf_kernel``
layout: kernel (D+H, H), bias (H,). Seventh held-out zoo: written without reading the
diagnosis.
"""

import numpy as np

BUGS = {
    "d_fe_from_preact_formula": "derivative_wrong_point",   # d_fe = 1 - h1 ** 2 with h1 the pre-activation
    "d_tanh_paren": "derivative_miswritten",                # 4 * e2x / (1 + e2x ** 2): the square moved inside
    "d_fe_twice_in_carry": "derivative_twice",              # err = np.dot(d_fe * err, w2.T): d_fe applied again
    "w2_untransposed": "weight_transposed",                 # err = np.dot(err, w2)
    "back_error_sign": "wrong_sign",                        # self.back_error[itr] -= np.dot(err, w1.T)
    "one_step_only": "carry_dropped",                       # inner loop range(itrs, itrs - 1, -1): no carry back
    "truncated_3": "truncated_bptt",                        # inner loop stops 3 steps back from each error
    "db_assigned": "carry_overwrites",                      # db = np.sum(err, axis=0) (= for +=)
    "x_prev_step": "wrong_time",                            # x = self.inputs[itr - 1] in dw's x rows
    "h_from_output": "wrong_time",                          # h0 = self.tanh(self.outputs[itr]): h_t for h_(t-1)
    "dw_over_T": "reduction_scaled",                        # dw /= len(self.outputs) (db not)
    "bias_twice_forward": "forward_mistake",                # out = inx @ w + b + b; backward db += 2 * sum
    "clip_dw": "gradient_clipped",                          # np.clip(dw, -1, 1, out=dw) and db, before return
    "inner_loop_forward": "loop_direction",                 # inner loop range(0, itrs + 1): carries forward in time
    "w2_untransposed_dw_over_T": "unknown",                 # both w2_untransposed and dw_over_T
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "d_fe_from_preact_formula": "",
    "d_tanh_paren": "",
    "d_fe_twice_in_carry": "",
    "w2_untransposed": "",
    "back_error_sign": "",
    "one_step_only": "",
    "truncated_3": "",
    "db_assigned": "",
    "x_prev_step": "",
    "h_from_output": "",
    "dw_over_T": "",
    "bias_twice_forward": "",
    "clip_dw": "",
    "inner_loop_forward": "",
    "w2_untransposed_dw_over_T": "",
}


class RNNCell():
    def __init__(self, insize, outsize, bug=None):
        self.outsize = outsize
        self.insize = insize
        self.bug = bug
        self.outputs = []
        self.inputs = []
        self.states = []

    def tanh(self, x):
        epx = np.exp(x)
        enx = np.exp(-x)
        return (epx - enx) / (epx + enx)

    def d_tanh(self, x):
        e2x = np.exp(2 * x)
        if self.bug == "d_tanh_paren":
            return 4 * e2x / (1 + e2x ** 2)
        return 4 * e2x / (1 + e2x) ** 2

    def assign(self, w, b):
        self.w = w
        self.b = b

    def __call__(self, x, s):
        self.inputs.append(x)
        self.inshape = np.shape(x)
        self.states.append(s)
        inx = np.concatenate([x, s], axis=1)
        out = np.dot(inx, self.w) + self.b
        if self.bug == "bias_twice_forward":
            out = out + self.b
        self.outputs.append(out)
        out = self.tanh(out)
        return out, out

    def get_error(self, error):
        self.error = error

    def _inner(self, itrs):
        if self.bug == "inner_loop_forward":
            return range(0, itrs + 1)
        if self.bug == "one_step_only":
            return range(itrs, itrs - 1, -1)
        if self.bug == "truncated_3":
            return range(itrs, max(itrs - 3, -1), -1)
        return range(itrs, -1, -1)

    def backward(self):
        bug = self.bug
        self.back_error = [np.zeros(self.inshape, dtype=self.w.dtype) for itr in range(len(self.outputs))]
        self.d_state = np.zeros_like(self.states[0])
        dw = np.zeros_like(self.w)
        db = np.zeros([self.outsize], dtype=self.w.dtype)
        w1 = self.w[:self.insize, :]
        w2 = self.w[self.insize:, :]
        for itrs in range(len(self.outputs) - 1, -1, -1):
            err = self.error[itrs]
            for itr in self._inner(itrs):
                h1 = self.outputs[itr]
                h0 = self.states[itr]
                x = self.inputs[itr]
                if bug == "x_prev_step":
                    x = self.inputs[itr - 1]
                if bug == "h_from_output":
                    h0 = self.tanh(self.outputs[itr])
                d_fe = 1 - h1 ** 2 if bug == "d_fe_from_preact_formula" else self.d_tanh(h1)
                err = d_fe * err
                dw[:self.insize, :] += np.dot(x.T, err)
                dw[self.insize:, :] += np.dot(h0.T, err)
                if bug == "db_assigned":
                    db = np.sum(err, axis=0)
                elif bug == "bias_twice_forward":
                    db += 2 * np.sum(err, axis=0)
                else:
                    db += np.sum(err, axis=0)
                if bug == "back_error_sign":
                    self.back_error[itr] -= np.dot(err, w1.T)
                else:
                    self.back_error[itr] += np.dot(err, w1.T)
                if bug in ("w2_untransposed", "w2_untransposed_dw_over_T"):
                    err = np.dot(err, w2)
                elif bug == "d_fe_twice_in_carry":
                    err = np.dot(d_fe * err, w2.T)
                else:
                    err = np.dot(err, w2.T)
            if itr == 0:                       # walked back to the start: err is the initial state's error
                self.d_state += err
        if bug in ("dw_over_T", "w2_untransposed_dw_over_T"):
            dw /= len(self.outputs)
        if bug == "clip_dw":
            np.clip(dw, -1, 1, out=dw)
            np.clip(db, -1, 1, out=db)
        self.dw = dw
        self.db = db
        return dw, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, kernel, bias):
        N, T, D = x.shape
        rnn = RNNCell(D, h0.shape[1], bug)
        rnn.assign(kernel, bias)
        state = h0
        outputs = []
        for time_step in range(T):
            cell_output, state = rnn(x[:, time_step, :], state)
            outputs.append(cell_output)
        return np.stack(outputs, axis=1), rnn

    def backward(dh, rnn):
        rnn.get_error([dh[:, t, :] for t in range(dh.shape[1])])
        dw, db = rnn.backward()
        return np.stack(rnn.back_error, axis=1), rnn.d_state, dw, db

    return forward, backward, {"cell": "rnn", "layout": "tf_kernel"}
