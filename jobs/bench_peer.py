#!/usr/bin/env python3
"""The PyTorch eager peer of layerscope's benchmark (jobs/bench).

Does what a researcher's script does today for Wanda statistics on a LLaMA checkpoint: an eager
LLaMA in torch (Hugging Face LlamaForCausalLM semantics, float32 on the CPU), a forward hook on
every nn.Linear feeding Wanda's WrappedGPT.add_batch (locuslab/wanda, lib/layerwrapper.py), then
for every layer W_metric = |W| * sqrt(scaler_row) and the stable per-row sort of Wanda's
prune_wanda, with its 50% mask. Logits are not computed (layerscope does not compute them
either): lm_head's input is the final norm's output, which a hook on the norm hands to lm_head's
WrappedGPT, as a hook on lm_head would.

Reads the same safetensors file (header parsed with json + struct, tensors with torch.frombuffer)
and the same token windows (a JSON file written by `layerscope bench prepare`). Prints nothing on
stdout but one JSON object with the measurements; progress goes to stderr.

    python3 jobs/bench_peer.py --model DIR --windows windows.json --threads 2 --repeat 3
"""
import argparse
import json
import math
import os
import resource
import struct
import sys
import time

T_START = time.perf_counter()
import torch  # noqa: E402  (import time is part of what a user waits for)
from torch import nn  # noqa: E402

T_IMPORTED = time.perf_counter()


def log(msg):
    print("peer: " + msg, file=sys.stderr, flush=True)


# --- checkpoint -------------------------------------------------------------------------------

def read_safetensors(path):
    """name -> float32 tensor; bf16/f16 widened (bf16 is the top half of a float32: exact)."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    dtypes = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dt = dtypes[info["dtype"]]
        count = (end - begin) // torch.finfo(dt).bits * 8
        t = torch.frombuffer(data, dtype=dt, count=count, offset=base + begin)
        out[name] = t.reshape(info["shape"]).to(torch.float32)
    return out


def load_weights(model_dir):
    """name -> float32 tensor: with an index, exactly the tensors it maps, each from the shard it names."""
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if not os.path.exists(index):
        return read_safetensors(os.path.join(model_dir, "model.safetensors"))
    with open(index) as f:
        weight_map = json.load(f)["weight_map"]
    weights = {}
    for shard in sorted(set(weight_map.values())):
        tensors = read_safetensors(os.path.join(model_dir, shard))
        weights.update({name: tensors[name] for name, at in weight_map.items() if at == shard})
    return weights


# --- model (HF LlamaForCausalLM, eager attention) ---------------------------------------------

class RMSNorm(nn.Module):
    def __init__(self, weight, eps):
        super().__init__()
        self.weight = nn.Parameter(weight, requires_grad=False)
        self.eps = eps

    def forward(self, h):
        dtype = h.dtype
        x = h.to(torch.float32)
        variance = x.pow(2).mean(-1, keepdim=True)
        x = x * torch.rsqrt(variance + self.eps)
        return self.weight * x.to(dtype)


def linear(weight):
    # skip_init: no random initialisation of weights about to be replaced (from_pretrained skips it too)
    layer = torch.nn.utils.skip_init(nn.Linear, weight.shape[1], weight.shape[0], bias=False)
    layer.weight = nn.Parameter(weight, requires_grad=False)
    return layer


def inverse_frequencies(cfg):
    d = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
    s = cfg.get("rope_scaling")
    if not s:
        return inv
    factor, low, high = s["factor"], s["low_freq_factor"], s["high_freq_factor"]
    orig = s["original_max_position_embeddings"]
    low_wavelen, high_wavelen = orig / low, orig / high
    wavelen = 2 * math.pi / inv
    scaled = torch.where(wavelen > low_wavelen, inv / factor, inv)
    smooth = (orig / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
    return torch.where(medium, smoothed, scaled)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, w, p, cfg):
        super().__init__()
        self.heads = cfg["num_attention_heads"]
        self.kv_heads = cfg["num_key_value_heads"]
        self.head_dim = cfg.get("head_dim") or cfg["hidden_size"] // self.heads
        self.q_proj = linear(w[p + "q_proj.weight"])
        self.k_proj = linear(w[p + "k_proj.weight"])
        self.v_proj = linear(w[p + "v_proj.weight"])
        self.o_proj = linear(w[p + "o_proj.weight"])

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = self.heads // self.kv_heads
        k = k.repeat_interleave(rep, dim=1)  # HF repeat_kv
        v = v.repeat_interleave(rep, dim=1)
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim) + mask
        probs = nn.functional.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(b, t, -1)
        return self.o_proj(out)


class Mlp(nn.Module):
    def __init__(self, w, p):
        super().__init__()
        self.gate_proj = linear(w[p + "gate_proj.weight"])
        self.up_proj = linear(w[p + "up_proj.weight"])
        self.down_proj = linear(w[p + "down_proj.weight"])

    def forward(self, x):
        return self.down_proj(nn.functional.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, w, i, cfg):
        super().__init__()
        p = "model.layers.%d." % i
        eps = cfg["rms_norm_eps"]
        self.input_layernorm = RMSNorm(w[p + "input_layernorm.weight"], eps)
        self.self_attn = Attention(w, p + "self_attn.", cfg)
        self.post_attention_layernorm = RMSNorm(w[p + "post_attention_layernorm.weight"], eps)
        self.mlp = Mlp(w, p + "mlp.")

    def forward(self, h, cos, sin, mask):
        h = h + self.self_attn(self.input_layernorm(h), cos, sin, mask)
        return h + self.mlp(self.post_attention_layernorm(h))


class Llama(nn.Module):
    """model.model of LlamaForCausalLM plus lm_head; forward() stops at the final norm (no logits)."""

    def __init__(self, w, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding.from_pretrained(w["model.embed_tokens.weight"], freeze=True)
        self.layers = nn.ModuleList(DecoderLayer(w, i, cfg) for i in range(cfg["num_hidden_layers"]))
        self.norm = RMSNorm(w["model.norm.weight"], cfg["rms_norm_eps"])
        head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"]
        self.lm_head = linear(head)
        self.inv_freq = inverse_frequencies(cfg)

    def forward(self, ids):
        b, t = ids.shape
        h = self.embed_tokens(ids)
        freqs = torch.arange(t, dtype=torch.float32)[:, None] * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(h.dtype), emb.sin().to(h.dtype)
        mask = torch.full((t, t), torch.finfo(h.dtype).min).triu(1)
        for layer in self.layers:
            h = layer(h, cos, sin, mask)
        return self.norm(h)


# --- Wanda (lib/layerwrapper.py and prune_wanda, verbatim in substance) ------------------------

class WrappedGPT:
    def __init__(self, layer):
        self.layer = layer
        self.rows, self.columns = layer.weight.shape
        self.scaler_row = torch.zeros((self.columns,))
        self.nsamples = 0

    def add_batch(self, inp, out):
        if len(inp.shape) == 2:
            inp = inp.unsqueeze(0)
        tmp = inp.shape[0]
        if len(inp.shape) == 3:
            inp = inp.reshape((-1, inp.shape[-1]))
        inp = inp.t()
        self.scaler_row *= self.nsamples / (self.nsamples + tmp)
        self.nsamples += tmp
        inp = inp.type(torch.float32)
        self.scaler_row += torch.norm(inp, p=2, dim=1) ** 2 / self.nsamples


def attach_hooks(model):
    wrapped = {}
    handles = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            if name != "lm_head":
                name = "model." + name  # Hugging Face's module names: the decoder lives under model.
            wrapped[name] = WrappedGPT(module)
            if name != "lm_head":
                handles.append(module.register_forward_hook(
                    lambda _m, inp, out, w=wrapped[name]: w.add_batch(inp[0].data, out.data)))
    # lm_head's input is the final norm's output (forward() stops before the logits).
    handles.append(model.norm.register_forward_hook(
        lambda _m, inp, out, w=wrapped["lm_head"]: w.add_batch(out.data, None)))
    return wrapped, handles


def wanda_masks(wrapped, sparsity=0.5):
    pruned = 0
    for name, w in wrapped.items():
        W = w.layer.weight.data
        W_metric = torch.abs(W) * torch.sqrt(w.scaler_row.reshape((1, -1)))
        sort_res = torch.sort(W_metric, dim=-1, stable=True)
        indices = sort_res[1][:, :int(W_metric.shape[1] * sparsity)]
        W_mask = torch.zeros_like(W_metric) == 1
        W_mask.scatter_(1, indices, True)
        pruned += int(W_mask.sum())
    return pruned


def loaded_blas():
    """The BLAS / LAPACK shared objects this process mapped, with symbolic links resolved."""
    found = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            base = os.path.basename(path).lower()
            if "blas" in base or "mkl" in base or "lapack" in base:
                found.add(os.path.realpath(path))
    return sorted(found)


def openblas_core():
    """The kernels OpenBLAS chose (its core name; OPENBLAS_CORETYPE overrides it), or None without OpenBLAS.

    OpenBLAS falls back to its oldest x86-64 kernels (Prescott, SSE3) on a CPU newer than it knows:
    0.3.21 does so on Intel's Emerald Rapids, and the peer's matrix products run several times slower.
    """
    import ctypes
    for path in loaded_blas():
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib.openblas_get_corename().decode()
        except (OSError, AttributeError):
            continue
    return None


def matrix_products(cfg, tokens, repeat):
    """One block's four linear products on `tokens` tokens, float32: best-of-`repeat` GFLOP/s each
    and for the four in a row (the same shapes as layerscope's `bench matmul`)."""
    q = cfg["num_attention_heads"] * cfg.get("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"])
    kv = cfg["num_key_value_heads"] * (q // cfg["num_attention_heads"])
    hidden, inter = cfg["hidden_size"], cfg["intermediate_size"]
    rows, block_seconds, block_flops = [], 0.0, 0.0
    for name, n_in, n_out in (("qkv", hidden, q + 2 * kv), ("o", q, hidden), ("gate_up", hidden, 2 * inter),
                              ("down", inter, hidden)):
        x, w = torch.randn(tokens, n_in), torch.randn(n_out, n_in)
        calls = 40
        for _ in range(calls):
            nn.functional.linear(x, w)
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            for _ in range(calls):
                nn.functional.linear(x, w)
            best = min(best, (time.perf_counter() - t0) / calls)
        flops = 2.0 * tokens * n_in * n_out
        log("matmul %s %d x %d x %d: %.1f GFLOP/s" % (name, tokens, n_in, n_out, flops / best / 1e9))
        rows.append({"name": name, "in": n_in, "out": n_out, "gflops": flops / best / 1e9})
        block_seconds += best
        block_flops += flops
    return {"threads": torch.get_num_threads(), "tokens": tokens, "blas": loaded_blas(), "blas_core": openblas_core(),
            "products": rows,
            "block_gflops": block_flops / block_seconds / 1e9}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--windows", required=True, help="JSON list of token-id lists")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3,
                    help="timed forward passes over all windows after the run (best is kept; 0: none)")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N windows (0: all)")
    ap.add_argument("--forward-only", action="store_true",
                    help="skip the per-layer metric and sort after the forward (layer_stage_seconds is then null)")
    ap.add_argument("--matmul", action="store_true",
                    help="measure only one block's matrix products on a window's tokens, then exit")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    blas_core = openblas_core()
    if blas_core == "Prescott":
        log("warning: OpenBLAS runs its Prescott (SSE3) kernels, its fallback for a CPU it does not know; set"
            " OPENBLAS_CORETYPE (e.g. SkylakeX or Haswell) or the products run several times slower")
    with open(os.path.join(args.model, "config.json")) as f:
        cfg = json.load(f)
    if args.matmul:
        with open(args.windows) as f:
            seqlen = len(json.load(f)["windows"][0])
        json.dump(matrix_products(cfg, seqlen, args.repeat), sys.stdout)
        return
    with open(args.windows) as f:
        windows = json.load(f)["windows"]
    if args.limit > 0:
        windows = windows[:args.limit]
    tokens = sum(len(w) for w in windows)

    t0 = time.perf_counter()
    model = Llama(load_weights(args.model), cfg).eval()
    t_load = time.perf_counter() - t0
    log("loaded in %.2f s; %d windows, %d tokens, %d threads" % (t_load, len(windows), tokens, args.threads))

    # The user's run: hooks on, every window once, then the per-layer metric and sort.
    t0 = time.perf_counter()
    wrapped, handles = attach_hooks(model)
    for w in windows:
        model(torch.tensor([w], dtype=torch.int64))
    t_forward_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    pruned = None if args.forward_only else wanda_masks(wrapped)
    t_layers = None if args.forward_only else time.perf_counter() - t0
    t_run = time.perf_counter() - T_START
    scaler_rows = {name: w.scaler_row.tolist() for name, w in wrapped.items()}
    for h in handles:
        h.remove()

    # Steady-state forward throughput with hooks (the same work each time), best of --repeat.
    times = []
    cpu_times = []
    for _ in range(args.repeat):
        wrapped, handles = attach_hooks(model)
        t0 = time.perf_counter()
        c0 = time.process_time()
        for w in windows:
            model(torch.tensor([w], dtype=torch.int64))
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
        for h in handles:
            h.remove()
    # without repeats, the run's own forward is the only one timed
    best = min(times) if times else t_forward_first
    log("forward with hooks: %.0f tokens/s (best of %s s)" % (tokens / best, ", ".join("%.2f" % t for t in times or [best])))

    json.dump({
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "blas": loaded_blas(),
        "blas_core": blas_core,
        "threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
        "dtype": "float32",
        "windows": len(windows),
        "tokens": tokens,
        "import_seconds": T_IMPORTED - T_START,
        "load_seconds": t_load,
        "first_forward_seconds": t_forward_first,
        "forward_seconds": times,
        "forward_cpu_seconds": cpu_times,
        "forward_tokens_per_second": tokens / best,
        "layers": len(wrapped),
        "layer_stage_seconds": t_layers,
        "pruned_entries": pruned,
        "run_seconds": t_run,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "scaler_rows": scaler_rows,
    }, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
