#!/usr/bin/env python3
"""An independent check of layerscope's sequential pruning (jobs/verify-wanda runs it).

Wanda's sequential prune_wanda (locuslab/wanda lib/prune.py, lib/layerwrapper.py WrappedGPT) and
OWL's per-block allocation (luuyin/OWL lib/prune_all.py) written again in PyTorch eager, float32,
on a small LLaMA checkpoint, with a forward of its own (Hugging Face LlamaForCausalLM semantics);
compares the result with layerscope's --save-pruned checkpoint tensor by tensor, and its scaler_row
with layerscope's activation_norms table. Model, sparsity, N:M and OWL's settings come from the
run's run.json. Exits 1 when a mask position or a kept weight differs.

  /usr/bin/python3 jobs/wanda_reference.py --results DIR --pruned P --windows windows.json [--scaler scaler.json]

windows.json: JSON lines {"sample","tokens"} (layerscope query on the calibration table).
scaler.json: JSON lines {"layer","feature","scaler_row"} (layerscope query on activation_norms).
"""
import argparse, json, math, os, struct, sys
import numpy as np
import torch
from torch import nn

torch.set_num_threads(2)
LINEARS = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]


# ---------------- checkpoint ----------------
def read_st(path):
    data = bytearray(open(path, "rb").read())
    (n,) = struct.unpack("<Q", data[:8])
    hdr = json.loads(data[8:8 + n])
    base = 8 + n
    dts = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32}
    out = {}
    for k, v in hdr.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        dt = dts[v["dtype"]]
        cnt = (e - b) // (torch.finfo(dt).bits // 8)
        t = torch.frombuffer(data, dtype=dt, count=cnt, offset=base + b).reshape(v["shape"])
        out[k] = (v["dtype"], t.clone())
    return out


def load_dir(d):
    idx = os.path.join(d, "model.safetensors.index.json")
    files = sorted(set(json.load(open(idx))["weight_map"].values())) if os.path.exists(idx) else ["model.safetensors"]
    w = {}
    for f in files:
        w.update(read_st(os.path.join(d, f)))
    return w


# ---------------- model (HF LlamaForCausalLM eager semantics, float32) ----------------
def rope_inv_freq(cfg):
    d = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    base = cfg["rope_theta"]
    inv = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
    rs = cfg.get("rope_scaling")
    if rs:
        assert rs.get("rope_type", rs.get("type")) == "llama3"
        factor, lo_f, hi_f = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        om = rs["original_max_position_embeddings"]
        lo_wl, hi_wl = om / lo_f, om / hi_f
        wl = 2 * math.pi / inv
        inv_l = torch.where(wl > lo_wl, inv / factor, inv)
        s = (om / wl - lo_f) / (hi_f - lo_f)
        smoothed = (1 - s) * inv_l / factor + s * inv_l
        is_med = ~(wl < hi_wl) * ~(wl > lo_wl)
        inv = torch.where(is_med, smoothed, inv_l)
    return inv


class RMSNorm(nn.Module):
    def __init__(self, w, eps):
        super().__init__()
        self.weight = nn.Parameter(w, requires_grad=False)
        self.eps = eps

    def forward(self, x):
        dt = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dt)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Attn(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        H = cfg["hidden_size"]; self.nh = cfg["num_attention_heads"]; self.nkv = cfg["num_key_value_heads"]
        self.d = cfg.get("head_dim") or H // self.nh
        self.q_proj = nn.Linear(H, self.nh * self.d, bias=False)
        self.k_proj = nn.Linear(H, self.nkv * self.d, bias=False)
        self.v_proj = nn.Linear(H, self.nkv * self.d, bias=False)
        self.o_proj = nn.Linear(self.nh * self.d, H, bias=False)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.nh, self.d).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.nkv, self.d).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.nkv, self.d).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = self.nh // self.nkv
        k = k.repeat_interleave(rep, dim=1); v = v.repeat_interleave(rep, dim=1)
        sc = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.d)
        mask = torch.full((T, T), torch.finfo(sc.dtype).min).triu(1)
        sc = sc + mask
        p = torch.softmax(sc, dim=-1, dtype=torch.float32).to(q.dtype)
        a = torch.matmul(p, v).transpose(1, 2).reshape(B, T, self.nh * self.d)
        return self.o_proj(a)


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        H, I = cfg["hidden_size"], cfg["intermediate_size"]
        self.gate_proj = nn.Linear(H, I, bias=False)
        self.up_proj = nn.Linear(H, I, bias=False)
        self.down_proj = nn.Linear(I, H, bias=False)

    def forward(self, x):
        return self.down_proj(nn.functional.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, cfg, W, i):
        super().__init__()
        self.self_attn = Attn(cfg); self.mlp = MLP(cfg)
        p = f"model.layers.{i}."
        eps = cfg["rms_norm_eps"]
        self.input_layernorm = RMSNorm(W[p + "input_layernorm.weight"], eps)
        self.post_attention_layernorm = RMSNorm(W[p + "post_attention_layernorm.weight"], eps)
        with torch.no_grad():
            for n in LINEARS:
                self.get_submodule(n).weight.copy_(W[p + n + ".weight"])
        for prm in self.parameters():
            prm.requires_grad_(False)

    def forward(self, h, cos, sin):
        h = h + self.self_attn(self.input_layernorm(h), cos, sin)
        return h + self.mlp(self.post_attention_layernorm(h))


# ---------------- Wanda ----------------
class WrappedGPT:  # as locuslab/wanda lib/layerwrapper.py
    def __init__(self, layer):
        self.layer = layer
        self.scaler_row = torch.zeros(layer.weight.shape[1])
        self.nsamples = 0
        self.sumsq = torch.zeros(layer.weight.shape[1], dtype=torch.float64)  # exact-ish check

    def add_batch(self, inp, out):
        if len(inp.shape) == 2:
            inp = inp.unsqueeze(0)
        tmp = inp.shape[0]
        inp = inp.reshape((-1, inp.shape[-1])).t()
        self.scaler_row *= self.nsamples / (self.nsamples + tmp)
        self.nsamples += tmp
        inp = inp.type(torch.float32)
        self.scaler_row += torch.norm(inp, p=2, dim=1) ** 2 / self.nsamples
        self.sumsq += (inp.double() ** 2).sum(dim=1)


def run_block_with_hooks(blk, inps, cos, sin):
    wrapped = {n: WrappedGPT(blk.get_submodule(n)) for n in LINEARS}
    hs = [blk.get_submodule(n).register_forward_hook(
        (lambda n: lambda _m, i, o: wrapped[n].add_batch(i[0].data, o.data))(n)) for n in LINEARS]
    outs = torch.empty_like(inps)
    for j in range(inps.shape[0]):
        outs[j] = blk(inps[j].unsqueeze(0), cos, sin)[0]
    for h in hs:
        h.remove()
    return wrapped, outs


def wanda_mask(W_metric, ratio, prune_n, prune_m):
    W_mask = torch.zeros_like(W_metric) == 1
    if prune_n != 0:
        for ii in range(W_metric.shape[1]):
            if ii % prune_m == 0:
                tmp = W_metric[:, ii:(ii + prune_m)].float()
                W_mask.scatter_(1, ii + torch.topk(tmp, prune_n, dim=1, largest=False)[1], True)
    else:
        sort_res = torch.sort(W_metric, dim=-1, stable=True)
        indices = sort_res[1][:, :int(W_metric.shape[1] * ratio)]
        W_mask.scatter_(1, indices, True)
    return W_mask


def check_outlier_mean(W, threshold):  # OWL lib/prune_all.py
    max_shred = torch.mean(W) * threshold
    count = (W > max_shred).sum().item()
    return float(count) / W.numel() * 100


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True); ap.add_argument("--windows", required=True)
    ap.add_argument("--pruned", required=True); ap.add_argument("--scaler")
    a = ap.parse_args()
    run = json.load(open(os.path.join(a.results, "run.json")))
    analysis = run["options"]["analysis"]
    if analysis["mode"] != "sequential":
        sys.exit(f"{a.results}: a --mode {analysis['mode']} run; the reference is Wanda's sequential procedure")
    a.model = run["model"]["directory"]
    a.sparsity = analysis["sparsity"]
    a.prune_n, a.prune_m = (0, 0) if analysis["pattern"] == "unstructured" else map(int, analysis["pattern"].split(":"))
    allocation = analysis["allocation"]
    a.owl = allocation["kind"] == "owl"
    if a.owl:
        a.owl_m, a.owl_lambda = allocation["owlM"], allocation["lambda"]
    print(f"reference: {a.model}, sparsity {a.sparsity}, pattern {analysis['pattern']}, allocation {allocation}")

    cfg = json.load(open(os.path.join(a.model, "config.json")))
    raw = load_dir(a.model)
    W = {k: t.float() for k, (dt, t) in raw.items()}
    wins = [json.loads(l) for l in open(a.windows) if l.strip()]
    wins.sort(key=lambda r: r["sample"])
    ids = torch.tensor([w["tokens"] for w in wins], dtype=torch.long)
    N, T = ids.shape
    print(f"windows: {N} x {T}", file=sys.stderr)

    inv = rope_inv_freq(cfg)
    pos = torch.arange(T).float()
    freqs = torch.outer(pos, inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()

    L = cfg["num_hidden_layers"]
    emb_w = W["model.embed_tokens.weight"]
    inps0 = emb_w[ids].clone()  # Catcher: block 0 inputs

    # ---- OWL: dense pass, one outlier ratio per block ----
    block_sp = [a.sparsity] * L
    if a.owl:
        blocks = [Block(cfg, W, i) for i in range(L)]
        inps = inps0.clone(); ratios = []
        with torch.no_grad():
            for i in range(L):
                wr, _ = run_block_with_hooks(blocks[i], inps, cos, sin)
                lw = [torch.abs(blocks[i].get_submodule(n).weight.data) * torch.sqrt(wr[n].scaler_row.reshape((1, -1)))
                      for n in LINEARS]
                outs = torch.empty_like(inps)
                for j in range(N):
                    outs[j] = blocks[i](inps[j].unsqueeze(0), cos, sin)[0]
                inps = outs
                lw = torch.cat([torch.flatten(x) for x in lw])
                ratios.append(check_outlier_mean(lw, a.owl_m))
        print("OWL outlier ratios D:", ratios)
        r = np.array(ratios)
        r = ((r - r.min()) * (1 / (r.max() - r.min()) * a.owl_lambda * 2))
        r = r - np.mean(r) + (1 - a.sparsity)
        block_sp = [1 - x for x in r]
        print("OWL block sparsities:", [repr(x) for x in block_sp])

    # ---- Wanda sequential ----
    blocks = [Block(cfg, W, i) for i in range(L)]
    inps = inps0.clone()
    mine = {}; scal = {}; metrics = {}; sumsq = {}
    with torch.no_grad():
        for i in range(L):
            blk = blocks[i]
            wr, _ = run_block_with_hooks(blk, inps, cos, sin)
            for n in LINEARS:
                lin = blk.get_submodule(n)
                W_metric = torch.abs(lin.weight.data) * torch.sqrt(wr[n].scaler_row.reshape((1, -1)))
                ratio = block_sp[i]
                if ratio <= 0:
                    ratio = 0.01
                M = wanda_mask(W_metric, ratio, a.prune_n, a.prune_m)
                name = f"model.layers.{i}.{n}"
                metrics[name] = W_metric.clone()
                scal[name] = wr[n].scaler_row.clone()
                sumsq[name] = (wr[n].sumsq / wr[n].nsamples)
                lin.weight.data[M] = 0
                mine[name] = lin.weight.data.clone()
            outs = torch.empty_like(inps)
            for j in range(N):
                outs[j] = blk(inps[j].unsqueeze(0), cos, sin)[0]
            inps = outs
    # lm_head tap: final norm of the pruned stream
    fn = RMSNorm(W["model.norm.weight"], cfg["rms_norm_eps"])
    with torch.no_grad():
        x = fn(inps)
    scal["lm_head"] = ((x.reshape(-1, x.shape[-1]).double() ** 2).sum(0) / N).float()
    sumsq["lm_head"] = scal["lm_head"].double()

    # ---- compare with layerscope's pruned checkpoint ----
    theirs_raw = load_dir(a.pruned)
    lsmeta = json.load(open(os.path.join(a.pruned, "layerscope-pruned.json")))
    print("layerscope-pruned.json:", json.dumps(lsmeta)[:400])
    # non-linear tensors: byte identical?
    same_other = all(torch.equal(theirs_raw[k][1].view(torch.int16) if theirs_raw[k][1].dtype == torch.bfloat16 else theirs_raw[k][1],
                                 raw[k][1].view(torch.int16) if raw[k][1].dtype == torch.bfloat16 else raw[k][1])
                     for k in raw if k not in {f"{nm}.weight" for nm in mine})
    print(f"non-pruned tensors byte-identical to source: {same_other}; tensor sets equal: {set(raw) == set(theirs_raw)}")
    tot_diff = 0; max_kept = 0.0; ties = []
    print(f"{'layer':36s} {'shape':>10s} {'sp_mine':>8s} {'sp_ls':>8s} {'maskdiff':>8s} {'maxkeptdiff':>11s} {'src0':>5s}")
    for name, wm in mine.items():
        dt, tt = theirs_raw[name + ".weight"]
        assert dt == raw[name + ".weight"][0]
        wt = tt.float()
        src = W[name + ".weight"]
        mz, tz = (wm == 0), (wt == 0)
        diff = (mz != tz)
        nd = int(diff.sum())
        both = (~mz) & (~tz)
        mk = float((wm[both] - wt[both]).abs().max()) if both.any() else 0.0
        # kept weights must equal the source's
        mk_src = float((wt[~tz] - src[~tz]).abs().max()) if (~tz).any() else 0.0
        tot_diff += nd; max_kept = max(max_kept, mk, mk_src)
        sp_m = float(mz.float().mean()); sp_t = float(tz.float().mean())
        print(f"{name:36s} {str(tuple(wm.shape)):>10s} {sp_m:8.5f} {sp_t:8.5f} {nd:8d} {max(mk, mk_src):11.3g} {int((src == 0).sum()):5d}")
        if nd:
            met = metrics[name]
            for r_, c_ in diff.nonzero().tolist()[:40]:
                row = met[r_]
                if a.prune_n:
                    g0 = (c_ // a.prune_m) * a.prune_m
                    grp = row[g0:g0 + a.prune_m].tolist()
                    ties.append((name, r_, c_, "mine pruned" if mz[r_, c_] else "ls pruned", float(row[c_]), grp))
                else:
                    k = int(row.shape[0] * block_sp[int(name.split('.')[2])])
                    srt = torch.sort(row, stable=True)[0]
                    ties.append((name, r_, c_, "mine pruned" if mz[r_, c_] else "ls pruned", float(row[c_]),
                                 (float(srt[k - 1]), float(srt[k]))))
    print(f"TOTAL layers={len(mine)} differing mask positions={tot_diff} max kept-weight diff={max_kept:.3g}")
    for t in ties:
        print("  DIFF", t)
    if run.get("blockSparsity"):
        print(f"block sparsities equal to run.json's: {list(map(float, block_sp)) == list(run['blockSparsity'])}")

    # ---- scaler_row vs layerscope ----
    if a.scaler:
        ls = {}
        for l in open(a.scaler):
            if l.strip():
                r = json.loads(l)
                ls.setdefault(r["layer"], {})[r["feature"]] = r["scaler_row"]
        worst = 0.0; worst64 = 0.0
        for name, s in scal.items():
            key = name if name in ls else None
            if key is None:
                print("  no layerscope scaler_row for", name); continue
            v = torch.tensor([ls[key][j] for j in range(len(ls[key]))], dtype=torch.float64)
            rel = ((s.double() - v).abs() / v.abs().clamp_min(1e-30)).max().item()
            rel64 = ((sumsq[name] - v).abs() / v.abs().clamp_min(1e-30)).max().item()
            worst = max(worst, rel); worst64 = max(worst64, rel64)
            print(f"  scaler_row {name:36s} max rel err {rel:.3g} (vs float64 sum/N: {rel64:.3g})")
        print(f"SCALER max rel err (Wanda running fp32) {worst:.3g}; (float64 sum/N) {worst64:.3g}; layers {len(ls)}")
    return 0 if tot_diff == 0 and max_kept == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
