"""Single mistakes that look like a broader rule's effect but are not it: each is a held-out
module with one line changed (the modules themselves stay as their writers left them), and
the report must not name the broader rule."""

import importlib.util
import inspect

from harness.guard.check import check_backward
from zoo import cs231n_lstm, cs231n_rnn, held15_nodes_gru, held16_tfforget_lstm, keras_gru


def _planted(module, line, new):
    source = inspect.getsource(module)
    assert line in source
    spec = importlib.util.spec_from_loader(f"{module.__name__}_planted", loader=None)
    planted = importlib.util.module_from_spec(spec)
    exec(source.replace(line, new), planted.__dict__)
    return planted


def _causes(module, bug=None):
    fwd, bwd, opts = module.make(bug)
    report = check_backward(fwd, bwd, against=("reference",), **opts)
    assert not report.ok
    return [f for f in report.findings if f.startswith("likely cause:")]


def test_one_line_reading_tanh_of_c_prev_is_not_called_an_in_place_write_first():
    """df = dc * tanh(c_(t-1)): no array is overwritten, so the simpler reading, one value read for
    another, comes first; the in-place one (tanh(c) written over the cached c, held30's
    ``np.tanh(Cs, out=Cs)``), which gives these very numbers, only as its equal."""
    module = _planted(held16_tfforget_lstm, "else dc * c_prev\n", "else dc * np.tanh(c_prev)\n")
    causes = _causes(module)
    assert causes and "in-place" not in causes[0].split(" (equally: ")[0], causes
    assert causes[0].startswith("likely cause: one value read in place of another"), causes


def test_the_last_steps_h_read_in_every_line_is_shown_as_the_last_steps_h():
    """h_(t-1) read as the last step's h in every line (held15's one h array updated in place):
    the code shown reads caches[T - 1]'s next_h, h_(T-1), not its prev_h, h_(T-2)."""
    causes = _causes(held15_nodes_gru, "h_updated_in_place")
    assert causes and "caches[T - 1]['next_h']" in causes[0], causes
    assert "caches[T - 1]['prev_h']" not in " ".join(causes), causes


def test_a_gradient_averaged_inside_the_step_is_named_a_reduction_where_it_is_made():
    """z's pre-activation gradient divided by N inside the step (it reaches the carry and dx, so
    no returned gradient averaged reproduces it): named averaged, in the step's line."""
    module = _planted(keras_gru, "        dpre_z = dz * z * (1 - z)\n", "        dpre_z = dz * z * (1 - z) / dz.shape[0]\n")
    causes = _causes(module)
    assert len(causes) == 1 and "averaged instead of summed" in causes[0] and "inside the step" in causes[0], causes


def test_two_gates_unpacked_for_each_other_are_a_gate_order():
    """The Keras GRU's backward unpacking its cache as (x, h, r, z, ...) over a forward that stored
    z, r: every read of z sees r's values and the other way round, the gradient blocks written in
    the forward's order. One mistake: named a gate order, r and z."""
    line = "        xt, h_prev, z, r, hh, rec = steps[t]\n"
    causes = _causes(_planted(keras_gru, line, line.replace("z, r,", "r, z,")))
    assert causes[0].startswith("likely cause: gate blocks in the wrong order"), causes
    assert "r read where z is" in causes[0], causes


def test_dx_written_one_slot_early_is_named_in_an_lstm():
    """dx[:, t - 1] = ... in the first zoo's cs231n LSTM (the rule came from an RNN): step 0's
    dx lands in the last slot, Python's index -1."""
    causes = _causes(_planted(cs231n_lstm, "dx[:, t], dprev_h,", "dx[:, t - 1], dprev_h,"))
    assert "written into the slot before its own" in causes[0], causes


def test_fused_overwrites_plant_only_plain_assignments():
    """The driver's overwrites planted together (one kernel, weights with their bias, every
    accumulation) combine the plain ``dW = step[...]`` edits only, never the variants of a weights
    loop of its own (the last step kept), and name each gradient once."""
    from harness.guard.grammar import driver_edits
    from harness.guard.grammar.ast_tools import _src
    from harness.guard.mutants import Textbook
    for cell in ("rnn", "lstm", "gru"):
        book = Textbook(cell)
        for e in driver_edits(cell, book.trees["backward"]):
            if e.cause != "carry_overwrites" or len(e.tree) < 2:
                continue
            planted = " ".join(_src(s) for s in e.tree.values())
            assert "T - 1 else" not in planted.replace("dnext_h if t < T - 1 else dh[:, t]", ""), (cell, e.says)
            names = [w for w in e.says.split(" assigned")[0].split(" and ")]
            assert len(names) == len(set(names)), (cell, e.says)


def test_every_product_own_value_finds_each_product_rule_of_the_textbook():
    """The Mul-op rule is a table of the textbook's product lines by their source: each must still
    be found in the textbook's step (a line rewritten there would drop out of the rule silently)."""
    from harness.guard.grammar.op_rules import OWN_VALUE
    from harness.guard.mutants import Textbook
    for cell, table in OWN_VALUE.items():
        book = Textbook(cell)
        edits = [e for e in book.edits({"N": 3, "T": 5, "D": 4, "H": 6}, True) if "its own value" in e.says]
        assert len(edits) == 1 and len(edits[0].tree) == len(table), (cell, [len(e.tree) for e in edits])


def test_a_gate_block_of_dW_hh_pasted_from_another_gate_is_named_in_the_users_gate_names():
    """A case no zoo holds: the cs231n LSTM (gates i, f, o, g) with dWh's last block formed from
    f's pre-activation gradient. The input-side rule came from held38; this is the recurrent side."""
    m = _planted(cs231n_lstm, '    dWh = (next_h if bug == "pair_h_next" else prev_h).T @ da\n',
                 '    dWh = (next_h if bug == "pair_h_next" else prev_h).T @ da\n    H4 = da.shape[1] // 4\n'
                 '    dWh[:, 3 * H4:] = prev_h.T @ da[:, H4:2 * H4]\n')
    causes = _causes(m)
    assert len(causes) == 1 and "the g gate's block of dW_hh formed from the f gate's" in causes[0], causes


def test_dx_sliced_into_a_leading_ones_column_is_named():
    """A case no zoo holds: a cs231n RNN whose dx is the gradient of [1, x] with the slice one
    column early (the ones column's gradient first, x's last column dropped)."""
    m = _planted(cs231n_rnn, "    dx = da @ Wx.T                              # (N, D)\n",
                 "    bcol = (a - x @ Wx - prev_h @ Wh)[0]\n"
                 "    dx = np.concatenate([da @ bcol[:, None], (da @ Wx.T)[:, :-1]], axis=1)\n")
    causes = _causes(m)
    assert len(causes) == 1 and "ones column" in causes[0] and "x's last column dropped" in causes[0], causes
