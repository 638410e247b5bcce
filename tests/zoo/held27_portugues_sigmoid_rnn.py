"""A sigmoid RNN as a Portuguese Q&A answer writes it on TF's kernel: x (N, T, D),
``nucleo`` = kernel (D + H, H) applied to concat([x_t, h_(t-1)]), ``vies`` = bias (H,),
``saida`` the outputs (N, T, H); the answer keeps each step's concatenated ``entrada``
(N, D + H) in a list and names gradients ``grad_*``:

    entrada = [x_t, h_(t-1)]      saida_t = sigmoid(entrada @ nucleo + vies)

Twenty-seventh held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "derivada_tanh": "derivative_wrong_function",        # grad_z = grad_s * (1 - s**2): tanh' for sigmoid'
    "parenteses_esquecidos": "derivative_miswritten",    # grad_s * s * 1 - s (the parentheses of (1 - s) forgotten)
    "sigmoide_duas_vezes": "derivative_twice",           # s * (1 - s) applied to grad_s and again to grad_z
    "grad_nucleo_h_transposto": "gradient_transposed",   # grad_nucleo[D:] += (h_prev.T @ grad_z).T
    "fatia_uma_coluna_antes": "wrong_value",             # grad_h_prev = grad_entrada[:, D - 1:-1] (slice one column off)
    "pula_ultimo_passo": "loop_skips_step",              # for t in range(T - 2, -1, -1): the last step never visited
    "media_no_lote": "reduction_scaled",                 # grad_nucleo /= N (as if the loss were a batch mean)
    "corte_do_gradiente": "gradient_clipped",            # grad_h_prox = np.clip(grad_h_prox, -0.02, 0.02)
    "entrada_com_h_atual": "wrong_time",                 # the kernel gradient from [x_t, h_t] (entrada rebuilt after the step)
    "sempre_h0": "forward_mistake",                      # every step fed h0 (estado = h0 inside the loop); backward consistent
    "vies_atribuido": "carry_overwrites",                # grad_vies = grad_z.sum(0) (= for +=)
    "taxa_de_aprendizado": "unknown",                    # grad_nucleo *= 0.01 (a learning rate left in the backward)
    "subtrai_gradiente": "wrong_sign",                   # grad_nucleo -= entrada.T @ grad_z (as in the update step)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "derivada_tanh": "",
    "parenteses_esquecidos": "",
    "sigmoide_duas_vezes": "",
    "grad_nucleo_h_transposto": "",
    "fatia_uma_coluna_antes": "",
    "pula_ultimo_passo": "",
    "media_no_lote": "",
    "corte_do_gradiente": "",
    "entrada_com_h_atual": "",
    "sempre_h0": "",
    "vies_atribuido": "",
    "taxa_de_aprendizado": "",
    "subtrai_gradiente": "",
}


def sigmoide(v):
    return 1.0 / (1.0 + np.exp(-v))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def frente(x, h0, nucleo, vies):
        N, T, D = x.shape
        saida = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
        entradas = []
        estado = h0
        for t in range(T):
            if bug == "sempre_h0":
                estado = h0
            entrada = np.concatenate([x[:, t], estado], axis=1)
            estado = sigmoide(entrada @ nucleo + vies)
            if bug == "entrada_com_h_atual":
                entrada = np.concatenate([x[:, t], estado], axis=1)
            entradas.append(entrada)
            saida[:, t] = estado
        return saida, (entradas, saida, h0, nucleo)

    def tras(grad_saida, cache):
        entradas, saida, h0, nucleo = cache
        N, T, H = saida.shape
        D = nucleo.shape[0] - H
        grad_nucleo, grad_vies = np.zeros_like(nucleo), np.zeros(H, dtype=saida.dtype)
        grad_x = np.zeros((N, T, D), dtype=saida.dtype)
        grad_h_prox = np.zeros_like(h0)
        grad_h0_acumulado = np.zeros_like(h0)
        passos = range(T - 2, -1, -1) if bug == "pula_ultimo_passo" else range(T - 1, -1, -1)
        for t in passos:
            s = saida[:, t]
            grad_s = grad_saida[:, t] + grad_h_prox
            if bug == "derivada_tanh":
                grad_z = grad_s * (1 - s ** 2)
            elif bug == "parenteses_esquecidos":
                grad_z = grad_s * s * 1 - s
            elif bug == "sigmoide_duas_vezes":
                grad_z = grad_s * s * (1 - s) * s * (1 - s)
            else:
                grad_z = grad_s * s * (1 - s)
            entrada = entradas[t]
            if bug == "grad_nucleo_h_transposto":
                grad_nucleo[:D] += entrada[:, :D].T @ grad_z
                grad_nucleo[D:] += (entrada[:, D:].T @ grad_z).T
            elif bug == "subtrai_gradiente":
                grad_nucleo -= entrada.T @ grad_z
            else:
                grad_nucleo += entrada.T @ grad_z
            if bug == "vies_atribuido":
                grad_vies = grad_z.sum(axis=0)
            else:
                grad_vies += grad_z.sum(axis=0)
            grad_entrada = grad_z @ nucleo.T
            grad_x[:, t] = grad_entrada[:, :D]
            if bug == "fatia_uma_coluna_antes":
                grad_h_prox = grad_entrada[:, D - 1:-1]
            else:
                grad_h_prox = grad_entrada[:, D:]
            if bug == "corte_do_gradiente":
                grad_h_prox = np.clip(grad_h_prox, -0.02, 0.02)
            if bug == "sempre_h0":
                grad_h0_acumulado += grad_h_prox
                grad_h_prox = np.zeros_like(h0)
        if bug == "media_no_lote":
            grad_nucleo /= N
        if bug == "taxa_de_aprendizado":
            grad_nucleo *= 0.01
        grad_h0 = grad_h0_acumulado if bug == "sempre_h0" else grad_h_prox
        return grad_x, grad_h0, grad_nucleo, grad_vies

    return frente, tras, {"cell": "rnn", "layout": "tf_kernel", "activation": "sigmoid"}
