"""What a torch file holds, read without unpickling anything (pickletools only walks the
opcodes): the classes and functions it would import. Used to say "holds a pickled
torch.nn.LSTM module" instead of passing on torch's advice to load it unsafely."""

import io
import pickletools
import zipfile

# What a plain state_dict of tensors imports (torch.load(weights_only=True) accepts these).
_DATA = ("collections.OrderedDict", "torch._utils.", "torch.storage.", "torch._tensor.", "torch.serialization.",
         "_codecs.encode", "builtins.set", "__builtin__.set", "torch.nn.parameter.Parameter")


def _is_data(name):
    """Tensor data: the prefixes above, or a top-level torch name (torch.DoubleStorage, torch.float32)."""
    return name.startswith(_DATA) or (name.startswith("torch.") and name.count(".") == 1)


def _pickles(path):
    """The pickle streams of a torch file: data.pkl of a zip archive, or the raw file."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            return [z.read(n) for n in z.namelist() if n.endswith("data.pkl")]
    with open(path, "rb") as f:
        return [f.read()]


def imported_names(path, limit=1000):
    """'module.name' of every global the file's pickles import, in order (at most ``limit``)."""
    names = []
    for data in _pickles(path):
        stream = io.BytesIO(data)
        for _ in range(8):                                  # the legacy format: several pickles in a row
            try:
                names += _globals(stream, limit)
            except Exception:                               # the end, or not a pickle at all
                break
    return names


def _globals(data, limit):
    names, memo, recent = [], {}, []
    for op, arg, _ in pickletools.genops(data):
        if op.name == "GLOBAL":
            names.append(arg.replace(" ", "."))
        elif op.name == "STACK_GLOBAL" and len(recent) >= 2:
            names.append(f"{recent[-2]}.{recent[-1]}")
        elif op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8"):
            recent.append(arg)
            continue
        elif op.name in ("BINPUT", "LONG_BINPUT", "PUT"):
            memo[arg] = recent[-1] if recent else None
            continue
        elif op.name == "MEMOIZE":
            memo[len(memo)] = recent[-1] if recent else None
            continue
        elif op.name in ("BINGET", "LONG_BINGET", "GET") and isinstance(memo.get(arg), str):
            recent.append(memo[arg])
            continue
        recent.append(None)
        if len(names) >= limit or op.name == "STOP":
            break
    return names


def describe(path):
    """A phrase saying what beyond plain tensors a torch file holds, or None."""
    names = [n for n in imported_names(path) if not _is_data(n)]
    if not names:
        return None
    module = next((n for n in names if n.startswith("torch.nn.")), None)
    if module:
        kind = "module" if module.startswith("torch.nn.modules.") else "object"
        return f"a pickled {'torch.nn.' + module.rsplit('.', 1)[1]} {kind} ({module}), not a state_dict"
    return f"pickled Python objects ({', '.join(dict.fromkeys(names[:3]))}), not tensors"
