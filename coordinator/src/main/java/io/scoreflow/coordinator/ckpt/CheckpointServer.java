package io.scoreflow.coordinator.ckpt;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.scoreflow.ckpt.CheckpointLayout;
import io.scoreflow.ckpt.CheckpointReader;
import io.scoreflow.ckpt.CompletedCheckpoint;
import io.scoreflow.ckpt.FileDigest;
import io.scoreflow.ckpt.InvalidCheckpointException;
import io.scoreflow.proto.v1.CheckpointChunk;
import io.scoreflow.proto.v1.CheckpointServiceGrpc;
import io.scoreflow.proto.v1.FetchCheckpointRequest;
import io.scoreflow.proto.v1.NewestCheckpointReply;
import io.scoreflow.proto.v1.NewestCheckpointRequest;
import io.scoreflow.security.GrpcTls;
import io.scoreflow.security.NodeIdentity;
import io.scoreflow.security.TransportSecurity;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the checkpoints of one job from its checkpoint root. A fetch verifies the checkpoint
 * against its manifest first (a damaged one is {@code DATA_LOSS}, never sent), then streams the
 * manifest, its checksum and every file in chunks, paced by the client's flow control ({@code
 * isReady}), so memory stays at one chunk however large the checkpoint is.
 */
public final class CheckpointServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(CheckpointServer.class);

  /** Default payload per chunk. */
  private static final int DEFAULT_CHUNK_BYTES = 1 << 20;

  /** Below gRPC's default 4 MiB inbound limit with room for the message's other fields. */
  static final int MAX_CHUNK_BYTES = (4 << 20) - (64 << 10);

  /**
   * Requests are a job name and two numbers: anything much larger is not a request of ours, and
   * gRPC refuses it (RESOURCE_EXHAUSTED) before it is parsed, instead of buffering 4 MiB of it.
   */
  public static final int MAX_REQUEST_BYTES = 4 << 10;

  /** How much of a name a client sent is echoed in a refusal. */
  private static final int ECHO_CHARS = 64;

  private final Server server;

  private CheckpointServer(Server server) {
    this.server = server;
  }

  /**
   * Serves job {@code job}'s checkpoints under {@code root} over TCP on {@code address}: over
   * mutual TLS to workers and samplers of the job only (another role is PERMISSION_DENIED, a client
   * without a certificate of the job's CA never completes its handshake).
   */
  public static CheckpointServer start(
      InetSocketAddress address, TransportSecurity security, String job, Path root)
      throws IOException {
    return start(
        NettyServerBuilder.forAddress(address, GrpcTls.server(security))
            .maxInboundMessageSize(MAX_REQUEST_BYTES)
            .intercept(
                GrpcTls.admitting(
                    security,
                    "checkpoint service",
                    EnumSet.of(NodeIdentity.Role.WORKER, NodeIdentity.Role.SAMPLER))),
        job,
        root);
  }

  /**
   * Starts serving job {@code job}'s checkpoints under {@code root} on {@code builder} (a TCP or
   * in-process server builder).
   */
  public static CheckpointServer start(ServerBuilder<?> builder, String job, Path root)
      throws IOException {
    return new CheckpointServer(
        builder
            .addService(StrictRequests.of(new Service(job, root).bindService()))
            .build()
            .start());
  }

  /** The TCP port (for a TCP server). */
  public int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
    }
  }

  /** What a client sent, cut to a length that a status line and a log can carry. */
  private static String echo(String asked) {
    return asked.length() <= ECHO_CHARS
        ? asked
        : asked.substring(0, ECHO_CHARS) + "… (" + asked.length() + " characters)";
  }

  private static final class Service extends CheckpointServiceGrpc.CheckpointServiceImplBase {
    private final String job;
    private final CheckpointReader reader;

    Service(String job, Path root) {
      this.job = job;
      this.reader = CheckpointReader.of(root);
    }

    @Override
    public void newest(
        NewestCheckpointRequest request, StreamObserver<NewestCheckpointReply> observer) {
      if (!request.getJob().equals(job)) {
        observer.onError(notThisJob(request.getJob()));
        return;
      }
      try {
        NewestCheckpointReply.Builder reply = NewestCheckpointReply.newBuilder().setStep(-1);
        reader
            .newestValid()
            .ifPresent(c -> reply.setStep(c.step()).setGeneration(c.manifest().generation()));
        observer.onNext(reply.build());
        observer.onCompleted();
      } catch (RuntimeException e) {
        // The message may name the server's files: the log gets it, the client does not.
        LOG.warn("newest checkpoint: cannot read the checkpoints", e);
        observer.onError(
            Status.INTERNAL.withDescription("cannot read the checkpoints").asRuntimeException());
      }
    }

    @Override
    public void fetch(FetchCheckpointRequest request, StreamObserver<CheckpointChunk> observer) {
      ServerCallStreamObserver<CheckpointChunk> out =
          (ServerCallStreamObserver<CheckpointChunk>) observer;
      int chunk = request.getChunkBytes() == 0 ? DEFAULT_CHUNK_BYTES : request.getChunkBytes();
      if (request.getStep() < 0 || chunk < 1 || chunk > MAX_CHUNK_BYTES) {
        out.onError(
            Status.INVALID_ARGUMENT
                .withDescription(
                    "step must be >= 0 and chunk_bytes in 1.."
                        + MAX_CHUNK_BYTES
                        + ", got step "
                        + request.getStep()
                        + ", chunk_bytes "
                        + request.getChunkBytes())
                .asRuntimeException());
        return;
      }
      if (!request.getJob().equals(job)) {
        out.onError(notThisJob(request.getJob()));
        return;
      }
      CompletedCheckpoint checkpoint;
      try {
        checkpoint = reader.verify(request.getStep());
      } catch (InvalidCheckpointException e) {
        // The message names files under the server's root: it goes to the server's log only, a
        // client learns the step and what is wrong, not where the run lives.
        boolean missing = e.reason() == InvalidCheckpointException.Reason.MISSING_DIRECTORY;
        LOG.warn("checkpoint step {}: not served: {}", request.getStep(), e.getMessage());
        out.onError(
            (missing ? Status.NOT_FOUND : Status.DATA_LOSS)
                .withDescription(
                    (missing ? "no checkpoint for step " : "checkpoint step ")
                        + request.getStep()
                        + " of job '"
                        + job
                        + "'"
                        + (missing
                            ? ""
                            : " does not verify ("
                                + e.reason()
                                    .name()
                                    .toLowerCase(java.util.Locale.ROOT)
                                    .replace('_', ' ')
                                + ")"))
                .asRuntimeException());
        return;
      } catch (RuntimeException e) {
        LOG.warn("checkpoint step {}: cannot be read", request.getStep(), e);
        out.onError(
            Status.INTERNAL
                .withDescription("checkpoint step " + request.getStep() + " cannot be read")
                .asRuntimeException());
        return;
      }
      Pump pump;
      try {
        pump = new Pump(checkpoint, chunk, out);
      } catch (IOException e) {
        out.onError(
            Status.ABORTED
                .withDescription("checkpoint step " + request.getStep() + " vanished")
                .asRuntimeException());
        return;
      }
      out.setOnCancelHandler(pump::close);
      out.setOnReadyHandler(pump::drain);
      pump.drain();
    }

    private RuntimeException notThisJob(String asked) {
      return Status.NOT_FOUND
          .withDescription("this node serves job '" + job + "', not '" + echo(asked) + "'")
          .asRuntimeException();
    }
  }

  /** One fetch's stream: the files in order, read a chunk at a time while the client is ready. */
  private static final class Pump {
    private record Entry(String name, FileDigest digest) {}

    private final CompletedCheckpoint checkpoint;
    private final ServerCallStreamObserver<CheckpointChunk> out;
    private final byte[] buffer;
    private final List<Entry> entries = new ArrayList<>();
    private int next;
    private InputStream current;
    private long offset;
    private boolean first = true;
    private boolean done;

    Pump(CompletedCheckpoint checkpoint, int chunk, ServerCallStreamObserver<CheckpointChunk> out)
        throws IOException {
      this.checkpoint = checkpoint;
      this.out = out;
      this.buffer = new byte[chunk];
      // The manifest is not listed in itself: digest it here (it is small).
      byte[] manifest =
          Files.readAllBytes(checkpoint.directory().resolve(CheckpointLayout.MANIFEST));
      entries.add(
          new Entry(CheckpointLayout.MANIFEST, new FileDigest(sha256(manifest), manifest.length)));
      // Then the manifest's checksum (format 2; a format-1 checkpoint has none), so the copy
      // verifies as the original does.
      Path checksum = checkpoint.directory().resolve(CheckpointLayout.MANIFEST_CHECKSUM);
      if (Files.exists(checksum)) {
        byte[] bytes = Files.readAllBytes(checksum);
        entries.add(
            new Entry(
                CheckpointLayout.MANIFEST_CHECKSUM, new FileDigest(sha256(bytes), bytes.length)));
      }
      for (Map.Entry<String, FileDigest> e : checkpoint.manifest().files().entrySet()) {
        entries.add(new Entry(e.getKey(), e.getValue()));
      }
    }

    synchronized void drain() {
      try {
        while (!done && out.isReady()) {
          if (current == null) {
            if (next == entries.size()) {
              done = true;
              out.onCompleted();
              return;
            }
            openNext();
          }
          Entry entry = entries.get(next - 1);
          int n = current.readNBytes(buffer, 0, buffer.length);
          CheckpointChunk.Builder c =
              CheckpointChunk.newBuilder()
                  .setFile(entry.name())
                  .setOffset(offset)
                  .setData(com.google.protobuf.ByteString.copyFrom(buffer, 0, n));
          if (offset == 0) {
            c.setSize(entry.digest().size()).setSha256(entry.digest().sha256());
          }
          if (first) {
            c.setStep(checkpoint.step()).setGeneration(checkpoint.manifest().generation());
            first = false;
          }
          offset += n;
          if (offset >= entry.digest().size() || n == 0) {
            current.close();
            current = null;
          }
          out.onNext(c.build());
        }
      } catch (IOException | UncheckedIOException e) {
        LOG.warn("checkpoint step {}: stream aborted: {}", checkpoint.step(), e.toString());
        close();
        done = true;
        out.onError(
            Status.ABORTED
                .withDescription(
                    "checkpoint step "
                        + checkpoint.step()
                        + " could not be read while streaming (removed by retention?)")
                .asRuntimeException());
      }
    }

    private void openNext() throws IOException {
      Entry entry = entries.get(next++);
      current = Files.newInputStream(checkpoint.directory().resolve(entry.name()));
      offset = 0;
    }

    synchronized void close() {
      done = true;
      if (current != null) {
        try {
          current.close();
        } catch (IOException e) {
          // Closing a read stream: nothing to lose.
        }
        current = null;
      }
    }
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
