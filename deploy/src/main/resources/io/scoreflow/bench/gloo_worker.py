"""One rank of torch.distributed's gloo all_reduce, the peer a PyTorch user would pick, for
`scoreflow bench allreduce` (a benchmark reference only: scoreflow itself never needs Python).

    python3 gloo_worker.py RANK WORLD PORT

Rank 0 hosts the rendezvous on 127.0.0.1:PORT. Commands on stdin, answers on stdout:
    BENCH elements warmup repeats -> TIMES ns,ns,... cpuNs   (MEAN all-reduces of a float32 buffer,
                                     each timed on this rank from a barrier to its end; cpuNs is
                                     the process's CPU time over the timed repeats)
    QUIT (or the end of stdin)    -> exits
Errors print "ERROR why" and exit with status 1.
"""
import sys
import time


def main():
    rank, world, port = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    try:
        import torch
        import torch.distributed as dist

        dist.init_process_group(
            "gloo", init_method="tcp://127.0.0.1:%d" % port, rank=rank, world_size=world)
    except Exception as e:  # noqa: BLE001 - reported to the parent as one line
        print("ERROR " + str(e).replace("\n", " "), flush=True)
        sys.exit(1)
    print("READY", flush=True)
    buffer = None
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "QUIT":
            break
        if words[0] != "BENCH":
            print("ERROR unknown command: " + line.strip(), flush=True)
            sys.exit(1)
        elements, warmup, repeats = int(words[1]), int(words[2]), int(words[3])
        if buffer is None or buffer.numel() != elements:
            buffer = torch.randn(elements, dtype=torch.float32)
        for _ in range(warmup):
            dist.all_reduce(buffer)
            buffer.div_(world)
        times = []
        cpu0 = time.process_time_ns()
        for _ in range(repeats):
            dist.barrier()
            t0 = time.perf_counter_ns()
            dist.all_reduce(buffer)
            buffer.div_(world)
            times.append(time.perf_counter_ns() - t0)
        cpu = time.process_time_ns() - cpu0
        print("TIMES %s %d" % (",".join(str(t) for t in times), cpu), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
