"""dinornn models in PyTorch: the safetensors layout of docs/interop.md.

    import dinornn_torch as dt
    meta, model = dt.load("dinos.safetensors")
    dt.log_prob(model, meta, "tyrannosaurus")          # natural log, END included
    dt.greedy(model, meta)                              # the most likely symbol each step
    dt.save("out.safetensors", model, meta)

A model is CharRNN (torch.nn.GRU / LSTM / RNN reading the one-hot of the
symbol, with the label's one-hot concatenated for a labeled model, and a
torch.nn.Linear to the symbols' logits) or a Mixture of them (its
`members`, a torch.nn.ModuleList, mixed by the mean of their probabilities
at each step). The file is read and written by hand (json + struct): only
the standard library and torch are needed, not the `safetensors` package.
"""
import json
import math
import struct
import sys
import unicodedata
from array import array

import torch
import torch.nn as nn

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
END = 0
MAX_GREEDY = 32  # dinornn-sample's default --max-length
MAX_HEADER = 100 << 20  # a header longer than this is not a model's


class FormatError(Exception):
    """The file is not a model in the layout (the message says why)."""


class CharRNN(nn.Module):
    """One network: rnn over [one_hot(symbol, V), one_hot(label, N)], then out."""

    def __init__(self, cell, vocab, hidden, layers, labels=0):
        super().__init__()
        self.vocab, self.labels = vocab, labels
        self.rnn = CELLS[cell](input_size=vocab + labels, hidden_size=hidden,
                               num_layers=layers, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        """x [B, T, V+N] -> (log-probabilities [B, T, V], state)."""
        y, state = self.rnn(x, state)
        return torch.log_softmax(self.out(y), dim=-1), state


class Mixture(nn.Module):
    """Networks mixed by the mean of their probabilities at every step."""

    def __init__(self, members):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.vocab, self.labels = members[0].vocab, members[0].labels

    def forward(self, x, state=None):
        state = state or [None] * len(self.members)
        outs = [m(x, s) for m, s in zip(self.members, state)]
        logp = torch.stack([o[0] for o in outs])
        return torch.logsumexp(logp, dim=0) - math.log(len(self.members)), [o[1] for o in outs]


# --- the file ---------------------------------------------------------------

def read_safetensors(path):
    """({name: float32 tensor}, {metadata}) of a safetensors file of F32 tensors."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise FormatError("shorter than the 8 bytes of the header's length")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > min(len(blob) - 8, MAX_HEADER):
        raise FormatError("the header's length (%d bytes) is past the end of the file" % n)
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise FormatError("the header is not JSON: %s" % e)
    if not isinstance(header, dict):
        raise FormatError("the header is not a JSON object")
    meta = header.pop("__metadata__", {}) or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise FormatError("__metadata__ is not a map of strings")
    data = memoryview(blob)[8 + n:]
    tensors = {}
    for name, t in header.items():
        tensors[name] = _tensor(name, t, data)
    return tensors, meta


def _tensor(name, t, data):
    if not isinstance(t, dict) or t.get("dtype") != "F32":
        raise FormatError("tensor %s: dtype %r, not F32" % (name, isinstance(t, dict) and t.get("dtype")))
    shape, off = t.get("shape"), t.get("data_offsets")
    if (not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape)
            or not isinstance(off, list) or len(off) != 2
            or not all(isinstance(o, int) for o in off)):
        raise FormatError("tensor %s: bad shape or data_offsets" % name)
    begin, end = off
    if not 0 <= begin <= end <= len(data) or end - begin != 4 * math.prod(shape):
        raise FormatError("tensor %s: data_offsets %s do not fit its shape %s in %d bytes of data"
                          % (name, off, shape, len(data)))
    values = array("f")
    values.frombytes(data[begin:end])
    if sys.byteorder != "little":
        values.byteswap()
    return torch.tensor(values, dtype=torch.float32).reshape(shape)


def write_safetensors(path, tensors, meta):
    """Writes [(name, tensor)] as F32, in order, tiled without gaps."""
    header, chunks, at = {}, [], 0
    for name, t in tensors:
        t = t.detach().to(torch.float32).cpu().contiguous()
        values = array("f", t.flatten().tolist())
        if sys.byteorder != "little":
            values.byteswap()
        chunk = values.tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [at, at + len(chunk)]}
        chunks.append(chunk)
        at += len(chunk)
    header = {"__metadata__": {k: str(v) for k, v in meta.items()}, **header}
    text = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data starts 8-aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


# --- the model ----------------------------------------------------------------

def _int(meta, key, lo, hi, default=None):
    if key not in meta and default is not None:
        return default
    try:
        v = int(meta[key])
    except (KeyError, ValueError):
        raise FormatError("metadata %s: %r is not a number" % (key, meta.get(key)))
    if not lo <= v <= hi:
        raise FormatError("metadata %s: %d is not in %d..%d" % (key, v, lo, hi))
    return v


def check_meta(meta):
    """The model's sizes from its metadata (cell, V, H, L, M, N), checked."""
    cell = meta.get("cell")
    if cell not in CELLS:
        raise FormatError("metadata cell: %r is not rnn, lstm or gru" % cell)
    V = _int(meta, "vocab", 2, 65536)
    if len(meta.get("symbols", "")) != V - 1:
        raise FormatError("metadata symbols: %d symbols for a vocabulary of %d (with END)"
                          % (len(meta.get("symbols", "")), V))
    if _int(meta, "end_index", 0, 0, 0) != END:
        raise FormatError("metadata end_index: only 0 is read")
    H, L = _int(meta, "hidden", 1, 4096), _int(meta, "layers", 1, 16)
    M, N = _int(meta, "members", 1, 16, 1), _int(meta, "labels", 0, 256, 0)
    if N and len(label_names(meta)) != N:
        raise FormatError("metadata label_names: not %d labels" % N)
    return cell, V, H, L, M, N


def label_names(meta):
    try:
        names = json.loads(meta.get("label_names", "[]"))
    except ValueError:
        raise FormatError("metadata label_names is not JSON")
    if not isinstance(names, list) or not all(isinstance(s, str) for s in names):
        raise FormatError("metadata label_names is not a list of strings")
    return names


def build(meta):
    """An untrained model of the metadata's sizes."""
    cell, V, H, L, M, N = check_meta(meta)
    nets = [CharRNN(cell, V, H, L, N) for _ in range(M)]
    return nets[0] if M == 1 else Mixture(nets)


def load(path):
    """(metadata, model) of a safetensors file in the layout; FormatError if it does not fit."""
    tensors, meta = read_safetensors(path)
    model = build(meta)
    want = model.state_dict()
    for name in sorted(set(tensors) - set(want)):
        raise FormatError("tensor %s is not one of the model's" % name)
    for name, t in want.items():
        if name not in tensors:
            raise FormatError("tensor %s is missing" % name)
        if tuple(tensors[name].shape) != tuple(t.shape):
            raise FormatError("tensor %s: shape %s, expected %s"
                              % (name, list(tensors[name].shape), list(t.shape)))
    model.load_state_dict(tensors, strict=True)
    return meta, model.eval()


def save(path, model, meta):
    """Writes the model's state_dict and the metadata (sizes taken from the model)."""
    write_safetensors(path, list(model.state_dict().items()), meta)


# --- reading names --------------------------------------------------------------

def normalise(text, keep_case=False):
    """A name as dinornn reads one (the simple case): trimmed, NFC, lowercased, NFC."""
    s = unicodedata.normalize("NFC", text.strip())
    return s if keep_case else unicodedata.normalize("NFC", s.lower())


def encode(meta, name):
    """The symbols' indices of a name; ValueError for one the model lacks."""
    index = {c: i + 1 for i, c in enumerate(meta["symbols"])}
    s = normalise(name, meta.get("keep_case") == "1")
    if not s:
        raise ValueError("it is empty")
    out = []
    for c in s:
        if c not in index:
            raise ValueError("symbol %r (U+%04X) is not in the model's vocabulary" % (c, ord(c)))
        out.append(index[c])
    return out


def decode(meta, tokens):
    return "".join(meta["symbols"][t - 1] for t in tokens)


def label_index(meta, label):
    names = label_names(meta)
    label = unicodedata.normalize("NFC", label.strip())
    if label not in names:
        raise ValueError("label %r is not one of the model's: %s" % (label, ", ".join(names)))
    return names.index(label)


def log_shares(meta):
    """log of each label's share of the training names (equal without counts)."""
    N = len(label_names(meta))
    counts = json.loads(meta["label_counts"]) if "label_counts" in meta else [1] * N
    total = float(sum(counts))
    return torch.tensor([math.log(c / total) for c in counts], dtype=torch.float64)


def inputs(model, tokens, labels, dtype=torch.float32):
    """[B, T, V+N]: the one-hot of each symbol, each row's label's concatenated."""
    V, N = model.vocab, model.labels
    x = torch.zeros(len(labels), len(tokens), V + N, dtype=dtype)
    x[:, torch.arange(len(tokens)), torch.tensor(tokens, dtype=torch.long)] = 1
    for b, k in enumerate(labels):
        if k is not None:
            x[b, :, V + k] = 1
    return x


# --- scoring and decoding -------------------------------------------------------

def _lanes(model, meta, label):
    """The labels to run the model under, and their log weights (None: one lane)."""
    if not model.labels:
        if label is not None:
            raise ValueError("the model has no labels")
        return [None], None
    if label is not None:
        return [label if isinstance(label, int) else label_index(meta, label)], None
    return list(range(model.labels)), log_shares(meta)


@torch.no_grad()
def log_prob(model, meta, name, label=None, dtype=torch.float32):
    """Natural log of P(name) (of P(name | label) under a label), its END included.

    A labeled model without a label: the labels' models weighted by their
    shares, log sum_k share_k P(name | k), as dinornn-sample --score."""
    tokens = encode(meta, name) if isinstance(name, str) else list(name)
    lanes, shares = _lanes(model, meta, label)
    logp, _ = model(inputs(model, [END] + tokens, lanes, dtype))
    targets = torch.tensor(tokens + [END], dtype=torch.long)
    per_lane = logp[:, torch.arange(len(targets)), targets].to(torch.float64).sum(dim=1)
    if shares is None:
        return float(per_lane[0])
    return float(torch.logsumexp(per_lane + shares, dim=0))


@torch.no_grad()
def greedy(model, meta, label=None, max_len=MAX_GREEDY, dtype=torch.float32):
    """The most likely symbol each step until END or max_len symbols, as
    dinornn-sample -t 0 draws (at least one symbol: END is not taken first;
    ties to the lower index). Returns the name's text."""
    lanes, w = _lanes(model, meta, label)
    state, tokens, sym = None, [], END
    while len(tokens) < max_len:
        logp, state = model(inputs(model, [sym], lanes, dtype), state)
        z = logp[:, 0].to(torch.float64)  # [lanes, V]
        step = z[0] if w is None else torch.logsumexp(w[:, None] + z, dim=0)
        sym = int(torch.argmax(step[1:])) + 1 if not tokens else int(torch.argmax(step))
        if sym == END:
            break
        tokens.append(sym)
        if w is not None:
            w = w + z[:, sym]
    return decode(meta, tokens)
