"""Trains a small Llama-shaped decoder with PyTorch and exports it with torch.onnx.export.

The decoder (RMSNorm, rotary positions, grouped-query causal attention, SwiGLU, untied output head) is written with
plain torch modules, trained from scratch at character level on Python standard-library sources (text every Debian
machine has), and exported the way PyTorch exports such models: Linear layers as MatMul with transposed
initializers, Shape/Slice chains for the rotary tables, Trilu/Where for the causal mask. The model is the input of
`benchmarks ... torch-decoder DIR`, which judges the weight-only formats on it.

Writes into DIR: decoder.onnx, calibration.bin and heldout.bin (little-endian int64 windows of WINDOW ids; held-out
text comes from other files than the training and calibration text) and meta.json.

Usage: python3 export_decoder.py DIR [--steps N] [--batch B] [--train-window T]
(Debian: apt-get install python3-torch python3-onnx; Debian's torch 1.13 runs on one thread, about 1.5 s per step
of 4 x 64 characters on a 2-core EPYC, so the default run trains for about 4 minutes.)
"""
import argparse
import json
import math
import os
import struct
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, WINDOW = 128, 128
TRAIN_FILES = ["argparse.py", "collections/__init__.py", "dataclasses.py", "enum.py", "functools.py", "inspect.py",
               "json/decoder.py", "logging/__init__.py", "pathlib.py", "typing.py", "subprocess.py", "threading.py"]
HELD_OUT_FILES = ["textwrap.py", "shutil.py", "tarfile.py"]


def read_ids(names):
    root = os.path.dirname(os.__file__)
    text = "".join(open(os.path.join(root, name), encoding="utf-8").read() for name in names)
    return torch.tensor([min(ord(c), VOCAB - 1) for c in text], dtype=torch.long)


class RmsNorm(nn.Module):
    def __init__(self, width, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, hidden, heads, kv_heads):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, hidden // heads
        self.q_proj = nn.Linear(hidden, heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(hidden, kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(hidden, kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(heads * self.head_dim, hidden, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        repeat = self.heads // self.kv_heads
        k = k[:, :, None].expand(b, self.kv_heads, repeat, t, self.head_dim).reshape(b, self.heads, t, self.head_dim)
        v = v[:, :, None].expand(b, self.kv_heads, repeat, t, self.head_dim).reshape(b, self.heads, t, self.head_dim)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        scores = scores.masked_fill(mask, float("-inf"))
        return self.o_proj((scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, -1))


class Block(nn.Module):
    def __init__(self, hidden, heads, kv_heads, intermediate):
        super().__init__()
        self.input_norm, self.post_norm = RmsNorm(hidden), RmsNorm(hidden)
        self.attn = Attention(hidden, heads, kv_heads)
        self.gate_proj = nn.Linear(hidden, intermediate, bias=False)
        self.up_proj = nn.Linear(hidden, intermediate, bias=False)
        self.down_proj = nn.Linear(intermediate, hidden, bias=False)

    def forward(self, x, cos, sin, mask):
        x = x + self.attn(self.input_norm(x), cos, sin, mask)
        h = self.post_norm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Decoder(nn.Module):
    def __init__(self, hidden=256, layers=4, heads=4, kv_heads=2, intermediate=768, max_len=512):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, hidden)
        self.blocks = nn.ModuleList(Block(hidden, heads, kv_heads, intermediate) for _ in range(layers))
        self.norm = RmsNorm(hidden)
        self.lm_head = nn.Linear(hidden, VOCAB, bias=False)
        head_dim = hidden // heads
        inv = 1.0 / (10000 ** (torch.arange(0, head_dim, 2).float() / head_dim))
        angles = torch.outer(torch.arange(max_len).float(), inv)
        angles = torch.cat((angles, angles), dim=-1)
        self.register_buffer("cos_cached", angles.cos(), persistent=False)
        self.register_buffer("sin_cached", angles.sin(), persistent=False)

    def forward(self, input_ids):
        t = input_ids.shape[1]
        cos, sin = self.cos_cached[:t], self.sin_cached[:t]
        mask = torch.triu(torch.ones(t, t, dtype=torch.bool, device=input_ids.device), diagonal=1)
        x = self.embed(input_ids)
        for block in self.blocks:
            x = block(x, cos, sin, mask)
        return self.lm_head(self.norm(x))


def windows(ids, count, seed):
    generator = torch.Generator().manual_seed(seed)
    starts = torch.randint(0, len(ids) - WINDOW - 1, (count,), generator=generator)
    return torch.stack([ids[s:s + WINDOW] for s in starts])


def write_windows(path, batch):
    with open(path, "wb") as f:
        f.write(struct.pack(f"<{batch.numel()}q", *batch.flatten().tolist()))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--train-window", type=int, default=64)
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    torch.manual_seed(1)
    torch.set_num_threads(2)
    train, held_out = read_ids(TRAIN_FILES), read_ids(HELD_OUT_FILES)
    model = Decoder()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    generator = torch.Generator().manual_seed(2)
    start = time.time()
    for step in range(1, args.steps + 1):
        starts = torch.randint(0, len(train) - args.train_window - 1, (args.batch,), generator=generator)
        batch = torch.stack([train[s:s + args.train_window + 1] for s in starts])
        lr = 3e-3 * min(1.0, step / 50) * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss = F.cross_entropy(model(batch[:, :-1]).reshape(-1, VOCAB), batch[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step}/{args.steps}: loss {loss.item():.3f} (perplexity {math.exp(loss.item()):.2f}), {time.time() - start:.0f} s", flush=True)
    model.eval()
    evaluation = windows(held_out, 64, 3)
    with torch.no_grad():
        logits = model(evaluation)
        held_out_loss = F.cross_entropy(logits[:, :-1].reshape(-1, VOCAB), evaluation[:, 1:].reshape(-1)).item()
    print(f"held-out perplexity in torch: {math.exp(held_out_loss):.4f}")
    path = os.path.join(args.folder, "decoder.onnx")
    torch.onnx.export(model, (evaluation[:1],), path, input_names=["input_ids"], output_names=["logits"],
                      dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "logits": {0: "batch", 1: "tokens"}},
                      opset_version=14, do_constant_folding=True)
    write_windows(os.path.join(args.folder, "calibration.bin"), windows(train, 32, 4))
    write_windows(os.path.join(args.folder, "heldout.bin"), evaluation)
    with torch.no_grad():
        first = model(evaluation[:1])[0, :4, :4].flatten().tolist()
    meta = {"window": WINDOW, "vocab": VOCAB, "torch": torch.__version__, "steps": args.steps, "batch": args.batch, "train_window": args.train_window,
            "parameters": sum(p.numel() for p in model.parameters()), "torch_held_out_perplexity": math.exp(held_out_loss),
            "torch_first_logits": first, "train_files": TRAIN_FILES, "held_out_files": HELD_OUT_FILES}
    with open(os.path.join(args.folder, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(f"exported {path} ({os.path.getsize(path) / 1e6:.2f} MB, opset 14, torch {torch.__version__})")


if __name__ == "__main__":
    main()
