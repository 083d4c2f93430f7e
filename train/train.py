"""Train a weight-sparse GPT (or its dense twin) on the Python corpus, following the paper's recipe:

* after every optimizer step, exact top-|w| projection of every matrix (wte, wpe, lm_head, c_attn, c_fc, c_proj)
  and bias, with at least ``--min-per-neuron`` nonzeros per MLP neuron / attention channel;
* kept fraction annealed linearly from dense to ``--l0`` between 1% and 50% of training;
* AbsTopK activation sparsity (``--afrac`` at ``--afrac-loctypes``);
* lr *= sqrt(L0_target / L0_now); global gradient RMS rescaled to 1; Adam with manual decoupled weight decay;
  linear warmup (1%) and linear decay.

``--dense`` trains the dense twin: same shapes, no weight or activation sparsity.

Single process:   python train/train.py --out train/runs/sparse-py --total-tokens 20e6
Several (DDP):    torchrun --nproc_per_node 2 train/train.py ...   (gloo on CPU, nccl on CUDA)
Re-running the same command resumes from <out>/ckpt.pt (bit-identical to an uninterrupted run).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import time

import numpy as np
import torch
import torch.distributed as dist

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from model import GPT, GPTConfig, Hooks  # noqa: E402
from sparsity import embed_l0_frac, l0_frac, lr_at, project_, sparsified_params  # noqa: E402
from corpus import VAL_EXTRA  # noqa: E402
from data_prep import load_tokens, token_path  # noqa: E402
from batches import eval_batches, focus_positions, get_batch, resolve_focus_tokens, task_target_tokens  # noqa: E402,F401
from step_state import rescale_grads_, rng_state, set_rng_state  # noqa: E402
from resume_args import update_on_resume  # noqa: E402
from stages import read_train_args  # noqa: E402
from window_reuse import continuation_warning  # noqa: E402
from weights_file import load_checkpoint  # noqa: E402

ALL_LOCS = "attn_in,attn_out,mlp_in,mlp_out,mlp_neuron,attn_q,attn_k,attn_v"


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="run directory (checkpoint, metrics.jsonl, config.json)")
    ap.add_argument("--data", default=os.path.join(HERE, "data"), help="folder with tokens_<split>.bin")
    ap.add_argument("--n-layer", type=int, default=4)
    ap.add_argument("--d-model", type=int, default=128)
    ap.add_argument("--d-mlp", type=int, default=512)
    ap.add_argument("--n-head", type=int, default=8)
    ap.add_argument("--d-head", type=int, default=16)
    ap.add_argument("--block-size", type=int, default=64)
    ap.add_argument("--vocab-size", type=int, default=2048)
    ap.add_argument("--afrac", type=float, default=0.25)
    ap.add_argument("--afrac-loctypes", default=ALL_LOCS)
    ap.add_argument("--l0", type=float, default=1 / 16, help="target kept fraction of every sparsified tensor")
    ap.add_argument("--embed-l0", type=float, default=None,
                    help="target kept fraction of the token embedding and unembedding (default: --l0), annealed "
                         "on the same schedule")
    ap.add_argument("--min-per-neuron", type=int, default=4)
    ap.add_argument("--dense", action="store_true", help="dense twin: no weight or activation sparsity")
    ap.add_argument("--activation", default="gelu", choices=["gelu", "relu"])
    ap.add_argument("--layernorm", action="store_true", help="LayerNorm instead of RMSNorm")
    ap.add_argument("--no-bias", action="store_true")
    ap.add_argument("--sink", action="store_true")
    ap.add_argument("--bigram", action="store_true", help="learnable bigram table [V,V]")
    ap.add_argument("--tied", action="store_true")
    ap.add_argument("--total-tokens", type=float, default=20e6)
    ap.add_argument("--batch-size", type=int, default=64, help="sequences per step per process")
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--beta1", type=float, default=0.9)
    ap.add_argument("--beta2", type=float, default=0.95)
    ap.add_argument("--eps", type=float, default=0.1)
    ap.add_argument("--warmup-frac", type=float, default=0.01)
    ap.add_argument("--anneal-start", type=float, default=0.01)
    ap.add_argument("--anneal-end", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--eval-batches", type=int, default=8)
    ap.add_argument("--ckpt-every", type=int, default=100)
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--stop-after", type=int, default=None, help="stop (with a checkpoint) after this step")
    ap.add_argument("--init-from", default=None,
                    help="start from the weights of another run's ckpt.pt (a continuation stage; its tokens count "
                         "towards tokens_trained). Shapes must match; optimizer state starts fresh unless --init-optimizer.")
    ap.add_argument("--init-optimizer", action="store_true",
                    help="with --init-from a run's full ckpt.pt (train/runs/<run>/, not a slim copy): start from "
                         "its Adam moments and step counts too (with a warmup they change little: train/README.md, "
                         "'The re-warm is the learning rate's'); this run's betas and eps still apply")
    ap.add_argument("--focus-tokens", default=None,
                    help="comma-separated token strings (Python escapes, e.g. ']\\n,]]\\n'): a share of every batch "
                         "is windows of real training text placed so that one of these tokens is a target, "
                         "the tokens chosen uniformly; upweights rare constructs without synthetic text")
    ap.add_argument("--focus-tasks", default=None,
                    help="a tasks/ folder: focus on every task's two target tokens, each equally often (balanced focus)")
    ap.add_argument("--focus-constructs", action="store_true",
                    help="focus on the places where training code makes one of the tasks' decisions (construct_focus.py), "
                         "each task form equally often")
    ap.add_argument("--focus-extra", action="append", default=None, metavar="NAME",
                    help="with --focus-constructs: add a named set of forms beyond the tasks' (construct_focus.py "
                         "EXTRA_FORMS, e.g. subscript_in_list); may be given more than once")
    ap.add_argument("--focus-weight", action="append", default=None, metavar="TASK=N",
                    help="with --focus-constructs: list TASK's forms N times in the uniform choice of forms, so that "
                         "its decisions are N times as often a focus window's target (both its sides alike); "
                         "may be given once per task")
    ap.add_argument("--focus-frac", type=float, default=0.25,
                    help="share of each batch drawn by --focus-tokens / --focus-tasks / --focus-constructs")
    ap.add_argument("--tokenizer", default=os.path.join(HERE, "tokenizer"), help="folder with encoder.json + vocab.bpe")
    ap.add_argument("--device", default=None)
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("--tasks-dir", default=None,
                    help="a model folder's tasks/: log each task's full-model test accuracy at every evaluation")
    ap.add_argument("--compile", action="store_true",
                    help="torch.compile the model for the training steps (see train/README.md for when it pays)")
    ap.add_argument("--threads", type=int, default=None,
                    help="intra-op threads per process (default: OMP_NUM_THREADS, else all cores / processes)")
    args = ap.parse_args(argv)
    if args.init_optimizer and not args.init_from:
        ap.error("--init-optimizer needs --init-from (the checkpoint whose optimizer state to start from)")
    if args.focus_extra and not args.focus_constructs:
        ap.error("--focus-extra adds forms to --focus-constructs; give both")
    if args.focus_weight and not args.focus_constructs:
        ap.error("--focus-weight weights the forms of --focus-constructs; give both")
    if args.focus_extra or args.focus_weight:
        from construct_focus import forms_with, parse_weights
        try:
            forms = forms_with(args.focus_extra)
        except ValueError as e:
            ap.error(f"--focus-extra: {e}")
        try:
            args.focus_weights = parse_weights(args.focus_weight, forms)
        except ValueError as e:
            ap.error(f"--focus-weight: {e}")
    else:
        args.focus_weights = {}
    args.argv = list(sys.argv[1:] if argv is None else argv)  # for the recorded command, also when called in-process
    return args


def load_optimizer_state(opt: torch.optim.Optimizer, init: dict, args) -> None:
    """Adam's moments and step counts from an --init-from checkpoint; the learning rate is set every step, and this
    run's betas and eps replace the saved ones, so that the record's arguments say how the stage trained."""
    if "opt" not in init:
        raise SystemExit(f"--init-optimizer: {args.init_from} holds no optimizer state (a slim copy made by "
                         f"weights_file.py keeps the weights only); give the run's full ckpt.pt from train/runs/")
    opt.load_state_dict(init["opt"])
    for group in opt.param_groups:
        group.update(betas=(args.beta1, args.beta2), eps=args.eps)


def make_config(args) -> GPTConfig:
    return GPTConfig(block_size=args.block_size, vocab_size=args.vocab_size, n_layer=args.n_layer,
                     n_head=args.n_head, d_head=args.d_head, d_model=args.d_model, d_mlp=args.d_mlp,
                     bias=not args.no_bias, rms_norm=not args.layernorm, activation_type=args.activation,
                     afrac=None if args.dense else args.afrac, afrac_loctypes=args.afrac_loctypes,
                     enable_bigram_table=args.bigram, sink=args.sink, tied_unembed=args.tied)


@torch.no_grad()
def evaluate(model, batches, cfg: GPTConfig):
    model.eval()
    losses, alive = [], None
    for x, y in batches:
        rec = {}
        _, loss = model(x, y, hooks=Hooks(rec))
        losses.append(loss.item())
        fired = torch.stack([(rec[f"{i}.mlp.post_act"] != 0).flatten(0, 1).any(0) for i in range(cfg.n_layer)])
        alive = fired if alive is None else alive | fired
    model.train()
    return float(np.mean(losses)), [int(a.sum()) for a in alive]


def nonzeros(model):
    return {name: int((p != 0).sum()) for name, p in sparsified_params(model)}


def train(args):
    ddp = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if args.device:
        device = torch.device(args.device)
    else:
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    rank, world = 0, 1
    if ddp:
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend)
        rank, world = dist.get_rank(), dist.get_world_size()
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
    master = rank == 0
    os.makedirs(args.out, exist_ok=True)

    cfg = make_config(args)
    T = cfg.block_size
    tokens_per_step = args.batch_size * T * world
    total_steps = max(1, int(math.ceil(args.total_tokens / tokens_per_step)))
    target = 1.0 if args.dense else args.l0

    torch.manual_seed(args.seed)
    model = GPT(cfg).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=args.lr, betas=(args.beta1, args.beta2), eps=args.eps, weight_decay=0.0)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and n != "bigram_table"]

    train_tok = load_tokens("train", args.data)
    val_batches = eval_batches(load_tokens("val", args.data), args.eval_batches, args.batch_size, T, device)
    # The extended text (corpus.py --extended) adds a val_extra split, the added code bases' own validation files: a
    # stage on that text trades fit to the base split for fit to them, so every evaluation scores both.
    val_extra_batches = None
    if os.path.exists(token_path(VAL_EXTRA, args.data)):
        val_extra_batches = eval_batches(load_tokens(VAL_EXTRA, args.data), args.eval_batches, args.batch_size, T,
                                         device)
    tasks = None
    if args.tasks_dir:
        from task_eval import load_tasks
        tasks = load_tasks(args.tasks_dir)
    focus_ids = resolve_focus_tokens(args.focus_tokens, args.tokenizer) if args.focus_tokens else []
    if args.focus_tasks:
        focus_ids += task_target_tokens(args.focus_tasks)
    focus = focus_positions(train_tok, sorted(set(focus_ids))) if focus_ids else None
    if args.focus_constructs:
        from construct_focus import construct_positions
        from tokenizer_train import load_tiktoken
        places = construct_positions(train_tok, load_tiktoken(args.tokenizer), cfg.vocab_size,
                                     log=print if master else (lambda _msg: None), extra=args.focus_extra,
                                     weights=args.focus_weights)
        focus = (focus or []) + places

    step, acc = 0, {"loss": 0.0, "n": 0}
    ckpt_path = os.path.join(args.out, "ckpt.pt")
    # The launch as it really was: thread count and, for several processes, the torchrun launcher.
    launcher = f"torchrun --standalone --nproc_per_node {world} " if world > 1 else "python "
    script = os.path.relpath(os.path.abspath(__file__), os.path.dirname(HERE))
    command = (f"OMP_NUM_THREADS={torch.get_num_threads()} " + launcher
               + " ".join(shlex.quote(a) for a in [script, *args.argv]))
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location=device, weights_only=True)
        if args.stop_after is not None and args.stop_after < ck["step"]:
            raise SystemExit(f"--stop-after {args.stop_after}: {ckpt_path} is already at step {ck['step']}, "
                             "and a run does not go back")
        record = os.path.join(args.out, "train_args.json")
        if os.path.exists(record):
            # every process checks (so all refuse together); only the first writes
            restopped = update_on_resume(record, dict(vars(args), world=world), command, write=master)
            if restopped and master:
                print(f"resuming with --stop-after {args.stop_after}: the run's record now says so", flush=True)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, acc = ck["step"], ck["acc"]
        set_rng_state(ck["rng"])
        init_tokens = ck.get("init_tokens", 0)
        if master:
            print(f"resumed from {ckpt_path} at step {step}", flush=True)
    else:
        init_tokens, init_commands = 0, []
        if args.init_from:
            # A continuation stage: the earlier run's tokens count towards this model's training, and its
            # command(s) go first in the reproduction recipe.
            init = load_checkpoint(args.init_from, device, named_by="--init-from")
            if GPTConfig.from_dict(init["config"]).to_dict() != cfg.to_dict():
                raise SystemExit(f"--init-from {args.init_from}: its config differs from this run's")
            model.load_state_dict(init["model"])
            if args.init_optimizer:
                load_optimizer_state(opt, init, args)
            init_tokens = int(init.get("tokens", 0))
            init_dir = os.path.dirname(args.init_from)
            if os.path.exists(os.path.join(init_dir, "train_args.json")):
                prev = read_train_args(init_dir)
                init_commands = prev.get("commands", [prev["command"]] if "command" in prev else [])
                warning = continuation_warning(vars(args), total_steps, world, init_dir) if master else None
                if warning:
                    print(f"warning: {warning}", flush=True)
            if master:
                print(f"initialised from {args.init_from} ({init_tokens:,} tokens)", flush=True)
        if master:
            with open(os.path.join(args.out, "config.json"), "w") as fh:
                json.dump(cfg.to_dict(), fh, indent=2)
            with open(os.path.join(args.out, "train_args.json"), "w") as fh:
                json.dump(dict(vars(args), total_steps=total_steps, tokens_per_step=tokens_per_step, world=world,
                               init_tokens=init_tokens, command=command, commands=init_commands + [command]),
                          fh, indent=2)

    net = torch.nn.parallel.DistributedDataParallel(model) if ddp else model
    if args.compile:
        # Compiles the training forward only; evaluation keeps the eager model because it records hooks.
        net = torch.compile(net)

    def save(step_now):
        if not master:
            return
        tmp = ckpt_path + ".tmp"
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step_now, "acc": acc,
                    "rng": rng_state(), "config": cfg.to_dict(), "args": vars(args),
                    "init_tokens": init_tokens, "tokens": init_tokens + step_now * tokens_per_step}, tmp)
        os.replace(tmp, ckpt_path)

    metrics = open(os.path.join(args.out, "metrics.jsonl"), "a") if master else None
    bar = None
    if master and not args.no_progress:
        from tqdm import tqdm
        bar = tqdm(total=total_steps, initial=step, unit="step", mininterval=10, dynamic_ncols=False,
                   ascii=True, file=sys.stderr)
    t0, tok0 = time.time(), 0
    def at_stop(at: int) -> bool:
        return args.stop_after is not None and at >= args.stop_after

    # A sitting resumed at its --stop-after trains nothing (its checkpoint already is what the stop asks for); only
    # its record changes, to say where the run stopped.
    while step < total_steps and not at_stop(step):
        frac = l0_frac(step, total_steps, target, args.anneal_start, args.anneal_end)
        embed_frac = embed_l0_frac(step, total_steps, args.embed_l0, args.anneal_start, args.anneal_end, args.dense)
        lr = lr_at(step, total_steps, args.lr, args.warmup_frac) * math.sqrt(target / frac)
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = get_batch(train_tok, args.batch_size, T, args.seed, step, rank, device, focus, args.focus_frac)
        _, loss = net(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        grad_rms = rescale_grads_(params)
        opt.step()
        with torch.no_grad():
            if not args.dense:
                project_(model, frac, args.min_per_neuron, embed_frac)
            for p in decay:
                p.mul_(1 - args.weight_decay * lr)
        step += 1
        acc["loss"] += loss.item()
        acc["n"] += 1
        tok0 += tokens_per_step
        if bar is not None:
            el = time.time() - t0
            bar.set_postfix_str(f"loss {loss.item():.3f} tok/s {tok0 / max(el, 1e-9):,.0f} L0 {frac:.4f}", refresh=False)
            bar.update(1)
        last = step == total_steps
        if master and (step % args.log_every == 0 or last):
            rec = {"step": step, "tokens": step * tokens_per_step, "train_loss": acc["loss"] / max(acc["n"], 1),
                   "lr": lr, "l0_frac": frac, "grad_rms": grad_rms,
                   "tok_per_s": tok0 / max(time.time() - t0, 1e-9), "sitting_s": time.time() - t0}
            acc = {"loss": 0.0, "n": 0}
            if step % args.eval_every == 0 or last:
                vl, alive = evaluate(model, val_batches, cfg)
                rec.update(val_loss=vl, alive_neurons=alive, nonzeros=nonzeros(model))
                if val_extra_batches is not None:
                    rec["val_extra_loss"] = evaluate(model, val_extra_batches, cfg)[0]
                if tasks:
                    from task_eval import evaluate_tasks
                    rec["task_accuracy"] = {k: round(v["accuracy"], 4) for k, v in evaluate_tasks(model, tasks).items()}
                if bar is None:
                    shown = ("step", "train_loss", "val_loss", "val_extra_loss")
                    print(json.dumps({k: rec[k] for k in shown if k in rec}), flush=True)
            metrics.write(json.dumps(rec) + "\n")
            metrics.flush()
        stop = at_stop(step)
        if step % args.ckpt_every == 0 or last or stop:
            save(step)
        if stop:
            break
    if bar is not None:
        bar.close()
    if metrics:
        metrics.close()
    if ddp:
        dist.barrier()
        dist.destroy_process_group()
    return model, step


def default_threads() -> int:
    """OMP_NUM_THREADS when set, else the machine's cores shared among the processes on this host."""
    if os.environ.get("OMP_NUM_THREADS"):
        return int(os.environ["OMP_NUM_THREADS"])
    local = int(os.environ.get("LOCAL_WORLD_SIZE", os.environ.get("WORLD_SIZE", "1")))
    return max(1, (os.cpu_count() or 1) // local)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads or default_threads())
    train(args)


if __name__ == "__main__":
    main()
