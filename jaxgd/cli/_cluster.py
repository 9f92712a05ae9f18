"""``--distributed`` / ``--coordinator`` / ``--num-processes`` / ``--process-id``: one command run
by several processes as one JAX cluster (``jaxgd.distributed``). Process 0 prints and writes;
the others run silently."""

from __future__ import annotations

import argparse
import io
import os
import sys
import threading

from jaxgd.cli import _common as c


def coordinator(text):
    from jaxgd.distributed import parse_coordinator

    try:
        parse_coordinator(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e).replace("coordinator must be", "must be")) from None
    return text


def add_arguments(p):
    g = p.add_argument_group(
        "several processes",
        "one of several processes forming a JAX cluster; only process 0 prints and writes files")
    g.add_argument("--distributed", action="store_true",
                   help="join the cluster JAX detects (SLURM, Open MPI, ...) (default: off)")
    g.add_argument("--coordinator", type=coordinator, default=None, metavar="HOST:PORT",
                   help="process 0's address, where it serves the cluster (default: none)")
    g.add_argument("--num-processes", type=c.positive_int, default=None, metavar="N",
                   help="processes in the cluster, with --coordinator (default: none)")
    g.add_argument("--process-id", type=c.int_at_least(0), default=None, metavar="I",
                   help="this process's index 0 .. N-1, with --coordinator (default: none)")
    g.add_argument("--cluster-timeout", type=c.positive_int, default=60, metavar="SECONDS",
                   help="seconds to wait for every process (default: %(default)s)")


def requested(args) -> bool:
    return bool(getattr(args, "distributed", False)) or any(
        getattr(args, k, None) is not None for k in ("coordinator", "num_processes", "process_id"))


def _check(args):
    explicit = [args.coordinator, args.num_processes, args.process_id]
    if args.distributed and any(v is not None for v in explicit):
        raise c.usage_error(args, "--distributed detects the cluster itself; do not combine it "
                                  "with --coordinator, --num-processes or --process-id")
    if not args.distributed and any(v is None for v in explicit):
        raise c.usage_error(args, "--coordinator HOST:PORT, --num-processes N and --process-id I "
                                  "go together (or --distributed, to let JAX detect the cluster)")
    if not args.distributed and args.process_id >= args.num_processes:
        raise c.usage_error(args, f"--process-id {args.process_id} is out of range for "
                                  f"--num-processes {args.num_processes} (0..{args.num_processes - 1})")


def start(args):
    """Join the cluster (bounded by --cluster-timeout) and return the global mesh. A cluster that
    does not form is one line and exit 2.

    From here on, on every process, file descriptor 1 is stderr: the C++ runtime prints there
    (gloo announces each group of devices it connects, "[Gloo] Rank r is connected to ...", and
    connects a new group whenever the collectives need one, not only while the cluster forms).
    Python's stdout keeps the command's stdout on process 0 and is silenced on the others."""
    _check(args)
    from jax.experimental import multihost_utils

    from jaxgd import distributed

    where = (f"coordinator {args.coordinator}, {args.num_processes} processes" if not args.distributed
             else "the detected cluster")

    def give_up():  # JAX would abort the process with a stack dump: one line instead
        print(f"{c.prog(args)}: error: the cluster did not form within {args.cluster_timeout} s ({where}): the "
              "coordinator cannot be reached or not every process joined (--cluster-timeout)",
              file=sys.stderr, flush=True)
        os._exit(2)

    sys.stdout.flush()
    stdout = os.dup(1)  # the command's stdout, for Python alone
    os.dup2(2, 1)
    watchdog = threading.Timer(args.cluster_timeout, give_up)
    watchdog.daemon = True
    watchdog.start()
    try:
        mesh = distributed.initialize(args.coordinator, args.num_processes, args.process_id,
                                      timeout=args.cluster_timeout + 30)
        multihost_utils.sync_global_devices("jaxgd: cluster formed")  # connects the peers, within the timeout
    except BaseException:
        os.dup2(stdout, 1)
        os.close(stdout)
        raise
    finally:
        watchdog.cancel()
    if not distributed.is_main():
        os.close(stdout)
        stdout = os.open(os.devnull, os.O_WRONLY)
    sys.stdout = _text_stream(stdout, like=sys.stdout)
    return mesh


def _text_stream(fd, like):
    """A text stream writing to ``fd``, encoded and buffered as ``like``."""
    return io.TextIOWrapper(io.BufferedWriter(io.FileIO(fd, "w")), encoding=getattr(like, "encoding", None),
                            errors=getattr(like, "errors", None), line_buffering=getattr(like, "line_buffering", False),
                            write_through=getattr(like, "write_through", False))
