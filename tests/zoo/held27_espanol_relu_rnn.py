"""A ReLU RNN as a Spanish tutorial writes it: a class ``RedRecurrente`` with ``adelante``
(forward) and ``atras`` (backward), one example at a time in column vectors (Karpathy's
layout: x (T, D, 1), h0 (H, 1), Wxh (H, D), Whh (H, H), bh (H, 1)), the states kept in a
list ``self.estados`` with estados[0] = h0, gradients named ``grad_*``:

    estados[t + 1] = max(0, Wxh @ x[t] + Whh @ estados[t] + bh)

Twenty-seventh held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "mascara_del_estado_anterior": "derivative_wrong_point",  # mask estados[t] > 0 (h_(t-1)) for estados[t + 1] > 0
    "derivada_de_tanh": "derivative_wrong_function",          # (1 - h**2) copied from the tanh tutorial for ReLU'
    "sin_mascara": "derivative_missing",                      # grad_a = grad_h: the ReLU mask left out
    "grad_Whh_en_vez_de_Whh": "gradient_for_weight",          # grad_siguiente = grad_Whh.T @ grad_a
    "siguiente_sobrescribe": "carry_overwrites",              # grad_h = dhs[t]; then grad_h = grad_siguiente for t < T-1
    "promedio_en_el_tiempo": "reduction_scaled",              # grad_Wxh /= T ("promedio sobre el tiempo")
    "x_anterior": "wrong_time",                               # grad_Wxh += grad_a @ self.xs[t - 1].T
    "sin_termino_h0": "term_dropped",                         # grad_Whh += ... only if t > 0: h0's term left out
    "truncado_a_dos": "truncated_bptt",                       # the carry reset to zero after two steps back
    "Whh_sin_transponer": "weight_transposed",                # grad_siguiente = Whh @ grad_a
    "siguiente_se_reinicia": "carry_dropped",                 # grad_siguiente = zeros inside the loop, before its use
    "relu_con_fuga": "forward_mistake",                       # forward max(0.01 a, a) (leaky); backward with mask 1 / 0.01
    "promedio_y_sin_mascara_en_acarreo": "unknown",           # grad_Wxh /= T and the carry sent back without the mask
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "mascara_del_estado_anterior": "",
    "derivada_de_tanh": "",
    "sin_mascara": "",
    "grad_Whh_en_vez_de_Whh": "",
    "siguiente_sobrescribe": "",
    "promedio_en_el_tiempo": "",
    "x_anterior": "",
    "sin_termino_h0": "",
    "truncado_a_dos": "",
    "Whh_sin_transponer": "",
    "siguiente_se_reinicia": "",
    "relu_con_fuga": "",
    "promedio_y_sin_mascara_en_acarreo": "",
}


class RedRecurrente:
    def __init__(self, Wxh, Whh, bh, error=None):
        self.Wxh, self.Whh, self.bh, self.error = Wxh, Whh, bh, error

    def adelante(self, xs, h0):
        self.xs, self.estados, self.previas = xs, [h0], []
        for t in range(len(xs)):
            a = self.Wxh @ xs[t] + self.Whh @ self.estados[t] + self.bh
            self.previas.append(a)
            if self.error == "relu_con_fuga":
                self.estados.append(np.maximum(0.01 * a, a))
            else:
                self.estados.append(np.maximum(0, a))
        return np.array(self.estados[1:])

    def atras(self, dhs):
        e = self.error
        T = len(self.xs)
        grad_Wxh, grad_Whh = np.zeros_like(self.Wxh), np.zeros_like(self.Whh)
        grad_bh = np.zeros_like(self.bh)
        grad_xs = np.zeros_like(self.xs)
        grad_siguiente = np.zeros_like(self.estados[0])
        for t in reversed(range(T)):
            if e == "siguiente_se_reinicia":
                grad_siguiente = np.zeros_like(self.estados[0])
            if e == "siguiente_sobrescribe":
                grad_h = dhs[t]
                if t < T - 1:
                    grad_h = grad_siguiente
            else:
                grad_h = dhs[t] + grad_siguiente
            h = self.estados[t + 1]
            if e == "mascara_del_estado_anterior":
                grad_a = grad_h * (self.estados[t] > 0)
            elif e == "derivada_de_tanh":
                grad_a = grad_h * (1 - h ** 2)
            elif e == "sin_mascara":
                grad_a = grad_h
            elif e == "relu_con_fuga":
                grad_a = grad_h * np.where(self.previas[t] > 0, 1.0, 0.01).astype(h.dtype)
            else:
                grad_a = grad_h * (h > 0)
            grad_Wxh += grad_a @ (self.xs[t - 1] if e == "x_anterior" else self.xs[t]).T
            if e != "sin_termino_h0" or t > 0:
                grad_Whh += grad_a @ self.estados[t].T
            grad_bh += grad_a
            grad_xs[t] = self.Wxh.T @ grad_a
            if e == "grad_Whh_en_vez_de_Whh":
                grad_siguiente = grad_Whh.T @ grad_a
            elif e == "Whh_sin_transponer":
                grad_siguiente = self.Whh @ grad_a
            elif e == "promedio_y_sin_mascara_en_acarreo":
                grad_siguiente = self.Whh.T @ grad_h
            else:
                grad_siguiente = self.Whh.T @ grad_a
            if e == "truncado_a_dos" and T - t >= 2:
                grad_siguiente = np.zeros_like(grad_siguiente)
        if e in ("promedio_en_el_tiempo", "promedio_y_sin_mascara_en_acarreo"):
            grad_Wxh /= T
        return grad_xs, grad_siguiente, grad_Wxh, grad_Whh, grad_bh


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(xs, h0, Wxh, Whh, bh):
        red = RedRecurrente(Wxh, Whh, bh, bug)
        return red.adelante(xs, h0), red

    def backward(dhs, red):
        return red.atras(dhs)

    return forward, backward, {"cell": "rnn", "layout": "karpathy", "activation": "relu"}
