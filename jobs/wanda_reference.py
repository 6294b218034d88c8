#!/usr/bin/env python3
"""An independent check of layerscope's sequential pruning (jobs/verify-wanda runs it).

Wanda's sequential prune_wanda (locuslab/wanda lib/prune.py, lib/layerwrapper.py WrappedGPT) and
OWL's per-block allocation (luuyin/OWL lib/prune_all.py) written again in PyTorch eager, float32,
on a small LLaMA checkpoint, with a forward of its own (Hugging Face LlamaForCausalLM semantics);
compares the result with layerscope's --save-pruned checkpoint tensor by tensor, and its scaler_row
with layerscope's activation_norms table. Model, sparsity, N:M and OWL's settings come from the
run's run.json. Exits 1 when a mask position, a kept weight, another tensor (or the set of tensors)
or the block sparsities differ.

  /usr/bin/python3 jobs/wanda_reference.py --results DIR --pruned P --windows windows.json [--scaler scaler.json]

windows.json: JSON lines {"sample","tokens"} (layerscope query on the calibration table).
scaler.json: JSON lines {"layer","feature","scaler_row"} (layerscope query on activation_norms).
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch

# the eager LLaMA (Hugging Face semantics, float32) and Wanda's WrappedGPT of the benchmark's peer
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_peer import DecoderLayer, RMSNorm, WrappedGPT, inverse_frequencies, load_weights  # noqa: E402

torch.set_num_threads(2)
LINEARS = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]


class Block(DecoderLayer):
    """A decoder block whose forward takes the rotary tables and causal mask of its windows."""

    def __init__(self, cfg, W, i):
        super().__init__(W, i, cfg)
        for prm in self.parameters():
            prm.requires_grad_(False)
        # its own weights: pruning one block's must not touch the dict the next block is built from
        for n in LINEARS:
            self.get_submodule(n).weight.data = self.get_submodule(n).weight.data.clone()


def raw_tensors(model_dir):
    """name -> (dtype, bytes) as stored: with an index, the tensors it maps, each from its shard."""
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            weight_map = json.load(f)["weight_map"]
    else:
        weight_map = None
    out = {}
    for shard in sorted(set(weight_map.values())) if weight_map else ["model.safetensors"]:
        with open(os.path.join(model_dir, shard), "rb") as f:
            data = f.read()
        (n,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8:8 + n])
        for name, info in header.items():
            if name != "__metadata__" and (weight_map is None or weight_map.get(name) == shard):
                begin, end = info["data_offsets"]
                out[name] = (info["dtype"], data[8 + n + begin:8 + n + end])
    return out


def run_block_with_hooks(blk, inps, rope):
    """Wanda's add_batch on every Linear of the block, one window at a time; also float64 sums of x^2."""
    wrapped = {n: WrappedGPT(blk.get_submodule(n)) for n in LINEARS}
    sums64 = {n: torch.zeros(blk.get_submodule(n).weight.shape[1], dtype=torch.float64) for n in LINEARS}

    def hook(n):
        def record(_m, inp, out):
            wrapped[n].add_batch(inp[0].data, out.data)
            sums64[n] += (inp[0].data.reshape(-1, inp[0].shape[-1]).double() ** 2).sum(dim=0)
        return record

    hs = [blk.get_submodule(n).register_forward_hook(hook(n)) for n in LINEARS]
    outs = run_block(blk, inps, rope)
    for h in hs:
        h.remove()
    for n in LINEARS:
        wrapped[n].sumsq = sums64[n]
    return wrapped, outs


def run_block(blk, inps, rope):
    outs = torch.empty_like(inps)
    for j in range(inps.shape[0]):
        outs[j] = blk(inps[j].unsqueeze(0), *rope)[0]
    return outs


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
    W = load_weights(a.model)
    wins = [json.loads(l) for l in open(a.windows) if l.strip()]
    wins.sort(key=lambda r: r["sample"])
    ids = torch.tensor([w["tokens"] for w in wins], dtype=torch.long)
    N, T = ids.shape
    print(f"windows: {N} x {T}", file=sys.stderr)

    freqs = torch.arange(T, dtype=torch.float32)[:, None] * inverse_frequencies(cfg)[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    rope = (emb.cos(), emb.sin(), torch.full((T, T), torch.finfo(torch.float32).min).triu(1))

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
                wr, _ = run_block_with_hooks(blocks[i], inps, rope)
                lw = [torch.abs(blocks[i].get_submodule(n).weight.data) * torch.sqrt(wr[n].scaler_row.reshape((1, -1)))
                      for n in LINEARS]
                inps = run_block(blocks[i], inps, rope)
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
            wr, _ = run_block_with_hooks(blk, inps, rope)
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
            inps = run_block(blk, inps, rope)
    # lm_head tap: final norm of the pruned stream
    fn = RMSNorm(W["model.norm.weight"], cfg["rms_norm_eps"])
    with torch.no_grad():
        x = fn(inps)
    scal["lm_head"] = ((x.reshape(-1, x.shape[-1]).double() ** 2).sum(0) / N).float()
    sumsq["lm_head"] = scal["lm_head"].double()

    # ---- compare with layerscope's pruned checkpoint (bf16 and f16 widen to float32 exactly) ----
    theirs = load_weights(a.pruned)
    lsmeta = json.load(open(os.path.join(a.pruned, "layerscope-pruned.json")))
    print("layerscope-pruned.json:", json.dumps(lsmeta)[:400])
    src_raw, out_raw = raw_tensors(a.model), raw_tensors(a.pruned)
    same_names = set(src_raw) == set(out_raw)
    pruned_names = {f"{nm}.weight" for nm in mine}
    same_dtypes = same_names and all(src_raw[k][0] == out_raw[k][0] for k in src_raw)
    same_other = same_dtypes and all(src_raw[k][1] == out_raw[k][1] for k in src_raw if k not in pruned_names)
    # a masked entry is 0.0, all bits clear (-0.0 would compare equal to it as a value)
    negative_zeros = sum(int((torch.signbit(theirs[k]) & (theirs[k] == 0)).sum()) for k in pruned_names if k in theirs)
    same_other = same_other and negative_zeros == 0
    print(f"OTHER tensors byte-identical to the source's, dtypes kept, no -0.0: {same_other}; tensor sets equal:"
          f" {same_names}; dtypes equal: {same_dtypes}; masked entries stored as -0.0: {negative_zeros}")
    tot_diff = 0; max_kept = 0.0; ties = []
    print(f"{'layer':36s} {'shape':>10s} {'sp_mine':>8s} {'sp_ls':>8s} {'maskdiff':>8s} {'maxkeptdiff':>11s} {'src0':>5s}")
    for name, wm in mine.items():
        wt = theirs[name + ".weight"]
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
    same_sparsities = list(map(float, block_sp)) == list(run["blockSparsity"])
    print(f"block sparsities equal to run.json's: {same_sparsities}")

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
    return 0 if tot_diff == 0 and max_kept == 0 and same_other and same_sparsities else 1


if __name__ == "__main__":
    sys.exit(main())
