"""Central finite differences: full (every element) or directional (a few random directions).

Works on any scalar function of named float64 arrays; needs no framework.

Step size: central differences err by about eps^2 |f'''| / 6 (truncation) plus
u |f| / eps (rounding, u = 1.1e-16). For the probes here |f| ~ 10 and |f'''| ~ 10,
and eps = 1e-5 puts both near 1e-10: four orders of magnitude under the tolerance
(atol 1e-6, rtol 1e-5), while the smallest planted bug moves a gradient by 1e-3 or
more. Directional mode checks <g, v> for unit random directions v, one direction
costing two function calls whatever the size (torch gradcheck's fast_mode idea),
per gradient array rather than for all at once, so a failure still names the array.
"""

import numpy as np

EPS = 1e-5
ATOL, RTOL = 1e-6, 1e-5


def _perturbed(arrays, name, index, delta):
    out = dict(arrays)
    arr = np.array(arrays[name], dtype=np.float64, copy=True)
    arr[index] += delta
    out[name] = arr
    return out


def full(f, arrays, names, eps=EPS):
    """Gradient of f with respect to every element of arrays[name] for each name."""
    grads = {}
    for name in names:
        g = np.zeros(np.shape(arrays[name]))
        for index in np.ndindex(g.shape):
            g[index] = (f(_perturbed(arrays, name, index, eps)) - f(_perturbed(arrays, name, index, -eps))) / (2 * eps)
        grads[name] = g
    return grads


def directional(f, arrays, slices, rng, k=2, eps=EPS):
    """Directional derivatives along k random unit directions per slice.

    Args:
        slices: {label: (name, index)}: the part of arrays[name] the directions live in
            (index may be ``...`` for the whole array, or e.g. ``(slice(None), t)``).
    Returns:
        {label: (directions (k, *shape of the part), derivatives (k,))}
    """
    out = {}
    for label, (name, index) in slices.items():
        part = np.asarray(arrays[name])[index]
        dirs = rng.standard_normal((k,) + part.shape)
        dirs /= np.sqrt((dirs.reshape(k, -1) ** 2).sum(axis=1)).reshape((k,) + (1,) * part.ndim)
        derivs = np.array([(f(_perturbed(arrays, name, index, eps * v)) - f(_perturbed(arrays, name, index, -eps * v)))
                           / (2 * eps) for v in dirs])
        out[label] = (dirs, derivs)
    return out
